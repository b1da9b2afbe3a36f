"""Test kit for the crash run: slow fake platforms that can ask for a kill, a growing feed,
the bot as a subprocess, and tallies of what each platform really received.

The fakes live in the test process (threads), so what they received survives every
SIGKILL of the bot. Each fake sometimes waits 0-300 ms before handling a request, and may,
right after it *accepted* a post, ask the test to kill the bot before the answer goes out
(``KillSwitch``): the most dangerous moment for "never post twice".
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.builders import Item, rss
from tests.fakes.graph_api import TOKEN as GRAPH_TOKEN
from tests.fakes.graph_api import Call, FakeGraph
from tests.fakes.images import jpeg_bytes
from tests.fakes.loopback import Answer, Request
from tests.fakes.mastodon_api import TOKEN as MASTODON_TOKEN
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    FakeX,
    Fault,
)
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
READY_MARK = "syndbot running"

# Hindi, Tamil and Telugu headlines beside English ones: the reference site's languages.
HEADLINES = {
    "en": "Fast chargers open on the Mumbai-Pune expressway",
    "hi": "दिल्ली में 50 नए ईवी चार्जिंग स्टेशन शुरू",
    "ta": "சென்னையில் மின்சார பேருந்து சேவை விரிவாக்கம்",
    "te": "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం",
}
BODIES = {
    "en": "<p>Twelve new fast chargers opened this week. Each one delivers 120 kW.</p>",
    "hi": "<p>शहर में पचास नए चार्जिंग स्टेशन खुले। हर स्टेशन पर चार चार्जर हैं।</p>",
    "ta": "<p>நகரில் புதிய மின்சார பேருந்துகள் இயக்கப்படுகின்றன. பயணிகள் மகிழ்ச்சி.</p>",
    "te": "<p>నగరంలో కొత్త ఛార్జింగ్ స్టేషన్లు తెరిచారు. ప్రతి స్టేషన్‌లో నాలుగు ఛార్జర్లు ఉన్నాయి.</p>",
}


class KillSwitch:
    """A fake that accepted a post may ask for a SIGKILL and hold its answer until done.

    At most one request per bot run (``arm`` re-arms); ``chance`` is per accepted post.
    """

    def __init__(self, rng: random.Random, *, chance: float) -> None:
        self.chance = chance
        self.requested = threading.Event()
        self.where = ""
        self._rng = rng
        self._armed = False
        self._done = threading.Event()
        self._lock = threading.Lock()

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            self.requested.clear()
            self._done.clear()
            self.where = ""

    def disarm(self) -> None:
        """The bot is dead (or about to stop): release any fake holding its answer."""
        with self._lock:
            self._armed = False
        self._done.set()

    def pull(self, where: str) -> None:
        """Maybe ask for the kill, then hold the answer back until the bot is dead."""
        with self._lock:
            if not self._armed or self._rng.random() >= self.chance:
                return
            self._armed = False
            self.where = where
        self.requested.set()
        self._done.wait(15)


class Slowness:
    """Random 0-``max_delay`` s waits before handling requests; ``busy`` counts waits in
    progress so the test can tell whether a kill landed mid-request."""

    def __init__(self, rng: random.Random, *, max_delay: float = 0.3) -> None:
        self.max_delay = max_delay
        self.busy = 0
        self._rng = rng
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            delay = self._rng.uniform(0, self.max_delay)
            self.busy += 1
        try:
            time.sleep(delay)
        finally:
            with self._lock:
                self.busy -= 1


class HeldAnswer:
    """Hold the answer to the next accepted post for ``seconds`` (the post stays accepted):
    the client times out although the platform has the post."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._idle = threading.Event()
        self._idle.set()

    def next(self, seconds: float) -> None:
        self.seconds = seconds
        self._idle.clear()

    def hold(self) -> None:
        seconds, self.seconds = self.seconds, 0.0
        if seconds:
            time.sleep(seconds)
            self._idle.set()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once a held answer has been released (its client long gone)."""
        return self._idle.wait(timeout)


class CrashX(FakeX):
    """The fake X, optionally slow at random, able to ask for a kill or to hold an answer
    after accepting a tweet."""

    def __init__(self, slowness: Slowness | None = None, switch: KillSwitch | None = None) -> None:
        super().__init__()
        self.slowness = slowness
        self.switch = switch
        self.held = HeldAnswer()

    def next_fault(self, method: str, route: str) -> Fault | None:
        scripted = super().next_fault(method, route)
        if scripted is None and self.slowness is not None:
            self.slowness.wait()
        return scripted

    def add_tweet(self, text: str, *, reply_to: str | None = None) -> dict[str, Any]:
        tweet = super().add_tweet(text, reply_to=reply_to)
        # Accepted and stored; the answer is still to be sent.
        if self.switch is not None:
            self.switch.pull("x")
        self.held.hold()
        return tweet

    def post_attempts(self) -> int:
        """Every POST /2/tweets that reached the fake, whatever it answered."""
        return sum(1 for r in self.api_requests() if (r.method, r.path) == ("POST", "/2/tweets"))

    def duplicate_refusals(self) -> int:
        """Second posts of a text that only X's duplicate-content check stopped."""
        return sum(
            1 for _, status, body in self.responses if status == 403 and "duplicate" in str(body)
        )


