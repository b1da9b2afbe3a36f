"""How values cross the SQLite boundary: URL identity, UTC timestamps, rows to models.

Datetimes are stored as fixed-width ISO-8601 UTC text (``...T12:00:00.000000+00:00``) so
string order is time order and ``next_attempt <= ?`` compares correctly in SQL.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bot.models import Article, Delivery, FeedState, StoredItem
from bot.urls import normalise_url  # the one URL identity, shared with the feeds

__all__ = [
    "article_json",
    "clip",
    "delivery",
    "feed_state",
    "from_text",
    "item_fields",
    "normalise_url",
    "stored_item",
    "to_text",
]

_MAX_ERROR_CHARS = 2000  # an HTML error page must not bloat the database


def to_text(value: datetime) -> str:
    """Fixed-width UTC ISO-8601 text; naive datetimes are refused (their zone is a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no timezone; pass an aware UTC time")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    """Parse what ``to_text`` wrote back into an aware UTC datetime."""
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def clip(error: str) -> str:
    """Bound an error message before it is stored."""
    return error if len(error) <= _MAX_ERROR_CHARS else error[: _MAX_ERROR_CHARS - 1] + "…"


def item_fields(article: Article) -> tuple[str, str, str, str]:
    """The searchable copies of an article: url, norm_url, title, content_hash."""
    return (article.url, normalise_url(article.url), article.title, article.content_hash)


def article_json(article: Article) -> str:
    # ensure_ascii=False keeps Hindi/Tamil readable in the file and about half the size.
    return json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)


def feed_state(row: sqlite3.Row) -> FeedState:
    return FeedState(
        feed=row["name"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_poll=from_text(row["last_poll"]),
        last_success=from_text(row["last_success"]),
        consecutive_errors=row["consecutive_errors"],
        last_error=row["last_error"],
    )


def stored_item(row: sqlite3.Row) -> StoredItem:
    first_seen = from_text(row["first_seen"])
    assert first_seen is not None  # NOT NULL column
    return StoredItem(
        feed=row["feed"],
        item_id=row["item_id"],
        url=row["url"],
        title=row["title"],
        content_hash=row["content_hash"],
        first_seen=first_seen,
    )


def delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=row["id"],
        feed=row["feed"],
        item_id=row["item_id"],
        channel=row["channel"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt=from_text(row["next_attempt"]),
        article=Article.from_dict(json.loads(row["article_json"])),
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        last_error=row["last_error"],
        created=from_text(row["created"]),
        updated=from_text(row["updated"]),
    )
