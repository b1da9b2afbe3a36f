"""A new item leaves as soon as a poll queues it, not at the next delivery run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.app import open_pipeline
from bot.config import load_config
from tests.builders import Item, rss
from tests.feedserver import FeedServer
from tests.servicethread import service_running


def _items(n: int) -> bytes:
    return rss(
        [
            Item(guid=f"g{i}", title=f"Charging story {i}", link=f"https://volt.example/{i}/")
            for i in range(n)
        ]
    ).encode()


def _lines(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _wait(path: Path, predicate: object, timeout: float) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _lines(path)
        if callable(predicate) and predicate(lines):
            return lines
        time.sleep(0.05)
    return _lines(path)


def test_a_polled_item_is_delivered_without_waiting_for_the_delivery_interval(
    tmp_path: Path,
) -> None:
    """With deliver_interval 1 h, an item that appears in the feed is in the outbox within
    seconds of the poll that found it."""
    outbox = tmp_path / "outbox.jsonl"
    with FeedServer() as server:
        route = server.route("/feed.xml", body=_items(1))
        config_path = tmp_path / "syndbot.toml"
        config_path.write_text(
            f"""[service]
database = "{tmp_path / "state.db"}"
outbox = "{outbox}"
poll_interval = "1s"
jitter = "0s"
deliver_interval = "1h"
allow_private_addresses = true
[[feeds]]
name = "volt"
url = "{server.url("/feed.xml")}"
full_text = "never"
[[channels]]
name = "x-out"
platform = "x"
publisher = "outbox"
""",
            encoding="utf-8",
        )
        config = load_config(config_path, env={})
        with open_pipeline(config) as pipe, service_running(pipe, join=15) as worker:
            first = _wait(outbox, lambda lines: len(lines) >= 1, 10)
            route.body = _items(2)  # a new item: g1
            added = time.monotonic()
            lines = _wait(outbox, lambda lines: len(lines) >= 2, 10)
            waited = time.monotonic() - added
    assert not worker.is_alive()
    assert [line["item_id"] for line in first] == ["g0"]
    assert [line["item_id"] for line in lines] == ["g0", "g1"]
    assert waited < 5  # one poll interval (1 s) plus the pipeline, never the 1 h
