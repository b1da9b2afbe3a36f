"""Polling many feeds cheaply: kept-alive connections and no thread per request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx

from bot.errors import FetchError
from bot.feeds.fetch import fetch, make_http_client
from bot.feeds.sources import HttpFeedSource
from bot.feeds.watchdog import Watchdog
from tests.builders import Item, rss
from tests.feedserver import FeedServer


def test_unchanged_feeds_on_one_host_share_one_connection() -> None:
    """20 feeds on one host answering 304 are polled over ONE TCP connection."""
    body = rss([Item(guid="g1", title="Battery swap", link="https://volt.example/1/")])
    with FeedServer() as server, make_http_client(user_agent="t", timeout=5) as client:
        sources = []
        for n in range(20):
            server.route(f"/{n}.xml", body=body.encode(), etag=f'"v{n}"')
            sources.append(HttpFeedSource(f"f{n}", server.url(f"/{n}.xml"), client=client))
        first = [s.fetch() for s in sources]
        again = [s.fetch(etag=o.etag) for s, o in zip(sources, first, strict=True)]
    assert all(not o.not_modified and o.articles for o in first)
    assert all(o.not_modified for o in again)
    assert len(server.requests) == 40
    assert server.connections == 1


def test_a_cycle_over_more_hosts_than_httpx_keeps_reconnects_to_none() -> None:
    """40 feeds on 40 hosts (more than httpx's 20 kept-alive connections), polled twice
    at once: the second poll reuses all 40 connections and opens none."""
    body = rss([Item(guid="g1", title="Battery swap", link="https://volt.example/1/")])
    with ExitStack() as stack:
        client = stack.enter_context(make_http_client(user_agent="t", timeout=5, in_flight=64))
        servers = [stack.enter_context(FeedServer()) for _ in range(40)]
        sources = []
        for n, server in enumerate(servers):
            server.route("/feed.xml", body=body.encode(), etag=f'"v{n}"')
            sources.append(HttpFeedSource(f"f{n}", server.url("/feed.xml"), client=client))
        with ThreadPoolExecutor(max_workers=40) as pool:
            first = list(pool.map(lambda s: s.fetch(), sources))
            again = list(
                pool.map(lambda p: p[0].fetch(etag=p[1].etag), zip(sources, first, strict=True))
            )
    assert all(o.not_modified for o in again)
    assert [server.connections for server in servers] == [1] * 40


def test_watchdogs_share_one_timer_thread() -> None:
    """50 requests in flight start at most one timer thread between them."""
    before = threading.active_count()
    with ExitStack() as stack:
        for _ in range(50):
            stack.enter_context(Watchdog(30.0))
        during = threading.active_count()
    assert during - before <= 1


def test_the_deadline_still_fires_with_the_shared_timer() -> None:
    """A body dripped forever is cut at its deadline while a quick fetch completes."""
    errors: list[str] = []

    def slow(client: httpx.Client, url: str) -> None:
        try:
            fetch(client, url, deadline=0.4)
        except FetchError as exc:
            errors.append(str(exc))

    with FeedServer() as server, make_http_client(user_agent="t", timeout=5) as client:
        server.route("/drip.xml", drip=(b"<", 0.05))
        server.route("/ok.xml", body=b"<rss/>")
        dripping = threading.Thread(target=slow, args=(client, server.url("/drip.xml")))
        started = time.monotonic()
        dripping.start()
        assert fetch(client, server.url("/ok.xml"), deadline=30).body == b"<rss/>"
        dripping.join(timeout=10)
        elapsed = time.monotonic() - started
    assert not dripping.is_alive()
    assert len(errors) == 1
    assert "gave up after 0.4 s" in errors[0]
    assert elapsed < 5
