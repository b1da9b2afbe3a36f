"""A URL's identity: the one ``normalise_url`` that feeds (item ids) and the store (dedup) use.

Two spellings of the same article must compare equal, and nothing may be lost on the way:

- scheme and host lowercased, the default port, the fragment, ``utm_*`` query parameters
  and trailing ``/`` dropped;
- raw non-ASCII (a Hindi, Tamil or Telugu slug) percent-encoded as UTF-8 and existing
  escapes uppercased, so ``/हिंदी`` and ``/%e0%a4%b9...`` agree; an escape is never decoded
  and re-encoded (``%E0%A4`` must not become ``%EF%BF%BD``), and the query is filtered
  piece by piece rather than parsed and rebuilt;
- anything that is not an http(s) URL with a host (a malformed ``http://[::1``, a ``tag:``
  id, a relative path) is kept as written, stripped: compared, never raised on.

``normalise_url(normalise_url(u)) == normalise_url(u)`` for every string.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# RFC 3986 characters that may stand unescaped (plus "%" so escapes are kept as they are).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def normalise_url(url: str) -> str:
    """A URL's identity for dedup: same article even if tracking bits or case differ.

    >>> normalise_url("HTTPS://Example.COM/ev/?utm_source=x&id=3#top")
    'https://example.com/ev?id=3'
    >>> normalise_url("https://ev.example/%e0%a4%b9/")
    'https://ev.example/%E0%A4%B9'
    """
    written = url.strip()
    try:
        parts = urlsplit(written)
    except ValueError:  # e.g. an unclosed or invalid IPv6 bracket: compare it as written
        return written
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if scheme not in _DEFAULT_PORTS or not host:  # no host (e.g. "http://:80//x"): as written
        return written
    netloc = parts.netloc.lower().removesuffix(_DEFAULT_PORTS[scheme])
    path = _escaped(parts.path, _PATH_SAFE).rstrip("/")
    kept = [p for p in parts.query.split("&") if p and not p.lower().startswith("utm_")]
    query = _escaped("&".join(kept), _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def _escaped(text: str, safe: str) -> str:
    """Raw non-ASCII and unsafe characters percent-encoded, escapes in upper case."""
    # errors="replace": a lone surrogate cannot be UTF-8; "?" keeps the result stable.
    quoted = quote(text, safe=safe, errors="replace")
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), quoted)
