"""One service per database: an advisory lock on ``<database>.lock`` held while it runs.

``syndbot run`` and ``syndbot poll`` (which delivers too) take the lock for the life of the
process; a second one refuses at start with a sentence naming the holder's pid. The kernel
drops an ``flock`` when its process dies, so a crash or ``kill -9`` never leaves a stale
lock behind. One-off commands (``status``, ``preview``, ``post``) do not take it: the store
lets them work beside the service, and a delivery is claimed in one transaction so only
one process ever sends it.

A second lock, ``<database>.sending``, keeps start-up recovery away from a live ``post``:
``post`` holds it shared while its deliveries may be in ``sending``, and recovery (which
takes every ``sending`` delivery for a crash's leftover) waits to hold it exclusively.

On PostgreSQL (``service.database`` a ``postgresql://`` URL) the same three calls take
advisory locks on the server instead of files (``bot.pglock``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import StoreError
from bot.store.opening import read_only_error
from bot.store.url import Database, DatabaseURL

_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


class ServiceLocked(StoreError):
    """Another syndbot service holds the lock on this database."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _open_lock_file(path: Path, database: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in _READ_ONLY:
            detail = f"cannot create {path.name}: {exc.strerror}"
            raise read_only_error(database, detail) from exc
        raise StoreError(f"{path}: cannot create the lock file: {exc}") from exc


@contextmanager
def service_lock(database: Database, *, shared: bool = False) -> Iterator[Path | None]:
    """Hold the service lock of ``database`` until the block ends; yield the lock file
    (None on PostgreSQL, where the lock lives on the server, and ``shared`` lets the
    instances of a fleet hold it together; a SQLite file has no fleet).

    Raises ``ServiceLocked`` when another process holds it, ``DatabaseReadOnly`` when the
    lock file cannot be created for want of permission, ``StoreError`` for other failures.
    """
    if isinstance(database, DatabaseURL):
        from bot import pglock

        with pglock.service_lock(database, shared=shared):
            yield None
        return
    database = Path(database)
    path = lock_path(database)
    fd = _open_lock_file(path, database)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            raise ServiceLocked(
                f"another syndbot service is already running on {database}"
                + (f" (pid {holder})" if holder else "")
                + "; stop it first or point this one at another database"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock; the file stays, harmless and reused next time


def sending_path(database: Path) -> Path:
    return database.with_name(database.name + ".sending")


@contextmanager
def sending(database: Database) -> Iterator[None]:
    """Held (shared) by a one-off command while deliveries it claimed may be ``sending``;
    waits only while a recovery runs."""
    if isinstance(database, DatabaseURL):
        from bot import pglock

        with pglock.sending(database):
            yield
        return
    database = Path(database)
    fd = _open_lock_file(sending_path(database), database)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextmanager
def nobody_sending(
    database: Database, *, wait: float, on_wait: Callable[[], None] | None = None
) -> Iterator[bool]:
    """Hold ``<database>.sending`` exclusively: True once no one-off command is mid-send,
    False if one still is after ``wait`` seconds (``on_wait`` is called once, on waiting)."""
    if isinstance(database, DatabaseURL):
        from bot import pglock

        with pglock.nobody_sending(database, wait=wait, on_wait=on_wait) as free:
            yield free
        return
    database = Path(database)
    fd = _open_lock_file(sending_path(database), database)
    try:
        deadline = time.monotonic() + wait
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                free = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    free = False
                    break
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                time.sleep(0.1)
        yield free
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
