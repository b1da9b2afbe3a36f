"""Links found in feed content never reach loopback/private hosts; operator URLs are trusted.

Name resolution is faked by patching ``socket.getaddrinfo`` (what ``bot.netguard`` calls);
any other name is resolved for real, which here only ever means 127.0.0.1 literals.
"""

from __future__ import annotations

import io
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from bot import netguard
from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import FetchError, Rejected
from bot.feeds.fetch import fetch, make_http_client
from bot.feeds.sources import fetch_article
from bot.images import fetch_image
from bot.netguard import GUARD_EXTENSION, PIN_EXTENSION, PinnedTransport
from tests.feedserver import FeedServer

PAGE = (
    "<html lang='ta'><head><title>Secret</title></head><body><article><h1>Secret</h1>"
    + "".join(
        f"<p>உள் நெட்வொர்க் பக்கம் {n}: இது ஒருபோதும் பெறப்படக்கூடாது. இன்ட்ரானெட் ரகசியம் {n}.</p>"
        for n in range(8)
    )
    + "</article></body></html>"
).encode()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (0, 128, 255)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.route("/secret-page", body=PAGE, content_type="text/html; charset=utf-8")
        running.route("/img.png", body=_png(), content_type="image/png")
        yield running


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """``name -> [answer, answer, ...]``: each lookup of the name pops the next answer."""
    answers: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[host]
        ips = queue.pop(0) if len(queue) > 1 else queue[0]
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in ip], socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let 127.0.0.1 stand in for a public host; every other address is judged normally."""
    judge = netguard.is_public_address

    def is_public(address: Any) -> bool:
        return address == ipaddress.ip_address("127.0.0.1") or judge(address)

    monkeypatch.setattr(netguard, "is_public_address", is_public)


def _feed(link: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>EV</title>'
        "<link>https://ev.example/</link><item><title>Intranet teaser</title>"
        f"<link>{link}</link><guid>t-1</guid><description>Short teaser.</description>"
        '<enclosure url="http://169.254.169.254/latest/meta-data/" type="image/png"/>'
        "</item></channel></rss>"
    ).encode()


def _poll(tmp_path: Path, server: FeedServer, *, allow_private: bool) -> Any:
    """Poll /feed.xml through the real pipeline with full_text = "always"."""
    config = tmp_path / "syndbot.toml"
    config.write_text(
        f'[service]\ndatabase = "{tmp_path / "state.db"}"\noutbox = "{tmp_path / "o.jsonl"}"\n'
        f"allow_private_addresses = {str(allow_private).lower()}\n"
        f'[[feeds]]\nname = "ev"\nurl = "{server.url("/feed.xml")}"\ncatch_up = "all"\n'
        'full_text = "always"\n'
        '[[channels]]\nname = "slack-out"\nplatform = "slack"\npublisher = "outbox"\n',
        encoding="utf-8",
    )
    with open_pipeline(load_config(config)) as pipeline:
        report = pipeline.poll("ev")
        return report, pipeline.store.deliveries()


def test_feed_url_is_trusted_but_its_loopback_links_are_not(
    tmp_path: Path, server: FeedServer
) -> None:
    """The operator's loopback feed is read; its loopback article page is never requested."""
    server.route("/feed.xml", body=_feed(server.url("/secret-page")))
    report, deliveries = _poll(tmp_path, server, allow_private=False)
    assert report.error is None
    assert [r.path for r in server.requests] == ["/feed.xml"]
    assert any("refusing to fetch 127.0.0.1" in w for w in report.warnings)
    (delivery,) = deliveries
    assert delivery.article.excerpt_html == "Short teaser."
    assert delivery.article.content_html == ""


def test_allow_private_addresses_lets_the_page_through(tmp_path: Path, server: FeedServer) -> None:
    """With service.allow_private_addresses the same page is fetched and used."""
    server.route("/feed.xml", body=_feed(server.url("/secret-page")))
    report, deliveries = _poll(tmp_path, server, allow_private=True)
    assert "/secret-page" in [r.path for r in server.requests]
    assert "இன்ட்ரானெட் ரகசியம்" in deliveries[0].article.content_html
    assert report.error is None


@pytest.mark.parametrize("answer", [["10.0.0.1"], ["127.0.0.1"], ["93.184.216.34", "fd00::5"]])
def test_public_looking_name_with_private_address_is_refused(
    dns: dict[str, list[list[str]]], server: FeedServer, answer: list[str]
) -> None:
    """news.example resolving to a private address is refused before any connection."""
    dns["news.example"] = [answer]
    url = f"http://news.example:{server.url('').rsplit(':', 1)[1]}/secret-page"
    with (
        make_http_client(user_agent="t", timeout=2) as client,
        pytest.raises(FetchError, match=r"refusing to fetch news\.example") as caught,
    ):
        fetch(client, url, trusted=False)
    assert caught.value.url == url
    assert server.requests == []


@pytest.mark.usefixtures("loopback_is_public")
@pytest.mark.parametrize("target", ["http://10.0.0.1/admin", "http://intranet.example/admin"])
def test_redirect_from_a_public_page_into_the_lan_is_refused(
    dns: dict[str, list[list[str]]], server: FeedServer, target: str
) -> None:
    """A public page redirecting to a private address (literal or by DNS) stops at that hop."""
    dns["intranet.example"] = [["10.0.0.7"]]
    server.redirect("/story", target)
    with (
        make_http_client(user_agent="t", timeout=2) as client,
        pytest.raises(FetchError, match="refusing to fetch") as caught,
    ):
        fetch(client, server.url("/story"), trusted=False)
    assert caught.value.url == target
    assert [r.path for r in server.requests] == ["/story"]


