"""The fleet under fire: three ``syndbot run`` processes on one PostgreSQL database, a
loopback feed server and two loopback fake Mastodon instances; instances are SIGKILLed at
random moments (at least 30 times, some while a post request is in flight) and restarted.

At the end, per (article, channel): no duplicate and nothing lost; each feed polled about
once per interval across the fleet (counted at the feed server); and each fake's receive
times respecting its channel's ``min_interval`` fleet-wide. The counts are printed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.fleet import lease_holders
from bot.store import DatabaseURL, open_store
from tests.builders import Item, rss
from tests.fakes import mastodon_api
from tests.fakes.loopback import Answer, Request
from tests.fakes.mastodon_api import FakeMastodon
from tests.feedserver import FeedServer

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]

INSTANCES = 3
KILLS = 30
INTERVAL = 2.0  # each feed's poll interval, seconds
MIN_INTERVAL = 1.0  # each channel's min_interval, seconds
TIMEOUT = 1.0  # service.timeout: the sending grace is 5 s (bot.fleet.sending_grace)


class TimedMastodon(FakeMastodon):
    """Records when each status was created; answers slowly, so kills land mid-request;
    never dedupes by Idempotency-Key, so a second send would show as a second status."""

    def __init__(self) -> None:
        super().__init__()
        self.key_ttl = 0.0
        self.created: list[tuple[float, str]] = []  # (monotonic time, article URL)
        self.in_flight = 0

    def _create(self, request: Request) -> Answer:
        # Called under self.lock (tests.fakes.loopback), so one status at a time.
        self.in_flight += 1
        try:
            time.sleep(0.15)  # a kill now: nothing posted, the delivery is left 'sending'
            before = len(self.statuses)
            answer = super()._create(request)
            if len(self.statuses) > before:
                text = str(self.statuses[-1]["text"])
                url = next(w for w in text.split() if w.startswith("https://volt.example/"))
                self.created.append((time.monotonic(), url))
            time.sleep(0.15)  # a kill now: posted, but the delivery never recorded it
            return answer
        finally:
            self.in_flight -= 1


def _config(tmp_path: Path, feeds: FeedServer, fakes: dict[str, TimedMastodon]) -> Path:
    lines = [
        "[service]",
        "fleet = true",
        f'outbox = "{tmp_path / "outbox.jsonl"}"',
        'jitter = "0s"',
        'deliver_interval = "1s"',
        f'timeout = "{TIMEOUT:g}s"',
        "allow_private_addresses = true",
    ]
    for name in ("feed-a", "feed-b"):
        lines += [
            "[[feeds]]",
            f'name = "{name}"',
            f'url = "{feeds.url("/" + name)}"',
            f'interval = "{INTERVAL:g}s"',
            'catch_up = "all"',
            'full_text = "never"',
        ]
    for name, fake in fakes.items():
        lines += [
            "[[channels]]",
            f'name = "{name}"',
            'platform = "mastodon"',
            f'api_base = "{fake.base}"',
            'template = "{title} {url}"',
            f'min_interval = "{MIN_INTERVAL:g}s"',
            "[channels.credentials]",
            'access_token = "FLEET_MASTODON_TOKEN"',
            "[channels.options]",
            f'instance = "{fake.base}"',
        ]
    path = tmp_path / "fleet.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Fleet:
    """The instances: started, killed and restarted by the test."""

    def __init__(self, config: Path, env: dict[str, str], logs: Path) -> None:
        self.config, self.env, self.logs = config, env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, slot: int) -> subprocess.Popen[bytes]:
        with (self.logs / f"instance-{slot}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "-c", str(self.config), "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def __enter__(self) -> Fleet:
        self.procs = [self.start(slot) for slot in range(INSTANCES)]
        return self

    def kill_and_restart(self, slot: int) -> None:
        self.procs[slot].kill()
        self.procs[slot].wait(30)
        self.procs[slot] = self.start(slot)

    def __exit__(self, *exc: Any) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _sender(fleet: Fleet, fakes: dict[str, TimedMastodon], url: DatabaseURL) -> int | None:
    """The slot of an instance that is inside a post request now (waiting up to 4 s for
    one), found through the holder of that channel's lease; None if there was none."""
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        busy = [name for name, fake in fakes.items() if fake.in_flight]
        if busy:
            holder = lease_holders(url, [f"channel:{busy[0]}"])[f"channel:{busy[0]}"] or ""
            for slot, proc in enumerate(fleet.procs):
                if f" pid {proc.pid} " in f"{holder} " and fakes[busy[0]].in_flight:
                    return slot
        time.sleep(0.01)
    return None


