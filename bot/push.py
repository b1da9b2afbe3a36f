"""Pushes (pings, WebSub publish notifications) turned into early polls of configured feeds.

A push is only a hint: it names URLs, and the only thing it can cause is an earlier
conditional GET of a feed URL from the config. Its body is never read as content.

    nudger = Nudger(feeds, schedule=lambda feed, delay: ...)
    nudger.nudge(["https://evnews.example/"], source="203.0.113.9")

- **Matching.** A pushed URL matches a feed whose configured URL is the same
  (``normalise_url``, scheme ignored) or lies under it on the same host: a ping naming a
  site's home (``weblogUpdates.ping``) matches that site's feeds. Anything else is ignored.
- **Debounce.** A feed's first push polls it after ``settle`` seconds, so a burst of pings
  is one fetch; pushes while that poll is pending join it; a push after it polls at once
  again but never sooner than ``debounce`` seconds after the previous pushed poll. So
  pushes fetch a feed at most once per ``debounce`` seconds and a push is never dropped.
- **Per-source limits.** Each source (client address) has a token bucket of ``burst``
  pushes refilled at ``per_minute``; an empty bucket answers "slow down".

Pure logic: the clock is passed in and ``schedule(feed, delay)`` does the polling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.urls import normalise_url

MAX_URLS = 16  # URLs looked at per push; a longer list is cut
MAX_URL_LENGTH = 2048
MAX_SOURCES = 10_000  # buckets kept; full ones are forgotten first


@dataclass(frozen=True)
class Verdict:
    """What became of one push: the feeds it polls (soon), or why it polls nothing."""

    feeds: tuple[str, ...] = ()
    limited: bool = False
    retry_after: float = 0.0

    @property
    def matched(self) -> bool:
        return bool(self.feeds)


def _site_key(url: str) -> tuple[str, str] | None:
    """(host, path) of an http(s) URL after ``normalise_url``; None for anything else."""
    if len(url) > MAX_URL_LENGTH:
        return None
    normal = normalise_url(url)
    parts = urlsplit(normal)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.netloc, path


def _covers(pushed: tuple[str, str], feed: tuple[str, str]) -> bool:
    """True when ``pushed`` names ``feed`` itself or a page above it on the same host."""
    host, path = pushed
    if host != feed[0]:
        return False
    return feed[1] == path or ("?" not in path and feed[1].startswith(path + "/"))


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


class Nudger:
    """Turns pushes into debounced, rate-limited ``schedule(feed, delay)`` calls; thread-safe."""

    def __init__(
        self,
        feeds: Iterable[tuple[str, str]],
        *,
        schedule: Callable[[str, float], object],
        clock: Callable[[], float] = time.monotonic,
        debounce: float = 3.0,
        settle: float = 0.5,
        burst: int = 30,
        per_minute: float = 30.0,
    ) -> None:
        self._feeds = [(name, key) for name, url in feeds if (key := _site_key(url)) is not None]
        self._schedule = schedule
        self._clock = clock
        self._debounce = debounce
        self._settle = min(settle, debounce)
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._due: dict[str, float] = {}  # feed -> when its latest pushed poll is (was) due
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def match(self, urls: Sequence[str]) -> tuple[str, ...]:
        """The configured feeds that the pushed ``urls`` name, in config order."""
        keys = [k for u in urls[:MAX_URLS] if isinstance(u, str) and (k := _site_key(u))]
        return tuple(name for name, feed in self._feeds if any(_covers(k, feed) for k in keys))

    def nudge(self, urls: Sequence[str], *, source: str) -> Verdict:
        """Poll the feeds ``urls`` name soon, unless ``source`` pushes too often."""
        return self._nudge(lambda: self.match(urls), source)

    def nudge_feed(self, feed: str, *, source: str) -> Verdict:
        """Poll ``feed`` (a verified WebSub notice names it by its callback) soon."""
        return self._nudge(lambda: (feed,), source)

    def _nudge(self, feeds_of: Callable[[], tuple[str, ...]], source: str) -> Verdict:
        now = self._clock()
        plans: list[tuple[str, float]] = []
        with self._lock:
            wait = self._take_token(source, now)
            if wait > 0:
                return Verdict(limited=True, retry_after=wait)
            feeds = feeds_of()
            for feed in feeds:
                delay = self._plan(feed, now)
                if delay is not None:
                    plans.append((feed, delay))
        for feed, delay in plans:
            self._schedule(feed, delay)
        return Verdict(feeds=feeds)

    def _plan(self, feed: str, now: float) -> float | None:
        """Seconds until this push's poll of ``feed``, or None when a pending one covers it."""
        due = self._due.get(feed)
        if due is not None and due > now:
            return None  # a poll is still to come: it will see what this push announces
        at = now + self._settle
        if due is not None:
            at = max(at, due + self._debounce)
        self._due[feed] = at
        return at - now

    def _take_token(self, source: str, now: float) -> float:
        """0 when ``source`` may push now (a token is taken), else seconds until it may."""
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= MAX_SOURCES:
                self._forget_full(now)
            bucket = self._buckets[source] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate if self._rate > 0 else float("inf")

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled (they hold no information), or the oldest half."""
        refill = self._burst / self._rate if self._rate > 0 else float("inf")
        stale = [s for s, b in self._buckets.items() if now - b.updated >= refill]
        if not stale:
            by_age = sorted(self._buckets, key=lambda s: self._buckets[s].updated)
            stale = by_age[: len(by_age) // 2]
        for source in stale:
            del self._buckets[source]
