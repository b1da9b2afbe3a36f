"""Is the service healthy? Pure checks over config, stored feed state and the clock.

A feed is *stale* when its last successful poll (or the service start, if later) is older
than ``[http] stale_after``, by default three of the feed's longest poll intervals plus the
jitter: its ``max_interval`` while quiet, times ``PUSHED_POLL_FACTOR`` when WebSub may push
it (``bot.engine.pacing``), so a feed the service polls less often on purpose is not
reported as failing.
``/healthz`` and ``syndbot health`` answer from the same ``evaluate``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Config, FeedConfig
from bot.engine.pacing import longest_interval
from bot.models import FeedState
from bot.store.url import Database, DatabaseURL

STALE_INTERVALS = 3


@dataclass(frozen=True)
class Health:
    ok: bool
    reasons: tuple[str, ...] = ()
    feeds: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    checks: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "reasons": list(self.reasons),
            "checks": self.checks,
            "feeds": list(self.feeds),
        }


def stale_limit(config: Config, feed: FeedConfig) -> float:
    """Seconds a feed may go without a successful poll."""
    if config.http is not None and config.http.stale_after is not None:
        return config.http.stale_after
    pushable = config.http is not None and bool(config.http.public_url)  # WebSub may push it
    longest = longest_interval(feed, pushable=pushable)
    return STALE_INTERVALS * longest + config.service.jitter


def database_writable(path: Database, *, timeout: float = 5.0) -> str | None:
    """None when a write transaction can start on ``path``, else why not (nothing is written)."""
    if isinstance(path, DatabaseURL):
        from bot.store.postgres import writable_problem

        return writable_problem(path, timeout=timeout)
    if not path.is_file():
        return f"database {path} does not exist"
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout, isolation_level=None
        )
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"database {path} is not writable: {exc}"
    return None


def evaluate(
    config: Config,
    states: list[FeedState],
    *,
    now: datetime,
    started_at: datetime | None,
    scheduler_running: bool | None,
    database_problem: str | None,
) -> Health:
    """The verdict. ``scheduler_running`` None means "not known here" (no running service)."""
    reasons: list[str] = []
    checks: dict[str, bool] = {"database_writable": database_problem is None}
    if database_problem is not None:
        reasons.append(database_problem)
    if scheduler_running is not None:
        checks["scheduler_running"] = scheduler_running
        if not scheduler_running:
            reasons.append("the scheduler is not running")
    by_name = {s.feed: s for s in states}
    feeds: list[dict[str, Any]] = []
    for feed in config.feeds:
        state = by_name.get(feed.name, FeedState(feed=feed.name))
        limit = stale_limit(config, feed)
        since = state.last_success
        if started_at is not None and (since is None or since < started_at):
            since = started_at  # a restart gets a full period before its feeds count as stale
        age = None if since is None else (now - since).total_seconds()
        fresh = age is not None and age <= limit
        feeds.append(
            {
                "feed": feed.name,
                "ok": fresh,
                "last_success": state.last_success.isoformat() if state.last_success else None,
                "age_seconds": None if age is None else round(age, 1),
                "stale_after_seconds": limit,
                "consecutive_errors": state.consecutive_errors,
                "last_error": state.last_error,
            }
        )
        if not fresh:
            when = "never" if state.last_success is None else f"{age:.0f} s ago"
            error = f" (last error: {state.last_error})" if state.last_error else ""
            reasons.append(
                f"feed {feed.name}: last successful poll {when}, older than {limit:.0f} s{error}"
            )
    checks["feeds_fresh"] = all(f["ok"] for f in feeds)
    return Health(ok=not reasons, reasons=tuple(reasons), feeds=tuple(feeds), checks=checks)
