"""Several instances on one PostgreSQL database (``service.fleet = true``): leases.

Each feed and each channel is a lease, a session advisory lock ``(FLEE, hashtext(key))``
held on one connection per instance (see docs/adr/0004-postgresql.md). Every instance
schedules every job; a job only runs where its lease is held, so across the fleet:

- a feed is polled by one instance, on its interval (a lease that just changed hands
  skips a poll made less than half an interval ago by the previous holder);
- a channel is delivered by one instance at a time, so its budget, slots and quiet hours,
  which read the shared ledger, hold fleet-wide.

An instance that dies loses its leases with its session: at once for a killed process
(the kernel closes its socket), within about 25 s for a lost host (TCP keepalives set on
both ends of the session). Leases are sticky: a live holder keeps them.

A ``sending`` delivery on a channel whose lease this instance holds was left by an
instance that died (or by a one-off ``syndbot post``, which holds the sending lock). It
is resolved through the same reconcile path as after a crash, once it is older than the
longest a live send can take (``sending_grace``), and nothing else is delivered on that
channel meanwhile, so a post that may have gone out still counts against the budget.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from bot.config import Config
from bot.lock import nobody_sending
from bot.models import Delivery
from bot.pglock import release
from bot.pipeline import DeliveryReport, Pipeline, PollReport
from bot.store.postgres import translate
from bot.store.url import DatabaseURL

log = logging.getLogger("syndbot")

FLEET_NAMESPACE = 0x464C4545  # "FLEE": the first key of every lease
_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
_SERVER_KEEPALIVE = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
)


def sending_grace(timeout: float) -> float:
    """How old a ``sending`` delivery must be before it is taken for a dead instance's:
    a publish is a few requests (media upload, post, read-back), each within ``timeout``."""
    return max(5.0, 5 * timeout)


class Leases:
    """This instance's leases: one session, the keys it holds. Thread-safe."""

    def __init__(self, url: DatabaseURL, *, connect: Callable[..., Any] = psycopg.connect):
        self._url = url
        self._connect_fn = connect
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self.name = f"syndbot fleet pid {os.getpid()} on {socket.gethostname()}"[:63]

    def hold(self, key: str) -> tuple[bool, bool]:
        """(held, newly taken) for lease ``key``; (False, False) while another has it."""
        with self._lock:
            try:
                conn = self._session()
                if key in self._held:
                    conn.execute("SELECT 1")  # the session, and so the lease, is still there
                    return True, False
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (FLEET_NAMESPACE, key)
                ).fetchone()
            except psycopg.Error as exc:
                log.warning(
                    "fleet: the lease session failed (%s); leases are taken again",
                    self._url.scrub(str(exc)).strip(),
                )
                self._drop()
                return False, False
            if row and row[0]:
                self._held.add(key)
                log.info("fleet: %s now holds %s", self.name, key)
                return True, True
            return False, False

    def held(self) -> set[str]:
        with self._lock:
            return set(self._held)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _session(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._held.clear()  # a new session holds nothing yet
            conn = self._connect_fn(
                self._url.secret_url(),
                autocommit=True,
                connect_timeout=10,
                application_name=self.name,
                **_KEEPALIVE,
            )
            conn.execute(_SERVER_KEEPALIVE.encode())  # the server notices a lost host too
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        self._held.clear()
        if self._conn is not None:
            release(self._conn)  # every lease goes with the session
            self._conn = None


def poll_if_held(pipeline: Pipeline, leases: Leases, feed: str) -> PollReport | None:
    """Poll ``feed`` when this instance holds its lease; None otherwise."""
    held, newly = leases.hold(f"feed:{feed}")
    if not held:
        return None
    if newly:
        last = pipeline.store.feed_state(feed).last_poll
        interval = pipeline.config.feed(feed).interval
        if last is not None and pipeline.clock() - last < timedelta(seconds=interval / 2):
            return None  # the previous holder polled it just now
    return pipeline.poll_due(feed)


def deliver_if_held(pipeline: Pipeline, leases: Leases, channel: str) -> list[DeliveryReport]:
    """Deliver on ``channel`` when this instance holds its lease, after resolving what a
    dead instance left ``sending`` there."""
    held, _ = leases.hold(f"channel:{channel}")
    if not held or not _resolve_leftovers(pipeline, channel):
        return []
    return pipeline.deliver(channel)


def _resolve_leftovers(pipeline: Pipeline, channel: str) -> bool:
    """True when ``channel`` has nothing in ``sending``: delivery may go on."""
    left = [d for d in pipeline.store.sending_deliveries() if d.channel == channel]
    if not left:
        return True
    grace = timedelta(seconds=sending_grace(pipeline.config.service.timeout))
    now = pipeline.clock()
    if any(_claimed_at(d) > now - grace for d in left):
        return False  # it may still be in flight somewhere: wait for the grace to pass
    with nobody_sending(pipeline.config.service.database, wait=0) as free:
        if not free:
            return False  # a one-off `syndbot post` is sending: its claims are live
        resolved = pipeline.recover_interrupted(only=left)
    log.info("fleet: resolved %d deliveries a stopped instance left on %s", resolved, channel)
    return False  # deliver at the next round, with the resolved ones counted


def _claimed_at(delivery: Delivery) -> datetime:
    assert delivery.updated is not None  # every stored delivery has one
    return delivery.updated


def lease_keys(config: Config) -> list[str]:
    """Every lease a fleet on ``config`` takes: one per feed, one per channel."""
    return [f"feed:{f.name}" for f in config.feeds] + [f"channel:{c.name}" for c in config.channels]


def lease_holders(url: DatabaseURL, keys: Sequence[str]) -> dict[str, str | None]:
    """Which instance holds each lease (its ``Leases.name``), None while nobody does."""
    try:
        with psycopg.connect(url.secret_url(), autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT k.key, a.application_name FROM unnest(%s::text[]) AS k(key)"
                " LEFT JOIN pg_locks AS l ON l.locktype = 'advisory' AND l.granted"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND l.classid = %s::oid AND l.objid = hashtext(k.key)::oid AND l.objsubid = 2"
                " LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid",
                (list(keys), FLEET_NAMESPACE),
            ).fetchall()
    except psycopg.Error as exc:
        raise translate(exc, url, opening=True) from exc
    return {str(key): (str(name) if name else None) for key, name in rows}
