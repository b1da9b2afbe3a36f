"""Every ``Store`` method, in SQL that SQLite and PostgreSQL both run unchanged.

``SQLiteStore`` and ``PostgresStore`` differ only in how they connect and open a
transaction: each provides ``_tx`` (one transaction, yielding a ``Conn`` that takes ``?``
placeholders) and ``_where`` (how messages name the database, never with a password).
Portable forms used here: ``CAST(? AS TEXT) IS NULL`` for an optional filter (PostgreSQL
cannot type a bare ``? IS NULL``), ``ON CONFLICT ... DO UPDATE/NOTHING``, no numbered
parameters. Timestamps are fixed-width UTC text on both (see ``bot.store.codec``).

The claim is one ``UPDATE ... WHERE id = ? AND status IN (...)``: on SQLite the writer
holds the database lock; on PostgreSQL a second claimant waits on the row lock, then
re-reads the row, finds it no longer pending and updates nothing, so it gets
``DeliveryTaken``. Either way exactly one process sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bot.errors import StoreError
from bot.models import Delivery, FeedState, Post
from bot.protocols import DeliveryCounts
from bot.store import codec
from bot.store.channels import ChannelMethods
from bot.store.codec import clip, to_text
from bot.store.errors import DeliveryTaken
from bot.store.items import ItemMethods
from bot.store.review import ReviewMethods
from bot.store.websub import WebSubMethods

STATUSES = ("pending", "sending", "sent", "failed", "skipped")

_DELIVERY_SELECT = """
SELECT d.id, d.feed, d.item_id, d.channel, d.status, d.attempts, d.next_attempt,
       d.remote_id, d.remote_url, d.last_error, d.created, d.updated, d.post_json,
       d.review, i.article_json
FROM deliveries AS d JOIN items AS i ON i.feed = d.feed AND i.item_id = d.item_id
"""


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    """What a transaction offers: ``execute`` with ``?`` placeholders; rows by column name."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


