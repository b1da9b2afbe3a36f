"""Make a hostile or broken XML feed safe and cheap to hand to feedparser.

feedparser is lenient, but slow (about 1 ms per item, worse than linear on long feeds) and
trusting: it expands nested entities until expat's amplification limit, which takes seconds
of Python callbacks. So, before it sees the bytes, ``prepare_xml``:

- refuses a DOCTYPE declaring nested, external, parameter or long entities (billion laughs,
  XXE); short literal entities such as ``<!ENTITY nbsp "&#160;">`` are kept;
- re-encodes UTF-16/32 as UTF-8 so the byte-level steps below can work;
- reads a body that is valid UTF-8 as UTF-8 when it claims a single-byte charset;
- removes control characters XML forbids (they would push feedparser to its loose parser);
- cuts the document before item ``max_items + 1`` (closing the open elements), and cuts a
  truncated document after its last complete item, so a half item is never posted.

``describe_non_feed`` says what arrived instead of a feed (an image, an HTML page...).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from xml.parsers import expat

from bot.errors import ParseError

_ITEM_TAGS = frozenset(("item", "entry"))
_SINGLE_BYTE = re.compile(r"(?:iso-?8859-?\d+|latin-?1|(?:windows|cp)-?125\d|us-ascii|ascii)$")
_DECLARED = re.compile(rb"""^(<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._-]+)(["'])""")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([^\s;\"']+)[\"']?", re.IGNORECASE)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PROLOG_PART = re.compile(rb"\xef\xbb\xbf|\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DOCTYPE = re.compile(rb"<!DOCTYPE\s[^\[>]*(?:\[(.*?)\]\s*)?>", re.DOTALL | re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY\s[^>]*>", re.DOTALL)
# A short literal or a single character reference: cannot amplify or read files.
_SAFE_VALUE = rb"(?:[^\"'&%<]{0,16}|&\#x?[0-9a-fA-F]{1,6};)"
_SAFE_ENTITY = re.compile(
    rb"<!ENTITY\s+[\w.:-]+\s+(?:\"" + _SAFE_VALUE + rb"\"|'" + _SAFE_VALUE + rb"')\s*>"
)
_ITEM_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]")
_TRUNCATION_ERRORS = frozenset(
    expat.errors.codes[message]
    for message in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)


@dataclass
class PreparedXml:
    """The bytes and content type to parse, and what was changed on the way."""

    body: bytes
    content_type: str | None
    warnings: list[str] = field(default_factory=list)


def prepare_xml(body: bytes, *, url: str, content_type: str | None, max_items: int) -> PreparedXml:
    """``body`` made safe for feedparser; ``ParseError`` for an entity attack."""
    prepared = PreparedXml(body, content_type)
    _to_utf8(prepared)
    _defuse_doctype(prepared, url=url)
    _trust_utf8(prepared)
    removed = len(_CONTROL.findall(prepared.body))
    if removed:
        prepared.body = _CONTROL.sub(b"", prepared.body)
        prepared.warnings.append(f"removed {removed} control characters that XML forbids")
    _cut(prepared, url=url, max_items=max_items)
    return prepared


def _to_utf8(prepared: PreparedXml) -> None:
    body = prepared.body
    bom_encodings = (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    encoding = next((name for bom, name in bom_encodings if body.startswith(bom)), None)
    if encoding is None and body[:4] in (b"<\0?\0", b"\0<\0?"):
        encoding = "utf-16-le" if body[0] == 0x3C else "utf-16-be"
    if encoding is None:
        return
    text = body.decode(encoding, "replace").lstrip("\ufeff")
    prepared.body = _DECLARED.sub(rb"\1utf-8\3", text.encode("utf-8"), count=1)
    prepared.content_type = _as_utf8(prepared.content_type)


def _defuse_doctype(prepared: PreparedXml, *, url: str) -> None:
    body, position = prepared.body, 0
    while part := _PROLOG_PART.match(body, position):  # the DOCTYPE may follow these only
        position = part.end()
    doctype = _DOCTYPE.match(body, position)
    if doctype is None or doctype.group(1) is None:
        return
    for declaration in _ENTITY.findall(doctype.group(1)):
        if not _SAFE_ENTITY.fullmatch(declaration):
            shown = declaration[:80].decode("utf-8", "replace")
            raise ParseError(
                f"refusing a feed whose DOCTYPE declares {shown!r}: nested, external or "
                "long entities are how entity-expansion and file-reading (XXE) attacks work",
                url=url,
            )


def _trust_utf8(prepared: PreparedXml) -> None:
    """A body that decodes as UTF-8 and has non-ASCII text is UTF-8, whatever it claims."""
    declared = _DECLARED.match(prepared.body)
    header = _CHARSET.search(prepared.content_type or "")
    claims = [m.group(2).decode("ascii").lower() for m in (declared,) if m]
    claims += [header.group(1).lower()] if header else []
    wrong = [c for c in claims if _SINGLE_BYTE.match(c)]
    if not wrong or prepared.body.isascii():
        return
    try:
        prepared.body.decode("utf-8")
    except UnicodeDecodeError:
        return  # really single-byte text
    if declared:
        prepared.body = _DECLARED.sub(rb"\1utf-8\3", prepared.body, count=1)
    prepared.content_type = _as_utf8(prepared.content_type)
    prepared.warnings.append(
        f"the feed says it is {wrong[0]} but its bytes are UTF-8; read as UTF-8"
    )


def _as_utf8(content_type: str | None) -> str | None:
    """``content_type`` saying UTF-8 (text/xml without a charset would mean US-ASCII)."""
    if not content_type:
        return None
    return _CHARSET.sub("", content_type) + "; charset=utf-8"


class _Cut(Exception):
    """Raised from an expat handler to stop scanning at ``offset``."""

    def __init__(self, offset: int, open_elements: list[str]) -> None:
        self.offset = offset
        self.open_elements = open_elements


def _cut(prepared: PreparedXml, *, url: str, max_items: int) -> None:
    body = prepared.body
    parser = expat.ParserCreate()
    parser.UseForeignDTD(True)  # undeclared entities (&nbsp;) do not stop the scan
    stack: list[str] = []
    items = 0
    last_end: tuple[int, list[str]] | None = None

    def start(name: str, _attrs: object) -> None:
        nonlocal items
        if name.rsplit(":", 1)[-1] in _ITEM_TAGS and len(stack) <= 2:
            items += 1
            if items > max_items:
                raise _Cut(parser.CurrentByteIndex, list(stack))
        stack.append(name)

    def end(name: str) -> None:
        nonlocal last_end
        stack.pop()
        if name.rsplit(":", 1)[-1] in _ITEM_TAGS and len(stack) <= 2:
            last_end = (body.index(b">", parser.CurrentByteIndex) + 1, list(stack))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(body, True)
    except _Cut as cut:
        prepared.body = body[: cut.offset] + _closing(cut.open_elements)
        prepared.warnings.append(
            f"more than {max_items} items: only the first {max_items} are read"
        )
    except ValueError:  # expat cannot read multi-byte encodings such as GB2312
        _cut_by_pattern(prepared, max_items=max_items)
    except expat.ExpatError as exc:
        if exc.code not in _TRUNCATION_ERRORS or not stack:
            # Some other breakage: feedparser's lenient reading decides, on at most
            # ``max_items`` items (its loose parser does not need the closing tags).
            _cut_by_pattern(prepared, max_items=max_items)
            return
        if last_end is None:
            raise ParseError(
                f"the document ends after {len(body):,} bytes, before its first item is "
                "complete (download cut short?)",
                url=url,
            ) from exc
        offset, open_elements = last_end
        prepared.body = body[:offset] + _closing(open_elements)
        prepared.warnings.append(
            f"the document is truncated after {len(body):,} bytes; the unfinished "
            "last item was skipped"
        )


def _cut_by_pattern(prepared: PreparedXml, *, max_items: int) -> None:
    starts = _ITEM_START.finditer(prepared.body)
    for position, found in enumerate(starts, start=1):
        if position > max_items:
            prepared.body = prepared.body[: found.start()]
            prepared.warnings.append(
                f"more than {max_items} items: only the first {max_items} are read"
            )
            return


def _closing(open_elements: list[str]) -> bytes:
    return b"".join(f"</{name}>".encode() for name in reversed(open_elements))


def describe_non_feed(body: bytes, problem: object, content_type: str | None) -> str:
    """Why ``body`` is not a feed, for a person: an image, an HTML page, or what it starts with."""
    head = body[:512].decode("utf-8", "replace")
    if b"\0" in body[:512] or (content_type or "").startswith(("image/", "video/", "audio/")):
        kind = (content_type or "").split(";")[0].strip() or "binary data"
        return f"the server sent {kind}, not an RSS/Atom/JSON feed; check the feed URL"
    if re.search(r"<!doctype html|<html", head, re.IGNORECASE):
        advertised = re.search(
            rb"<link[^>]+application/(?:rss|atom|feed)\+(?:xml|json)[^>]*>", body[:200_000], re.I
        )
        href = re.search(rb'href=["\']([^"\']+)', advertised.group(0)) if advertised else None
        hint = (
            f" it links to the feed {href.group(1).decode('utf-8', 'replace')}: use that URL"
            if href
            else ""
        )
        return f"this is an HTML page, not an RSS/Atom/JSON feed;{hint or ' check the feed URL'}"
    snippet = " ".join(head.split())[:80]
    reason = f" ({problem})" if problem else ""
    return f"not an RSS/Atom/JSON feed{reason}; the document starts with {snippet!r}"
