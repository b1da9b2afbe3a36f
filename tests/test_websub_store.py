"""Verified WebSub subscriptions in the database, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.websub import StoredSubscription
from tests.stores import Opener

SUB = StoredSubscription(
    token="tok-1",
    feed="evnews",
    topic="https://evnews.example/feed/",
    hub="https://hub.example/",
    lease_seconds=86400,
    lease_expires=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
)


def test_subscriptions_survive_a_reopen_and_are_replaced_and_deleted(open_store: Opener) -> None:
    """A saved subscription is read back after the store is reopened (a restart); saving
    the same token again replaces it; deleting removes only that token. No column holds a
    secret."""
    store = open_store()
    assert store.websub_subscriptions() == []
    store.save_websub_subscription(SUB)
    other = SUB._replace(token="tok-2", feed="volt")
    store.save_websub_subscription(other)
    store.close()

    store = open_store()
    assert store.websub_subscriptions() == [SUB, other]
    renewed = SUB._replace(lease_expires=datetime(2026, 12, 10, tzinfo=UTC), lease_seconds=9)
    store.save_websub_subscription(renewed)
    store.delete_websub_subscription("tok-2")
    assert store.websub_subscriptions() == [renewed]
    assert not any("secret" in field for field in StoredSubscription._fields)
