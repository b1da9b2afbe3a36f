"""The SSRF guard: links found in feeds may not reach loopback/private/reserved hosts."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.errors import FetchError
from bot.feeds.fetch import fetch, make_http_client
from bot.netguard import check_public_url, is_public_address
from tests.feedserver import FeedServer

PUBLIC = "http://93.184.216.34"  # an IP literal: no DNS lookup, never contacted here


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/admin",
        "http://127.8.9.10:8080/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/router",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
        "http://240.0.0.1/",
    ],
)
def test_non_public_hosts_are_refused(url: str) -> None:
    """Loopback, private, link-local, multicast, reserved and unspecified hosts are refused."""
    with pytest.raises(FetchError, match="refusing") as caught:
        check_public_url(url)
    assert caught.value.url == url


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://93.184.216.34/x", "gopher://a/"])
def test_non_http_schemes_are_refused(url: str) -> None:
    """Only http and https URLs may be fetched."""
    with pytest.raises(FetchError, match="only http and https"):
        check_public_url(url)


@pytest.mark.parametrize("url", [PUBLIC + "/story", "https://[2606:4700:4700::1111]/"])
def test_public_addresses_pass(url: str) -> None:
    """A public address is allowed."""
    check_public_url(url)


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Answer getaddrinfo from ``answers`` so no test sends a DNS query."""

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_unresolvable_host_is_a_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that does not resolve is refused with a message naming it."""
    _fake_dns(monkeypatch, {})
    with pytest.raises(FetchError, match=r"cannot resolve host 'nothing\.invalid'"):
        check_public_url("http://nothing.invalid/")


def test_any_private_answer_refuses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name is refused when any of its addresses is private, not only the first."""
    _fake_dns(
        monkeypatch,
        {"news.example": ["93.184.216.34"], "sneaky.example": ["93.184.216.34", "10.0.0.7"]},
    )
    check_public_url("https://news.example/story")
    with pytest.raises(FetchError, match=r"sneaky\.example \(10\.0\.0\.7\)"):
        check_public_url("https://sneaky.example/story")


def test_ipv4_mapped_loopback_is_not_public() -> None:
    """::ffff:127.0.0.1 is judged as the IPv4 address it carries."""
    assert not is_public_address(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert is_public_address(ipaddress.ip_address("::ffff:93.184.216.34"))


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_untrusted_fetch_to_loopback_sends_nothing(server: FeedServer) -> None:
    """fetch(trusted=False) to 127.0.0.1 fails before any request is sent."""
    server.route("/secret", body=b"secret")
    with make_http_client(user_agent="t", timeout=5) as client:
        with pytest.raises(FetchError, match="refusing"):
            fetch(client, server.url("/secret"), trusted=False)
        assert server.requests == []
        # The guard stays installed but trusted (operator) URLs are unaffected.
        assert fetch(client, server.url("/secret")).body == b"secret"


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:9/admin", "http://169.254.169.254/", "http://[::1]/"]
)
def test_redirect_into_private_network_is_refused(target: str) -> None:
    """A public page redirecting to a private address is stopped at the redirect hop."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "93.184.216.34":
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, content=b"internal data")

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        for trusted in (False, True):  # a feed's link, or the operator's own public URL
            with pytest.raises(FetchError, match="refusing") as caught:
                fetch(client, PUBLIC + "/story", trusted=trusted)
            assert caught.value.url == target
            assert seen == [PUBLIC + "/story"]
            seen.clear()
        # service.allow_private_addresses lets the same redirect through.
        assert fetch(client, PUBLIC + "/story", allow_private=True).body == b"internal data"
