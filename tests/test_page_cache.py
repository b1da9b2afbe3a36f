"""Article pages read for full text are kept across restarts and asked for conditionally."""

from __future__ import annotations

from pathlib import Path

from bot.app import open_pipeline
from bot.config import load_config
from bot.feeds.fetch import make_http_client
from bot.feeds.pagecache import PageCache, pages_path
from bot.feeds.sources import HttpFeedSource
from tests.feedserver import FeedServer
from tests.test_feeds_extract import article_page, feed_with_excerpt


def _config(tmp_path: Path, feed_url: str) -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f"""[service]
database = "{tmp_path / "state.db"}"
outbox = "{tmp_path / "outbox.jsonl"}"
allow_private_addresses = true
[[feeds]]
name = "ev-hi"
url = "{feed_url}"
catch_up = "all"
[[channels]]
name = "x-out"
platform = "x"
publisher = "outbox"
""",
        encoding="utf-8",
    )
    return path


def _paths(server: FeedServer) -> list[str]:
    return [r.path for r in server.requests]


def test_a_restart_does_not_download_pages_again(tmp_path: Path) -> None:
    """The second process reuses the page the first one read (the feed itself is polled)."""
    with FeedServer() as server:
        server.route("/hi/nexon-lr", body=article_page(), content_type="text/html")
        server.route("/feed.xml", body=feed_with_excerpt(server.url("/hi/nexon-lr")))
        config = load_config(_config(tmp_path, server.url("/feed.xml")), env={})
        for _ in range(2):  # two runs of the service, one after the other
            with open_pipeline(config) as pipe:
                assert pipe.poll("ev-hi").error is None
    assert _paths(server) == ["/feed.xml", "/hi/nexon-lr", "/feed.xml"]
    assert pages_path(tmp_path / "state.db").exists()


def test_a_changed_item_asks_for_its_page_conditionally(tmp_path: Path) -> None:
    """A new excerpt refetches the page with its ETag; a 304 reuses the text read before."""
    cache = PageCache(tmp_path / "pages.db")
    with FeedServer() as server, make_http_client(user_agent="t", timeout=5) as client:
        server.route(
            "/hi/nexon-lr", body=article_page(), content_type="text/html", etag='"page-v1"'
        )
        feed = server.route("/feed.xml", body=feed_with_excerpt(server.url("/hi/nexon-lr")))
        source = HttpFeedSource(
            "ev-hi", server.url("/feed.xml"), client=client, allow_private=True, pages=cache
        )
        first = source.fetch().articles[0]
        feed.body = feed_with_excerpt(server.url("/hi/nexon-lr"), "नेक्सन ईवी: कीमत घोषित")
        second = source.fetch().articles[0]
    page_requests = [r for r in server.requests if r.path == "/hi/nexon-lr"]
    assert [r.headers.get("if-none-match") for r in page_requests] == [None, '"page-v1"']
    assert "465 किलोमीटर" in first.content_html
    assert second.content_html == first.content_html
    assert second.excerpt_html == "नेक्सन ईवी: कीमत घोषित"
    cache.close()


def test_a_failed_page_is_not_hammered(tmp_path: Path) -> None:
    """A page that failed is not asked for again on every poll (it is retried later)."""
    cache = PageCache(tmp_path / "pages.db")
    with FeedServer() as server, make_http_client(user_agent="t", timeout=5) as client:
        server.route("/feed.xml", body=feed_with_excerpt(server.url("/gone")))
        source = HttpFeedSource(
            "ev", server.url("/feed.xml"), client=client, allow_private=True, pages=cache
        )
        warned = source.fetch().warnings
        again = source.fetch()
    assert any("HTTP 404" in w for w in warned)
    assert again.articles[0].content_html == ""
    assert _paths(server) == ["/feed.xml", "/gone", "/feed.xml"]
    cache.close()