class CrashGraph(FakeGraph):
    """The fake Graph API (Facebook Page), optionally slow at random, able to ask for a
    kill or to hold an answer after accepting a Page post."""

    def __init__(self, slowness: Slowness | None = None, switch: KillSwitch | None = None) -> None:
        super().__init__()
        self.slowness = slowness
        self.switch = switch
        self.held = HeldAnswer()

    def handle(self, call: Call) -> tuple[int, dict[str, Any]]:
        # Runs under the fake's lock, so waits also serialise requests: harmless here,
        # the bot sends one Facebook call at a time.
        if self.slowness is not None:
            self.slowness.wait()
        return super().handle(call)

    def _page_post(self, route: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        answer = super()._page_post(route, form)
        if self.switch is not None:
            self.switch.pull("facebook")
        self.held.hold()
        return answer

    def post_attempts(self) -> int:
        """Every POST to the Page's feed or photos that reached the fake."""
        return len(self.calls_to("feed")) + len(self.calls_to("photos"))


class CrashMastodon(FakeMastodon):
    """The fake Mastodon instance, optionally slow at random, able to ask for a kill after
    accepting a status. ``replays`` counts statuses answered from a repeated
    ``Idempotency-Key`` (a second post the key turned into the first one)."""

    def __init__(self, slowness: Slowness | None = None, switch: KillSwitch | None = None) -> None:
        super().__init__()
        self.slowness = slowness
        self.switch = switch
        self.held = HeldAnswer()
        self.replays = 0

    def handle(self, request: Request) -> Answer:
        # Under the fake's lock, like CrashGraph.handle.
        if self.slowness is not None:
            self.slowness.wait()
        return super().handle(request)

    def _create(self, request: Request) -> Answer:
        before = len(self.statuses)
        answer = super()._create(request)
        if len(self.statuses) == before:  # refused, or answered from a known key
            if answer.status == 200:
                self.replays += 1
            return answer
        if self.switch is not None:
            self.switch.pull("mastodon")
        self.held.hold()
        return answer

    def post_attempts(self) -> int:
        """Every POST /api/v1/statuses that reached the fake."""
        return len(self.calls_to("statuses"))


@dataclass(frozen=True)
class Article:
    """One article the growing feed will publish."""

    number: int
    guid: str
    url: str
    lang: str
    image: str | None


class GrowingFeed:
    """An RSS feed on a ``FeedServer`` that gains articles when ``release`` is called."""

    def __init__(self, server: FeedServer, *, total: int) -> None:
        self.server = server
        self.released: list[Article] = []
        langs = list(HEADLINES)
        picture = jpeg_bytes(800, 450)
        self.articles = []
        for n in range(total):
            image = None
            if n % 3 == 0:  # every third article has an image: X uploads it, Facebook a photo
                path = f"/img/{n}.jpg"
                server.route(path, body=picture, content_type="image/jpeg")
                image = server.url(path)
            self.articles.append(
                Article(
                    number=n,
                    guid=f"crash-{n}",
                    url=f"https://voltlane.example/2026/crash-{n}/",
                    lang=langs[n % len(langs)],
                    image=image,
                )
            )
        self._lock = threading.Lock()
        self._publish()

    @property
    def url(self) -> str:
        return self.server.url("/feed.xml")

    @property
    def complete(self) -> bool:
        return len(self.released) == len(self.articles)

    def release(self, count: int = 1) -> None:
        with self._lock:
            start = len(self.released)
            self.released.extend(self.articles[start : start + count])
            self._publish()

    def _publish(self) -> None:
        items = [
            Item(
                guid=a.guid,
                title=f"{HEADLINES[a.lang]} #{a.number}",
                link=a.url,
                body=BODIES[a.lang],
                tags=("EV", "Charging"),
                image=a.image,
                lang=a.lang,
            )
            for a in reversed(self.released)  # newest first, as sites publish
        ]
        version = len(self.released)
        self.server.route("/feed.xml", body=rss(items).encode("utf-8"), etag=f'"v{version}"')


def write_crash_config(
    tmp_path: Path, *, feed_url: str, x_base: str, graph: FakeGraph, mastodon_base: str
) -> tuple[Path, dict[str, str]]:
    """The bot's config (outbox, X, Facebook and Mastodon channels on the fakes) and its
    environment."""
    text = f"""
[service]
database = "{tmp_path / "state.db"}"
outbox = "{tmp_path / "outbox.jsonl"}"
poll_interval = "1s"
jitter = "0s"
deliver_interval = "0.5s"
timeout = "10s"
allow_private_addresses = true

[[feeds]]
name = "volt"
url = "{feed_url}"
catch_up = "all"
full_text = "never"

[[channels]]
name = "outbox-all"
platform = "bluesky"
publisher = "outbox"

[[channels]]
name = "x-main"
platform = "x"
api_base = "{x_base}"
[channels.credentials]
api_key = "CRASH_X_API_KEY"
api_secret = "CRASH_X_API_SECRET"
access_token = "CRASH_X_ACCESS_TOKEN"
access_token_secret = "CRASH_X_ACCESS_TOKEN_SECRET"

[[channels]]
name = "facebook-page"
platform = "facebook"
api_base = "{graph.base}"
[channels.credentials]
page_token = "CRASH_FB_PAGE_TOKEN"
[channels.options]
page_id = "{graph.page_id}"

[[channels]]
name = "mastodon-main"
platform = "mastodon"
api_base = "{mastodon_base}"
[channels.credentials]
access_token = "CRASH_MASTODON_TOKEN"
[channels.options]
instance = "{mastodon_base}"
"""
    path = tmp_path / "syndbot.toml"
    path.write_text(text, encoding="utf-8")
    env = {
        "CRASH_X_API_KEY": CONSUMER_KEY,
        "CRASH_X_API_SECRET": CONSUMER_SECRET,
        "CRASH_X_ACCESS_TOKEN": ACCESS_TOKEN,
        "CRASH_X_ACCESS_TOKEN_SECRET": ACCESS_TOKEN_SECRET,
        "CRASH_FB_PAGE_TOKEN": GRAPH_TOKEN,
        "CRASH_MASTODON_TOKEN": MASTODON_TOKEN,
    }
    return path, env


class Bot:
    """``python -m bot -c <config> run`` as a subprocess that can be killed and restarted."""

    def __init__(self, config: Path, env: dict[str, str], logs: Path) -> None:
        self.config = config
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self.started = 0.0
        # An empty env file: credentials come from ``env`` only.
        empty = os.devnull
        self.command = [sys.executable, "-m", "bot", "-c", str(config), "--env-file", empty]

    def start(self) -> None:
        self._offset = self.logs.stat().st_size if self.logs.exists() else 0
        with self.logs.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.command, "run"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.started = time.monotonic()

    def log_text(self) -> str:
        with self.logs.open("rb") as fh:
            fh.seek(self._offset)
            return fh.read().decode("utf-8", "replace")

    def ready(self) -> bool:
        """The service finished recovery and started its jobs."""
        return READY_MARK in self.log_text()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, as a service manager would; the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def read_deliveries(db: Path) -> list[dict[str, Any]]:
    """Every delivery row, read through a read-only connection (the bot may be running)."""
    if not db.exists():
        return []
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT feed, item_id, channel, status, attempts, remote_id, last_error"
            " FROM deliveries ORDER BY id"
        ).fetchall()
    return [dict(r) for r in rows]


