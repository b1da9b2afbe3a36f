"""Feed bytes to ``Article`` values: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed.

Both formats are first read into format-neutral ``RawItem`` values (``bot.feeds.doc``);
``_finalise`` then applies the shared rules (absolute links, identity, titles, images,
duplicates, the cap).
Real feeds are often broken; anything feedparser can still read is kept, with a warning.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.errors import ParseError
from bot.feeds.doc import FeedDoc, RawItem, normalise_lang
from bot.feeds.extract import absolute_http_url, derive_title, first_image
from bot.feeds.jsonfeed import parse_json_feed
from bot.feeds.links import resolve_links
from bot.feeds.mojibake import fix_mojibake
from bot.feeds.xmlguard import describe_non_feed, prepare_xml
from bot.htmltext import inline_text
from bot.models import Article, Media
from bot.urls import normalise_url

MAX_ITEMS = 500
SANITIZE_HTML = False  # feedparser's HTML sanitiser (see ``_read_xml``); tests turn it on
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Character references such as &#1; survive the byte-level clean-up in ``xmlguard``.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCHEME = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its title, its items (feed order) and what was odd about it."""

    title: str
    articles: tuple[Article, ...]
    warnings: tuple[str, ...] = ()
    link: str | None = None  # the site's home page, when the feed names one


def parse_feed(
    body: bytes,
    *,
    feed_name: str,
    base_url: str,
    content_type: str | None = None,
    default_lang: str | None = None,
) -> ParsedFeed:
    """Parse a feed document; ``ParseError`` (naming ``base_url``) when it is not a feed."""
    try:
        if _looks_like_json(body, content_type):
            doc = parse_json_feed(body, url=base_url)
        else:
            doc = _read_xml(body, base_url=base_url, content_type=content_type)
        return _finalise(doc, feed_name=feed_name, base_url=base_url, default_lang=default_lang)
    except ParseError:
        raise
    except Exception as exc:  # a hostile document must not crash the poll loop
        raise ParseError(
            f"the feed parser failed ({type(exc).__name__}: {exc}); the document is "
            "probably not a feed",
            url=base_url,
        ) from exc


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _read_xml(body: bytes, *, base_url: str, content_type: str | None) -> FeedDoc:
    if body[:2] == b"\x1f\x8b":
        raise ParseError(
            "the document is gzip-compressed bytes, not a feed (a .gz file served without "
            "Content-Encoding?); use the uncompressed feed URL",
            url=base_url,
        )
    # Whitespace before <?xml ...?> makes strict XML parsers fail; feedparser would fall
    # back to its weaker loose parser, so drop it here.
    body = body.lstrip(b" \t\r\n")
    if not body:
        raise ParseError("the document is empty, not an RSS/Atom/JSON feed", url=base_url)
    prepared = prepare_xml(body, url=base_url, content_type=content_type, max_items=MAX_ITEMS)
    # No Content-Location: feedparser would resolve relative guids against it, and item
    # identity must not change when the feed moves. ``_finalise`` resolves links instead.
    headers = {"content-type": prepared.content_type} if prepared.content_type else {}
    # Links in content are resolved once, by ``resolve_links`` (feedparser would make a
    # second, slow pass over every item's HTML; ``content_base`` keeps its xml:base).
    # No sanitising either: it was a third pass over every item's HTML, a third of a cold
    # poll's CPU, and feed HTML is untrusted wherever it goes anyway (a JSON Feed's or an
    # article page's never went through it): it becomes text through ``html_to_text``,
    # which drops scripts and styles; images and links must be http(s); the web page
    # escapes everything. tests/test_parse_unsanitised.py holds both to that.
    result = feedparser.parse(
        io.BytesIO(prepared.body),
        response_headers=headers,
        resolve_relative_uris=False,
        sanitize_html=SANITIZE_HTML,
    )
    feed = result.get("feed", {})
    entries = result.get("entries", [])
    if not entries and (not result.get("version") or not feed.get("title")):
        raise ParseError(
            describe_non_feed(body, result.get("bozo_exception"), content_type), url=base_url
        )
    doc = FeedDoc(
        title=inline_text(feed.get("title", "")),
        link=feed.get("link", ""),
        lang=normalise_lang(feed.get("language")),
    )
    doc.warnings.extend(prepared.warnings)
    problem = result.get("bozo_exception")
    if result.get("bozo") and not isinstance(problem, feedparser.NonXMLContentType):
        doc.warnings.append(f"feed is not well-formed ({problem}); parsed it leniently")
    doc.items = [_raw_item(entry) for entry in entries]
    return doc


