"""Trust: an item whose link is not http(s) is skipped with a warning, never re-linked.

Issue 8 point 10: items linking to ``javascript:``, ``data:`` or ``file:`` were posted with
the feed's home page as their link, so two different items got the same link.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.feeds.parse import parse_feed
from tests.feedserver import FeedServer

HOME = "https://ev.example/"
BAD_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:void(0)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "mailto:editor@ev.example",
]


def _rss(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>{link}</link><guid>g-{n}</guid>"
        f"<description>Text of story {n}.</description></item>"
        for n, link in enumerate(links, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>EV</title>'
        f"<link>{HOME}</link>{items}</channel></rss>"
    ).encode()


def _atom(links: list[str]) -> bytes:
    entries = "".join(
        f'<entry><title>Story {n}</title><link rel="alternate" href="{link}"/>'
        f"<id>urn:ev:{n}</id><updated>2026-11-0{n}T10:00:00Z</updated>"
        f"<summary>Text of story {n}.</summary></entry>"
        for n, link in enumerate(links, start=1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>EV</title><link href="{HOME}"/><id>urn:ev</id>'
        f"<updated>2026-11-01T10:00:00Z</updated>{entries}</feed>"
    ).encode()


def _json_feed(links: list[str]) -> bytes:
    items = [
        {"id": f"j-{n}", "url": link, "title": f"Story {n}", "content_text": f"Text {n}."}
        for n, link in enumerate(links, start=1)
    ]
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "EV",
            "home_page_url": HOME,
            "items": items,
        }
    ).encode()


@pytest.mark.parametrize("build", [_rss, _atom, _json_feed])
@pytest.mark.parametrize("bad", BAD_LINKS)
def test_non_http_link_is_skipped_with_a_warning(
    build: Callable[[list[str]], bytes], bad: str
) -> None:
    """A javascript:/data:/file:/mailto: item is dropped and named in a warning; the items
    around it keep their own links and nothing gets the home page instead."""
    links = ["https://ev.example/one", bad, "https://ev.example/three"]
    parsed = parse_feed(build(links), feed_name="ev", base_url="https://ev.example/feed")
    assert [a.url for a in parsed.articles] == [links[0], links[2]]
    assert all(a.url != HOME for a in parsed.articles)
    (warning,) = [w for w in parsed.warnings if "skipped" in w]
    assert "item 2" in warning
    assert "'Story 2'" in warning
    scheme = bad.split(":", 1)[0].lower()
    assert f"{scheme}: URL" in warning


def test_two_bad_items_never_share_the_home_page_link() -> None:
    """The reported case: two items with script links used to both get the home page."""
    parsed = parse_feed(
        _rss(["javascript:a()", "javascript:b()"]), feed_name="ev", base_url=HOME + "feed"
    )
    assert parsed.articles == ()
    assert len([w for w in parsed.warnings if "javascript: URL" in w]) == 2


def test_relative_link_is_still_resolved() -> None:
    """A relative http link is not a bad scheme: it resolves against the feed URL."""
    parsed = parse_feed(_rss(["/2026/11/story"]), feed_name="ev", base_url=HOME + "feed")
    assert [a.url for a in parsed.articles] == ["https://ev.example/2026/11/story"]
    assert parsed.warnings == ()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_poll_skips_the_item_and_logs_feed_and_item(
    tmp_path: Path, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the pipeline: only the http item is queued, and the log line names the
    feed and the skipped item."""
    server.route("/feed.xml", body=_rss(["https://ev.example/one", "data:text/html,<b>x</b>"]))
    config = tmp_path / "syndbot.toml"
    config.write_text(
        f'[service]\ndatabase = "{tmp_path / "state.db"}"\noutbox = "{tmp_path / "o.jsonl"}"\n'
        f'[[feeds]]\nname = "ev"\nurl = "{server.url("/feed.xml")}"\ncatch_up = "all"\n'
        'full_text = "never"\n'
        '[[channels]]\nname = "slack-out"\nplatform = "slack"\npublisher = "outbox"\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.INFO), open_pipeline(load_config(config)) as pipeline:
        report = pipeline.poll("ev")
        deliveries = pipeline.store.deliveries()
    assert report.error is None
    assert [d.article.url for d in deliveries] == ["https://ev.example/one"]
    (line,) = [r.getMessage() for r in caplog.records if "data: URL" in r.getMessage()]
    assert "feed=ev" in line
    assert "item 2 ('Story 2', id 'g-2')" in line
