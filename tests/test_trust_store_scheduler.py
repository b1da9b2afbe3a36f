"""A slow job does not fill the log: one INFO line per slow spell, no per-tick WARNING."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from bot.scheduler import JobQueue

OVERLAP = "maximum number of running instances reached"


def _run_slow_job(caplog: pytest.LogCaptureFixture, *, slow_runs: int) -> list[float]:
    """Run a 0.1 s job whose first ``slow_runs`` runs take 0.8 s, on a real APScheduler."""
    caplog.set_level(logging.DEBUG)
    runs: list[float] = []
    done = threading.Event()

    def job() -> None:
        runs.append(time.monotonic())
        if len(runs) <= slow_runs:
            time.sleep(0.8)
        if len(runs) >= slow_runs + 2:
            done.set()

    jobs = JobQueue(workers=2)
    jobs.run_repeating(job, every=0.1, name="deliver:slow")
    jobs.start()
    try:
        assert done.wait(10), "the job stopped running after its slow spell"
    finally:
        jobs.stop(wait=True)
    return runs


def test_a_slow_job_logs_one_info_line_not_a_warning_per_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ticks skipped while a run is slow give no WARNING and one INFO naming the job."""
    _run_slow_job(caplog, slow_runs=1)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    assert not [r for r in caplog.records if OVERLAP in r.getMessage()]
    infos = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    notes = [r for r in caplog.records if r.levelno == logging.INFO and "still running" in r.msg]
    assert len(notes) == 1, infos
    assert "deliver:slow" in notes[0].getMessage()
    skipped = [r for r in caplog.records if r.levelno == logging.DEBUG and "skipped" in r.msg]
    assert skipped, "the test job was never slow enough to be skipped"


def test_each_slow_spell_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    """After a slow run finishes, the next slow run is reported again (once)."""
    _run_slow_job(caplog, slow_runs=2)
    notes = [r for r in caplog.records if r.levelno == logging.INFO and "still running" in r.msg]
    assert len(notes) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_job_never_overlaps_itself(caplog: pytest.LogCaptureFixture) -> None:
    """Runs start at least a slow run's length apart while slow (max one instance)."""
    runs = _run_slow_job(caplog, slow_runs=1)
    assert runs[1] - runs[0] >= 0.75
