"""Big feed documents parsed in worker processes give what parsing in the thread gives."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import ParseError
from bot.feeds.parse import ParsedFeed, parse_feed
from bot.feeds.parsepool import MIN_BYTES, ParsePool
from tests.builders import Item, rss, write_config
from tests.feedserver import FeedServer

BODY = "<p>Battery prices fell again, <a href='/prices/'>see the table</a>.</p>" * 40


def _big_feed(n: int = 30) -> bytes:
    items = [
        Item(guid=f"g{i}", title=f"Charging news {i}", link=f"/news/{i}/", body=BODY)
        for i in range(n)
    ]
    body = rss(items).encode()
    assert len(body) >= MIN_BYTES
    return body


OPTIONS = {"feed_name": "volt", "base_url": "https://volt.example/feed.xml"}


def test_a_big_feed_parsed_in_a_worker_equals_the_threads_parse() -> None:
    """Articles, warnings and title from a worker are those ``parse_feed`` gives here."""
    body = _big_feed()
    with ParsePool(workers=2) as pool:
        parsed = pool.parse(body, **OPTIONS)
        assert pool._executor is not None  # it really went to a worker
    assert parsed == parse_feed(body, **OPTIONS)
    assert parsed.articles[0].url == "https://volt.example/news/0/"


def test_a_worker_raises_the_same_parse_error() -> None:
    """A big document that is no feed raises the ``ParseError`` of the thread's parse,
    naming the URL."""
    body = b"<html><body>" + b"<p>not a feed</p>" * 4000 + b"</body></html>"
    with pytest.raises(ParseError) as here:
        parse_feed(body, **OPTIONS)
    with ParsePool(workers=2) as pool, pytest.raises(ParseError) as there:
        pool.parse(body, **OPTIONS)
    assert str(there.value) == str(here.value)
    assert there.value.url == here.value.url == OPTIONS["base_url"]


def test_small_documents_and_one_core_parse_in_the_thread() -> None:
    """No process is started for a small document, nor with a single worker."""
    small = rss([Item(guid="g", title="t", link="https://volt.example/1/")]).encode()
    with ParsePool(workers=2) as pool:
        assert pool.parse(small, **OPTIONS) == parse_feed(small, **OPTIONS)
        assert pool._executor is None
    with ParsePool(workers=1) as pool:
        assert pool.parse(_big_feed(), **OPTIONS).articles
        assert pool._executor is None


def test_a_document_in_flight_when_a_worker_dies_is_parsed_by_new_workers() -> None:
    """A worker's death (as on a crash inside the parser) fails every document in flight;
    each is parsed once more by fresh workers."""
    body = _big_feed()
    with ParsePool(workers=2) as pool:
        pool.parse(body, **OPTIONS)
        broken = pool._executor
        assert broken is not None
        dying = broken.submit(os._exit, 1)
        with pytest.raises(BrokenProcessPool):
            dying.result()
        assert pool.parse(body, **OPTIONS) == parse_feed(body, **OPTIONS)
        assert pool._executor is not broken


class _KillsItsWorkers(ParsePool):
    """Its first ``kills`` parses kill a worker first, as a document crashing it would."""

    kills = 2

    def _parse(self, body: bytes, options: dict[str, Any]) -> ParsedFeed:
        if self.kills:
            self.kills -= 1
            executor = self._started()
            assert executor is not None
            with suppress(BrokenProcessPool):
                executor.submit(os._exit, 1).result()
        return super()._parse(body, options)


def test_a_document_that_kills_the_workers_twice_is_a_parse_error() -> None:
    """A document whose parse kills a worker, on both tries, is that feed's ``ParseError``;
    the next document gets new workers."""
    with _KillsItsWorkers(workers=2) as pool:
        with pytest.raises(ParseError, match="died twice") as died:
            pool.parse(_big_feed(), **OPTIONS)
        assert died.value.url == OPTIONS["base_url"]
        assert pool.parse(_big_feed(), **OPTIONS).articles


def test_the_pipeline_records_big_feeds_parsed_by_workers(tmp_path: Path) -> None:
    """``open_pipeline`` polls big HTTP feeds through its workers: every item recorded."""
    with FeedServer() as server:
        feeds = {}
        for n in range(3):
            server.route(f"/{n}.xml", body=_big_feed(20 + n))
            feeds[f"f{n}"] = server.url(f"/{n}.xml")
        config = load_config(write_config(tmp_path, feeds=feeds), env={})
        with open_pipeline(config) as pipe:
            reports = [pipe.poll(name) for name in feeds]
    assert [r.new for r in reports] == [20, 21, 22]
    assert all(r.error is None for r in reports)
    with closing(sqlite3.connect(tmp_path / "state.db")) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (63,)