def _raw_item(entry: Any) -> RawItem:
    title_detail = entry.get("title_detail") or {}
    title = entry.get("title", "")
    if title_detail.get("type") in _HTML_TYPES:
        title = inline_text(title)
    author_detail = entry.get("author_detail") or {}
    return RawItem(
        guid=(entry.get("id") or "").strip(),
        link=(entry.get("link") or "").strip(),
        title=" ".join(title.split()),
        content_html=_entry_content(entry),
        excerpt_html=_as_html(entry.get("summary", ""), entry.get("summary_detail")),
        published=_struct_to_utc(entry.get("published_parsed")),
        # dict.get: feedparser's own .get() maps a missing "updated" to "published" with a
        # DeprecationWarning, and an edit time must not be invented.
        updated=_struct_to_utc(dict.get(entry, "updated_parsed")),
        tags=tuple(t.get("label") or t.get("term") or "" for t in entry.get("tags", [])),
        image=_declared_image(entry),
        lang=normalise_lang(entry.get("language") or title_detail.get("language")),
        author=author_detail.get("name") or entry.get("author") or None,
        content_base=_content_base(entry),
    )


def _content_base(entry: Any) -> str:
    """The xml:base feedparser saw around the entry's HTML ("" when none)."""
    for detail in (*entry.get("content", []), entry.get("summary_detail") or {}):
        if detail.get("base"):
            return str(detail["base"])
    return ""


def _as_html(value: str, detail: Any) -> str:
    if detail and detail.get("type") == "text/plain":
        return f"<p>{html.escape(value)}</p>" if value.strip() else ""
    return value


def _entry_content(entry: Any) -> str:
    """The longest HTML body among the entry's content elements."""
    bodies = [_as_html(c.get("value", ""), c) for c in entry.get("content", [])]
    return max(bodies, key=len, default="")


def _declared_image(entry: Any) -> Media | None:
    for media in entry.get("media_content", []):
        kind = media.get("medium") or media.get("type") or ""
        url = media.get("url", "")
        if kind == "image" or kind.startswith("image/") or (not kind and _is_image_url(url)):
            return Media(url=url, alt="", mime=media.get("type") or None)
    for thumb in entry.get("media_thumbnail", []):
        if thumb.get("url"):
            return Media(url=thumb["url"])
    for link in entry.get("enclosures", []):
        if (link.get("type") or "").startswith("image/") and link.get("href"):
            return Media(url=link["href"], mime=link["type"])
    return None


def _is_image_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(_IMAGE_SUFFIXES)


def _struct_to_utc(value: time.struct_time | None) -> datetime | None:
    """feedparser's UTC ``struct_time`` as an aware datetime; None when absurd."""
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return moment if 1990 <= moment.year <= 2200 else None


def _item_id(item: RawItem, link: str) -> str:
    if item.guid:
        return item.guid
    if link:
        return normalise_url(link)
    when = item.published or item.updated
    seed = f"{item.title}\0{when.isoformat() if when else ''}"
    if not item.title and not when:
        seed += "\0" + (item.content_html or item.excerpt_html)
    return "sha256:" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()


