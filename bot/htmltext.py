"""HTML to plain text, once for the whole bot: feed bodies, excerpts, titles, page meta.

``html_to_text`` keeps paragraphs (a blank line between blocks, ``<br>`` a line break) and
drops what never belongs in a post: scripts, styles, navigation, figure captions and
share widgets. ``inline_text`` is the same text on one line, for titles and names.
Standard library only, so parsing a feed imports nothing heavy.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

import regex

# Elements whose text never belongs in a post.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
        "figcaption", "nav", "button", "select", "textarea", "form", "head", "title",
        "applet",
    }
)  # fmt: skip
# Class names WordPress and share plugins put on captions, widgets and "related" boxes.
_SKIP_CLASSES = frozenset(
    {
        "wp-caption-text", "caption", "screen-reader-text", "sharedaddy", "jp-relatedposts",
        "sd-sharing", "share-buttons", "related-posts", "yarpp-related", "social-share",
    }
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "blockquote", "section", "article", "aside", "header", "footer", "main", "figure",
        "table", "thead", "tbody", "tr", "td", "th", "pre", "hr", "address", "details",
        "summary", "caption",
    }
)  # fmt: skip

# Spaces of every width (incl. &nbsp;) become a plain space; invisible format characters
# (zero-width, BOM, soft hyphen) and the code points X rejects are dropped.
# Control, format, surrogate and private-use characters, and the two non-characters; but
# not newline and tab, nor ZWNJ/ZWJ, which shape Indic conjuncts and emoji.
_INVISIBLE = regex.compile(r"(?V1)[[\p{Cc}\p{Cf}\p{Cs}\p{Co}\uFFFE\uFFFF]--[\n\t\u200c\u200d]]")
BLANK_LINES = regex.compile(r"\n\s*\n+")
# The whitespace characters ``_INVISIBLE`` removes (controls); ``str.split`` would hide them.
_INVISIBLE_SPACES = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"


# Markup ``_tokenise_simple`` reads: a start tag with plain attributes (optionally
# self-closing), an end tag, or a comment with no "--" inside.
_ATTRIBUTE = r"""\s+([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_SIMPLE_TAG = re.compile(
    r"<(?:/(?P<end>[A-Za-z][A-Za-z0-9]*)\s*>"
    rf"|(?P<start>[A-Za-z][A-Za-z0-9]*)(?P<attrs>(?:{_ATTRIBUTE})*)\s*(?P<empty>/?)>"
    r"|!--(?:(?!--).)*-->)",
    re.DOTALL,
)
_SIMPLE_ATTRIBUTE = re.compile(_ATTRIBUTE)
# Elements whose text HTMLParser does not read as markup.
_RAW_TEXT = re.compile(r"<(?:script|style)", re.IGNORECASE)


class _TextCollector(HTMLParser):
    """Collects text, turning block elements into paragraph breaks and skipping furniture."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        classes = set((dict(attrs).get("class") or "").split())
        if tag in _SKIP_TAGS or classes & _SKIP_CLASSES:
            self._skip_tag, self._skip_depth = tag, 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <div class="caption"/> opens nothing, so it must not start a skipped region.
        if tag == "br" and self._skip_tag is None:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._skip_tag is None:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of ``html``: paragraphs separated by a blank line, entities decoded, NFC.

    Scripts, styles, navigation and figure captions are dropped; block elements end a
    paragraph and ``<br>`` ends a line.
    """
    if "<" not in html and "&" not in html:
        return normalise_text(html)
    collector = _TextCollector()
    if not _tokenise_simple(html, collector):
        collector = _TextCollector()
        collector.feed(html)
        collector.close()
    return normalise_text("".join(collector.parts))


def _tokenise_simple(html: str, collector: _TextCollector) -> bool:  # noqa: PLR0912 - hot loop
    """Collect into ``collector`` the text ``HTMLParser`` would, for markup that is
    simple: well-formed tags with plain attributes, comments, text and entities, and no
    script or style (whose text is not markup). False, with nothing promised of
    ``collector``, when the markup is anything else; ``HTMLParser`` then reads it. Most
    feed content is simple, and this reads it several times faster: the collector's
    handlers are written out here, and attributes are read only when there may be a
    ``class`` among them (tests/test_fast_paths.py compares the two on the corpus and
    on generated tag soup)."""
    if _RAW_TEXT.search(html):
        return False
    parts = collector.parts
    skip_tag, depth = collector._skip_tag, collector._skip_depth
    find, match, append = html.find, _SIMPLE_TAG.match, parts.append
    position = 0
    while True:
        start = find("<", position)
        if start < 0:
            if position < len(html) and skip_tag is None:
                text = html[position:]
                append(unescape(text) if "&" in text else text)
            collector._skip_tag, collector._skip_depth = skip_tag, depth
            return True
        if start > position and skip_tag is None:
            text = html[position:start]
            append(unescape(text) if "&" in text else text)
        found = match(html, start)
        if found is None:
            return False
        position = found.end()
        end, tag, attributes, empty = found.group("end", "start", "attrs", "empty")
        if end is not None:  # handle_endtag
            end = end.lower()
            if skip_tag is not None:
                if end == skip_tag:
                    depth -= 1
                    if depth == 0:
                        skip_tag = None
            elif end in _BLOCK_TAGS:
                append("\n\n")
        elif tag is None:  # a comment
            continue
        elif empty:  # handle_startendtag
            if skip_tag is None and tag.lower() == "br":
                append("\n")
        else:  # handle_starttag
            tag = tag.lower()
            if skip_tag is not None:
                if tag == skip_tag:
                    depth += 1
            elif tag in _SKIP_TAGS or (
                "class" in attributes.lower() and _classes(attributes) & _SKIP_CLASSES
            ):
                skip_tag, depth = tag, 1
            elif tag == "br":
                append("\n")
            elif tag in _BLOCK_TAGS:
                append("\n\n")


def _classes(attributes: str) -> set[str]:
    """The class names in a start tag's ``attributes``, read as ``HTMLParser`` reads
    them (the last ``class`` attribute counts)."""
    value = None
    for name, raw in _SIMPLE_ATTRIBUTE.findall(attributes):
        if name.lower() == "class":
            value = _attribute_value(raw)
    return set((value or "").split())


def _attribute_value(raw: str) -> str | None:
    if not raw:
        return None
    if raw[0] in "\"'":
        raw = raw[1:-1]
    return unescape(raw)


def normalise_text(text: str) -> str:
    """NFC, one space between words, lines trimmed, paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _has_invisible(text):
        text = _INVISIBLE.sub("", text)
    # Once no control character is left, str.split's whitespace is Unicode's White_Space:
    # every run of it within a line becomes one space, and lines are trimmed.
    # A printable line with no double space has nothing to squeeze: kept as it is.
    lines = map(str.strip, text.split("\n"))
    text = "\n".join(
        [
            line if "  " not in line and line.isprintable() else " ".join(line.split())
            for line in lines
        ]
    )
    paragraphs = (p.strip() for p in BLANK_LINES.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _has_invisible(text: str) -> bool:
    """Might ``_INVISIBLE`` remove anything? The regex scan is the slow part of
    normalising, and most text has nothing for it: without its whitespace, ZWNJ and ZWJ
    (which it keeps), text is printable only when it has no control, format, surrogate,
    private-use or unassigned character; the whitespace controls are looked for apart."""
    if text.replace("\n", "").replace(" ", "").isprintable():
        return False  # the usual case, told without splitting the text into words
    bare = "".join(text.split()).replace("\u200c", "").replace("\u200d", "")
    return not bare.isprintable() or any(char in text for char in _INVISIBLE_SPACES)


def inline_text(html: str) -> str:
    """``html_to_text`` on one line: every run of whitespace, newlines included, one space."""
    return " ".join(html_to_text(html).split())
