"""HTTP fetching of feeds: conditional GET, compression, redirects, limits, error messages."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import httpx
import pytest

from bot.errors import FetchError
from bot.feeds.fetch import HTTPStatusError, fetch, make_http_client
from bot.feeds.sources import (
    BuiltinFeedSource,
    FileFeedSource,
    HttpFeedSource,
    open_source,
)
from tests.feedserver import FeedServer

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>EV News</title><link>https://ev.example/</link>
<item><title>टाटा ने नई इलेक्ट्रिक कार लॉन्च की</title><link>https://ev.example/hi/tata</link>
<guid>hi-1</guid><description>बैटरी 40 kWh</description></item>
</channel></rss>""".encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client(user_agent="syndbot-test/1.0", timeout=5.0) as http:
        yield http


def test_fetch_returns_body_and_sends_user_agent(server: FeedServer, client: httpx.Client) -> None:
    """A plain GET returns the body and content type; the server sees our User-Agent."""
    server.route("/feed.xml", body=RSS)
    raw = fetch(client, server.url("/feed.xml"))
    assert (raw.status, raw.body, raw.not_modified) == (200, RSS, False)
    assert raw.content_type == "application/rss+xml; charset=utf-8"
    assert server.requests[0].headers["user-agent"] == "syndbot-test/1.0"
    assert "gzip" in server.requests[0].headers["accept-encoding"]


def test_etag_round_trip_gives_not_modified(server: FeedServer, client: httpx.Client) -> None:
    """The ETag of the first response, sent back as If-None-Match, yields a 304."""
    server.route("/feed.xml", body=RSS, etag='"v1"')
    first = fetch(client, server.url("/feed.xml"))
    assert first.etag == '"v1"'
    second = fetch(client, server.url("/feed.xml"), etag=first.etag)
    assert second.not_modified
    assert second.status == 304
    assert second.body == b""
    assert server.requests[1].headers["if-none-match"] == '"v1"'


def test_last_modified_round_trip_gives_not_modified(
    server: FeedServer, client: httpx.Client
) -> None:
    """Last-Modified sent back as If-Modified-Since yields a 304."""
    stamp = "Wed, 01 Jan 2025 10:00:00 GMT"
    server.route("/feed.xml", body=RSS, last_modified=stamp)
    first = fetch(client, server.url("/feed.xml"))
    assert first.last_modified == stamp
    assert not first.not_modified
    second = fetch(client, server.url("/feed.xml"), last_modified=first.last_modified)
    assert second.not_modified
    assert server.requests[1].headers["if-modified-since"] == stamp


def test_gzip_body_is_decoded(server: FeedServer, client: httpx.Client) -> None:
    """A gzip Content-Encoding is decompressed."""
    server.route("/feed.xml", body=RSS, gzip=True)
    assert fetch(client, server.url("/feed.xml")).body == RSS


def test_brotli_body_is_decoded(server: FeedServer, client: httpx.Client) -> None:
    """A br Content-Encoding is decompressed."""
    server.route("/feed.xml", body=brotli.compress(RSS), headers={"Content-Encoding": "br"})
    assert fetch(client, server.url("/feed.xml")).body == RSS


def test_redirects_are_followed(server: FeedServer, client: httpx.Client) -> None:
    """Redirects are followed and the final URL reported."""
    server.redirect("/old", "/new", status=301)
    server.route("/new", body=RSS)
    raw = fetch(client, server.url("/old"))
    assert raw.body == RSS
    assert raw.final_url == server.url("/new")


def test_redirect_loop_is_a_fetch_error(server: FeedServer, client: httpx.Client) -> None:
    """A redirect loop ends in FetchError naming the URL and the loop."""
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirect") as caught:
        fetch(client, server.url("/a"))
    assert caught.value.url == server.url("/a")
    assert len(server.requests) == 6  # the first request and five redirects


def test_body_over_limit_is_refused(server: FeedServer, client: httpx.Client) -> None:
    """A body larger than max_bytes raises FetchError."""
    server.route("/big", body=b"x" * 300_000)
    with pytest.raises(FetchError, match="larger than 100,000 bytes"):
        fetch(client, server.url("/big"), max_bytes=100_000)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compression_bomb_is_stopped_quickly(
    server: FeedServer, client: httpx.Client, encoding: str
) -> None:
    """50 MB of zeros, compressed to kilobytes, stops at max_bytes of decoded data."""
    zeros = b"\0" * 50_000_000
    body = gzip.compress(zeros, 9) if encoding == "gzip" else brotli.compress(zeros, quality=5)
    server.route("/bomb", body=body, headers={"Content-Encoding": encoding})
    started = time.monotonic()
    with pytest.raises(FetchError, match="after decompression"):
        fetch(client, server.url("/bomb"), max_bytes=1_000_000)
    assert time.monotonic() - started < 3


