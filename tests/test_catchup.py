"""First poll of a feed: which items are queued (never a flood)."""

from datetime import UTC, datetime, timedelta

from bot.config import CatchUp
from bot.engine.catchup import newest_first, select_for_first_poll
from bot.models import Article

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _art(item_id: str, hours_ago: float | None) -> Article:
    published = NOW - timedelta(hours=hours_ago) if hours_ago is not None else None
    return Article(
        feed="f",
        item_id=item_id,
        url=f"https://x.example/{item_id}",
        title=item_id,
        published=published,
    )


ITEMS = [_art("old", 72), _art("new", 1), _art("mid", 20), _art("undated", None)]


def test_default_queues_only_the_newest_item() -> None:
    """catch_up=newest queues the single newest dated item."""
    assert select_for_first_poll(ITEMS, CatchUp("newest"), now=NOW) == {"new"}


def test_none_queues_nothing() -> None:
    """catch_up=none records everything as seen and queues nothing."""
    assert select_for_first_poll(ITEMS, CatchUp("none"), now=NOW) == set()


def test_latest_n_queues_the_n_newest() -> None:
    """catch_up=latest:2 queues the two newest items."""
    assert select_for_first_poll(ITEMS, CatchUp("latest", count=2), now=NOW) == {"new", "mid"}


def test_newer_than_duration_skips_undated_items() -> None:
    """catch_up=newer:1d queues dated items within a day; undated ones cannot prove it."""
    got = select_for_first_poll(ITEMS, CatchUp("newer", seconds=86400), now=NOW)
    assert got == {"new", "mid"}


def test_all_queues_everything() -> None:
    """catch_up=all queues every item (the demo config uses it)."""
    assert select_for_first_poll(ITEMS, CatchUp("all"), now=NOW) == {"old", "new", "mid", "undated"}


def test_undated_items_keep_feed_order_after_dated_ones() -> None:
    """Feeds list newest first, so undated items keep their order, after dated items."""
    undated = [_art("a", None), _art("b", None)]
    assert [a.item_id for a in newest_first(undated)] == ["a", "b"]
    assert [a.item_id for a in newest_first(ITEMS)] == ["new", "mid", "old", "undated"]
