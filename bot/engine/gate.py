"""What a due delivery passes before it may be sent: the filters of its channel and feed.

Pure apart from reading the config: the pipeline records a refusal as a skipped delivery
with ``Refusal.reason``, so a filtered article is visible, never silently dropped.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.engine.filters import Refusal, refusal
from bot.engine.intake import is_correction
from bot.models import Delivery


def filter_refusal(config: Config, delivery: Delivery, *, now: datetime) -> Refusal | None:
    """The rule refusing ``delivery``'s article, or None.

    Only a delivery with no stored post is filtered: once a post was composed (held for
    review, or attempted), a person or the platform decides. A correction goes exactly where
    its article went, so it is never filtered."""
    if delivery.post is not None or is_correction(delivery.item_id):
        return None
    channel = config.channel(delivery.channel)
    found = refusal(delivery.article, channel.filters, now=now, where=f"channel {channel.name}")
    if found is not None:
        return found
    for feed in config.feeds:
        if feed.name == delivery.feed:
            return refusal(delivery.article, feed.filters, now=now, where=f"feed {feed.name}")
    return None  # the feed left the config; its pending deliveries still go out
