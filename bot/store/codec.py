"""How values cross the database boundary (SQLite or PostgreSQL): URL identity, UTC
timestamps, rows to models.

Datetimes are stored as fixed-width ISO-8601 UTC text (``...T12:00:00.000000+00:00``) so
string order is time order and ``next_attempt <= ?`` compares correctly in SQL.

Articles and posts are stored as JSON objects carrying a format version ``"v"``, so a
later syndbot can read (or migrate) what an earlier one wrote, and an older syndbot
refuses what a newer one wrote instead of misreading it. An article without ``"v"`` was
written before versions existed (v0): the same fields as v1.

Posts: v1 kept ``description``, ``composed_at`` and the image flags as strings in an
``extra`` object (``"image_missing": "true"``); v2 stores them as typed fields
(``description``, ``composed_at``, ``image_missing``, ``with_facets``). A v1 post is read
into the same ``Post`` a v2 one is, ``with_facets`` taken from its platform's profile.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from bot.errors import StoreError
from bot.models import (
    Article,
    Delivery,
    Facet,
    FacetKind,
    FeedState,
    Length,
    Media,
    Post,
    PostPart,
    StoredItem,
)
from bot.urls import normalise_url  # the one URL identity, shared with the feeds

_MAX_ERROR_CHARS = 2000  # an HTML error page must not bloat the database
ARTICLE_VERSION = 1  # the "v" written into items.article_json
POST_VERSION = 2  # the "v" written into deliveries.post_json (1: flags in "extra")


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
    record = {"v": ARTICLE_VERSION, **article.to_dict()}
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def article_from_json(text: str, *, where: str) -> Article:
    """The article stored as ``text``; ``where`` names the row for a ``StoreError``."""
    record = json.loads(text)
    _check_version(record.pop("v", 0), range(ARTICLE_VERSION + 1), "article", where)
    return Article.from_dict(record)


def post_json(post: Post) -> str:
    """Every field of ``post``, so a retry publishes exactly the text first attempted."""
    record = {
        "v": POST_VERSION,
        "platform": post.platform,
        "channel": post.channel,
        "item_id": post.item_id,
        "article_url": post.article_url,
        "title": post.title,
        "lang": post.lang,
        "summary": post.summary,
        "hashtags": list(post.hashtags),
        "parts": [
            {
                "text": part.text,
                "media": [{"url": m.url, "alt": m.alt, "mime": m.mime} for m in part.media],
                "facets": [
                    {"start": f.byte_start, "end": f.byte_end, "kind": f.kind, "value": f.value}
                    for f in part.facets
                ],
                "link": part.link,
            }
            for part in post.parts
        ],
        "length": dataclasses.asdict(post.length),
        "description": post.description,
        "composed_at": post.composed_at.isoformat() if post.composed_at else None,
        "image_missing": post.image_missing,
        "with_facets": post.with_facets,
    }
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def post_from_json(text: str, *, where: str) -> Post:
    """The post stored by ``post_json``; ``where`` names the row for a ``StoreError``."""
    record = json.loads(text)
    _check_version(record.get("v"), range(1, POST_VERSION + 1), "post", where)
    if record["v"] == 1:
        record = _post_v1_to_v2(record)
    length = record["length"]
    composed_at = record["composed_at"]
    return Post(
        platform=record["platform"],
        channel=record["channel"],
        item_id=record["item_id"],
        article_url=record["article_url"],
        title=record["title"],
        lang=record["lang"],
        summary=record["summary"],
        hashtags=tuple(record["hashtags"]),
        parts=tuple(_part(p) for p in record["parts"]),
        length=Length(unit=length["unit"], value=length["value"], limit=length["limit"]),
        description=record["description"],
        composed_at=datetime.fromisoformat(composed_at) if composed_at else None,
        image_missing=record["image_missing"],
        with_facets=record["with_facets"],
    )


def _post_v1_to_v2(record: dict[str, Any]) -> dict[str, Any]:
    """A v1 post record with its ``extra`` strings as v2's typed fields."""
    from bot import registry  # only for rows written before v2

    extra: dict[str, str] = record.pop("extra", {})
    platform = registry.get(record["platform"])
    return {
        **record,
        "v": 2,
        "description": extra.get("description", ""),
        "composed_at": extra.get("composed_at"),
        "image_missing": extra.get("image_missing") == "true",
        "with_facets": platform is not None and platform.profile.facets,
    }


def _part(record: dict[str, Any]) -> PostPart:
    return PostPart(
        text=record["text"],
        media=tuple(Media(url=m["url"], alt=m["alt"], mime=m["mime"]) for m in record["media"]),
        facets=tuple(
            Facet(f["start"], f["end"], cast(FacetKind, f["kind"]), f["value"])
            for f in record["facets"]
        ),
        link=record["link"],
    )


def _check_version(found: object, readable: range, what: str, where: str) -> None:
    if type(found) is int and found in readable:
        return
    raise StoreError(
        f"{where}: the stored {what} has format version {found!r}, but this syndbot reads "
        f"only up to version {readable[-1]}; a newer syndbot wrote it: upgrade syndbot to "
        "use this database"
    )


def feed_state(row: Mapping[str, Any]) -> FeedState:
    return FeedState(
        feed=row["name"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_poll=from_text(row["last_poll"]),
        last_success=from_text(row["last_success"]),
        consecutive_errors=row["consecutive_errors"],
        last_error=row["last_error"],
        validators_url=row["validators_url"],
    )


def stored_item(row: Mapping[str, Any]) -> StoredItem:
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


def delivery(row: Mapping[str, Any], *, database: object) -> Delivery:
    """The delivery in ``row`` (with its item's article and, once attempted, its post)."""
    where = f"{database}: delivery {row['id']} ({row['feed']}/{row['item_id']} to {row['channel']})"
    post = row["post_json"]
    return Delivery(
        id=row["id"],
        feed=row["feed"],
        item_id=row["item_id"],
        channel=row["channel"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt=from_text(row["next_attempt"]),
        article=article_from_json(row["article_json"], where=where),
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        last_error=row["last_error"],
        created=from_text(row["created"]),
        updated=from_text(row["updated"]),
        post=None if post is None else post_from_json(post, where=where),
        review=row["review"],
    )
