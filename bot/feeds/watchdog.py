"""A whole-request deadline for httpx, which only has per-operation timeouts.

A server dripping one byte just inside the read timeout could otherwise hold a poll for
hours. ``Watchdog`` learns the connection's socket through httpcore's ``trace`` extension
(and from the response's ``network_stream``) and shuts it down when time is up; the blocked
read then fails and ``fired`` tells the caller why. It cannot see a kept-alive connection
before the response headers; the feed client polls minutes apart, so by then its
connections have expired.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any


class Watchdog:
    """Shuts down the connection's socket once ``deadline`` seconds have passed."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore trace callback: remember each new connection's socket."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._socket = sock
                if self.fired:
                    _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._socket is not None:
                _shutdown(self._socket)


def _shutdown(sock: socket.socket) -> None:
    # The plain socket method: an SSLSocket's own shutdown() would drop its TLS state under
    # the thread that is reading. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
