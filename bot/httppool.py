"""httpx transports whose connection pool never closes a connection under a request.

httpcore 1.0.9's pool hands an idle keep-alive connection to a waiting request, but the
connection stays idle until that request's thread wakes up and starts on it. In between,
another thread's pass over the pool still sees it idle and may close it: as surplus
keep-alive (with more connections open than ``max_keepalive_connections``, every idle one
is surplus), to make room for another host at ``max_connections``, or as expired. When the
request has already started, its socket is closed under it: the read fails with
``ReadError: [Errno 9] Bad file descriptor``, or, blocked in ``poll()``, waits for its read
timeout (encode/httpcore#1110, unfixed upstream). With 64 polls in flight on one host about
one request in 10,000 failed so.

``KeepAssignedPool`` keeps such a connection: it goes back into the pool instead of being
closed, and the request uses it. The pool may then hold one connection over
``max_connections`` until that request ends.
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx
from httpcore import ConnectionInterface


class KeepAssignedPool(httpcore.ConnectionPool):
    """``httpcore.ConnectionPool`` that does not close the connections of its requests."""

    def _assign_requests_to_connections(self) -> list[ConnectionInterface]:
        closing = super()._assign_requests_to_connections()
        # Called with the pool's lock held, like the method it extends.
        held = {id(r.connection) for r in self._requests if r.connection is not None}
        kept = [c for c in closing if id(c) in held]
        self._connections.extend(kept)
        return [c for c in closing if id(c) not in held]


def pooled_transport(**options: Any) -> httpx.HTTPTransport:
    """``httpx.HTTPTransport(**options)`` with a ``KeepAssignedPool`` (a proxy's pool is
    left as httpx made it)."""
    transport = httpx.HTTPTransport(**options)
    if type(transport._pool) is httpcore.ConnectionPool:
        # Same class but one method: the pool httpx configured, with the fix.
        transport._pool.__class__ = KeepAssignedPool
    return transport