class LedgerStore(ItemMethods, ChannelMethods, ReviewMethods, WebSubMethods):
    """The durable state of one syndbot installation, whichever database holds it."""

    _where: str
    _delivery_select = _DELIVERY_SELECT

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- feeds -------------------------------------------------------------------------

    def feed_state(self, feed: str) -> FeedState:
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM feeds WHERE name = ?", (feed,)).fetchone()
        return codec.feed_state(row) if row else FeedState(feed=feed)

    def feed_states(self) -> list[FeedState]:
        with self._tx() as conn:
            rows = conn.execute("SELECT * FROM feeds ORDER BY name").fetchall()
        return [codec.feed_state(r) for r in rows]

    def record_poll_ok(
        self,
        feed: str,
        *,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        url: str | None = None,
    ) -> None:
        """Store the validators as given, with the URL that issued them (None: unknown),
        and clear the error streak."""
        stamp = to_text(now)
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO feeds (name, etag, last_modified, validators_url, last_poll,"
                " last_success, consecutive_errors, last_error)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, NULL)"
                " ON CONFLICT (name) DO UPDATE SET etag = excluded.etag,"
                " last_modified = excluded.last_modified,"
                " validators_url = excluded.validators_url, last_poll = excluded.last_poll,"
                " last_success = excluded.last_success, consecutive_errors = 0,"
                " last_error = NULL",
                (feed, etag, last_modified, url, stamp, stamp),
            )

    def record_poll_error(self, feed: str, *, now: datetime, error: str) -> FeedState:
        """Count one more failure in a row; validators and last_success are kept."""
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO feeds (name, last_poll, consecutive_errors, last_error)"
                " VALUES (?, ?, 1, ?) ON CONFLICT (name) DO UPDATE SET"
                " last_poll = excluded.last_poll, last_error = excluded.last_error,"
                " consecutive_errors = feeds.consecutive_errors + 1",
                (feed, to_text(now), clip(error)),
            )
            row = conn.execute("SELECT * FROM feeds WHERE name = ?", (feed,)).fetchone()
        return codec.feed_state(row)

    # -- deliveries ----------------------------------------------------------------------

    def due_deliveries(
        self, now: datetime, *, limit: int = 100, channel: str | None = None
    ) -> list[Delivery]:
        """Pending deliveries due by ``now`` (on ``channel`` when given), oldest first;
        paused channels are left out so they cannot starve the others out of ``limit``."""
        with self._tx() as conn:
            rows = conn.execute(
                # _DELIVERY_SELECT is a constant; every value is a bound parameter.
                _DELIVERY_SELECT  # noqa: S608
                + " WHERE d.status = 'pending' AND d.next_attempt <= ?"
                " AND (CAST(? AS TEXT) IS NULL OR d.channel = ?) AND d.channel NOT IN"
                " (SELECT name FROM channels WHERE paused_reason IS NOT NULL)"
                " ORDER BY d.next_attempt, d.id LIMIT ?",
                (to_text(now), channel, channel, limit),
            ).fetchall()
        return [codec.delivery(r, database=self._where) for r in rows]

    def deliveries(
        self, *, status: str | None = None, channel: str | None = None
    ) -> list[Delivery]:
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown delivery status {status!r}; use one of {STATUSES}")
        with self._tx() as conn:
            rows = conn.execute(
                _DELIVERY_SELECT + " WHERE (CAST(? AS TEXT) IS NULL OR d.status = ?)"
                " AND (CAST(? AS TEXT) IS NULL OR d.channel = ?) ORDER BY d.id",
                (status, status, channel, channel),
            ).fetchall()
        return [codec.delivery(r, database=self._where) for r in rows]

    def sending_deliveries(self) -> list[Delivery]:
        """Deliveries a crash interrupted mid-publish: they may or may not have posted."""
        return self.deliveries(status="sending")

    def mark_sending(self, delivery_id: int, *, now: datetime, post: Post | None = None) -> None:
        """Claim a pending delivery in one write transaction, so exactly one process wins;
        raises ``DeliveryTaken`` if it is no longer pending (another process took it).

        ``post`` is stored with it in the same transaction, unless an earlier attempt
        stored one: every later attempt, reconcile and recovery reads that one back.
        """
        stored = None if post is None else codec.post_json(post)
        self._move(
            delivery_id,
            now,
            ("pending",),
            "status = 'sending', post_json = COALESCE(post_json, ?)",
            (stored,),
        )

    def mark_sent(
        self,
        delivery_id: int,
        *,
        now: datetime,
        remote_id: str | None,
        remote_url: str | None,
        note: str | None = None,
    ) -> None:
        # A sent delivery's last_error holds only the note on its missing id, if any.
        self._move(
            delivery_id,
            now,
            ("pending", "sending"),
            "status = 'sent', next_attempt = NULL, remote_id = ?, remote_url = ?, last_error = ?",
            (remote_id, remote_url, clip(note) if note else None),
        )

    def mark_failed(
        self, delivery_id: int, *, now: datetime, error: str, forget_post: bool = False
    ) -> None:
        """Give up: the attempt that failed is counted. ``forget_post`` drops the stored
        post (the platform refused it, so a retry composes it again)."""
        forget = ", post_json = NULL" if forget_post else ""
        self._move(
            delivery_id,
            now,
            ("pending", "sending"),
            "status = 'failed', attempts = attempts + 1, next_attempt = NULL, last_error = ?"
            + forget,
            (clip(error),),
        )

    def mark_skipped(self, delivery_id: int, *, now: datetime, reason: str) -> None:
        self._move(
            delivery_id,
            now,
            ("pending", "sending", "failed"),
            "status = 'skipped', next_attempt = NULL, last_error = ?",
            (clip(reason),),
        )

    def reschedule(
        self, delivery_id: int, *, now: datetime, next_attempt: datetime, error: str
    ) -> None:
        """Back to pending with attempts + 1, due at ``next_attempt``."""
        self._move(
            delivery_id,
            now,
            ("pending", "sending"),
            "status = 'pending', attempts = attempts + 1, next_attempt = ?, last_error = ?",
            (to_text(next_attempt), clip(error)),
        )

    def retry_failed(self, *, channel: str | None = None, now: datetime) -> int:
        """Make failed deliveries due now with a fresh attempt count; return how many."""
        stamp = to_text(now)
        with self._tx(write=True) as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt = ?,"
                " updated = ? WHERE status = 'failed' AND (CAST(? AS TEXT) IS NULL OR channel = ?)",
                (stamp, stamp, channel, channel),
            )
            return cursor.rowcount

    def sent_times(self, channel: str, *, since: datetime) -> list[datetime]:
        """When posts on ``channel`` were sent since ``since``, oldest first (for budgets)."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT updated FROM deliveries WHERE channel = ? AND status = 'sent'"
                " AND updated >= ? ORDER BY updated",
                (channel, to_text(since)),
            ).fetchall()
        return [t for r in rows if (t := codec.from_text(r["updated"])) is not None]

    def delivery_counts(self) -> list[DeliveryCounts]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT channel, status, COUNT(*) AS n FROM deliveries"
                " GROUP BY channel, status ORDER BY channel"
            ).fetchall()
        totals: dict[str, dict[str, int]] = {}
        for row in rows:
            totals.setdefault(row["channel"], {})[row["status"]] = row["n"]
        return [DeliveryCounts(channel=name, **counts) for name, counts in totals.items()]

    def _move(
        self,
        delivery_id: int,
        now: datetime,
        allowed: tuple[str, ...],
        assignments: str,
        params: tuple[Any, ...],
    ) -> None:
        """Apply ``assignments`` if the delivery is in an ``allowed`` status, else raise."""
        marks = ", ".join("?" for _ in allowed)
        # assignments and marks are constants of this module, never user input.
        sql = (
            f"UPDATE deliveries SET {assignments}, updated = ?"  # noqa: S608
            f" WHERE id = ? AND status IN ({marks})"
        )
        with self._tx(write=True) as conn:
            cursor = conn.execute(sql, (*params, to_text(now), delivery_id, *allowed))
            if cursor.rowcount == 1:
                return
            row = conn.execute(
                "SELECT status FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        if row is None:
            raise StoreError(f"{self._where}: no delivery with id {delivery_id}")
        raise DeliveryTaken(
            f"{self._where}: delivery {delivery_id} is {row['status']}, not "
            f"{' or '.join(allowed)}; another syndbot process may be handling it"
        )
