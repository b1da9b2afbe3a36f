"""Move a site from SQLite to PostgreSQL without posting anything twice (``db migrate``).

Every row is copied as it is: seen items with their article JSON, deliveries with their ids,
states, attempts, remote ids and stored posts, feed validators and error streaks, channel
pauses and state. A delivery left ``sending`` stays ``sending``, so the PostgreSQL service's
start-up recovery reconciles it exactly as after a crash (never a blind resend).

Both ends are held still while copying: the SQLite file's service lock (no ``syndbot run``
may be posting from it meanwhile, or what it posts would be missing from the copy) and the
PostgreSQL database's. The target must hold no syndbot data: merging two ledgers could
queue a story twice, so a non-empty target is refused rather than overwritten. The copy is
one PostgreSQL transaction, checked by counting before it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bot.errors import StoreError
from bot.lock import ServiceLocked, service_lock
from bot.store.postgres import PostgresStore, translate
from bot.store.sqlite import SQLiteStore
from bot.store.url import DatabaseURL

TABLES = ("feeds", "items", "deliveries", "channels", "websub_subscriptions")  # parents first


@dataclass(frozen=True)
class TransferReport:
    source: Path
    target: DatabaseURL
    rows: dict[str, int]  # per table, as copied and counted in the target
    statuses: dict[str, int]  # deliveries per status


def copy_to_postgres(source: Path, target: DatabaseURL) -> TransferReport:
    """Copy the SQLite database at ``source`` into the empty PostgreSQL ``target``."""
    if not source.is_file():
        raise StoreError(f"{source}: no database here, so nothing to migrate")
    try:
        with service_lock(source), service_lock(target):
            return _copy(source, target)
    except ServiceLocked as exc:
        raise StoreError(
            f"{exc}; stop the service before `db migrate`, so nothing is posted from the "
            "old database while it is copied"
        ) from exc


def _copy(source: Path, target: DatabaseURL) -> TransferReport:
    _refuse_non_empty(target)
    PostgresStore.open(target).close()  # creates the schema at this syndbot's version
    with SQLiteStore.open(source) as store, store._tx() as sqlite:  # same version now
        tables = {name: _rows(sqlite, name) for name in TABLES}
    try:
        with psycopg.connect(target.secret_url(), connect_timeout=10) as conn:
            for name in TABLES:
                _insert(conn, name, tables[name])
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('deliveries', 'id'),"
                " COALESCE((SELECT MAX(id) FROM deliveries), 0) + 1, false)"
            )
            rows = {name: _count(conn, name) for name in TABLES}
            statuses = {
                str(status): int(n)
                for status, n in conn.execute(
                    "SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status"
                ).fetchall()
            }
            expected = {name: len(tables[name]) for name in TABLES}
            if rows != expected:
                conn.rollback()
                raise StoreError(
                    f"{target}: the copy holds {rows} rows, not {expected}; nothing was kept"
                )
    except psycopg.Error as exc:
        raise translate(exc, target) from exc
    return TransferReport(source=source, target=target, rows=rows, statuses=statuses)


def _refuse_non_empty(target: DatabaseURL) -> None:
    try:
        with psycopg.connect(target.secret_url(), autocommit=True, connect_timeout=10) as conn:
            found = {name: _count(conn, name) for name in TABLES if _exists(conn, name)}
    except psycopg.Error as exc:
        raise translate(exc, target, opening=True) from exc
    held = {name: n for name, n in found.items() if n}
    if held:
        what = ", ".join(f"{n} {name}" for name, n in held.items())
        raise StoreError(
            f"{target} already holds syndbot data ({what}); migrate into an empty database, "
            "since merging two ledgers could post a story twice"
        )


def _rows(sqlite: Any, table: str) -> list[dict[str, Any]]:
    # The table names are this module's constants, never input.
    return [dict(row) for row in sqlite.execute(f"SELECT * FROM {table}").fetchall()]  # noqa: S608


def _insert(conn: psycopg.Connection[Any], table: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 (names from our schema)
        f" VALUES ({', '.join('%s' for _ in columns)})"
    )
    with conn.cursor() as cursor:
        cursor.executemany(sql.encode(), [[_clean(row[c]) for c in columns] for row in rows])


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL, which SQLite stores (see bot.store.postgres).
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT COUNT(*) FROM {table}".encode()).fetchone()  # noqa: S608
    return int(row[0]) if row else 0
