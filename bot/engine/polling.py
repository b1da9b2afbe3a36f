"""Polling many feeds at once, politely: a bound on requests in flight, and per host.

At a real network's 100-500 ms a request, 10,000 feeds polled one after the other take
most of an hour; polled concurrently they take seconds. ``HostLimits`` keeps any one site
from getting more than ``per_host`` requests at a time however many of its feeds are
due; ``poll_many`` runs a batch of polls (``syndbot poll``) on ``in_flight`` threads.
The service (``bot.app``) runs each feed's poll as its own job and holds the same limits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import urlsplit

Report = TypeVar("Report")


class HostLimits:
    """At most ``per_host`` holders at a time for each host (HTTP feeds; files are free)."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self._guard = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def hold(self, url: str) -> Iterator[None]:
        """Wait for a free slot on ``url``'s host for the duration of the block."""
        host = _host(url)
        if host is None:
            yield
            return
        with self._guard:
            slot = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with slot:
            yield


def _host(url: str) -> str | None:
    if not url.startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or ''}"
    except ValueError:
        return url


def poll_many(
    names: Sequence[str],
    poll: Callable[[str], Report],
    *,
    urls: Callable[[str], str],
    in_flight: int,
    limits: HostLimits,
    done: Callable[[str], None] | None = None,
) -> list[Report]:
    """``poll(name)`` for every name, ``in_flight`` at a time within ``limits``; the
    reports in the order of ``names``. ``done(name)`` is called as each one finishes."""

    def one(name: str) -> Report:
        with limits.hold(urls(name)):
            report = poll(name)
        if done is not None:
            done(name)
        return report

    if in_flight <= 1 or len(names) <= 1:
        return [one(name) for name in names]
    # Hosts taken in turn, so the threads are not all queued on one busy site.
    order = _round_robin(range(len(names)), key=lambda i: _host(urls(names[i])))
    reports: dict[int, Report] = {}
    with ThreadPoolExecutor(
        max_workers=min(in_flight, len(names)), thread_name_prefix="syndbot-poll"
    ) as pool:
        for index, report in zip(order, pool.map(lambda i: one(names[i]), order), strict=True):
            reports[index] = report
    return [reports[i] for i in range(len(names))]


def _round_robin(indexes: Iterable[int], *, key: Callable[[int], str | None]) -> list[int]:
    """``indexes`` reordered: the first of each host, then the second of each, and so on."""
    by_host: dict[str | None, list[int]] = {}
    for index in indexes:
        by_host.setdefault(key(index), []).append(index)
    queues = list(by_host.values())
    return [q[depth] for depth in range(max(map(len, queues))) for q in queues if depth < len(q)]
