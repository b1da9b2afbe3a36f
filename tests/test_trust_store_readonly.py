"""A read-only database is named as such, with what to check; `status` still reads it.

The tests run as root, where ``chmod`` blocks nothing, so the file or directory is made
immutable with ``chattr +i`` (skipped with the reason where the file system refuses it) and
always made mutable again afterwards.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.models import Article
from bot.store import DatabaseReadOnly, SQLiteStore
from tests.builders import write_config

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STORED_ERROR = "upstream answered 503 slow down"  # only the database knows this


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i`` on ``paths`` for the block; skip the test if chattr cannot do it."""
    done: list[Path] = []
    try:
        for path in paths:
            try:
                result = subprocess.run(
                    ["chattr", "+i", str(path)], capture_output=True, text=True, check=False
                )
            except FileNotFoundError:
                pytest.skip("chattr is not installed")
            if result.returncode != 0:
                pytest.skip(f"chattr +i refused here: {result.stderr.strip()}")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config and a database (in its own directory) holding a feed error and a delivery."""
    db = tmp_path / "var" / "state.db"
    cfg = write_config(tmp_path, feeds={"volt": "builtin:demo"})
    text = cfg.read_text(encoding="utf-8").replace(str(tmp_path / "state.db"), str(db))
    cfg.write_text(text, encoding="utf-8")
    with SQLiteStore.open(db) as store:
        store.record_poll_error("volt", now=NOW, error=STORED_ERROR)
        article = Article(feed="volt", item_id="g1", url="https://volt.example/1/", title="T")
        store.add_item(article, now=NOW, channels=["x-out"])
    return cfg, db


def _assert_read_only_sentence(text: str, db: Path) -> None:
    assert f"{db}: the database is read-only here" in text
    assert "chattr -i" in text
    assert "syndbot status" in text
    assert "cannot create the database file" not in text
    assert "Traceback" not in text


def test_writing_commands_name_an_immutable_file_read_only(setup: tuple[Path, Path]) -> None:
    """`poll`, `retry` and `run` on an immutable file exit 2 saying it is read-only."""
    cfg, db = setup
    with immutable(db):
        for command in (["poll"], ["retry"], ["run"]):
            result = CliRunner().invoke(main, ["-c", str(cfg), *command])
            assert result.exit_code == 2, (command, result.output)
            _assert_read_only_sentence(result.output, db)


def test_status_reads_an_immutable_file(setup: tuple[Path, Path]) -> None:
    """`status` opens the file mode=ro and shows its feeds and deliveries."""
    cfg, db = setup
    with immutable(db):
        result = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    assert STORED_ERROR in result.output


def test_a_read_only_directory_stops_run_and_lets_status_read(setup: tuple[Path, Path]) -> None:
    """With the directory immutable (no -wal, -shm or .lock can be made) `run` exits 2
    with the sentence and `status` still reads the file."""
    cfg, db = setup
    with immutable(db.parent):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "-c", str(cfg), "run"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        status = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert proc.returncode == 2, proc.stderr
    _assert_read_only_sentence(proc.stderr, db)
    assert "state.db.lock" in proc.stderr
    assert status.exit_code == 0, status.output
    assert STORED_ERROR in status.output


def test_a_file_made_read_only_while_open_is_named_so(setup: tuple[Path, Path]) -> None:
    """A write after the file (and its WAL) became immutable raises DatabaseReadOnly,
    which the service treats as fatal, rather than a bare "disk I/O error"."""
    _, db = setup
    with SQLiteStore.open(db) as store:
        store.record_poll_ok("volt", now=NOW, etag=None, last_modified=None)
        wal = db.with_name(db.name + "-wal")
        article = Article(feed="volt", item_id="g2", url="https://volt.example/2/", title="T")
        with immutable(db, wal), pytest.raises(DatabaseReadOnly) as caught:
            store.add_item(article, now=NOW, channels=["x-out"])
    _assert_read_only_sentence(str(caught.value), db)


def test_status_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    """`status` before the first run shows empty tables and writes no file."""
    cfg = write_config(tmp_path, feeds={"volt": "builtin:demo"})
    result = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "state.db").exists()
