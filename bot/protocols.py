"""The four boundaries of syndbot. Only ``bot.pipeline`` wires implementations together.

- ``FeedSource``: where articles come from (HTTP feed, local file, the bundled demo).
- ``Summariser``: article in, summary text that fits a budget out. Pure.
- ``Store``: what survives a restart (feeds, seen items, deliveries).
- ``Publisher``: one channel on one platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.models import Article, Delivery, FeedState, Post, PublishResult, StoredItem


@dataclass(frozen=True)
class FetchOutcome:
    """One poll of a feed. ``not_modified`` means a 304: no articles, validators unchanged."""

    articles: tuple[Article, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    warnings: tuple[str, ...] = field(default=())  # e.g. "bozo: undefined entity, parsed anyway"


@runtime_checkable
class FeedSource(Protocol):
    """A feed. ``fetch`` raises ``bot.errors.FeedError`` (naming the URL) on failure."""

    name: str
    url: str

    def fetch(
        self, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchOutcome: ...


class Summariser(Protocol):
    """Choose the best summary of ``article`` whose ``measure`` is at most ``budget``.

    Never cuts inside a word, URL or grapheme; returns "" when nothing fits.
    """

    def summarise(
        self, article: Article, *, budget: int, measure: Callable[[str], int] = len
    ) -> str: ...


@dataclass(frozen=True)
class DeliveryCounts:
    """Per-channel delivery totals for ``syndbot status``."""

    channel: str
    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class Store(Protocol):
    """Durable state. Every method is one transaction."""

    def feed_state(self, feed: str) -> FeedState: ...

    def feed_states(self) -> list[FeedState]: ...

    def record_poll_ok(
        self,
        feed: str,
        *,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        url: str | None = None,
    ) -> None:
        """A successful poll: keep the validators and the feed ``url`` that issued them
        (None: unknown, so they are not sent again; see ``FeedState.validators_for``)."""
        ...

    def record_poll_error(self, feed: str, *, now: datetime, error: str) -> FeedState: ...

    def find_item(self, feed: str, item_id: str, url: str | None = None) -> StoredItem | None:
        """The item with this id, or else (same feed) with this normalised URL."""
        ...

    def find_items(
        self, feed: str, keys: Sequence[tuple[str, str | None]]
    ) -> list[StoredItem | None]:
        """``find_item`` for each (item id, URL) of one feed, in one transaction."""
        ...

    def recorded_article(self, feeds: Sequence[str], url: str) -> Article | None:
        """The article one of ``feeds`` recorded with this normalised link, or None."""
        ...

    def add_item(self, article: Article, *, now: datetime, channels: Sequence[str] = ()) -> None:
        """Record the item as seen and queue one pending delivery per channel, atomically."""
        ...

    def add_items(self, items: Sequence[tuple[Article, Sequence[str]]], *, now: datetime) -> None:
        """``add_item`` for each (article, channels), all in one transaction."""
        ...

    def update_item(self, article: Article, *, now: datetime) -> None:
        """Remember an edited article's new content (does not queue anything)."""
        ...

    def queue(self, article: Article, *, now: datetime, channels: Sequence[str]) -> list[int]:
        """Queue deliveries of a (possibly already seen) article; an existing pair is kept."""
        ...

    def due_deliveries(
        self, now: datetime, *, limit: int = 100, channel: str | None = None
    ) -> list[Delivery]: ...

    def deliveries(
        self, *, status: str | None = None, channel: str | None = None
    ) -> list[Delivery]: ...

    def mark_sending(self, delivery_id: int, *, now: datetime, post: Post | None = None) -> None:
        """Claim a pending delivery and store ``post`` with it (kept if one is stored)."""
        ...

    def mark_sent(
        self,
        delivery_id: int,
        *,
        now: datetime,
        remote_id: str | None,
        remote_url: str | None,
        note: str | None = None,
    ) -> None:
        """Sent. Without a remote id, ``note`` (kept in ``last_error``) says why there is none."""
        ...

    def mark_failed(
        self, delivery_id: int, *, now: datetime, error: str, forget_post: bool = False
    ) -> None:
        """Give up. ``forget_post`` drops the stored post: the platform refused it, so
        nothing went out and a retry may compose it afresh (after a config fix)."""
        ...

    def mark_skipped(self, delivery_id: int, *, now: datetime, reason: str) -> None: ...

    def reschedule(
        self, delivery_id: int, *, now: datetime, next_attempt: datetime, error: str
    ) -> None:
        """Back to pending with attempts + 1, due at ``next_attempt``."""
        ...

    def retry_failed(self, *, channel: str | None = None, now: datetime) -> int: ...

    def delivery_counts(self) -> list[DeliveryCounts]: ...

    def sent_times(self, channel: str, *, since: datetime) -> list[datetime]:
        """When posts on ``channel`` were sent since ``since``, oldest first."""
        ...

    def delivery(self, delivery_id: int) -> Delivery | None:
        """The delivery with this id, or None."""
        ...

    def hold_delivery(
        self, delivery_id: int, *, now: datetime, post: Post, review: str, until: datetime | None
    ) -> None:
        """Enter a pending delivery with no review state into review (see ``bot.engine.approval``):
        store ``post`` (unless one is stored), ``review`` and its due time ``until`` (None:
        never due until approved), atomically. Raises ``DeliveryTaken`` otherwise."""
        ...

    def approve_delivery(
        self, delivery_id: int, *, now: datetime, post: Post | None = None
    ) -> None:
        """Approve a pending delivery in review: due ``now``; ``post`` (an edit, only before
        any attempt) replaces the stored one. Raises ``DeliveryTaken`` otherwise."""
        ...

    def skip_pending(self, delivery_id: int, *, now: datetime, reason: str) -> None:
        """Skip a delivery that is still pending (never one being sent); ``DeliveryTaken``
        if it is not pending any more."""
        ...

    def sending_deliveries(self) -> list[Delivery]:
        """Deliveries a crash left between ``mark_sending`` and a final state."""
        ...

    # Per-channel state: a pause (credentials need a person) and small non-secret JSON.
    def channel_paused(self, name: str) -> str | None: ...

    def paused_channels(self) -> dict[str, str]: ...

    def pause_channel(self, name: str, *, reason: str, now: datetime) -> None: ...

    def resume_channel(self, name: str) -> None: ...

    def channel_state(self, name: str) -> dict[str, Any]: ...

    def set_channel_state(self, name: str, state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Publisher(Protocol):
    """One configured channel. ``publish`` raises ``bot.errors.PublishError`` subclasses.

    ``idempotency_key`` is stable per (item, channel): platforms that support it use it so a
    retry cannot post twice.
    """

    name: str
    platform: str

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult: ...

    def check(self) -> str:
        """Verify credentials with a cheap read call; return the account name."""
        ...
