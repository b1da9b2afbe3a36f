"""Verified WebSub subscriptions kept beside the deliveries, so a restart re-uses them.

``LedgerStore`` inherits these; they only need its ``_tx`` transaction helper. Only what a
hub already knows is stored (topic, hub, callback token, lease); never the secret, which
``bot.websub`` derives from the token and a key kept in the environment.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from bot.store.codec import to_text

if TYPE_CHECKING:
    from bot.store.ledger import Conn


class StoredSubscription(NamedTuple):
    token: str
    feed: str
    topic: str
    hub: str
    lease_seconds: int
    lease_expires: datetime


class WebSubMethods:
    """Save, list and delete verified subscriptions by callback token."""

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def websub_subscriptions(self) -> list[StoredSubscription]:
        """Every stored subscription, by feed then token."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT token, feed, topic, hub, lease_seconds, lease_expires"
                " FROM websub_subscriptions ORDER BY feed, token"
            ).fetchall()
        return [
            StoredSubscription(
                token=r["token"],
                feed=r["feed"],
                topic=r["topic"],
                hub=r["hub"],
                lease_seconds=int(r["lease_seconds"]),
                lease_expires=datetime.fromisoformat(r["lease_expires"]),
            )
            for r in rows
        ]

    def save_websub_subscription(self, sub: StoredSubscription) -> None:
        """Insert or replace the subscription with ``sub.token``."""
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO websub_subscriptions"
                " (token, feed, topic, hub, lease_seconds, lease_expires)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token) DO UPDATE SET"
                " feed = excluded.feed, topic = excluded.topic, hub = excluded.hub,"
                " lease_seconds = excluded.lease_seconds,"
                " lease_expires = excluded.lease_expires",
                (
                    sub.token,
                    sub.feed,
                    sub.topic,
                    sub.hub,
                    sub.lease_seconds,
                    to_text(sub.lease_expires),
                ),
            )

    def delete_websub_subscription(self, token: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute("DELETE FROM websub_subscriptions WHERE token = ?", (token,))
