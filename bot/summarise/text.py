"""Feed HTML to clean plain-text paragraphs.

Feeds hand us article bodies and excerpts as HTML full of things a post must never carry:
tags, entities, captions, share widgets and "The post … appeared first on …" footers.
"""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser

import regex

# Elements whose text never belongs in a summary.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
        "figcaption", "nav", "button", "select", "textarea", "form", "head", "title",
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
_SPACES = regex.compile(r"[^\S\n]+")
_INVISIBLE = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}\p{Co}\uFFFE\uFFFF]")
_KEEP_CF = {"\u200c", "\u200d"}  # ZWNJ/ZWJ shape Indic conjuncts and emoji: keep them
_BLANK_LINES = regex.compile(r"\n\s*\n+")

_TRUNCATION_TAIL = regex.compile(r"\s*(?:\[\s*(?:…|\.{3})\s*\]|\(\s*(?:…|\.{3})\s*\)|…|\.{3})\s*$")
_BRACKET_TAIL = regex.compile(r"\s*\[\s*(?:…|\.{2,}|&hellip;)\s*\]\s*$")
_READ_MORE_TAIL = regex.compile(
    r"(?:(?<=[.!?…।])|^)\s*(?:[^\w\s]\s*)?"
    r"(?:continue reading|read more|read (?:the )?full (?:story|article|post)|permalink|"
    r"और पढ़ें|आगे पढ़ें|மேலும் படிக்க|మరింత చదవండి)\b[^.!?।]*$",
    regex.IGNORECASE,
)
# Whole lines that are feed furniture, not article text.
_BOILERPLATE_LINE = regex.compile(
    r"""^\W*(?:
        the\ post\ .+\ (?:appeared\ first|first\ appeared)\ on\ .+
      | this\ (?:post|article)\ (?:was\ )?(?:originally\ )?(?:appeared|published)
        \ (?:first\ )?on\ .+
      | (?:also\ read|read\ also|also\ see|see\ also
        |related(?:\ articles?|\ posts?|\ stories)?)\s*[:\-–—|].*
      | (?:read\ more|continue\ reading|read\ (?:the\ )?full\ (?:story|article|post))\b.*
      | permalink\b.*
      | (?:share\ this|share\ on|share\ via)\b.*
      | follow\ us\ on\b.*
      | click\ here\b.*
      | subscribe\b.*
      | sign\ up\ for\ our\b.*
      | (?:photo|image|picture|pic|video|featured\ image|representational\ image|file\ photo)
        (?:\ credits?|\ courtesy|\ source)?\s*[:\-–—|].*
      | (?:credits?|courtesy|source)\s*:.*
      | (?:यह|ये|इसे)\ भी\ पढ़ें.*
      | (?:और|आगे)\ पढ़ें.*
      | (?:फोटो|फ़ोटो|तस्वीर|चित्र)(?:\ साभार|\ क्रेडिट)?\s*[:\-–—|].*
      | (?:हमें\ )?फॉलो\ करें.*
      | இதையும்\ (?:படிக்க|படிங்க|பாருங்க|வாசிக்க).*
      | மேலும்\ படிக்க.*
      | (?:ఇది|ఇవి)\ కూడా\ (?:చదవండి|చూడండి).*
      | మరింత\ చదవండి.*
    )$""",
    regex.IGNORECASE | regex.VERBOSE,
)
_BRACKETED_CREDIT = regex.compile(
    r"\s*[(\[](?:photo|image|picture|pic|credit|courtesy|फोटो|फ़ोटो)\b[^)\]]{0,80}[)\]]\s*$",
    regex.IGNORECASE,
)


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
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return normalise_text("".join(collector.parts))


def normalise_text(text: str) -> str:
    """NFC, one space between words, lines trimmed, paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub(lambda m: m.group() if m.group() in _KEEP_CF | {"\n", "\t"} else "", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    paragraphs = (p.strip() for p in _BLANK_LINES.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def split_truncation(text: str) -> tuple[str, bool]:
    """``text`` without a trailing ellipsis marker ("[…]", "...", "…"), and whether it had one.

    Feeds mark an excerpt they cut short this way (WordPress: first 55 words + " […]"),
    often followed by "Continue reading" or a "The post … appeared first on …" line:
    those trailing lines and tails are looked past, and dropped.
    """
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or is_boilerplate(lines[-1])):
        lines.pop()
    tail = _READ_MORE_TAIL.sub("", "\n".join(lines)).rstrip()
    stripped, count = _TRUNCATION_TAIL.subn("", tail)
    return (stripped, True) if count else (text, False)


def clean_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` without feed boilerplate, each on one line.

    Drops "The post … appeared first on …", "Also read: …" (and its Hindi, Tamil, Telugu
    equivalents), share/follow/subscribe prompts and photo credits, and strips "[…]" and
    "Continue reading" tails.
    """
    out: list[str] = []
    for paragraph in _BLANK_LINES.split(normalise_text(text)):
        lines = [_clean_line(line) for line in paragraph.split("\n")]
        joined = " ".join(line for line in lines if line)
        if joined:
            out.append(joined)
    return out


def is_boilerplate(line: str) -> bool:
    """True for a line or sentence that is feed furniture ("Also read: …", "Photo: …")."""
    return bool(_BOILERPLATE_LINE.match(line.strip()))


def _clean_line(line: str) -> str:
    line = line.strip()
    if not line or is_boilerplate(line):
        return ""
    line = _BRACKET_TAIL.sub("", line)
    line = _READ_MORE_TAIL.sub("", line)
    line = _BRACKETED_CREDIT.sub("", line)
    return line.strip()
