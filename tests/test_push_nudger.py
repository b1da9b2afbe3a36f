"""bot.push.Nudger with the clock passed in, and JobQueue.run_soon on a real scheduler."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import HttpConfig, load_config
from bot.errors import ConfigError
from bot.push import Nudger
from bot.scheduler import JobQueue

FEEDS = [
    ("en", "https://evnews.example/feed/"),
    ("hi", "https://evnews.example/hi/feed/"),
    ("other", "https://other.example/rss.xml"),
    ("demo", "builtin:demo"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _nudger(clock: Clock, **kwargs: float) -> tuple[Nudger, list[tuple[str, float]]]:
    calls: list[tuple[str, float]] = []
    nudger = Nudger(
        FEEDS, schedule=lambda feed, delay: calls.append((feed, delay)), clock=clock, **kwargs
    )
    return nudger, calls


def test_matching_site_home_feed_url_and_spellings() -> None:
    """A site's home matches its feeds, a sub-site only its own, a feed URL itself (any
    spelling normalise_url equates, either scheme); unrelated or non-http URLs nothing."""
    nudger, _ = _nudger(Clock())
    assert nudger.match(["https://evnews.example/"]) == ("en", "hi")
    assert nudger.match(["http://EVNEWS.example/hi/"]) == ("hi",)
    assert nudger.match(["https://evnews.example/feed?utm_source=wp#x"]) == ("en",)
    assert nudger.match(["https://other.example/rss.xml"]) == ("other",)
    assert nudger.match(["https://other.example/rss"]) == ()
    assert nudger.match(["https://evnews.example.evil/", "https://evnews.exam"]) == ()
    assert nudger.match(["builtin:demo", "", "ftp://evnews.example/"]) == ()


def test_debounce_coalesces_a_burst_and_never_drops_a_later_push() -> None:
    """The first push polls after the settle time; pushes while it is pending join it; a
    push after it polls again, but not sooner than debounce after the previous one."""
    clock = Clock()
    nudger, calls = _nudger(clock, debounce=3.0, settle=0.5)
    for _ in range(10):
        assert nudger.nudge(["https://other.example/rss.xml"], source="a").feeds == ("other",)
    assert calls == [("other", 0.5)]
    clock.now += 1.0  # the pushed poll ran at +0.5; this push must wait until +3.5
    nudger.nudge(["https://other.example/rss.xml"], source="a")
    assert calls[-1] == ("other", 2.5)
    clock.now += 1.0
    nudger.nudge(["https://other.example/rss.xml"], source="a")  # joins the one at +3.5
    assert len(calls) == 2
    clock.now += 10.0
    nudger.nudge(["https://other.example/rss.xml"], source="a")
    assert calls[-1] == ("other", 0.5)


def test_per_source_token_bucket() -> None:
    """A source gets `burst` pushes, then is told to wait; it refills at per_minute, and
    other sources are not affected. Unknown URLs cost a token too."""
    clock = Clock()
    nudger, _ = _nudger(clock, burst=3, per_minute=6)
    for _ in range(3):
        assert not nudger.nudge(["https://nowhere.example/"], source="a").limited
    refused = nudger.nudge(["https://evnews.example/"], source="a")
    assert refused.limited
    assert refused.feeds == ()
    assert 9.0 <= refused.retry_after <= 10.0
    assert nudger.nudge(["https://evnews.example/"], source="b").feeds == ("en", "hi")
    clock.now += 10.0
    assert not nudger.nudge(["https://evnews.example/"], source="a").limited


def test_run_soon_runs_a_job_early_and_polling_goes_on() -> None:
    """run_soon runs a job whose interval is a minute at once; its interval continues
    afterwards (the job is still scheduled); an unknown job name is False."""
    ran = threading.Event()
    jobs = JobQueue(workers=2)
    jobs.run_repeating(ran.set, every=60, first_in=60, name="poll:f")
    jobs.start()
    try:
        assert jobs.run_soon("poll:f")
        assert ran.wait(2.0)
        assert not jobs.run_soon("poll:missing")
        time.sleep(0.1)  # the next run time is set once the run is submitted
        job = jobs._scheduler.get_job("poll:f")
        assert job is not None
        assert job.next_run_time > datetime.now(UTC) + timedelta(seconds=50)
    finally:
        jobs.stop()


def test_run_soon_while_the_job_runs_runs_it_again_after() -> None:
    """A push that arrives while the feed's poll is running is not lost: the job runs once
    more when the current run ends."""
    started = threading.Event()
    release = threading.Event()
    runs: list[float] = []

    def slow() -> None:
        runs.append(time.monotonic())
        started.set()
        release.wait(5)

    jobs = JobQueue(workers=2)
    jobs.run_repeating(slow, every=60, first_in=0, name="poll:f")
    jobs.start()
    try:
        assert started.wait(2.0)
        jobs.run_soon("poll:f")
        time.sleep(0.3)  # the early run is skipped: the first is still running
        assert len(runs) == 1
        release.set()
        deadline = time.monotonic() + 2.0
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(runs) == 2
    finally:
        release.set()
        jobs.stop()


def test_push_keys_in_the_http_table(tmp_path: Path) -> None:
    """[http] push is off by default, push_debounce defaults to 3 s; a wrong type or a zero
    debounce is a config error naming the key."""
    path = tmp_path / "c.toml"
    feed = 'channels = []\n[[feeds]]\nname = "f"\nurl = "builtin:demo"\n[http]\nlisten = 8787\n'

    def load(extra: str) -> HttpConfig:
        path.write_text(feed + extra, encoding="utf-8")
        http = load_config(path, env={}).http
        assert http is not None
        return http

    assert load("").push is False
    assert load("").push_debounce == 3.0
    on = load('push = true\npush_debounce = "10s"\n')
    assert (on.push, on.push_debounce) == (True, 10.0)
    for bad, key in (('push = "yes"', "push"), ('push_debounce = "0s"', "push_debounce")):
        with pytest.raises(ConfigError, match=key):
            load(bad + "\n")
