"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) read into ``FeedDoc``.

Values of the wrong JSON type are ignored one by one rather than failing the feed: a feed
with one odd item should still deliver the others.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from bot.errors import ParseError
from bot.feeds.doc import FeedDoc, RawItem, normalise_lang
from bot.feeds.extract import text_to_html
from bot.models import Media

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def parse_json_feed(body: bytes, *, url: str) -> FeedDoc:
    """Read a JSON Feed; ``ParseError`` for invalid JSON or a document without ``items``.

    A raw control character inside a string (a tab or ^H pasted into a title) breaks
    strict JSON but not the feed: such a document is read leniently, with a warning.
    """
    lenient = False
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        try:
            data, lenient = json.loads(body, strict=False), True
        except ValueError:
            raise ParseError(
                f"invalid JSON ({exc}); the download may be truncated or this is not a JSON Feed",
                url=url,
            ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError("JSON document is not a JSON Feed: it has no 'items' list", url=url)
    doc = FeedDoc(
        title=_text(data.get("title")),
        link=_text(data.get("home_page_url")),
        lang=normalise_lang(_text(data.get("language"))),
    )
    if lenient:
        doc.warnings.append(
            "the JSON has raw control characters inside strings (invalid JSON); read it "
            "leniently (control characters are removed from the text)"
        )
    version = _text(data.get("version"))
    if not version.startswith(_VERSION_PREFIX):
        doc.warnings.append(f"unknown JSON Feed version {version!r}; read it as 1.1")
    for position, entry in enumerate(data["items"], start=1):
        if isinstance(entry, dict):
            doc.items.append(_item(entry))
        else:
            doc.warnings.append(f"item {position} is not a JSON object: skipped")
    return doc


def _item(entry: dict[str, Any]) -> RawItem:
    content = _text(entry.get("content_html"))
    if not content and _text(entry.get("content_text")):
        content = text_to_html(_text(entry.get("content_text")))
    summary = _text(entry.get("summary"))
    image_url = _text(entry.get("image")) or _text(entry.get("banner_image"))
    raw_id = entry.get("id")
    tags = entry.get("tags")
    return RawItem(
        guid=str(raw_id).strip() if isinstance(raw_id, str | int) and raw_id != "" else "",
        link=_text(entry.get("url")) or _text(entry.get("external_url")),
        title=" ".join(_text(entry.get("title")).split()),
        content_html=content,
        excerpt_html=f"<p>{html.escape(summary)}</p>" if summary.strip() else "",
        published=_date(entry.get("date_published")),
        updated=_date(entry.get("date_modified")),
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        image=Media(url=image_url) if image_url else None,
        lang=normalise_lang(_text(entry.get("language"))),
        author=_author(entry),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _author(entry: dict[str, Any]) -> str | None:
    """1.1 ``authors`` list, else the 1.0 ``author`` object."""
    authors = entry.get("authors")
    candidates = authors if isinstance(authors, list) else [entry.get("author")]
    for author in candidates:
        if isinstance(author, dict) and _text(author.get("name")).strip():
            return _text(author.get("name")).strip()
    return None


def _date(value: Any) -> datetime | None:
    """RFC 3339 to aware UTC; a date without offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
