"""``syndbot status --format json``: the stored state as one JSON document for scripts.

    {"generated_at": ..., "feeds": [...], "channels": [...], "deliveries": [...]}

``deliveries`` lists what needs a look or is waiting: every pending, failed and skipped
delivery, with its attempts, next attempt and the reason (``error``). Times are ISO 8601
in UTC; absent values are ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import Config
from bot.models import Delivery
from bot.protocols import Store
from bot.status import budget_use

LISTED = ("pending", "failed", "skipped")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def status_document(config: Config, store: Store, now: datetime) -> dict[str, Any]:
    """Feeds, channels (counts, pause, budget) and the deliveries waiting or in trouble."""
    states = {s.feed: s for s in store.feed_states()}
    feeds = []
    for feed in config.feeds:
        state = states.get(feed.name)
        feeds.append(
            {
                "name": feed.name,
                "url": feed.url,
                "interval_seconds": feed.interval,
                "last_poll": _time(state.last_poll if state else None),
                "last_success": _time(state.last_success if state else None),
                "consecutive_errors": state.consecutive_errors if state else 0,
                "last_error": state.last_error if state else None,
            }
        )
    counts = {c.channel: c for c in store.delivery_counts()}
    paused = store.paused_channels()
    channels = []
    for channel in config.channels:
        count = counts.get(channel.name)
        budget = budget_use(store, channel, now)
        channels.append(
            {
                "name": channel.name,
                "platform": channel.platform,
                "publisher": channel.publisher,
                "paused": paused.get(channel.name),
                "deliveries": {
                    status: getattr(count, status, 0) if count else 0
                    for status in ("pending", "sending", "sent", "failed", "skipped")
                },
                "budget": {
                    "posts_last_hour": budget.hour,
                    "posts_last_day": budget.day,
                    "max_posts_per_hour": budget.per_hour,
                    "max_posts_per_day": budget.per_day,
                    "min_interval_seconds": budget.min_interval,
                    "next_post_at": _time(budget.next_at),
                },
            }
        )
    deliveries = [_delivery(d) for status in LISTED for d in store.deliveries(status=status)]
    return {
        "generated_at": _time(now),
        "database": str(config.service.database),
        "feeds": feeds,
        "channels": channels,
        "deliveries": deliveries,
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "channel": delivery.channel,
        "feed": delivery.feed,
        "item_id": delivery.item_id,
        "title": delivery.article.title,
        "url": delivery.article.url,
        "status": delivery.status,
        "review": delivery.review,  # null, "held", "awaiting" or "approved" (bot.engine.approval)
        "attempts": delivery.attempts,
        "next_attempt": _time(delivery.next_attempt),
        "error": delivery.last_error,
        "created": _time(delivery.created),
        "updated": _time(delivery.updated),
    }
