"""Adaptive polling: a quiet feed is polled less often within its bounds, a changing or
pushed one as configured; the service reschedules its poll job accordingly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.config.model import FeedConfig
from bot.engine.pacing import PUSHED_POLL_FACTOR, QUIET_SHARE, PollPacing, quiet_interval
from bot.errors import ConfigError
from bot.scheduler import JobQueue
from tests.builders import Item, rss, write_config
from tests.feedserver import FeedServer
from tests.servicethread import service_running

MINUTE = 60.0
HOUR = 3600.0


@pytest.mark.parametrize(
    ("quiet", "every"),
    [
        (0.0, 10 * MINUTE),
        (QUIET_SHARE * 19 * MINUTE, 10 * MINUTE),  # 1/24 of the quiet time is under 2x
        (QUIET_SHARE * 20 * MINUTE, 20 * MINUTE),
        (QUIET_SHARE * 45 * MINUTE, 40 * MINUTE),  # doublings of the interval only
        (QUIET_SHARE * 59 * MINUTE, 40 * MINUTE),
        (QUIET_SHARE * 60 * MINUTE, HOUR),  # max_interval once 1/24 of the quiet time is
        (30 * 24 * HOUR, HOUR),
    ],
)
def test_a_quiet_feed_slows_in_doublings_up_to_its_max(quiet: float, every: float) -> None:
    """interval 10m, max 1h: about 1/24 of the quiet time, in doublings, at most 1h."""
    assert quiet_interval(10 * MINUTE, HOUR, quiet) == every


def test_a_feed_without_a_max_is_never_slowed() -> None:
    """No max_interval (or one no longer than the interval): always the interval."""
    for quiet in (0.0, HOUR, 365 * 24 * HOUR):
        assert quiet_interval(10 * MINUTE, None, quiet) == 10 * MINUTE
        assert quiet_interval(10 * MINUTE, 10 * MINUTE, quiet) == 10 * MINUTE


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pacing() -> tuple[PollPacing, Clock, list[tuple[str, float]]]:
    feeds = {
        "quiet": FeedConfig("quiet", "https://a.example/q.xml", interval=10 * MINUTE,
                            max_interval=HOUR),
        "fixed": FeedConfig("fixed", "https://a.example/f.xml", interval=10 * MINUTE),
    }  # fmt: skip
    told: list[tuple[str, float]] = []
    clock = Clock()
    pacing = PollPacing(feeds, lambda feed, every: told.append((feed, every)), clock=clock)
    return pacing, clock, told


def test_unchanged_polls_slow_the_feed_and_a_new_item_restores_its_interval() -> None:
    """Day-long silence takes a 10m/1h feed to hourly polls (the scheduler is told each
    step once); the first new item puts it back to 10m at once; a feed without a max
    stays at 10m throughout."""
    pacing, clock, told = _pacing()
    for _ in range(24 * 6):  # a day of polls finding nothing
        clock.now += 10 * MINUTE
        pacing.polled("quiet", changed=False)
        pacing.polled("fixed", changed=False)
    assert told == [("quiet", 20 * MINUTE), ("quiet", 40 * MINUTE), ("quiet", HOUR)]
    assert pacing.intervals() == {"quiet": HOUR, "fixed": 10 * MINUTE}  # /metrics shows these
    clock.now += HOUR
    pacing.polled("quiet", changed=True)
    assert told[-1] == ("quiet", 10 * MINUTE)
    assert pacing.interval("quiet") == 10 * MINUTE


def test_failed_polls_do_not_change_the_pace() -> None:
    """A failing feed keeps its pace: errors have their own back-off."""
    pacing, clock, told = _pacing()
    clock.now += 30 * 24 * HOUR
    pacing.polled("quiet", changed=False, ok=False)
    assert told == []
    assert pacing.interval("quiet") == 10 * MINUTE


def test_a_pushed_feed_is_polled_four_times_less_often_until_its_lease_ends() -> None:
    """A verified hub lease multiplies the current interval by PUSHED_POLL_FACTOR; when the
    lease ends the feed is back at its own pace."""
    pacing, _clock, told = _pacing()
    pacing.pushed("fixed", True)
    assert told == [("fixed", PUSHED_POLL_FACTOR * 10 * MINUTE)]
    pacing.pushed("fixed", False)
    assert told[-1] == ("fixed", 10 * MINUTE)


def test_the_scheduler_runs_the_poll_job_at_the_new_pace() -> None:
    """``JobQueue.set_interval`` through the pacing: the real scheduler's poll job runs
    every 0.2 s, then every 1 s once the feed is slowed."""
    feeds = {"f": FeedConfig("f", "https://a.example/f.xml", interval=0.2, max_interval=1.0)}
    runs: list[float] = []
    jobs = JobQueue(workers=2)
    clock = Clock()
    pacing = PollPacing(
        feeds, lambda feed, every: jobs.set_interval(f"poll:{feed}", every=every), clock=clock
    )
    jobs.run_repeating(lambda: runs.append(time.monotonic()), every=0.2, name="poll:f")
    jobs.start()
    try:
        time.sleep(1.0)
        fast = len(runs)
        clock.now += 1000.0  # quiet long enough for the max
        pacing.polled("f", changed=False)
        slowed_at = len(runs)
        time.sleep(2.1)
        slow = len(runs) - slowed_at
    finally:
        jobs.stop()
    assert fast >= 3
    assert 1 <= slow <= 3


def test_config_bounds_come_from_the_feed_or_the_service(tmp_path: Path) -> None:
    """``service.max_poll_interval`` bounds every feed; a feed's ``max_interval`` wins; a
    bound no longer than the feed's interval means the feed is never slowed."""
    feeds = {"a": "https://a.example/a.xml", "b": "https://a.example/b.xml"}
    path = write_config(tmp_path, feeds=feeds, extra_service='max_poll_interval = "2h"')
    text = path.read_text(encoding="utf-8").replace(
        'name = "b"', 'name = "b"\ninterval = "5m"\nmax_interval = "30m"'
    )
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env={})
    assert config.feed("a").max_interval == 2 * HOUR
    assert config.feed("b").max_interval == 30 * MINUTE
    plain = load_config(write_config(tmp_path, feeds=feeds), env={})
    assert plain.feed("a").max_interval is None
    short = write_config(tmp_path, feeds=feeds, extra_service='max_poll_interval = "30s"')
    assert load_config(short, env={}).feed("a").max_interval is None  # under the 1m interval


