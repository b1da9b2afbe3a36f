"""Back up and check the SQLite state while the service runs.

``backup`` uses SQLite's online backup API in one step: it reads one consistent snapshot
(under WAL, writers keep writing meanwhile) into a temporary file next to the target,
switches the copy to a single self-contained file (no ``-wal``), checks it, and renames it
into place, so a half-written backup never carries the target's name.

``check`` opens the database read-only: ``integrity_check``, ``foreign_key_check`` and the
schema version against the one this code writes. It never migrates or creates anything.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import StoreError
from bot.store.migrations import latest_version
from bot.store.url import DatabaseURL


@dataclass(frozen=True)
class BackupReport:
    target: Path
    size: int
    schema_version: int


@dataclass(frozen=True)
class CheckReport:
    database: Path | DatabaseURL
    schema_version: int
    code_version: int
    problems: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def _connect_ro(path: Path, *, timeout: float = 10.0) -> sqlite3.Connection:
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, isolation_level=None
    )


def _version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    except sqlite3.OperationalError:
        return 0  # no schema_migrations table: not a syndbot database
    return int(row[0])


def backup(database: Path, target: Path, *, force: bool = False) -> BackupReport:
    """Copy ``database`` to ``target`` consistently; refuse to overwrite without ``force``."""
    if not database.is_file():
        raise StoreError(f"{database}: no database here, so nothing to back up")
    if target.exists() and target.resolve() == database.resolve():
        raise StoreError(f"{target}: that is the database itself; back up to another file")
    if target.is_dir():
        raise StoreError(f"{target}: is a directory; name the backup file, e.g. {target}/x.db")
    if target.exists() and not force:
        raise StoreError(f"{target}: already exists; pass --force to overwrite it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"{target}: cannot create its directory {target.parent}: {exc.strerror or exc}; "
            "name a file in a directory you can write"
        ) from exc
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        # 0600 from the start: the backup holds the same state as the database.
        os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
        source = sqlite3.connect(database, timeout=30.0)
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            # pages=-1: one step, one read snapshot; a stepped copy restarts on every write.
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            result = copy.execute("PRAGMA quick_check").fetchone()[0]
            version = _version(copy)
        finally:
            copy.close()
            source.close()
        if result != "ok":
            raise StoreError(f"{database}: the copy failed its check ({result}); not saved")
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: backup failed: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"{target}: cannot write the backup: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(target=target, size=target.stat().st_size, schema_version=version)


def check(database: Path) -> CheckReport:
    """Integrity, foreign keys and schema version of ``database``, read-only."""
    code = latest_version()
    if not database.is_file():
        return CheckReport(database, 0, code, problems=(f"{database}: no such file",))
    problems: list[str] = []
    notes: list[str] = []
    try:
        conn = _connect_ro(database)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                problems.extend(f"integrity: {r}" for r in rows[:20])
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                problems.append(f"{len(broken)} rows point at rows that do not exist")
            version = _version(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return CheckReport(database, 0, code, problems=(f"cannot read it as SQLite: {exc}",))
    if version == 0:
        problems.append("no schema version recorded: not a syndbot database")
    elif version > code:
        problems.append(
            f"schema version {version} is newer than this syndbot's {code}; "
            "install the newer syndbot, or restore a backup made before the upgrade"
        )
    elif version < code:
        notes.append(f"schema version {version}: the service migrates it to {code} at start")
    return CheckReport(database, version, code, tuple(problems), tuple(notes))
