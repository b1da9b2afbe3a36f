"""Opening the database file, and saying plainly what is wrong with it.

``connect`` creates the file user-only, sets WAL, checks it is whole (``PRAGMA
quick_check``) and migrates it; ``connect(read_only=True)`` opens it with ``mode=ro`` for
commands that only read (``status``), so they also work on a read-only file or mount.
``translate`` turns any ``sqlite3.Error`` (at open or mid-run) into ``DatabaseDamaged``,
``DatabaseReadOnly`` or a plain ``StoreError``; the service stops on the first two.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from bot.errors import StoreError
from bot.store.errors import DatabaseDamaged, DatabaseReadOnly
from bot.store.migrations import current_version, latest_version, migrate

_READ_ONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def damaged_error(path: Path, detail: str) -> DatabaseDamaged:
    """The error for a corrupt file, with the two ways back and what each costs."""
    return DatabaseDamaged(
        f"{path}: the database is damaged ({detail}); syndbot will not use it, rather than risk "
        f"posting twice. To recover, stop syndbot, move {path.name} (with its -wal and -shm files) "
        "aside and restore the newest backup in its place; without a backup, let syndbot "
        "start a new empty file there (or set service.database to a new path): each feed's "
        "first poll then marks everything in the feed as seen and queues only what catch_up "
        "allows (the newest article by default), which may be posted a second time, and "
        "pending or failed posts and paused channels are forgotten"
    )


def read_only_error(path: Path, detail: str) -> DatabaseReadOnly:
    """The error for a file syndbot may read but not write, with where to look."""
    return DatabaseReadOnly(
        f"{path}: the database is read-only here ({detail}); syndbot must be able to write "
        f"the file and its directory {path.parent} (for its -wal, -shm and .lock files). "
        "Check their owner and permissions for the user syndbot runs as, the immutable flag "
        f"(`lsattr -d {path.parent} {path}`; `chattr -i` clears it) and whether the disk is "
        "mounted read-only; "
        "read-only commands such as `syndbot status` still work"
    )


def translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """Our error for a SQLite one: damaged and read-only files get their own sentence."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return damaged_error(path, str(exc))
    if name == "SQLITE_READONLY_DBMOVED":
        return DatabaseReadOnly(
            f"{path}: the database file was moved or deleted while syndbot was using it; "
            "put it back (or restore the backup) and start syndbot again"
        )
    if name.startswith("SQLITE_READONLY") or (
        name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")) and not _writable(path)
    ):
        return read_only_error(path, str(exc))
    return StoreError(
        f"{path}: database operation failed: {exc}; if it says 'locked', another syndbot "
        "process may be using this file"
    )


def connect(path: Path, *, busy_timeout: float, read_only: bool = False) -> sqlite3.Connection:
    """An autocommit connection to a whole, current database at ``path``."""
    if read_only:
        return _connect_read_only(path, busy_timeout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Create with 0600 before SQLite writes anything; chmod fixes a pre-existing file.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except OSError as exc:
        if exc.errno in _READ_ONLY_ERRNOS:
            raise read_only_error(path, exc.strerror or str(exc)) from exc
        raise StoreError(f"{path}: cannot create the database file: {exc}") from exc
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL
        _check_whole(conn, path)
        migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _at_open(exc, path) from exc
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def _connect_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    if not path.exists():
        # Nothing recorded yet: an empty schema in memory, and no file is created.
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        migrate(conn, path)
        conn.row_factory = sqlite3.Row
        return conn
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    # A read-only directory cannot hold the -shm file WAL readers need; nothing can write
    # such a file either, so it is then read as immutable.
    for suffix in ("", "&immutable=1"):
        conn = sqlite3.connect(
            uri + suffix,
            uri=True,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            _check_whole(conn, path)
            _check_version(conn, path)
        except sqlite3.OperationalError as exc:
            conn.close()
            if suffix or not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_CANTOPEN"):
                raise _at_open(exc, path) from exc
            continue
        except sqlite3.Error as exc:
            conn.close()
            raise _at_open(exc, path) from exc
        conn.row_factory = sqlite3.Row
        return conn
    raise AssertionError("unreachable")  # pragma: no cover


def _check_whole(conn: sqlite3.Connection, path: Path) -> None:
    rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise damaged_error(path, "quick_check: " + "; ".join(rows[:3]))


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    try:
        found = current_version(conn)
    except sqlite3.OperationalError:
        found = 0  # no schema_migrations table: never opened by syndbot for writing
    known = latest_version()
    if found > known:
        raise StoreError(
            f"{path}: database schema version {found} is newer than this syndbot "
            f"understands (up to {known}); upgrade syndbot to use this database"
        )
    if found < known:
        raise StoreError(
            f"{path}: the database has schema version {found} and this syndbot needs {known}; "
            "it cannot be upgraded read-only: run `syndbot run` or `syndbot poll` once with "
            "write access to migrate it"
        )


def _at_open(exc: sqlite3.Error, path: Path) -> StoreError:
    translated = translate(exc, path)
    if type(translated) is StoreError:  # neither damaged nor read-only: say what we tried
        return StoreError(
            f"{path}: cannot use this file as syndbot's database ({exc}); move it aside "
            "or set service.database to another path"
        )
    return translated


def _writable(path: Path) -> bool:
    """Whether this process may write the file and create its -wal/-shm beside it
    (``os.access`` also reports the immutable flag and read-only mounts, even for root)."""
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
