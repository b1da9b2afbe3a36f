"""The HTTP pool never closes a connection it has handed to a request (encode/httpcore#1110).

The race needs two threads to interleave within microseconds, so these tests play it out
step by step on one thread: the pool's own passes, in the order the threads would run them,
against a real loopback server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpcore
import httpx
import pytest
from httpcore._sync.connection_pool import PoolRequest

from bot.feeds.fetch import make_http_client
from bot.httppool import KeepAssignedPool, pooled_transport
from tests.feedserver import FeedServer


def _pass(pool: httpcore.ConnectionPool, *queued: PoolRequest) -> None:
    """What a thread does on entering the pool: queue its request, run one pass, close."""
    with pool._optional_thread_lock:
        pool._requests.extend(queued)
        closing = pool._assign_requests_to_connections()
    pool._close_connections(closing)


def _get(url: str) -> PoolRequest:
    host = urlsplit(url).netloc
    return PoolRequest(httpcore.Request("GET", url, headers={"Host": host}))


@pytest.mark.parametrize(
    ("limits", "why"),
    [
        (httpx.Limits(max_connections=1), "closed to make room for another host"),
        (httpx.Limits(max_keepalive_connections=1), "closed as surplus keep-alive"),
    ],
)
def test_a_connection_handed_to_a_waiting_request_is_not_closed(
    limits: httpx.Limits, why: str
) -> None:
    """An idle connection handed to a request whose thread has not started on it yet stays
    open through other requests' passes (stock httpcore 1.0.9: ``why``), and serves it."""
    with FeedServer() as one, FeedServer() as other:
        one.route("/a.xml", body=b"<rss/>")
        other.route("/b.xml", body=b"<rss/>")
        pool = pooled_transport(limits=limits)._pool
        assert isinstance(pool, KeepAssignedPool)
        with pool:
            first = pool.handle_request(_get(one.url("/a.xml")).request)
            assert first.read() == b"<rss/>"
            first.close()  # its connection is idle now, kept alive
            waiting = _get(one.url("/a.xml"))
            _pass(pool, waiting)  # handed the idle connection; its thread sleeps on
            handed = waiting.connection
            assert handed is not None
            assert handed.is_idle()
            _pass(pool, _get(other.url("/b.xml")))  # another host: a new connection
            _pass(pool, _get(other.url("/b.xml")))  # and one more pass
            assert not handed.is_closed()
            response = handed.handle_request(waiting.request)  # the thread wakes up
            assert response.status == 200
            assert response.read() == b"<rss/>"
    assert one.connections == 1  # the same connection served both


def test_the_feed_client_uses_the_pool_that_keeps_them() -> None:
    """``make_http_client`` (every feed poll) sends through ``KeepAssignedPool``s."""
    with make_http_client(user_agent="t", timeout=5) as client:
        transport = client._transport
        pools = [t._pool for t in vars(transport).values() if isinstance(t, httpx.HTTPTransport)]
    assert len(pools) == 2
    assert all(isinstance(p, KeepAssignedPool) for p in pools)
