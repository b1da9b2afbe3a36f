"""Which items the first poll of a feed may queue. Pure: ``now`` is an argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config import CatchUp
from bot.models import Article


def newest_first(articles: Sequence[Article]) -> list[Article]:
    """Dated items newest first; undated ones keep feed order (feeds list newest first)."""
    indexed = list(enumerate(articles))

    def key(pair: tuple[int, Article]) -> tuple[int, float, int]:
        index, article = pair
        stamp = article.published or article.updated
        return (0, -stamp.timestamp(), index) if stamp else (1, 0.0, index)

    return [a for _, a in sorted(indexed, key=key)]


def select_for_first_poll(
    articles: Sequence[Article], catch_up: CatchUp, *, now: datetime
) -> set[str]:
    """The ``item_id``s a feed's first successful poll queues; the rest are only recorded."""
    ordered = newest_first(articles)
    if catch_up.mode == "none" or not ordered:
        return set()
    if catch_up.mode == "all":
        return {a.item_id for a in ordered}
    if catch_up.mode == "newest":
        return {ordered[0].item_id}
    if catch_up.mode == "latest":
        return {a.item_id for a in ordered[: catch_up.count]}
    # "newer": only items dated within the window; undated items cannot prove they are new.
    cutoff = now - timedelta(seconds=catch_up.seconds)
    return {
        a.item_id
        for a in ordered
        if (stamp := a.published or a.updated) is not None and stamp >= cutoff
    }
