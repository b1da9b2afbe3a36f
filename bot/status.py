"""What ``syndbot status`` reports, as plain data read from the store (no rendering).

``gather_status`` reads everything once; ``bot.cli.state`` renders it as tables, and any
other format (JSON) can render the same ``StatusReport``. Deliveries that need a reader's
attention are listed with their reasons: failed (gave up), skipped (this channel cannot
take this article) and waiting (pending after a failed attempt, or held back by the
channel's budget or quiet hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.engine.budget import Budget, budget_status
from bot.models import Delivery, FeedState
from bot.protocols import DeliveryCounts, Store

if TYPE_CHECKING:  # ``syndbot --help`` imports this module for DEFAULT_LIMIT
    from bot.config import ChannelConfig, Config

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class FeedRow:
    name: str
    url: str
    state: FeedState


@dataclass(frozen=True)
class BudgetUse:
    """Posts used against the channel's limits, and when the next one may go out."""

    per_hour: int | None
    per_day: int | None
    hour: int
    day: int
    next_at: datetime | None
    min_interval: float = 0.0


def budget_use(store: Store, channel: ChannelConfig, now: datetime) -> BudgetUse:
    """The channel's posts in its budget's look-back window against its limits."""
    limits = Budget.for_channel(channel)
    sent = store.sent_times(channel.name, since=now - limits.lookback)
    hour, day, next_at = budget_status(limits, sent, now)
    return BudgetUse(limits.per_hour, limits.per_day, hour, day, next_at, limits.min_interval)


@dataclass(frozen=True)
class ChannelRow:
    name: str
    platform: str | None  # None: deliveries in the database for a channel no longer configured
    counts: DeliveryCounts
    paused: str | None
    budget: BudgetUse | None


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery that needs attention, with the reason the store recorded."""

    channel: str
    feed: str
    item_id: str
    title: str
    url: str
    status: str  # "failed", "skipped" or "waiting"
    attempts: int
    reason: str
    updated: datetime | None
    next_attempt: datetime | None


@dataclass(frozen=True)
class Section:
    """The newest ``rows`` of one kind, and how many there are in all."""

    rows: tuple[DeliveryRow, ...]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class StatusReport:
    now: datetime
    channel: str | None  # the --channel filter, if any
    feeds: tuple[FeedRow, ...]
    channels: tuple[ChannelRow, ...]
    failed: Section
    skipped: Section
    waiting: Section


def gather_status(
    config: Config,
    store: Store,
    now: datetime,
    *,
    channel: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> StatusReport:
    """Everything ``status`` shows; ``channel`` narrows channels and deliveries to one."""
    states = {s.feed: s for s in store.feed_states()}
    feeds = tuple(
        FeedRow(f.name, f.url, states.get(f.name, FeedState(feed=f.name)))
        for f in config.feeds
        if channel is None or config.channel(channel).accepts(f.name)
    )
    return StatusReport(
        now=now,
        channel=channel,
        feeds=feeds,
        channels=_channels(config, store, now, channel),
        failed=_section(store.deliveries(status="failed", channel=channel), "failed", limit),
        skipped=_section(store.deliveries(status="skipped", channel=channel), "skipped", limit),
        waiting=_section(_waiting(store, now, channel), "waiting", limit),
    )


def _channels(
    config: Config, store: Store, now: datetime, only: str | None
) -> tuple[ChannelRow, ...]:
    counts = {c.channel: c for c in store.delivery_counts()}
    configured = {c.name: c for c in config.channels}
    rows = []
    for name in sorted(set(configured) | set(counts)):
        if only is not None and name != only:
            continue
        chan = configured.get(name)
        budget = None if chan is None else budget_use(store, chan, now)
        rows.append(
            ChannelRow(
                name=name,
                platform=chan.platform if chan else None,
                counts=counts.get(name, DeliveryCounts(channel=name)),
                paused=store.channel_paused(name),
                budget=budget,
            )
        )
    return tuple(rows)


def _waiting(store: Store, now: datetime, channel: str | None) -> list[Delivery]:
    """Pending after a failed attempt, not yet due (budget, quiet hours, backoff, a veto
    window), or waiting for a person's approval (no due time at all)."""
    pending = store.deliveries(status="pending", channel=channel)
    return [d for d in pending if d.attempts > 0 or d.next_attempt is None or d.next_attempt > now]


def _section(deliveries: Sequence[Delivery], status: str, limit: int) -> Section:
    # Newest first: the latest problems are the ones an operator is looking for.
    newest = sorted(deliveries, key=lambda d: (d.updated or d.created or _EPOCH, d.id))[::-1]
    rows = tuple(_row(d, status) for d in newest[:limit])
    return Section(rows=rows, total=len(deliveries))


def _row(d: Delivery, status: str) -> DeliveryRow:
    return DeliveryRow(
        channel=d.channel,
        feed=d.feed,
        item_id=d.item_id,
        title=d.article.title,
        url=d.article.url,
        status=status,
        attempts=d.attempts,
        reason=d.last_error or "",
        updated=d.updated,
        next_attempt=d.next_attempt,
    )


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
