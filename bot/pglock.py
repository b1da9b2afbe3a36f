"""The locks of ``bot.lock`` on PostgreSQL: session advisory locks instead of ``flock``.

A service holds ``(SYND, 1)`` exclusively (an instance of a fleet holds it shared, see
``bot.fleet``) on a connection of its own for its whole life,
so a second ``syndbot run`` or ``poll`` on the same database is refused with a sentence,
exactly as two on one SQLite file are (until the fleet coordination of issue 13 point 3
replaces it with per-feed and per-channel leases). PostgreSQL releases a session lock
when the session ends, so a crash or ``kill -9`` leaves nothing stale behind.

``(SYND, 2)`` replaces ``<database>.sending``: a one-off ``syndbot post`` holds it shared
while its claims may be ``sending``; start-up recovery waits to hold it exclusively.
Advisory locks are per database, so two sites on one server do not meet. A pooler in
transaction mode (PgBouncer) would drop session locks: connect syndbot to the server or a
session-mode pool.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bot.lock import ServiceLocked
from bot.store.postgres import LOCK_NAMESPACE, translate
from bot.store.url import DatabaseURL

SERVICE_KEY = 1
SENDING_KEY = 2


@contextmanager
def _session(url: DatabaseURL, role: str) -> Iterator[psycopg.Connection[Any]]:
    name = f"syndbot {role} pid {os.getpid()} on {socket.gethostname()}"[:63]
    try:
        conn = psycopg.connect(
            url.secret_url(), autocommit=True, connect_timeout=10, application_name=name
        )
    except psycopg.Error as exc:
        raise translate(exc, url, opening=True) from exc
    try:
        yield conn
    finally:
        release(conn)


def release(conn: psycopg.Connection[Any]) -> None:
    """Release the session's advisory locks now, then close it. Closing alone releases them
    too, but only once the server has noticed, a moment later; the next taker must not
    find them still held."""
    try:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock_all()")
    except psycopg.Error:
        pass  # the session is gone, and its locks with it
    finally:
        conn.close()


def _try(conn: psycopg.Connection[Any], key: int, *, shared: bool = False) -> bool:
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    row = conn.execute(f"SELECT {function}(%s, %s)".encode(), (LOCK_NAMESPACE, key)).fetchone()
    return bool(row and row[0])


def holder(conn: psycopg.Connection[Any], key: int) -> str | None:
    """The application name of the session holding lock ``key`` (None if not visible)."""
    row = conn.execute(
        "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a"
        " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid = %s::oid AND l.objid = %s::oid AND l.objsubid = 2 LIMIT 1",
        (LOCK_NAMESPACE, key),
    ).fetchone()
    return str(row[0]) if row and row[0] else None


@contextmanager
def service_lock(url: DatabaseURL, *, shared: bool = False) -> Iterator[None]:
    """Hold the service lock of the database at ``url`` until the block ends; ``shared``
    for an instance of a fleet (``service.fleet``), which runs beside its peers but never
    beside a single service (nor a single service beside a fleet)."""
    with _session(url, "service") as conn:
        if not _try(conn, SERVICE_KEY, shared=shared):
            who = holder(conn, SERVICE_KEY)
            raise ServiceLocked(
                f"another syndbot service is already running on {url}"
                + (f" ({who})" if who else "")
                + "; stop it first or point this one at another database"
                + (
                    ""
                    if not shared
                    else " (instances of a fleet, service.fleet = true, share a database; "
                    "a service without it runs alone)"
                )
            )
        yield


@contextmanager
def sending(url: DatabaseURL) -> Iterator[None]:
    """Held shared by a one-off command while its claimed deliveries may be ``sending``."""
    with _session(url, "post") as conn:
        conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LOCK_NAMESPACE, SENDING_KEY))
        yield


@contextmanager
def nobody_sending(
    url: DatabaseURL, *, wait: float, on_wait: Callable[[], None] | None = None
) -> Iterator[bool]:
    """True once no one-off command is mid-send (lock held exclusively), False after
    ``wait`` seconds of one still sending; ``on_wait`` is called once, on waiting."""
    with _session(url, "recovery") as conn:
        deadline = time.monotonic() + wait
        waited = False
        while not (free := _try(conn, SENDING_KEY)) and time.monotonic() < deadline:
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            time.sleep(0.1)
        yield free
