"""The review queue's moves on a delivery (``approval = "hold:..."`` or ``"manual"``).

``LedgerStore`` inherits these; they need its ``_tx`` helper, ``_where`` and the delivery
SELECT. Every move changes only a delivery that is still pending, so a queue decision can
never race a send.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import StoreError
from bot.models import Delivery, Post
from bot.store import codec
from bot.store.codec import clip, to_text
from bot.store.errors import DeliveryTaken

if TYPE_CHECKING:
    from bot.store.ledger import Conn


class ReviewMethods:
    """Hold, approve, skip and read one delivery."""

    _where: str
    _delivery_select: str

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def delivery(self, delivery_id: int) -> Delivery | None:
        """The delivery with this id, or None."""
        with self._tx() as conn:
            row = conn.execute(self._delivery_select + " WHERE d.id = ?", (delivery_id,)).fetchone()
        return None if row is None else codec.delivery(row, database=self._where)

    def hold_delivery(
        self, delivery_id: int, *, now: datetime, post: Post, review: str, until: datetime | None
    ) -> None:
        """Enter a pending, not yet reviewed delivery into the review queue: store ``post``
        (unless an earlier attempt stored one), its ``review`` state and due time ``until``
        (None: never due until approved). ``DeliveryTaken`` if it is not in that state."""
        self._review_move(
            delivery_id,
            now,
            "review IS NULL",
            "review = ?, next_attempt = ?, post_json = COALESCE(post_json, ?)",
            (review, None if until is None else to_text(until), codec.post_json(post)),
        )

    def approve_delivery(
        self, delivery_id: int, *, now: datetime, post: Post | None = None
    ) -> None:
        """A person approved a held or awaiting delivery (again, or edited it): it is due
        now; ``post`` replaces the stored post. ``DeliveryTaken`` if it is not in review."""
        stored = None if post is None else codec.post_json(post)
        self._review_move(
            delivery_id,
            now,
            "review IS NOT NULL" + (" AND attempts = 0" if post is not None else ""),
            "review = 'approved', next_attempt = ?, post_json = COALESCE(?, post_json)",
            (to_text(now), stored),
        )

    def skip_pending(self, delivery_id: int, *, now: datetime, reason: str) -> None:
        """Skip a delivery still waiting (pending) with ``reason``; unlike ``mark_skipped``
        never one being sent. ``DeliveryTaken`` if it is no longer pending."""
        self._review_move(
            delivery_id,
            now,
            "1 = 1",
            "status = 'skipped', next_attempt = NULL, last_error = ?",
            (clip(reason),),
        )

    def _review_move(
        self,
        delivery_id: int,
        now: datetime,
        condition: str,
        assignments: str,
        params: tuple[Any, ...],
    ) -> None:
        """Apply ``assignments`` to a pending delivery meeting ``condition``, else raise."""
        # condition and assignments are constants of this module, never user input.
        sql = (
            f"UPDATE deliveries SET {assignments}, updated = ?"  # noqa: S608
            f" WHERE id = ? AND status = 'pending' AND {condition}"
        )
        with self._tx(write=True) as conn:
            cursor = conn.execute(sql, (*params, to_text(now), delivery_id))
            if cursor.rowcount == 1:
                return
            row = conn.execute(
                "SELECT status, review FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        if row is None:
            raise StoreError(f"{self._where}: no delivery with id {delivery_id}")
        raise DeliveryTaken(
            f"{self._where}: delivery {delivery_id} is {row['status']} (review "
            f"{row['review'] or 'none'}); it changed meanwhile or is not waiting for review"
        )
