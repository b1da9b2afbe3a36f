"""Trust: where the operator's own URLs may redirect, and which time limit a failure names.

A configured feed URL (or an article URL typed for ``syndbot post``) is trusted, but not
where a remote server redirects it: a hop to a loopback/private/link-local address is
refused before connecting, unless the configured URL is itself on such an address or
``service.allow_private_addresses`` is set.

No test here sends a packet to a non-loopback address: ``connections`` records every
connection httpx opens and refuses a non-loopback one before any packet. A loopback server
plays the public feed host (``loopback_is_public``); 127.0.0.2 plays a private host and is
served by that same server on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bot import netguard
from bot.cli import main
from bot.errors import FeedError, FetchError
from bot.feeds.fetch import fetch, make_http_client
from bot.feeds.sources import HttpFeedSource, fetch_article
from tests.feedserver import FeedServer

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>EV</title><link>https://ev.example/</link>
<item><title>Tata Nexon</title><link>https://ev.example/nexon</link><guid>n-1</guid>
<description>Battery 40 kWh</description></item></channel></rss>"""

PAGE = (
    "<html lang='en'><head><title>Chargers</title></head><body><article><h1>Chargers</h1>"
    + "".join(f"<p>Chennai adds fast chargers on road number {n} this month.</p>" for n in range(8))
    + "</article></body></html>"
).encode()


def _source(url: str, client: httpx.Client, *, allow_private: bool = False) -> HttpFeedSource:
    """An HTTP feed source that never fetches article pages (their hosts are made up)."""
    return HttpFeedSource("ev", url, client=client, full_text="never", allow_private=allow_private)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.route("/feed.xml", body=RSS)
        running.route("/page", body=PAGE, content_type="text/html; charset=utf-8")
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client(user_agent="syndbot-test/1.0", timeout=5.0) as http:
        yield http


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts httpx connected to, in order; 127.0.0.2 is served by 127.0.0.1, and any
    other host (a name or a non-loopback address) fails before a packet is sent."""
    attempts: list[str] = []
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        attempts.append(host)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:  # a name: the guarded client only connects to checked addresses
            loopback = False
        if not loopback:
            raise OSError(f"test refused a connection to {host}")
        target = "127.0.0.1" if host == "127.0.0.2" else host
        return real((target, port), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``name -> address`` answers for made-up names; other names resolve for real."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 stands in for a public feed host; every other address is judged normally."""
    judge = netguard.is_public_address

    def is_public(address: Any) -> bool:
        return address == ipaddress.ip_address("127.0.0.1") or judge(address)

    monkeypatch.setattr(netguard, "is_public_address", is_public)


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize(
    "case",
    [
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://metadata.lan.example/latest/meta-data", "metadata.lan.example (10.1.2.3)"),
    ],
)
def test_feed_redirect_to_a_private_address_is_refused_before_connecting(
    server: FeedServer,
    client: httpx.Client,
    connections: list[str],
    dns: dict[str, str],
    case: tuple[str, str],
) -> None:
    """A public feed answering 302 to a link-local or LAN address fails with a FeedError
    naming that URL, and no connection to that address is ever attempted."""
    target, named = case
    dns["metadata.lan.example"] = "10.1.2.3"
    server.redirect("/moved.xml", target)
    source = _source(server.url("/moved.xml"), client)
    with pytest.raises(FeedError, match="refusing to fetch") as caught:
        source.fetch()
    assert isinstance(caught.value, FetchError)
    assert caught.value.url == target
    assert named in str(caught.value)
    assert "allow_private_addresses" in str(caught.value)
    assert connections == ["127.0.0.1"]
    assert [r.path for r in server.requests] == ["/moved.xml"]


def test_loopback_feed_may_redirect_within_loopback(
    server: FeedServer, client: httpx.Client, connections: list[str]
) -> None:
    """A feed the operator put on loopback may redirect to another loopback URL."""
    server.redirect("/old.xml", server.url("/feed.xml"))
    outcome = _source(server.url("/old.xml"), client).fetch()
    assert [a.title for a in outcome.articles] == ["Tata Nexon"]
    assert [r.path for r in server.requests] == ["/old.xml", "/feed.xml"]
    assert set(connections) == {"127.0.0.1"}