def _finalise(
    doc: FeedDoc, *, feed_name: str, base_url: str, default_lang: str | None
) -> ParsedFeed:
    home = absolute_http_url(doc.link, base_url if absolute_http_url(base_url) else "") or ""
    base = base_url if absolute_http_url(base_url) else home
    warnings = list(doc.warnings)
    articles: list[Article] = []
    seen: set[str] = set()
    for position, item in enumerate(doc.items, start=1):
        if len(articles) >= MAX_ITEMS:
            warnings.append(f"more than {MAX_ITEMS} items: only the first {MAX_ITEMS} are read")
            break
        if not (item.link or item.title or item.content_html or item.excerpt_html):
            warnings.append(f"item {position} is empty (no link, title or text): skipped")
            continue
        if item.link and not absolute_http_url(item.link, base):
            # javascript:, data:, file:... Posting the site's home page instead would send
            # every such item to one wrong link.
            warnings.append(_bad_link(position, item))
            continue
        own_link = absolute_http_url(item.link, base) or absolute_http_url(item.guid)
        # Link-less items (microblog notes) link to the site; their identity cannot.
        link = own_link or home or absolute_http_url(base)
        if not link:
            warnings.append(f"item {position} ({item.title[:40]!r}) has no usable link: skipped")
            continue
        item_id = _item_id(item, own_link or "")
        if item_id in seen:
            warnings.append(f"item {position}: duplicate id {item_id!r}, kept the first")
            continue
        seen.add(item_id)
        articles.append(
            _article(
                item,
                feed_name=feed_name,
                item_id=item_id,
                link=link,
                lang=doc.lang or default_lang,
                base=_html_base(item, base or link),
            )
        )
    return ParsedFeed(
        title=doc.title, articles=tuple(articles), warnings=tuple(warnings), link=home or None
    )


def _html_base(item: RawItem, base: str) -> str:
    """What relative links in the item's HTML are relative to: its xml:base, else ``base``."""
    if not item.content_base:
        return base
    try:
        return urljoin(base, item.content_base)
    except ValueError:  # a malformed xml:base
        return base


def _bad_link(position: int, item: RawItem) -> str:
    found = _SCHEME.match(item.link)  # not urlsplit: it raises on a malformed host
    scheme = found.group(1).lower() if found else ""
    what = f"a {scheme}: URL" if scheme and scheme not in ("http", "https") else "a malformed URL"
    name = f"{item.title[:60]!r}" + (f", id {item.guid[:80]!r}" if item.guid else "")
    return (
        f"item {position} ({name}) links to {what} ({item.link[:60]!r}), not an http(s) "
        "page: skipped (no other link is used in its place)"
    )


def _article(
    item: RawItem, *, feed_name: str, item_id: str, link: str, lang: str | None, base: str
) -> Article:
    for name in ("title", "content_html", "excerpt_html"):
        setattr(item, name, fix_mojibake(_CONTROL.sub("", getattr(item, name))))
    title = item.title or derive_title(inline_text(item.content_html or item.excerpt_html))
    in_body = first_image(item.content_html, base=link) or first_image(item.excerpt_html, base=link)
    image = item.image
    if image is not None:
        url = absolute_http_url(image.url, link)
        # Feeds rarely give alt text for media:content; the same picture in the body may.
        alt = image.alt or (in_body.alt if in_body and in_body.url == url else "")
        image = Media(url=url, alt=alt, mime=image.mime) if url else None
    image = image or in_body
    return Article(
        feed=feed_name,
        item_id=item_id,
        url=link,
        title=title or "(untitled)",
        content_html=resolve_links(item.content_html, base),
        excerpt_html=resolve_links(item.excerpt_html, base),
        lang=item.lang or lang,
        published=item.published,
        updated=item.updated,
        tags=tuple(
            dict.fromkeys(fix_mojibake(_CONTROL.sub("", t).strip()) for t in item.tags if t.strip())
        ),
        image=image,
        author=fix_mojibake(_CONTROL.sub("", item.author)) if item.author else None,
    )
