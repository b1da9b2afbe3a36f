"""`syndbot db backup` / `db check`: a consistent copy under load, and what check reports."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline
from bot.backup import backup, check
from bot.cli import main
from bot.config import load_config
from bot.errors import StoreError
from bot.models import Post, PublishResult
from bot.store import SQLiteStore
from tests.builders import Item, rss, write_config

ITEMS = 30  # at most 25 unseen at the restored poll (max_new): none held back


class CountingPublisher:
    """Records every publish call and never dedupes: a second send shows up as a second
    entry, whatever the idempotency key says."""

    def __init__(self, name: str, sends: list[tuple[str, str]], lock: threading.Lock) -> None:
        self.name = name
        self.platform = "mastodon"
        self._sends = sends
        self._lock = lock

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        time.sleep(0.003)  # a little network time, so deliveries overlap the backup
        with self._lock:
            self._sends.append((post.item_id, self.name))
            return PublishResult(remote_id=str(len(self._sends)))

    def check(self) -> str:
        return self.name


def _write_feed(path: Path, count: int) -> None:
    items = [
        Item(guid=f"g{i}", title=f"Charging story {i}", link=f"https://volt.example/{i}/")
        for i in range(count)
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(rss(items), encoding="utf-8")
    tmp.replace(path)  # the poller never reads a half-written feed


def _config(tmp_path: Path, name: str, feed: Path) -> Path:
    root = tmp_path / name
    root.mkdir()
    return write_config(root, feeds={"volt": str(feed)}, catch_up="all")


def _run(config_path: Path, sends: list[tuple[str, str]], *, until: threading.Event) -> None:
    """poll + deliver in a loop (the service's work, without the timer) until ``until``."""
    config = load_config(config_path, env={})
    lock = threading.Lock()
    with open_pipeline(config) as pipe:
        pipe.publishers = {c.name: CountingPublisher(c.name, sends, lock) for c in config.channels}
        pipe.recover_interrupted()
        while True:
            done = until.is_set()
            pipe.poll("volt")
            for channel in config.channels:
                while pipe.deliver(channel.name):
                    pass
            if done:
                return


def test_backup_under_load_restores_without_sending_anything_twice(tmp_path: Path) -> None:
    """A backup taken while polls and sends run is consistent: every send made before the
    backup started is recorded in it, so the restored database re-sends none of them."""
    feed = tmp_path / "feed.xml"
    _write_feed(feed, 5)
    live = _config(tmp_path, "live", feed)
    database = load_config(live, env={}).service.database
    sends: list[tuple[str, str]] = []
    stop = threading.Event()
    worker = threading.Thread(target=_run, args=(live, sends), kwargs={"until": stop})
    worker.start()
    deadline = time.monotonic() + 30
    while not sends and time.monotonic() < deadline:
        time.sleep(0.01)  # the loop is up and sending
    try:
        for count in range(6, ITEMS + 1):  # the site publishes while the service runs
            _write_feed(feed, count)
            time.sleep(0.01)
            if count == ITEMS // 2:
                before = len(sends)  # every send up to here committed "sending" first
                assert before > 0, "the loop has not sent anything yet"
                backup(database, tmp_path / "backup.db")
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
    assert len(sends) > before, "nothing was sent after the backup: it was not under load"
    assert max(Counter(sends).values()) == 1  # the live run itself never sent twice

    # Restore as the docs say: copy it over the database path, no -wal / -shm left.
    restored = _config(tmp_path, "restored", feed)
    restored_db = load_config(restored, env={}).service.database
    shutil.copy(tmp_path / "backup.db", restored_db)
    assert not Path(f"{restored_db}-wal").exists()
    assert check(restored_db).ok
    again: list[tuple[str, str]] = []
    done = threading.Event()
    done.set()  # one full poll + deliver pass
    _run(restored, again, until=done)

    channels = {c.name for c in load_config(restored, env={}).channels}
    expected = {(f"g{i}", c) for i in range(ITEMS) for c in channels}
    assert not set(sends[:before]) & set(again), "the restored database re-sent posts"
    assert max(Counter(again).values(), default=1) == 1
    assert set(sends) | set(again) == expected  # every post went out in one run or the other


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    """An existing FILE is kept unless --force; the database itself is never a target."""
    database = tmp_path / "state.db"
    SQLiteStore.open(database).close()
    target = tmp_path / "b.db"
    target.write_bytes(b"keep me")
    with pytest.raises(StoreError, match="already exists; pass --force"):
        backup(database, target)
    assert target.read_bytes() == b"keep me"
    with pytest.raises(StoreError, match="the database itself"):
        backup(database, database, force=True)
    report = backup(database, target, force=True)
    assert report.schema_version >= 1
    assert check(target).ok
    assert target.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".b.db.partial-*"))


def test_backup_to_a_directory_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    """A FILE whose directory cannot be created (under a plain file here) is a StoreError
    naming FILE and the directory, not a FileExistsError/FileNotFoundError traceback."""
    database = tmp_path / "state.db"
    SQLiteStore.open(database).close()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "sub" / "b.db"
    with pytest.raises(StoreError, match="cannot create its directory"):
        backup(database, target)


def test_db_cli_backup_and_check(tmp_path: Path) -> None:
    """`db backup` writes FILE and refuses a second time; `db check` exits 0, then 1 on a
    damaged file and on a schema newer than the code."""
    config = write_config(tmp_path, feeds={"f": "builtin:demo"})
    database = load_config(config, env={}).service.database
    runner = CliRunner()
    assert runner.invoke(main, ["-c", str(config), "poll"]).exit_code == 0
    target = tmp_path / "copy.db"
    first = runner.invoke(main, ["-c", str(config), "db", "backup", str(target)])
    assert first.exit_code == 0, first.output
    assert "schema version" in first.output
    second = runner.invoke(main, ["-c", str(config), "db", "backup", str(target)])
    assert second.exit_code != 0
    assert "--force" in second.output
    forced = runner.invoke(main, ["-c", str(config), "db", "backup", str(target), "--force"])
    assert forced.exit_code == 0

    ok = runner.invoke(main, ["-c", str(config), "db", "check"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().endswith("ok")

    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    conn.close()
    newer = runner.invoke(main, ["-c", str(config), "db", "check"])
    assert newer.exit_code == 1
    assert "newer than this syndbot" in newer.output

    shutil.copy(target, database)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    size = database.stat().st_size
    with database.open("r+b") as fh:  # overwrite the middle of the file with junk
        fh.seek(size // 2)
        fh.write(b"\xff" * 4096)
    damaged = runner.invoke(main, ["-c", str(config), "db", "check"])
    assert damaged.exit_code == 1
    assert "problem:" in damaged.output
