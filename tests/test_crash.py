"""Crash test: SIGKILL the running service at random moments; no post is lost or doubled.

`python -m bot run` runs as a subprocess against a feed that keeps growing and against fake
X, Facebook and Mastodon servers living in this test process (so their counts survive
every kill), plus an outbox file.
The fakes are slow at random, and sometimes ask for the kill themselves right after they
accepted a post and before they answer. After the kills one last run finishes every
delivery; then every article must be on every channel exactly once.

Set CRASH_SEED to replay a run's random choices (timing still varies).
"""

from __future__ import annotations

import os
import random
import re
import signal
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.pipeline import idempotency_key
from tests.crashkit import (
    Bot,
    CrashGraph,
    CrashMastodon,
    CrashX,
    GrowingFeed,
    KillSwitch,
    Slowness,
    facebook_posts_by_url,
    mastodon_posts_by_url,
    outbox_keys,
    read_deliveries,
    write_crash_config,
    x_posts_by_url,
)
from tests.feedserver import FeedServer

ARTICLES = 30
CHANNELS = ("outbox-all", "x-main", "facebook-page", "mastodon-main")
TARGET_KILLS = 53  # a few above the 50 the issue asks for
MIN_KILLS = 50
KILL_PHASE_BUDGET = 180.0  # seconds; the whole test must stay under 4 minutes
FINAL_TIMEOUT = 45.0
IN_FLIGHT_CHANCE = 0.35  # per accepted post while a run is armed
STARTUP_KILL_CHANCE = 0.15  # kill before the service is up (imports, store, recovery)
FINAL = ("sent", "failed", "skipped")
Platforms = tuple[CrashX, CrashGraph, CrashMastodon]


class KillPhase:
    """Start, kill and restart the bot; count the kills by the moment they landed."""

    def __init__(
        self,
        bot: Bot,
        feed: GrowingFeed,
        switch: KillSwitch,
        busy: Callable[[], int],
        rng: random.Random,
    ) -> None:
        self.bot, self.feed, self.switch, self.busy, self.rng = bot, feed, switch, busy, rng
        self.kinds: Counter[str] = Counter()
        self.ready_times: list[float] = []
        self.began = time.monotonic()

    def run(self) -> None:
        self.began = time.monotonic()
        while self.kinds.total() < TARGET_KILLS and self._left() > 0:
            self.cycle()

    def _left(self) -> float:
        return KILL_PHASE_BUDGET - (time.monotonic() - self.began)

    def cycle(self) -> None:
        """One run of the bot, killed at a random moment (sooner when time runs short)."""
        self.switch.arm()
        self.bot.start()
        release_at = self._release_time()
        typical = statistics.median(self.ready_times) if self.ready_times else 1.5
        # Time per remaining kill: on a slow machine more kills land during start-up.
        allowance = self._left() / max(1, TARGET_KILLS - self.kinds.total())
        if self.rng.random() < STARTUP_KILL_CHANCE or allowance < typical + 0.5:
            self._wait(time.monotonic() + self.rng.uniform(0.1, typical), release_at)
        else:
            self._wait(time.monotonic() + 60, release_at, until_ready=True)
            self.ready_times.append(time.monotonic() - self.bot.started)
            longest = max(0.3, min(2.5, allowance - typical))
            self._wait(time.monotonic() + self.rng.uniform(0.2, longest), release_at)
        self._kill()

    def _release_time(self) -> float | None:
        """Most runs publish one more article at a random moment while they run."""
        if self.feed.complete:
            return None
        late = self.kinds.total() >= TARGET_KILLS - 12
        if late or self.rng.random() < 0.7:
            return time.monotonic() + self.rng.uniform(0.0, 3.0)
        return None

    def _wait(
        self, deadline: float, release_at: float | None, *, until_ready: bool = False
    ) -> None:
        while time.monotonic() < deadline:
            if release_at is not None and time.monotonic() >= release_at:
                self.feed.release(ARTICLES if self.kinds.total() >= TARGET_KILLS - 2 else 1)
                release_at = None
            if self.switch.requested.wait(0.02):
                return
            if not self.bot.alive():
                pytest.fail(f"the bot exited by itself:\n{self.bot.log_text()[-3000:]}")
            if until_ready and self.bot.ready():
                return
        if until_ready:
            pytest.fail(f"the bot did not start within 60 s:\n{self.bot.log_text()[-3000:]}")

    def _kill(self) -> None:
        if self.switch.requested.is_set():
            kind = f"in-flight ({self.switch.where} had accepted a post)"
        elif self.busy():
            kind = "mid-request (a fake was handling a request)"
        elif not self.bot.ready():
            kind = "during start-up/recovery"
        else:
            kind = "while running"
        self.bot.kill()
        self.switch.disarm()
        assert self.bot.proc is not None
        assert self.bot.proc.returncode == -signal.SIGKILL
        self.kinds[kind] += 1