@pytest.mark.usefixtures("loopback_is_public")
def test_dns_rebinding_cannot_switch_the_address_after_the_check(
    dns: dict[str, list[list[str]]], server: FeedServer
) -> None:
    """The checked answer is the one connected to; a second, private answer is never used."""
    dns["rebind.example"] = [["127.0.0.1"], ["10.255.255.1"]]  # first lookup, every later one
    port = server.url("").rsplit(":", 1)[1]
    with make_http_client(user_agent="t", timeout=2) as client:
        raw = fetch(client, f"http://rebind.example:{port}/secret-page", trusted=False)
    assert raw.body == PAGE
    assert raw.final_url == f"http://rebind.example:{port}/secret-page"
    (request,) = server.requests
    assert request.headers["host"] == f"rebind.example:{port}"


def test_pinned_transport_keeps_host_header_and_tls_name() -> None:
    """A guarded https request goes to the checked IP with Host and SNI of the real name."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    transport = PinnedTransport(httpx.MockTransport(handler), httpx.MockTransport(handler))
    request = httpx.Request("GET", "https://news.example/story?id=1")
    request.extensions.update(
        {
            GUARD_EXTENSION: True,
            PIN_EXTENSION: ("news.example", None, ("2606:4700:4700::1111", "93.184.216.34")),
        }
    )
    assert transport.handle_request(request).status_code == 200
    (sent,) = seen
    assert str(sent.url) == "https://[2606:4700:4700::1111]/story?id=1"
    assert sent.headers["host"] == "news.example"
    assert sent.extensions["sni_hostname"] == "news.example"


def test_pinned_transport_tries_the_next_checked_address() -> None:
    """When the first checked address does not connect, the next checked one is used."""
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "2606:4700:4700::1111":
            raise httpx.ConnectError("network unreachable", request=request)
        return httpx.Response(200)

    transport = PinnedTransport(httpx.MockTransport(handler), httpx.MockTransport(handler))
    request = httpx.Request("GET", "https://news.example/")
    request.extensions.update(
        {
            GUARD_EXTENSION: True,
            PIN_EXTENSION: ("news.example", None, ("2606:4700:4700::1111", "93.184.216.34")),
        }
    )
    transport.handle_request(request)
    assert hosts == ["2606:4700:4700::1111", "93.184.216.34"]


def test_cli_article_url_is_trusted(server: FeedServer) -> None:
    """`syndbot preview URL` reads a page on loopback: the operator typed that URL."""
    with make_http_client(user_agent="t", timeout=2) as client:
        article = fetch_article(client, server.url("/secret-page"))
    assert "இன்ட்ரானெட் ரகசியம்" in article.content_html


def test_feed_image_on_loopback_is_never_downloaded(server: FeedServer) -> None:
    """An image URL from a feed pointing at loopback is Rejected before any request."""
    with make_http_client(user_agent="t", timeout=2) as client:
        with pytest.raises(Rejected, match="refusing"):
            fetch_image(client, server.url("/img.png"), allow_private=False)
        assert server.requests == []
        assert fetch_image(client, server.url("/img.png"), allow_private=True).width == 1


def test_feed_image_behind_a_private_dns_answer_is_refused(
    dns: dict[str, list[list[str]]], server: FeedServer
) -> None:
    """cdn.example answering 10.0.0.1 is refused for images too."""
    dns["cdn.example"] = [["10.0.0.1"]]
    with (
        make_http_client(user_agent="t", timeout=2) as client,
        pytest.raises(Rejected, match=r"cdn\.example \(10\.0\.0\.1\)"),
    ):
        fetch_image(client, "https://cdn.example/pic.png", allow_private=False)
    assert server.requests == []


def test_pinned_transport_sends_an_international_name_as_punycode() -> None:
    """SNI and Host carry the ASCII form of a Unicode host name."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = PinnedTransport(httpx.MockTransport(handler), httpx.MockTransport(handler))
    request = httpx.Request("GET", "https://समाचार.example/")
    request.extensions.update(
        {GUARD_EXTENSION: True, PIN_EXTENSION: (request.url.host, None, ("93.184.216.34",))}
    )
    transport.handle_request(request)
    assert seen[0].extensions["sni_hostname"] == "xn--61b3bh3a5ab.example"
    assert seen[0].headers["host"] == "xn--61b3bh3a5ab.example"


@pytest.mark.usefixtures("loopback_is_public")
def test_image_dns_rebinding_connects_only_to_the_checked_address(
    dns: dict[str, list[list[str]]], server: FeedServer
) -> None:
    """An image host that answers a public address, then a private one, is fetched from
    the checked address through the publishers' pinned client, never from the second."""
    # Two checked lookups (before the request, in the client's hook), then a rebind.
    dns["img.rebind.example"] = [["127.0.0.1"], ["127.0.0.1"], ["10.255.255.1"]]
    port = server.url("").rsplit(":", 1)[1]
    client = httpx.Client(transport=netguard.pinned_transport(), timeout=2)
    netguard.install_guard(client)
    with client:
        image = fetch_image(
            client, f"http://img.rebind.example:{port}/img.png", allow_private=False
        )
    assert image.width == 1
    (request,) = server.requests
    assert request.headers["host"] == f"img.rebind.example:{port}"
    assert request.headers["accept-encoding"] == "identity"
