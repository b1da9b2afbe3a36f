"""A tiny job queue over APScheduler 3.x, so the rest of syndbot never imports it.

A job never overlaps itself (``max_instances=1``) and missed runs collapse into one
(``coalesce``). While a run is slow, APScheduler would log a WARNING on every tick it skips;
here the first skip of each slow spell is one INFO line and the rest are DEBUG.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("syndbot.scheduler")


class _NoOverlapWarnings(logging.Filter):
    """Drop APScheduler's per-tick "maximum number of running instances" WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


# APScheduler logs through this (a child of "apscheduler", so its level settings apply).
_apscheduler_log = logging.getLogger("apscheduler.scheduler.syndbot")
_apscheduler_log.addFilter(_NoOverlapWarnings())


class JobQueue:
    """Repeating jobs on a thread pool; each job never overlaps itself.

    A job that raises is logged and runs again at its next time, except for the ``fatal``
    error types: those go to ``on_fatal`` once (no traceback), which should stop the queue.
    """

    def __init__(
        self,
        *,
        workers: int = 8,
        fatal: tuple[type[BaseException], ...] = (),
        on_fatal: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._fatal = fatal
        self._on_fatal = on_fatal
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
            logger=_apscheduler_log,
        )
        self._slow: set[str] = set()  # jobs whose current run has already been reported slow
        self._soon: set[str] = set()  # asked to run early (run_soon), not yet submitted
        self._rerun: set[str] = set()  # ... and found busy: run again when the run ends
        self._soon_lock = threading.Lock()
        self._scheduler.add_listener(self._on_skip, EVENT_JOB_MAX_INSTANCES)
        self._scheduler.add_listener(self._on_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._scheduler.add_listener(self._on_submit, EVENT_JOB_SUBMITTED)

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
            _guarded(func, name, self._fatal, self._on_fatal),
            trigger="interval",
            seconds=max(every, 0.1),
            jitter=int(jitter) or None,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_in),
            args=args,
            id=name,
            name=name,
        )

    def run_soon(self, name: str, *, delay: float = 0.0) -> bool:
        """Run job ``name`` in ``delay`` s unless it is due sooner; its interval then counts
        from that run. A run asked for while the job is busy follows when it ends.
        False when there is no such job."""
        job = self._scheduler.get_job(name)
        if job is None:
            return False
        at = datetime.now(UTC) + timedelta(seconds=max(delay, 0.0))
        with self._soon_lock:
            self._soon.add(name)
        if job.next_run_time is None or at < job.next_run_time:
            self._scheduler.modify_job(name, next_run_time=at)
        return True

    def set_interval(self, name: str, *, every: float, jitter: float = 0.0) -> None:
        """Run job ``name`` every ``every`` s (+ up to ``jitter``) from now on."""
        self._scheduler.reschedule_job(
            name, trigger="interval", seconds=max(every, 0.1), jitter=int(jitter) or None
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop scheduling; with ``wait`` let running jobs finish their current step."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def _on_submit(self, event: JobEvent) -> None:
        with self._soon_lock:
            self._soon.discard(event.job_id)

    def _on_skip(self, event: JobEvent) -> None:
        with self._soon_lock:
            if event.job_id in self._soon:
                self._rerun.add(event.job_id)
        if event.job_id in self._slow:
            log.debug("job %s still running; skipped another run", event.job_id)
            return
        self._slow.add(event.job_id)
        log.info("job %s is still running; its next runs wait until it finishes", event.job_id)

    def _on_done(self, event: JobEvent) -> None:
        self._slow.discard(event.job_id)
        with self._soon_lock:
            again = event.job_id in self._rerun
            self._rerun.discard(event.job_id)
        if again:
            self.run_soon(event.job_id)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)


def _guarded(
    func: Callable[..., Any],
    name: str,
    fatal: tuple[type[BaseException], ...] = (),
    on_fatal: Callable[[BaseException], None] | None = None,
) -> Callable[..., None]:
    """A job that raises must not kill the service: log it, try again next time; a
    ``fatal`` error (nothing will work until a person acts) goes to ``on_fatal`` instead."""

    def run(*args: Any) -> None:
        try:
            func(*args)
        except Exception as exc:
            if on_fatal is not None and isinstance(exc, fatal):
                on_fatal(exc)
                return
            log.exception("job %s failed; it will run again at its next time", name)

    run.__name__ = f"job_{name}"
    return run