def outbox_keys(path: Path) -> tuple[Counter[str], int]:
    """Lines per idempotency key in the outbox, and how many lines are not valid JSON."""
    counts: Counter[str] = Counter()
    torn = 0
    if not path.exists():
        return counts, torn
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            counts[str(json.loads(line)["idempotency_key"])] += 1
        except (json.JSONDecodeError, KeyError):
            torn += 1
    return counts, torn


def x_posts_by_url(x: FakeX, urls: list[str]) -> Counter[str]:
    """Tweets linking each article URL (by the expanded URL X keeps for every link)."""
    counts: Counter[str] = Counter()
    for tweet in x.tweets:
        linked = {u["expanded_url"] for u in (tweet.get("entities") or {}).get("urls", [])}
        counts.update(url for url in urls if url in linked)
    return counts


def facebook_posts_by_url(graph: FakeGraph, urls: list[str]) -> Counter[str]:
    """Page posts linking each article URL (link posts) or naming it (photo posts)."""
    counts: Counter[str] = Counter()
    for post in graph.page_posts:
        counts.update(
            url for url in urls if post.get("link") == url or url in post.get("message", "")
        )
    return counts


def mastodon_posts_by_url(mastodon: FakeMastodon, urls: list[str]) -> Counter[str]:
    """Statuses whose source text links each article URL."""
    counts: Counter[str] = Counter()
    for status in mastodon.statuses:
        counts.update(url for url in urls if url in str(status.get("text", "")))
    return counts
