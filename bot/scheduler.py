"""A tiny job queue over APScheduler 3.x, so the rest of syndbot never imports it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("syndbot.scheduler")


class JobQueue:
    """Repeating jobs on a thread pool; each job never overlaps itself."""

    def __init__(self, *, workers: int = 8) -> None:
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )

    def run_repeating(
        self,
        func: Callable[..., Any],
        *,
        every: float,
        name: str,
        jitter: float = 0.0,
        first_in: float = 0.0,
        args: tuple[Any, ...] = (),
    ) -> None:
        """Call ``func(*args)`` every ``every`` s (+ up to ``jitter``), first after ``first_in``."""
        self._scheduler.add_job(
            _guarded(func, name),
            trigger="interval",
            seconds=max(every, 0.1),
            jitter=int(jitter) or None,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_in),
            args=args,
            id=name,
            name=name,
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop scheduling; with ``wait`` let running jobs finish their current step."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)


def _guarded(func: Callable[..., Any], name: str) -> Callable[..., None]:
    """A job that raises must not kill the service: log it, try again next time."""

    def run(*args: Any) -> None:
        try:
            func(*args)
        except Exception:
            log.exception("job %s failed; it will run again at its next time", name)

    run.__name__ = f"job_{name}"
    return run
