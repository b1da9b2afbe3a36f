"""One service per database: an advisory lock on ``<database>.lock`` held while it runs.

``syndbot run`` and ``syndbot poll`` (which delivers too) take the lock for the life of the
process; a second one refuses at start with a sentence naming the holder's pid. The kernel
drops an ``flock`` when its process dies, so a crash or ``kill -9`` never leaves a stale
lock behind. One-off commands (``status``, ``preview``, ``post``) do not take it: the store
lets them work beside the service, and a delivery is claimed in one transaction so only
one process ever sends it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import StoreError
from bot.store.opening import read_only_error

_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


class ServiceLocked(StoreError):
    """Another syndbot service holds the lock on this database."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def service_lock(database: Path) -> Iterator[Path]:
    """Hold the service lock of ``database`` until the block ends; yield the lock file.

    Raises ``ServiceLocked`` when another process holds it, ``DatabaseReadOnly`` when the
    lock file cannot be created for want of permission, ``StoreError`` for other failures.
    """
    path = lock_path(Path(database))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in _READ_ONLY:
            detail = f"cannot create {path.name}: {exc.strerror}"
            raise read_only_error(Path(database), detail) from exc
        raise StoreError(f"{path}: cannot create the service lock file: {exc}") from exc
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


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
