"""Links in an item's HTML made absolute, and links to unsafe schemes emptied.

Feed HTML is kept as the feed wrote it (it is untrusted wherever it goes: see
``bot.feeds.parse``), except for its link attributes: a relative ``href``/``src`` is made
absolute against the item's base, and one whose scheme is not a safe one (``javascript:``,
``data:``, ``vbscript:``..., however spelt) becomes empty.

Most feeds write absolute links: then the HTML is not read at all. Markup made only of
well-formed tags (the usual case) has its link attributes rewritten in place, the rest of
it untouched; anything else (scripts, stray ``<``, CDATA) goes through feedparser's resolver,
which reads tag soup as it always did.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import feedparser

# The (element, attribute) pairs whose value is a URL, as feedparser's resolver has them.
URL_ATTRIBUTES = frozenset(feedparser.urls.RelativeURIResolver.relative_uris)
_SAFE_SCHEMES = frozenset(feedparser.urls.ACCEPTABLE_URI_SCHEMES)
_NAMES = "|".join(sorted({attribute for _, attribute in URL_ATTRIBUTES}))
# A URL attribute whose value is not plainly http(s)://...: the fragment needs resolving.
_NOT_ABSOLUTE = re.compile(rf"\b(?:{_NAMES})\s*+=\s*+[\"']?+\s*+(?!https?://)", re.IGNORECASE)
_EXTRA_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*://)(/*)(.*?)")  # as feedparser's

_ATTRIBUTE = r"""\s+([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_START_TAG = rf"<([A-Za-z][A-Za-z0-9]*)((?:{_ATTRIBUTE})*+)\s*/?>"
# Text and well-formed tags only: every "<" starts an end tag, a start tag with plain
# attributes or a comment (no script or style: their text is not markup).
_SIMPLE = re.compile(
    rf"(?:[^<]++|</[A-Za-z][A-Za-z0-9]*\s*>|(?!<(?i:script|style)\b){_START_TAG}"
    r"|<!--(?:(?!--).)*+-->)*+",
    re.DOTALL,
)
_TAG_WITH_ATTRIBUTES = re.compile(
    rf"<(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<attributes>(?:{_ATTRIBUTE})++)(?P<end>\s*/?>)"
)
_ATTRIBUTE_RE = re.compile(_ATTRIBUTE)


def absolute_url(value: str, base: str) -> str:
    """``value`` joined to ``base``; "" when its scheme is not one feedparser accepts."""
    url = _EXTRA_SLASHES.sub(r"\1\3", value.strip())
    try:
        url = urljoin(base, url)
    except ValueError:  # a malformed host such as http://[::1
        return ""
    scheme = url.strip().split(":", 1)[0].lower()
    return url if scheme in _SAFE_SCHEMES else ""


def resolve_links(fragment: str, base: str) -> str:
    """``fragment`` with relative link attributes made absolute against ``base`` and unsafe
    ones emptied; returned as it is when every link attribute is absolute http(s)."""
    if not base or not _NOT_ABSOLUTE.search(fragment):
        return fragment
    return _rewrite(fragment, base)


def _rewrite(fragment: str, base: str) -> str:
    if _SIMPLE.fullmatch(fragment):
        return _TAG_WITH_ATTRIBUTES.sub(lambda tag: _resolved_tag(tag, base), fragment)
    resolver = _Resolver(base, "utf-8", "text/html")
    resolver.feed(fragment)
    resolved: str = resolver.output()
    return resolved


def _resolved_tag(tag: re.Match[str], base: str) -> str:
    element = tag["name"].lower()
    changed = False
    attributes = []
    for found in _ATTRIBUTE_RE.finditer(tag["attributes"]):
        name, raw = found[1].lower(), found[2]
        if (element, name) not in URL_ATTRIBUTES:
            attributes.append(found[0])
            continue
        value = html.unescape(raw[1:-1] if raw and raw[0] in "\"'" else raw or "")
        url = absolute_url(value, base)
        if url == value and raw and raw[0] in "\"'":
            attributes.append(found[0])
            continue
        attributes.append(f' {found[1]}="{html.escape(url)}"')
        changed = True
    if not changed:
        return tag[0]
    return f"<{tag['name']}{''.join(attributes)}{tag['end']}"


class _Resolver(feedparser.urls.RelativeURIResolver):  # type: ignore[misc]
    """feedparser's resolver for tag soup, but a link's character references are read (as
    a browser reads them) and an unsafe link is emptied, not kept."""

    def resolve_uri(self, uri: str) -> str:
        return absolute_url(html.unescape(uri), self.baseuri)

    def unknown_starttag(self, tag: str, attrs: list[tuple[str, str]]) -> None:
        attrs = [
            (key, self.resolve_uri(value) if (tag, key) in URL_ATTRIBUTES else value)
            for key, value in self.normalize_attrs(attrs)
        ]
        feedparser.html._BaseHTMLProcessor.unknown_starttag(self, tag, attrs)
