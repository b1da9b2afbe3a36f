"""A whole-request deadline for httpx, which only has per-operation timeouts.

A server dripping one byte just inside the read timeout could otherwise hold a poll for
hours. ``Watchdog`` learns the connection's socket through httpcore's ``trace`` extension
(and from the response's ``network_stream``) and shuts it down when time is up; the blocked
read then fails and ``fired`` tells the caller why. It cannot see a kept-alive connection
before the response headers; the per-operation timeouts bound that wait.

Every watchdog shares one timer thread (``_Timers``): a thread per request cost more than a
304 itself when thousands of feeds are polled.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any


class Watchdog:
    """Shuts down the connection's socket once ``deadline`` seconds have passed."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._done = False

    def __enter__(self) -> Watchdog:
        _TIMERS.add(time.monotonic() + self.deadline, self)
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._done = True
            self._socket = None

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore trace callback: remember each new connection's socket."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                if self._done:
                    return
                self._socket = sock
                if self.fired:
                    _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            if self._socket is not None:
                _shutdown(self._socket)


class _Timers:
    """One daemon thread firing the watchdogs whose deadline has passed, earliest first.

    A finished watchdog stays in the heap until its deadline (it is then dropped unfired):
    cheaper than removing it from the middle of the heap.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()  # ties never compare two Watchdogs
        self._thread: threading.Thread | None = None

    def add(self, when: float, watchdog: Watchdog) -> None:
        with self._wake:
            heapq.heappush(self._heap, (when, next(self._order), watchdog))
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._run, name="syndbot-watchdog", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is watchdog:
                self._wake.notify()  # the new deadline is the earliest: wait less

    def _run(self) -> None:
        with self._wake:
            while True:
                if not self._heap:
                    self._wake.wait()
                    continue
                when, _, watchdog = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                watchdog._fire()


_TIMERS = _Timers()


def _shutdown(sock: socket.socket) -> None:
    # The plain socket method: an SSLSocket's own shutdown() would drop its TLS state under
    # the thread that is reading. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