@pytest.mark.usefixtures("loopback_is_public")
def test_allow_private_addresses_follows_the_redirect(
    server: FeedServer, client: httpx.Client, connections: list[str]
) -> None:
    """The redirect to a private host refused by default is followed with allow_private."""
    port = server.url("").rsplit(":", 1)[1]
    server.redirect("/moved.xml", f"http://127.0.0.2:{port}/feed.xml")
    with pytest.raises(FetchError, match=r"refusing to fetch 127\.0\.0\.2"):
        _source(server.url("/moved.xml"), client).fetch()
    assert connections == ["127.0.0.1"]
    source = _source(server.url("/moved.xml"), client, allow_private=True)
    assert [a.title for a in source.fetch().articles] == ["Tata Nexon"]
    assert connections[-1] == "127.0.0.2"


@pytest.mark.usefixtures("loopback_is_public")
def test_article_url_redirect_follows_allow_private_addresses(
    server: FeedServer, connections: list[str], tmp_path: Path
) -> None:
    """`syndbot post URL` trusts the typed URL but checks its redirects, unless the
    service's allow_private_addresses is set."""
    port = server.url("").rsplit(":", 1)[1]
    server.redirect("/short", f"http://127.0.0.2:{port}/page")
    with (
        make_http_client(user_agent="t", timeout=5) as http,
        pytest.raises(FetchError, match="refusing"),
    ):
        fetch_article(http, server.url("/short"))
    assert "127.0.0.2" not in connections
    for allowed, exit_code in (("false", 2), ("true", 0)):
        config = tmp_path / f"{allowed}.toml"
        config.write_text(
            f'[service]\ndatabase = "{tmp_path / "state.db"}"\n'
            f"allow_private_addresses = {allowed}\n"
            '[[feeds]]\nname = "demo"\nurl = "builtin:demo"\n'
            '[[channels]]\nname = "x-out"\nplatform = "x"\npublisher = "outbox"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(
            main, ["-c", str(config), "post", server.url("/short"), "--dry-run"]
        )
        assert result.exit_code == exit_code, result.output
        assert ("refusing" in result.output) is (allowed == "false")
    assert connections.count("127.0.0.2") == 1


def test_untrusted_page_on_loopback_is_still_refused(
    server: FeedServer, client: httpx.Client, connections: list[str]
) -> None:
    """An article page found in a feed is checked on its first hop, loopback or not."""
    with pytest.raises(FetchError, match="refusing"):
        fetch(client, server.url("/page"), trusted=False)
    assert connections == []


def test_hanging_server_names_the_timeout_that_fired(server: FeedServer) -> None:
    """timeout 0.3 s under a 2 s deadline: a server that never answers fails after the
    timeout, and the message names service.timeout and its value, not the deadline."""
    server.route("/hang.xml", body=RSS, delay=3.0)
    with make_http_client(user_agent="t", timeout=0.3) as http:
        source = _source(server.url("/hang.xml"), http)
        source.deadline = 2.0  # what service.feed_deadline sets
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            source.fetch()
    assert time.monotonic() - started < 1.5
    message = str(caught.value)
    assert "0.3 s" in message
    assert "service.timeout" in message
    assert "2 s" not in message
    assert "2s" not in message


def test_hanging_server_names_a_shorter_deadline(server: FeedServer) -> None:
    """With the deadline (0.5 s) shorter than the timeout (5 s), the message names the
    deadline and its value, not service.timeout."""
    server.route("/hang.xml", body=RSS, delay=3.0)
    with make_http_client(user_agent="t", timeout=5.0) as http:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(http, server.url("/hang.xml"), deadline=0.5)
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    assert "0.5 s" in message
    assert "deadline" in message
    assert "service.timeout" not in message