def test_slow_drip_hits_the_deadline(server: FeedServer, client: httpx.Client) -> None:
    """A server that never stops trickling bytes is cut off at the deadline."""
    server.route("/drip", drip=(b"<", 0.05))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"gave up after 0\.6 s"):
        fetch(client, server.url("/drip"), deadline=0.6)
    assert time.monotonic() - started < 2.5


def test_silent_server_times_out(server: FeedServer) -> None:
    """A server that does not answer within the timeout gives a FetchError saying so."""
    server.route("/slow", body=RSS, delay=1.5)
    with (
        make_http_client(user_agent="t", timeout=0.3) as http,
        pytest.raises(FetchError, match="timed out"),
    ):
        fetch(http, server.url("/slow"))


def test_404_message_tells_what_to_do(server: FeedServer, client: httpx.Client) -> None:
    """HTTP 404 becomes a FetchError naming the URL, the status and the fix."""
    with pytest.raises(HTTPStatusError) as caught:
        fetch(client, server.url("/missing.xml"))
    assert caught.value.status == 404
    assert str(caught.value) == (
        f"{server.url('/missing.xml')}: HTTP 404 Not Found: check the URL (for a configured "
        "feed: its url in the config file)"
    )


def test_500_message_says_it_will_retry(server: FeedServer, client: httpx.Client) -> None:
    """HTTP 500 becomes a FetchError saying the poll is retried."""
    server.route("/feed.xml", status=500, body=b"oops")
    with pytest.raises(FetchError, match="HTTP 500 Internal Server Error: server error"):
        fetch(client, server.url("/feed.xml"))


def test_connection_refused_is_a_fetch_error(client: httpx.Client) -> None:
    """Nothing listening on the port gives a FetchError about connecting."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="cannot connect"):
        fetch(client, f"http://127.0.0.1:{port}/feed.xml")


def test_unsupported_scheme_is_a_fetch_error(client: httpx.Client) -> None:
    """A non-http URL is refused with a FetchError, not an httpx exception."""
    with pytest.raises(FetchError, match="http"):
        fetch(client, "ftp://ev.example/feed.xml")


def test_http_source_polls_with_validators(server: FeedServer, client: httpx.Client) -> None:
    """HttpFeedSource returns articles and validators, then not_modified on a 304."""
    server.route("/feed.xml", body=RSS, etag='"abc"')
    source = HttpFeedSource("ev-hi", server.url("/feed.xml"), client=client, full_text="never")
    first = source.fetch()
    assert [a.item_id for a in first.articles] == ["hi-1"]
    assert first.articles[0].feed == "ev-hi"
    assert first.etag == '"abc"'
    second = source.fetch(etag=first.etag)
    assert second.not_modified
    assert second.articles == ()
    assert second.etag == '"abc"'


def test_open_source_picks_the_class(client: httpx.Client, tmp_path: Path) -> None:
    """http(s) URLs, builtin: names and paths each get their own FeedSource."""
    assert isinstance(open_source("a", "https://ev.example/feed", client=client), HttpFeedSource)
    assert isinstance(open_source("b", "builtin:demo", client=client), BuiltinFeedSource)
    path_source = open_source("c", str(tmp_path / "f.xml"), client=client)
    assert type(path_source) is FileFeedSource


def test_file_source_resolves_against_the_feeds_own_link(tmp_path: Path) -> None:
    """A local feed file's relative item links resolve against its channel link."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(RSS.replace(b"https://ev.example/hi/tata", b"/ta/ola"))
    outcome = FileFeedSource("local", feed, lang="hi").fetch()
    assert outcome.articles[0].url == "https://ev.example/ta/ola"
    assert outcome.articles[0].lang == "hi"


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    """A missing feed file is a FetchError naming the path."""
    missing = tmp_path / "nope.xml"
    with pytest.raises(FetchError, match=r"nope\.xml: cannot read feed file"):
        FileFeedSource("local", missing).fetch()


@pytest.mark.parametrize("url", ["ftp://ev.example/feed.xml", "feed://ev.example/rss"])
def test_a_url_of_another_scheme_is_refused_not_read_as_a_file(url: str) -> None:
    """``syndbot preview ftp://...`` says only http(s) URLs are fetched, not that a file
    by that name is missing; ``file://`` still names a local file."""
    with httpx.Client() as client:
        with pytest.raises(FetchError, match=r"only http and https URLs can be fetched"):
            open_source("preview", url, client=client)
        assert isinstance(open_source("p", "file:///tmp/f.xml", client=client), FileFeedSource)


def test_unknown_builtin_lists_the_known_ones() -> None:
    """builtin:NAME with an unknown NAME says which built-in feeds exist."""
    with pytest.raises(FetchError, match="builtin:demo"):
        BuiltinFeedSource("x", "builtin:nope")


def test_builtin_demo_feed_parses() -> None:
    """The bundled demo feed, when present, yields articles."""
    source = BuiltinFeedSource("demo", "builtin:demo")
    try:
        source.read()
    except FetchError:
        pytest.skip("bot/demo/feed.xml is not written yet")
    assert source.fetch().articles
