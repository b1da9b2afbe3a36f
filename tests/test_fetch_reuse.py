"""Polling many feeds cheaply: kept-alive connections and no thread per request."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import FetchError
from bot.feeds.fetch import fetch, make_http_client
from bot.feeds.sources import HttpFeedSource
from bot.feeds.watchdog import Watchdog
from tests.builders import Item, rss, write_config
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


def test_a_poll_records_its_items_in_a_few_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first poll of 20 items, and a later one finding 20 more, each take a handful of
    store transactions (the feed's state, one look-up of its items, one of pages posted by
    hand, one write for the items, the new state), not two per item; every item is
    recorded and queued."""
    first = [Item(guid=f"g{n}", title=f"Story {n}", link=f"https://volt.example/{n}/")
             for n in range(20)]  # fmt: skip
    more = [Item(guid=f"n{n}", title=f"More {n}", link=f"https://volt.example/m{n}/")
            for n in range(20)]  # fmt: skip
    with FeedServer() as server:
        route = server.route("/f.xml", body=rss(first).encode())
        path = write_config(tmp_path, feeds={"f": server.url("/f.xml")}, catch_up="all")
        config = load_config(path, env={})
        with open_pipeline(config) as pipe:
            counts: list[int] = []
            tx = pipe.store._tx  # type: ignore[attr-defined]

            def counted(*args: Any, **kwargs: Any) -> Any:
                counts.append(1)
                return tx(*args, **kwargs)

            monkeypatch.setattr(pipe.store, "_tx", counted)
            assert pipe.poll("f").new == 20
            first_poll = len(counts)
            route.body = rss(more + first).encode()
            counts.clear()
            assert pipe.poll("f").queued == 40  # 20 new items x 2 channels
            later_poll = len(counts)
            assert len(pipe.store.deliveries()) == 80
    assert first_poll <= 5
    assert later_poll <= 5
