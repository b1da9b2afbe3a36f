"""Time slots: posts go out at the next free slot, one per slot, in order, with budgets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.engine.budget import SLOT_GRACE, Budget, next_allowed
from bot.errors import ConfigError
from tests.builders import Item, rss, write_config

KOLKATA = ZoneInfo("Asia/Kolkata")
SLOTS = (time(8, 30), time(12, 30), time(18, 0))


def _ist(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given in Kolkata local time, as the aware UTC datetime the clock returns."""
    return datetime(2026, 12, day, hour, minute, tzinfo=KOLKATA).astimezone(UTC)


BUDGET = Budget(slots=SLOTS, timezone="Asia/Kolkata")


def test_between_slots_waits_for_the_next_one() -> None:
    """At 10:00 local, with slots 08:30/12:30/18:00, the next post may go at 12:30."""
    assert next_allowed(BUDGET, [], _ist(2, 10)) == _ist(2, 12, 30)


def test_a_free_slot_is_open_for_its_grace_window() -> None:
    """At 08:35 the 08:30 slot is still open (nothing sent in it); at 08:30 + grace it is not."""
    assert next_allowed(BUDGET, [], _ist(2, 8, 35)) == _ist(2, 8, 35)
    late = _ist(2, 8, 30) + SLOT_GRACE
    assert next_allowed(BUDGET, [], late) == _ist(2, 12, 30)


def test_a_used_slot_sends_the_next_post_to_the_next_slot() -> None:
    """After a post at 08:30, the next may not go before 12:30; after 18:00, next morning."""
    assert next_allowed(BUDGET, [_ist(2, 8, 30)], _ist(2, 8, 31)) == _ist(2, 12, 30)
    assert next_allowed(BUDGET, [_ist(2, 18, 1)], _ist(2, 18, 2)) == _ist(3, 8, 30)


def test_slots_respect_quiet_hours_and_hourly_budget() -> None:
    """A slot inside quiet hours is skipped; a slot over the hourly budget is skipped too."""
    quiet = Budget(slots=SLOTS, timezone="Asia/Kolkata", quiet_hours=(time(6), time(9)))
    assert next_allowed(quiet, [], _ist(2, 7)) == _ist(2, 12, 30)
    hourly = Budget(slots=(time(8, 30), time(9)), timezone="Asia/Kolkata", per_hour=1)
    # 08:30 was used; 09:00 is within the hour of it, so the hour budget moves it to 09:30,
    # past the 09:00 slot's grace: the next slot is 08:30 the day after.
    assert next_allowed(hourly, [_ist(2, 8, 30)], _ist(2, 8, 50)) == _ist(3, 8, 30)


def test_slots_in_a_zone_with_daylight_saving() -> None:
    """Slots are local times: in New York, 08:30 is 13:30 UTC in winter, 12:30 UTC in summer."""
    budget = Budget(slots=(time(8, 30),), timezone="America/New_York")
    winter = datetime(2026, 12, 2, 1, tzinfo=UTC)
    summer = datetime(2026, 7, 2, 1, tzinfo=UTC)
    assert next_allowed(budget, [], winter) == datetime(2026, 12, 2, 13, 30, tzinfo=UTC)
    assert next_allowed(budget, [], summer) == datetime(2026, 7, 2, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["8.30"]', "not a time of day"),
        ('["25:00"]', "not a time of day"),
        ('["08:30", "8:30"]', "listed twice"),
        ("[]", "empty list"),
    ],
)
def test_config_refuses_bad_slots(tmp_path: Path, value: str, message: str) -> None:
    """Slots must be distinct HH:MM times; a mistake names the entry."""
    path = write_config(tmp_path, feeds={"f": "builtin:demo"}, platforms=("x",))
    path.write_text(path.read_text(encoding="utf-8") + f"slots = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_slotted_channel_posts_one_per_slot_in_order(tmp_path: Path) -> None:
    """Three queued posts go out at 08:30, 12:30 and 18:00 local, oldest first; nothing
    between slots, and nothing at all before the first slot."""
    feed = tmp_path / "feed.xml"
    base = _ist(2, 6)
    items = [
        Item(
            f"s{i}",
            f"Story {i}",
            f"https://site.example/{i}/",
            published=base + timedelta(minutes=i),
        )
        for i in range(3)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, platforms=("x",), catch_up="all")
    path.write_text(
        path.read_text(encoding="utf-8")
        + 'slots = ["08:30", "12:30", "18:00"]\ntimezone = "Asia/Kolkata"\n',
        encoding="utf-8",
    )
    clock = [_ist(2, 7)]
    sent_at: list[tuple[str, datetime]] = []
    with open_pipeline(load_config(path, env={})) as pipe:
        pipe.clock = lambda: clock[0]
        pipe.poll("f")
        for minutes in range(0, 12 * 60, 5):  # every 5 minutes from 07:00 to 19:00
            clock[0] = _ist(2, 7) + timedelta(minutes=minutes)
            for report in pipe.deliver():
                assert report.outcome == "sent"
                sent_at.append((report.item_id, clock[0]))
    assert sent_at == [
        ("s0", _ist(2, 8, 30)),
        ("s1", _ist(2, 12, 30)),
        ("s2", _ist(2, 18, 0)),
    ]
    lines = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["item_id"] for x in lines] == ["s0", "s1", "s2"]