def test_a_max_interval_shorter_than_the_interval_is_refused(tmp_path: Path) -> None:
    """The error names the key and both durations."""
    path = write_config(tmp_path, feeds={"a": "https://a.example/a.xml"})
    text = path.read_text(encoding="utf-8").replace(
        'name = "a"', 'name = "a"\ninterval = "10m"\nmax_interval = "5m"'
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"max_interval.*5m is shorter than .*10m"):
        load_config(path, env={})


def test_the_service_slows_a_quiet_feed_and_speeds_it_up_on_news(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``syndbot run`` with two 1-second feeds answering 304: the one with max_interval
    4s is polled about half as often as the one without; when it gets a new item it is
    back on its 1-second interval and the item is posted. (QUIET_SHARE is 1 here, so a
    few seconds of quiet count as a day would.)"""
    monkeypatch.setattr("bot.engine.pacing.QUIET_SHARE", 1)
    first = rss([Item(guid="g1", title="Battery swap", link="https://volt.example/1/")])
    with FeedServer() as server:
        quiet = server.route("/quiet.xml", body=first.encode(), etag='"q1"')
        server.route("/fixed.xml", body=first.encode(), etag='"f1"')
        feeds = {"quiet": server.url("/quiet.xml"), "fixed": server.url("/fixed.xml")}
        path = write_config(tmp_path, feeds=feeds, platforms=("x",))
        text = path.read_text(encoding="utf-8").replace(
            'poll_interval = "1m"', 'poll_interval = "1s"'
        )
        text = text.replace('name = "quiet"', 'name = "quiet"\nmax_interval = "4s"')
        path.write_text(text, encoding="utf-8")
        config = load_config(path, env={})

        def polls(feed: str) -> int:
            return sum(r.path == f"/{feed}.xml" for r in list(server.requests))

        with open_pipeline(config) as pipe, service_running(pipe, join=15):
            time.sleep(9.5)  # quiet: polls at about 0, 1, 2, 4 and 8 s
            quiet_polls, fixed_polls = polls("quiet"), polls("fixed")
            second = rss(
                [
                    Item(guid="g2", title="New charger", link="https://volt.example/2/"),
                    Item(guid="g1", title="Battery swap", link="https://volt.example/1/"),
                ]
            )
            quiet.body, quiet.etag = second.encode(), '"q2"'
            outbox = tmp_path / "outbox.jsonl"
            deadline = time.monotonic() + 6.0
            while time.monotonic() < deadline and "New charger" not in _text(outbox):
                time.sleep(0.1)
            found_at = polls("quiet")
            time.sleep(4.2)
            after_news = polls("quiet") - found_at
    assert fixed_polls >= 7
    assert quiet_polls <= fixed_polls - 3
    assert after_news >= 2  # back to every second
    assert "New charger" in _text(tmp_path / "outbox.jsonl")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
