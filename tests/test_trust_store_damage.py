"""A damaged database is refused at start and stops a running service, in one sentence.

Each test corrupts a real SQLite file by overwriting its pages, as a failing disk or a
careless copy would: ``PRAGMA quick_check`` catches it at open, and a ``DatabaseError``
mid-run stops ``syndbot run`` with exit code 2 instead of a traceback every interval.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.models import Article
from bot.scheduler import JobQueue
from bot.store import DatabaseDamaged, SQLiteStore
from tests.builders import Item, rss, write_config

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def corrupt(db: Path, *, first_page: int = 2) -> None:
    """Overwrite every page from ``first_page`` on (1 = the header too) with garbage."""
    data = db.read_bytes()
    page = int.from_bytes(data[16:18], "big") or 65536
    start = (first_page - 1) * page
    garbage = bytes((i * 7 + 13) % 251 for i in range(len(data) - start))
    with db.open("r+b") as fh:
        fh.seek(start)
        fh.write(garbage)


def _filled_store(db: Path, items: int = 60) -> None:
    with SQLiteStore.open(db) as store:
        for i in range(items):
            article = Article(
                feed="volt",
                item_id=f"g{i}",
                url=f"https://volt.example/{i}/",
                title=f"Charging story {i}",
                content_html="<p>Battery prices keep falling.</p>" * 20,
            )
            store.add_item(article, now=NOW, channels=["x-out"])
        # Leave everything in the main file, as after a clean shutdown.
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _assert_recovery_sentence(text: str, db: Path) -> None:
    assert f"{db}: the database is damaged" in text
    assert "restore the newest backup" in text
    assert "catch_up" in text  # says what a fresh file costs: one repost per feed
    assert "Traceback" not in text


@pytest.mark.parametrize("first_page", [1, 2], ids=["header", "pages"])
def test_a_damaged_file_is_refused_at_open(tmp_path: Path, first_page: int) -> None:
    """Opening a file with overwritten pages (or header) raises DatabaseDamaged with the steps."""
    db = tmp_path / "state.db"
    _filled_store(db)
    corrupt(db, first_page=first_page)
    with pytest.raises(DatabaseDamaged) as caught:
        SQLiteStore.open(db)
    _assert_recovery_sentence(str(caught.value), db)


def test_quick_check_catches_damage_a_first_query_would_miss(tmp_path: Path) -> None:
    """Damage only in an index passes a plain read of the table, but not the open check."""
    db = tmp_path / "state.db"
    _filled_store(db, items=200)
    with sqlite3.connect(db) as raw:
        root = raw.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'deliveries_due'"
        ).fetchone()[0]
        raw.execute("SELECT COUNT(*) FROM items").fetchone()
    raw.close()
    corrupt_one = db.read_bytes()
    page = int.from_bytes(corrupt_one[16:18], "big")
    with db.open("r+b") as fh:
        fh.seek((root - 1) * page + 8)
        fh.write(b"\xff" * 64)
    with sqlite3.connect(db) as raw:  # the table itself still reads
        assert raw.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 200
    raw.close()
    with pytest.raises(DatabaseDamaged):
        SQLiteStore.open(db)


def test_status_on_a_damaged_database_says_how_to_recover(tmp_path: Path) -> None:
    """`syndbot status` exits 2 with the recovery sentence, not a traceback."""
    cfg = write_config(tmp_path, feeds={"volt": "builtin:demo"})
    _filled_store(tmp_path / "state.db")
    corrupt(tmp_path / "state.db")
    result = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert result.exit_code == 2, result.output
    _assert_recovery_sentence(result.output, tmp_path / "state.db")


def _feed(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "feed.xml"
    items = [
        Item(guid=f"g{i}", title=f"Charging story {i}", link=f"https://volt.example/{i}/")
        for i in range(n)
    ]
    path.write_text(rss(items), encoding="utf-8")
    return path


def _run(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "-c", str(cfg), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_refuses_a_damaged_database_at_start(tmp_path: Path) -> None:
    """`syndbot run` on a damaged file exits 2 at once and delivers nothing."""
    cfg = write_config(tmp_path, feeds={"volt": str(_feed(tmp_path, 3))}, catch_up="all")
    _filled_store(tmp_path / "state.db")
    corrupt(tmp_path / "state.db")
    proc = _run(cfg)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    _assert_recovery_sentence(err, tmp_path / "state.db")
    assert not (tmp_path / "outbox.jsonl").exists()


def test_damage_mid_run_stops_the_service_with_exit_2(tmp_path: Path) -> None:
    """Pages overwritten under a running service: it stops within seconds, exit 2, the
    sentence once, and no job-failed traceback every interval."""
    cfg = write_config(tmp_path, feeds={"volt": str(_feed(tmp_path, 20))}, catch_up="all")
    db, outbox = tmp_path / "state.db", tmp_path / "outbox.jsonl"
    proc = _run(cfg)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if outbox.exists() and len(outbox.read_text().splitlines()) >= 40:
                break  # all sent: the service now only reads, every second
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1]
        poke = sqlite3.connect(db, isolation_level=None, timeout=10)
        # Move everything from the WAL into the main file, so the service reads from it.
        while poke.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
            time.sleep(0.05)
        corrupt(db)
        # Another process writes (as a one-off command would), so the service's cached
        # pages go stale and its next transaction reads the damaged ones from disk.
        poke.execute("PRAGMA user_version = 1")
        poke.close()
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    _assert_recovery_sentence(err, db)
    assert err.count("the database is damaged (") == 1
    assert "failed; it will run again" not in err


def test_a_fatal_job_error_goes_to_the_hook_once_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """JobQueue hands a fatal error type to on_fatal and logs no traceback for it; other
    errors are still logged and retried."""
    caplog.set_level(logging.INFO)
    seen: list[BaseException] = []
    stopped = threading.Event()

    def on_fatal(exc: BaseException) -> None:
        seen.append(exc)
        stopped.set()

    def broken_db() -> None:
        raise DatabaseDamaged("state.db: the database is damaged (test)")

    def flaky() -> None:
        raise RuntimeError("a bug")

    jobs = JobQueue(workers=2, fatal=(DatabaseDamaged,), on_fatal=on_fatal)
    jobs.run_repeating(broken_db, every=5, name="deliver:x")
    jobs.run_repeating(flaky, every=5, name="poll:f")
    jobs.start()
    try:
        assert stopped.wait(5)
        time.sleep(0.3)
    finally:
        jobs.stop(wait=True)
    assert [str(e) for e in seen] == ["state.db: the database is damaged (test)"]
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in tracebacks] == [
        "job poll:f failed; it will run again at its next time"
    ]