def _items(count: int, feed: str) -> list[Item]:
    return [
        Item(guid=f"{feed}-{n}", title=f"{feed} story {n}", link=f"https://volt.example/{feed}/{n}")
        for n in range(count)
    ]


@pytest.mark.timeout(400)
def test_three_instances_with_kills_post_each_story_once_per_channel(
    tmp_path: Path, pg_url: DatabaseURL
) -> None:
    """30+ SIGKILLs among three instances: 0 duplicates, 0 lost, about one poll per feed
    per interval, min_interval kept fleet-wide (per channel, at the platform)."""
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    open_store(pg_url).close()  # migrate once, before three instances race to
    counts = {"feed-a": 0, "feed-b": 0}
    with (
        FeedServer() as feeds,
        TimedMastodon() as masto_a,
        TimedMastodon() as masto_b,
    ):
        fakes = {"masto-a": masto_a, "masto-b": masto_b}

        def publish_feeds() -> None:
            for name, count in counts.items():
                feeds.route("/" + name, body=rss(_items(count, name)).encode())

        counts["feed-a"] = 1
        publish_feeds()
        env = {
            **os.environ,
            "SYNDBOT_DATABASE": pg_url.secret_url(),
            "FLEET_MASTODON_TOKEN": mastodon_api.TOKEN,
        }
        config = _config(tmp_path, feeds, fakes)
        started = time.monotonic()
        kills = mid_request = 0
        with Fleet(config, env, tmp_path) as fleet:
            time.sleep(3)  # let them start before the first kill
            next_item = time.monotonic()
            while kills < KILLS:
                time.sleep(rng.uniform(0.8, 1.8))
                # Every third kill aims at an instance while it is inside a post request.
                slot = _sender(fleet, fakes, pg_url) if kills % 3 == 0 else None
                if slot is not None:
                    mid_request += 1
                fleet.kill_and_restart(rng.randrange(INSTANCES) if slot is None else slot)
                kills += 1
                if time.monotonic() >= next_item:
                    for name in counts:
                        counts[name] += 1
                    publish_feeds()
                    next_item = time.monotonic() + 3
            expected = {
                (item.link, channel)
                for name, count in counts.items()
                for item in _items(count, name)
                for channel in fakes
            }
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with open_store(pg_url, read_only=True) as store:
                    done = [d for d in store.deliveries() if d.status in ("sent", "failed")]
                    if len(done) == len(expected) and len(store.deliveries()) == len(expected):
                        break
                time.sleep(1)
        elapsed = time.monotonic() - started
        with open_store(pg_url, read_only=True) as store:
            deliveries = store.deliveries()
        received = Counter(
            (url, channel) for channel, fake in fakes.items() for _, url in fake.created
        )
        polls = Counter(r.path for r in feeds.requests)
        gaps = {
            channel: min(
                (b - a for (a, _), (b, _) in zip(fake.created, fake.created[1:], strict=False)),
                default=None,
            )
            for channel, fake in fakes.items()
        }
    failed = [d for d in deliveries if d.status == "failed"]
    visibly_failed = {(d.article.url, d.channel) for d in failed if d.last_error}
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    lost = [pair for pair in expected if received[pair] == 0 and pair not in visibly_failed]
    per_interval = {path: n / (elapsed / INTERVAL) for path, n in polls.items()}
    print(
        f"\nfleet: seed {seed}, kills {kills} ({mid_request} inside a post request), "
        f"expected {len(expected)}, received {sum(received.values())}, "
        f"duplicates {duplicates}, lost {len(lost)}, failed {len(failed)}, "
        f"polls per feed per interval { ({p: round(v, 2) for p, v in per_interval.items()}) }, "
        f"smallest gap per channel { ({c: round(g, 2) if g else g for c, g in gaps.items()}) } s"
    )
    assert kills >= KILLS
    assert mid_request >= 2  # the recovery path was exercised, not only idle kills
    assert duplicates == 0, received.most_common(3)
    assert lost == [], lost
    assert set(received) <= expected
    assert {d.status for d in deliveries} <= {"sent", "failed"}, Counter(
        d.status for d in deliveries
    )
    assert all(d.last_error for d in failed)
    assert all(0.4 <= v <= 1.5 for v in per_interval.values()), per_interval
    assert all(g is None or g >= MIN_INTERVAL - 0.05 for g in gaps.values()), gaps
