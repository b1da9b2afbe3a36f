"""Items a feed showed, and the deliveries each is queued for: what a poll records.

``LedgerStore`` inherits these; they only need its ``_tx`` transaction helper. A poll
looks its items up and records the new ones in one transaction each (``find_items``,
``add_items``), not one per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.models import Article, StoredItem
from bot.store import codec
from bot.store.codec import to_text
from bot.urls import normalise_url

if TYPE_CHECKING:
    from bot.store.ledger import Conn


class ItemMethods:
    """Record, find and update a feed's items; queue their deliveries."""

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def find_item(self, feed: str, item_id: str, url: str | None = None) -> StoredItem | None:
        """The item with this id, or else (same feed) the first seen with this URL."""
        with self._tx() as conn:
            return _find(conn, feed, item_id, url)

    def find_items(
        self, feed: str, keys: Sequence[tuple[str, str | None]]
    ) -> list[StoredItem | None]:
        """``find_item`` for each (item id, URL) of one feed's poll, in one transaction."""
        with self._tx() as conn:
            return [_find(conn, feed, item_id, url) for item_id, url in keys]

    def recorded_article(self, feeds: Sequence[str], url: str) -> Article | None:
        """The article one of ``feeds`` recorded with this (normalised) link, as the feed
        gave it (full text included), the first seen when several; None when none did."""
        with self._tx() as conn:
            for feed in feeds:
                row = _by_link(conn, feed, url)
                if row is not None:
                    return codec.article_from_json(row["article_json"], where=feed)
        return None

    def add_item(self, article: Article, *, now: datetime, channels: Sequence[str] = ()) -> None:
        """Record the item (kept as is if known) and queue one delivery per channel."""
        self.add_items([(article, channels)], now=now)

    def add_items(self, items: Sequence[tuple[Article, Sequence[str]]], *, now: datetime) -> None:
        """``add_item`` for each (article, channels) of one poll, in one transaction: all of
        them are recorded and queued, or none."""
        if not items:
            return
        stamp = to_text(now)
        with self._tx(write=True) as conn:
            for article, channels in items:
                insert_item(conn, article, stamp)
                insert_deliveries(conn, article, stamp, channels)

    def update_item(self, article: Article, *, now: datetime) -> None:
        """Store the edited content; a new id is recorded so later polls match it by id."""
        stamp = to_text(now)
        with self._tx(write=True) as conn:
            insert_item(conn, article, stamp)
            fields = (*codec.item_fields(article), stamp, codec.article_json(article))
            conn.execute(
                "UPDATE items SET url = ?, norm_url = ?, title = ?, content_hash = ?,"
                " updated_at = ?, article_json = ? WHERE feed = ? AND item_id = ?",
                (*fields, article.feed, article.item_id),
            )

    def queue(self, article: Article, *, now: datetime, channels: Sequence[str]) -> list[int]:
        """Ids of the deliveries of ``article`` to ``channels``, new or already there."""
        with self._tx(write=True) as conn:
            insert_item(conn, article, to_text(now))
            return insert_deliveries(conn, article, to_text(now), channels)


def _find(conn: Conn, feed: str, item_id: str, url: str | None) -> StoredItem | None:
    row = conn.execute(
        "SELECT * FROM items WHERE feed = ? AND item_id = ?", (feed, item_id)
    ).fetchone()
    if row is None and url:
        row = _by_link(conn, feed, url)
    return codec.stored_item(row) if row else None


def _by_link(conn: Conn, feed: str, url: str) -> Any:
    """The row of the first item ``feed`` recorded with ``url``'s normalised link."""
    return conn.execute(
        "SELECT * FROM items WHERE feed = ? AND norm_url = ? ORDER BY first_seen, item_id LIMIT 1",
        (feed, normalise_url(url)),
    ).fetchone()


def insert_item(conn: Conn, article: Article, stamp: str) -> None:
    text = codec.article_json(article)
    # ON CONFLICT (not INSERT OR IGNORE) so only a duplicate key is ignored, not bad data.
    conn.execute(
        "INSERT INTO items (feed, item_id, url, norm_url, title, content_hash, first_seen,"
        " updated_at, article_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (feed, item_id) DO NOTHING",
        (article.feed, article.item_id, *codec.item_fields(article), stamp, stamp, text),
    )


def insert_deliveries(
    conn: Conn, article: Article, stamp: str, channels: Sequence[str]
) -> list[int]:
    ids: list[int] = []
    for channel in dict.fromkeys(channels):  # de-duplicate, keep order
        key = (article.feed, article.item_id, channel)
        conn.execute(
            "INSERT INTO deliveries (feed, item_id, channel, status, attempts, next_attempt,"
            " created, updated) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)"
            " ON CONFLICT (feed, item_id, channel) DO NOTHING",
            (*key, stamp, stamp, stamp),
        )
        row = conn.execute(
            "SELECT id FROM deliveries WHERE feed = ? AND item_id = ? AND channel = ?", key
        ).fetchone()
        ids.append(int(row["id"]))
    return ids
