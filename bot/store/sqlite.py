"""``Store`` on one SQLite file: WAL, one transaction per public method, user-only mode.

The methods themselves are in ``bot.store.ledger``, shared with PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.store.ledger import STATUSES, LedgerStore
from bot.store.opening import connect, translate

__all__ = ["STATUSES", "SQLiteStore"]


class SQLiteStore(LedgerStore):
    """The durable state of one syndbot installation. Safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._where = str(path)
        self._lock = threading.RLock()  # one connection, so one transaction at a time

    @classmethod
    def open(
        cls, path: Path, *, busy_timeout: float = 10.0, read_only: bool = False
    ) -> SQLiteStore:
        """Open (creating if needed), check and migrate the database at ``path``.

        With ``read_only`` the file is opened ``mode=ro`` and never created or migrated
        (a missing file reads as empty). Raises ``DatabaseDamaged`` for a corrupt file and
        ``DatabaseReadOnly`` for one that cannot be written (see ``bot.store.opening``).
        """
        path = Path(path)
        return cls(connect(path, busy_timeout=busy_timeout, read_only=read_only), path)

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; writers take the lock up front so WAL never has to upgrade."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    # Also after a failed COMMIT, so the next call can BEGIN again.
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise translate(exc, self._path) from exc
