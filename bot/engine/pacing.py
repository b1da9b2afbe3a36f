"""How often each feed is polled: its ``interval``, slower when it has been quiet or a hub
pushes its changes.

A feed with a ``max_interval`` (or ``service.max_poll_interval``) that has had no new or
edited item for a while is polled less often: about every 1/``QUIET_SHARE`` of the time it
has been quiet, in doublings of its interval, never beyond ``max_interval``. The first new
item puts it back on its interval at once, so a feed that changes often is polled as often
as it is configured. A feed whose WebSub hub has verified a lease is polled
``PUSHED_POLL_FACTOR`` times less often: the hub's notices bring its changes. After a
restart every feed starts at its interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from bot.config.model import FeedConfig
from bot.durations import format_duration

log = logging.getLogger("syndbot.pacing")

QUIET_SHARE = 24  # quiet for a day: polled about hourly (within max_interval)
PUSHED_POLL_FACTOR = 4  # a feed with a verified WebSub lease is polled 4 times less often


def quiet_interval(interval: float, max_interval: float | None, quiet: float) -> float:
    """The poll interval of a feed quiet for ``quiet`` seconds: ``max_interval`` once that
    is within ``quiet / QUIET_SHARE``, else ``interval`` doubled while the double is."""
    if max_interval is None or max_interval <= interval:
        return interval
    wanted = quiet / QUIET_SHARE
    if wanted >= max_interval:
        return max_interval
    every = interval
    while every * 2 <= wanted:
        every *= 2
    return every


def longest_interval(feed: FeedConfig, *, pushable: bool) -> float:
    """The longest interval ``PollPacing`` may poll ``feed`` at: its ``max_interval`` (or
    ``interval``), times ``PUSHED_POLL_FACTOR`` when a WebSub hub may push it."""
    longest = feed.max_interval or feed.interval
    return longest * PUSHED_POLL_FACTOR if pushable else longest


class PollPacing:
    """Each feed's current poll interval, told to ``set_interval(feed, seconds)`` when it
    changes. ``polled`` after each poll and ``pushed`` when a lease starts or ends."""

    def __init__(
        self,
        feeds: Mapping[str, FeedConfig],
        set_interval: Callable[[str, float], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._feeds = feeds
        self._set_interval = set_interval
        self._clock = clock
        started = clock()
        self._changed = dict.fromkeys(feeds, started)  # when each last had news
        self._pushed: set[str] = set()
        self._current = {name: feed.interval for name, feed in feeds.items()}
        self._lock = threading.Lock()

    def interval(self, feed: str) -> float:
        """The interval ``feed`` is polled at now."""
        with self._lock:
            return self._current[feed]

    def intervals(self) -> dict[str, float]:
        """Every feed's current interval (``syndbot_feed_poll_interval_seconds``)."""
        with self._lock:
            return dict(self._current)

    def polled(self, feed: str, *, changed: bool, ok: bool = True) -> None:
        """After a poll of ``feed``: ``changed`` when it found a new or edited item. A
        failed poll (``ok`` false) changes nothing: failures have their own back-off."""
        if not ok:
            return
        with self._lock:
            if changed:
                self._changed[feed] = self._clock()
            self._update(feed)

    def pushed(self, feed: str, pushed: bool) -> None:
        """``feed``'s hub lease was verified (``pushed``) or has ended."""
        with self._lock:
            (self._pushed.add if pushed else self._pushed.discard)(feed)
            self._update(feed)

    def _update(self, feed: str) -> None:
        config = self._feeds[feed]
        quiet = self._clock() - self._changed[feed]
        every = quiet_interval(config.interval, config.max_interval, quiet)
        if feed in self._pushed:
            every *= PUSHED_POLL_FACTOR
        if every == self._current[feed]:
            return
        self._current[feed] = every
        self._set_interval(feed, every)
        if feed in self._pushed:
            reason = "pushed"
        elif every > config.interval:
            reason = f"no new item for {format_duration(round(quiet))}"
        else:
            reason = "its interval"
        log.info("feed=%s polled every %s (%s)", feed, format_duration(every), reason)