def _finish(bot: Bot, db: Path, expected: int) -> list[dict[str, object]]:
    """One last run until every delivery is final; then a clean SIGTERM stop."""
    bot.start()
    deadline = time.monotonic() + FINAL_TIMEOUT
    rows = read_deliveries(db)
    while time.monotonic() < deadline:
        rows = read_deliveries(db)
        if len(rows) == expected and all(r["status"] in FINAL for r in rows):
            break
        time.sleep(0.5)
    # A clean stop is checked once the service is up: a SIGTERM during start-up (before
    # the handlers exist) ends it by the signal, as it would any process.
    while not bot.ready() and bot.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bot.stop() == 0, bot.log_text()[-3000:]
    return rows


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Shown in CI logs even though pytest captures output."""
    with capsys.disabled():
        print(f"\n{line}")


def _received(
    tmp_path: Path, urls: list[str], guids: list[str], platforms: Platforms
) -> dict[str, Counter[str]]:
    """Posts per article URL, as each channel's platform (or the outbox file) holds them."""
    x, fb, masto = platforms
    keys = [idempotency_key("volt", guid, "outbox-all") for guid in guids]
    outbox, _ = outbox_keys(tmp_path / "outbox.jsonl")
    return {
        "outbox-all": Counter({url: outbox[key] for url, key in zip(urls, keys, strict=True)}),
        "x-main": x_posts_by_url(x, urls),
        "facebook-page": facebook_posts_by_url(fb, urls),
        "mastodon-main": mastodon_posts_by_url(masto, urls),
    }


def _remote_ids(platforms: Platforms) -> dict[str, dict[str, str]]:
    """Article URL -> the id of the post holding it, per API channel."""
    x, fb, masto = platforms
    return {
        "x-main": {
            u["expanded_url"]: str(t["id"])
            for t in x.tweets
            for u in (t.get("entities") or {}).get("urls", [])
        },
        "facebook-page": {p.get("link", ""): p["id"] for p in fb.page_posts}
        | {w: p["id"] for p in fb.page_posts for w in p.get("message", "").split()},
        "mastodon-main": {w: str(s["id"]) for s in masto.statuses for w in str(s["text"]).split()},
    }


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_random_sigkills_never_lose_or_repeat_a_post(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over 50 SIGKILLs (some mid-request), every article reaches every channel exactly once."""
    seed = int(os.environ.get("CRASH_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    switch = KillSwitch(random.Random(seed + 1), chance=IN_FLIGHT_CHANCE)
    slow = [Slowness(random.Random(seed + n)) for n in (2, 3, 4)]
    began = time.monotonic()
    with (
        FeedServer() as server,
        CrashX(slow[0], switch) as x,
        CrashGraph(slow[1], switch) as fb,
        CrashMastodon(slow[2], switch) as masto,
    ):
        feed = GrowingFeed(server, total=ARTICLES)
        feed.release(3)
        config, env = write_crash_config(
            tmp_path, feed_url=feed.url, x_base=x.base, graph=fb, mastodon_base=masto.base
        )
        bot = Bot(config, env, tmp_path / "bot.log")
        phase = KillPhase(bot, feed, switch, lambda: sum(s.busy for s in slow), rng)
        try:
            phase.run()
            feed.release(ARTICLES)  # whatever the kills left unpublished
            rows = _finish(bot, tmp_path / "state.db", ARTICLES * len(CHANNELS))
        finally:
            switch.disarm()
            bot.kill()
        assert x.errors == []

    urls, guids = [a.url for a in feed.articles], [a.guid for a in feed.articles]
    received = _received(tmp_path, urls, guids, (x, fb, masto))
    duplicates = sum(n - 1 for c in received.values() for n in c.values() if n > 1)
    lost = sum(1 for c in received.values() for url in urls if c[url] == 0)
    total = sum(sum(c.values()) for c in received.values())
    _, torn = outbox_keys(tmp_path / "outbox.jsonl")
    log = bot.logs.read_text(encoding="utf-8", errors="replace")
    recovered = sum(int(n) for n in re.findall(r"resolved (\d+) deliver(?:y|ies) interrupted", log))
    kills = phase.kinds.total()
    kinds = ", ".join(f"{n} {kind}" for kind, n in phase.kinds.most_common())
    _report(
        capsys,
        f"crash test (seed {seed}): {kills} SIGKILLs [{kinds}]; "
        f"posts expected {len(urls) * len(CHANNELS)}, received {total}, "
        f"duplicates {duplicates}, lost {lost}; 'sending' deliveries resolved on restart "
        f"{recovered}; second posts stopped only by X's duplicate-content check "
        f"{x.duplicate_refusals()}, by Mastodon's Idempotency-Key {masto.replays}; "
        f"torn outbox lines {torn}; "
        f"start-up median {statistics.median(phase.ready_times or [0]):.1f} s; "
        f"{time.monotonic() - began:.0f} s in all",
    )

    assert kills >= MIN_KILLS
    assert kills - phase.kinds["during start-up/recovery"] >= MIN_KILLS // 3
    assert any(kind.startswith("in-flight") for kind in phase.kinds)
    assert len(rows) == len(urls) * len(CHANNELS)
    assert [r for r in rows if r["status"] != "sent"] == []
    assert (duplicates, lost, torn) == (0, 0, 0), received
    # The ledger names the post each platform really holds, also for recovered deliveries.
    remote = _remote_ids((x, fb, masto))
    url_of = dict(zip(guids, urls, strict=True))
    for row in rows:
        if row["channel"] in remote:
            assert row["remote_id"] == remote[str(row["channel"])][url_of[str(row["item_id"])]]
