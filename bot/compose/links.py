"""The article link as posted, and links in article text where a platform takes none."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Outside printable ASCII: spaces, controls, and every non-ASCII character.
_NOT_URI_CHAR = re.compile(r"[^\x21-\x7e]")
# A link written out in article text; trailing punctuation belongs to the sentence.
_TEXT_URL = re.compile(r"(?<![\w@.])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)]}'\"’”»…"
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+(?=[.,;:!?](?:\s|$))")
_EMPTY_BRACKETS = re.compile(r"[ \t]*(?:\(\s*\)|\[\s*\])")
_WWW = re.compile(r"[wW]{3}\.")


def add_utm(url: str, params: Iterable[tuple[str, str]]) -> str:
    """``url`` with the campaign parameters appended; ones already in the URL are kept."""
    params = tuple(params)
    if not params:
        return url  # most channels: nothing to append, nothing to parse
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = urlencode([(k, v) for k, v in params if k not in present])
    if not extra:
        return url
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def ascii_url(url: str) -> str:
    """``url`` with non-ASCII characters and spaces in its path, query and fragment
    percent-encoded as UTF-8 (an IRI made a URI, RFC 3987 3.1).

    X and Mastodon link only ASCII paths: ``https://example.com/記事1`` would be a link to
    ``https://example.com/`` followed by plain text. The host is left alone: an
    internationalised domain is linked whole. Existing ``%XX`` escapes are kept.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _NOT_URI_CHAR.sub(_percent, url)
    host_end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    host, tail = rest[:host_end], rest[host_end:]
    return f"{scheme}://{host}{_NOT_URI_CHAR.sub(_percent, tail)}"


def _percent(match: re.Match[str]) -> str:
    return quote(match.group(0).encode("utf-8", "surrogatepass"), safe="")


def drop_urls(text: str) -> str:
    """``text`` without the links written in it, for platforms where links are not
    clickable (Instagram): a bare URL there is noise a reader cannot follow."""
    if "://" not in text and not has_www(text):
        return text
    dropped = _EMPTY_BRACKETS.sub("", _TEXT_URL.sub(_keep_tail, text))
    lines = (_SPACE_BEFORE_PUNCT.sub("", _SPACES.sub(" ", line)) for line in dropped.split("\n"))
    return "\n".join(line.strip() for line in lines).strip()


def has_www(text: str) -> bool:
    """``"www." in text.lower()``, without lower-casing all of ``text``: only "w" and "W"
    lower-case to something with a "w", only "." to something with a "." (checked over
    all of Unicode in tests/test_fast_paths.py), and text seldom has a "ww." at all."""
    if "ww." not in text and "Ww." not in text and "wW." not in text and "WW." not in text:
        return False
    return _WWW.search(text) is not None


def _keep_tail(match: re.Match[str]) -> str:
    """Only the punctuation after a URL survives: it ends the sentence, not the link."""
    url = match.group(0)
    body = url.rstrip(_URL_TAIL)
    return url[len(body) :]
