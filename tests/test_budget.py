"""Posting budgets: per hour/day, minimum gap, quiet hours; excess posts wait in order."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline
from bot.cli import main
from bot.config import load_config
from bot.engine.budget import Budget, budget_status, next_allowed, used
from bot.errors import ConfigError
from tests.builders import Item, rss, write_config

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_no_budget_allows_now() -> None:
    """A channel without limits may always post."""
    assert next_allowed(Budget(), [NOW - timedelta(seconds=1)] * 100, NOW) == NOW


def test_hourly_limit_waits_for_the_oldest_post_to_leave_the_window() -> None:
    """With 2/hour used at 11:10 and 11:40, the next slot is 12:10."""
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=20)]
    assert next_allowed(Budget(per_hour=2), sent, NOW) == NOW + timedelta(minutes=10)
    assert next_allowed(Budget(per_hour=3), sent, NOW) == NOW


def test_daily_limit_is_a_rolling_24_hours() -> None:
    """The day budget counts the last 24 h, not the calendar day."""
    sent = [NOW - timedelta(hours=23), NOW - timedelta(hours=2)]
    assert next_allowed(Budget(per_day=2), sent, NOW) == NOW + timedelta(hours=1)


def test_min_interval_spaces_posts() -> None:
    """min_interval=5m after a post 2 minutes ago means 3 more minutes."""
    sent = [NOW - timedelta(minutes=2)]
    assert next_allowed(Budget(min_interval=300), sent, NOW) == NOW + timedelta(minutes=3)


def test_quiet_hours_across_midnight_in_the_channel_timezone() -> None:
    """Quiet 22:00-07:00 Asia/Kolkata: 23:30 IST waits until 07:00 IST the next morning."""
    budget = Budget(quiet_hours=(time(22), time(7)), timezone="Asia/Kolkata")
    at = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # 23:30 IST
    assert next_allowed(budget, [], at) == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    early = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 05:30 IST, same quiet night
    assert next_allowed(budget, [], early) == datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    day = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 11:30 IST
    assert next_allowed(budget, [], day) == day


def test_rules_combine() -> None:
    """A gap that ends inside quiet hours waits for the quiet hours to end."""
    budget = Budget(min_interval=3600, quiet_hours=(time(12, 30), time(13)))
    sent = [NOW - timedelta(minutes=30)]  # gap ends 12:30, exactly when quiet starts
    assert next_allowed(budget, sent, NOW) == NOW + timedelta(hours=1)


def test_used_counts_hour_and_day() -> None:
    """Status shows posts in the last hour and the last 24 h."""
    sent = [NOW - timedelta(minutes=10), NOW - timedelta(hours=3), NOW - timedelta(days=2)]
    assert used(Budget(per_hour=5), sent, NOW) == (1, 2)


def test_posts_beyond_the_budget_wait_their_turn(tmp_path: Path) -> None:
    """With 2 posts/hour, 4 queued articles go out 2 now and 2 an hour later, in order."""
    feed = tmp_path / "feed.xml"
    items = [
        Item(
            guid=f"g{i}",
            title=f"Story {i}",
            link=f"https://volt.example/{i}/",
            published=NOW - timedelta(hours=10 - i),
        )
        for i in range(4)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("x",), catch_up="all")
    cfg.write_text(cfg.read_text() + "max_posts_per_hour = 2\n", encoding="utf-8")
    clock = [NOW]
    with open_pipeline(load_config(cfg, env={})) as pipe:
        pipe.clock = lambda: clock[0]
        pipe.poll("volt")
        first = pipe.deliver()
        assert [r.item_id for r in first] == ["g0", "g1"]
        assert pipe.deliver() == []
        budget = Budget.for_channel(pipe.config.channel("x-out"))
        sent = pipe.store.sent_times("x-out", since=clock[0] - budget.lookback)
        hour, day, nxt = budget_status(budget, sent, clock[0])
        assert (hour, day) == (2, 2)
        assert nxt is not None
        assert len(pipe.store.deliveries(status="pending")) == 2
        clock[0] = NOW + timedelta(minutes=61)
        assert [r.item_id for r in pipe.deliver()] == ["g2", "g3"]


def test_quiet_hours_and_timezone_are_read_from_config(tmp_path: Path) -> None:
    """quiet_hours = "22:30-06:00" with timezone becomes a typed time range."""
    cfg = write_config(tmp_path, feeds={"volt": "builtin:demo"}, platforms=("x",))
    cfg.write_text(
        cfg.read_text() + 'quiet_hours = "22:30-06:00"\ntimezone = "Asia/Kolkata"\n',
        encoding="utf-8",
    )
    channel = load_config(cfg, env={}).channel("x-out")
    assert channel.quiet_hours == (time(22, 30), time(6, 0))
    assert channel.timezone == "Asia/Kolkata"


def test_bad_quiet_hours_name_the_key_and_the_format(tmp_path: Path) -> None:
    """A malformed quiet_hours is a ConfigError naming the key path and the format."""
    cfg = write_config(tmp_path, feeds={"volt": "builtin:demo"}, platforms=("x",))
    cfg.write_text(cfg.read_text() + 'quiet_hours = "late night"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg, env={})
    assert "channels[0].quiet_hours" in str(err.value)
    assert "HH:MM-HH:MM" in str(err.value)


def test_status_shows_budget_use_and_the_wait(tmp_path: Path) -> None:
    """`syndbot status` shows per channel the budget used and when the next post may go."""
    feed = tmp_path / "feed.xml"
    items = [
        Item(guid=f"g{i}", title=f"Story {i}", link=f"https://volt.example/{i}/") for i in range(3)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("x",), catch_up="all")
    cfg.write_text(cfg.read_text() + "max_posts_per_hour = 1\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["-c", str(cfg), "poll"]).exit_code == 0
    status = runner.invoke(main, ["-c", str(cfg), "status"])
    assert status.exit_code == 0, status.output
    assert "1/1 per hour" in status.output
    assert "next post in" in status.output
