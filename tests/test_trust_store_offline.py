"""The suite's offline guard refuses non-loopback connections before anything is sent.

Every address used here is TEST-NET-1 (192.0.2.0/24, RFC 5737) or documentation IPv6
(2001:db8::/32); each test first replaces the guard's real ``connect`` with a tripwire, so
even a broken guard could not send a packet.
"""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.feedserver import FeedServer
from tests.offline import NameLookupBlocked, NetworkBlocked, OfflineGuard, is_local, needs_dns

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")


@pytest.fixture
def guard(offline_guard: OfflineGuard) -> Iterator[OfflineGuard]:
    """The autouse guard with tripwires in place of the real calls; refusals are expected."""
    reached: list[Any] = []

    def tripwire(*args: Any, **_kwargs: Any) -> Any:
        reached.append(args)
        raise AssertionError(f"the guard let a connection through: {args!r}")

    real = (
        offline_guard.real_connect,
        offline_guard.real_connect_ex,
        offline_guard.real_create_connection,
        offline_guard.real_getaddrinfo,
    )
    offline_guard.real_connect = tripwire
    offline_guard.real_connect_ex = tripwire
    offline_guard.real_create_connection = tripwire
    offline_guard.real_getaddrinfo = tripwire
    yield offline_guard
    (
        offline_guard.real_connect,
        offline_guard.real_connect_ex,
        offline_guard.real_create_connection,
        offline_guard.real_getaddrinfo,
    ) = real
    assert reached == []
    offline_guard.refused.clear()  # these refusals were the point of the test


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (("127.0.0.1", 80), True),
        (("127.8.9.10", 80), True),
        (("::1", 80, 0, 0), True),
        (("::ffff:127.0.0.1", 80, 0, 0), True),
        (("localhost", 80), True),
        ("/run/syndbot.sock", True),
        (b"\0abstract", True),
        (("192.0.2.1", 443), False),
        (("2001:db8::1", 443, 0, 0), False),
        (("169.254.169.254", 80), False),
        (("10.0.0.1", 80), False),
        (("api.x.com", 443), False),
        (("0.0.0.0", 80), False),
    ],
)
def test_only_loopback_and_unix_addresses_are_local(address: Any, local: bool) -> None:
    """Loopback v4/v6, localhost and Unix paths pass; public, private and named hosts do not."""
    assert is_local(address) is local


@pytest.mark.parametrize(
    ("host", "lookup"),
    [
        ("api.x.com", True),
        ("volt.example", True),
        (b"bsky.social", True),
        ("localhost", False),
        ("127.0.0.1", False),
        ("192.0.2.1", False),  # a literal needs no DNS query; its connect is checked
        ("::1", False),
        (None, False),
    ],
)
def test_only_real_names_need_a_dns_query(host: Any, lookup: bool) -> None:
    """Names other than localhost need DNS; IP literals and None do not."""
    assert needs_dns(host) is lookup


def test_a_dns_lookup_is_refused(guard: OfflineGuard) -> None:
    """getaddrinfo of a public name raises the guard's gaierror; no query is sent."""
    with pytest.raises(NameLookupBlocked, match=r"api\.x\.com"):
        socket.getaddrinfo("api.x.com", 443)
    assert guard.refused == ["DNS lookup of 'api.x.com'"]


def test_socket_connect_to_test_net_is_refused(guard: OfflineGuard) -> None:
    """socket.connect and connect_ex to 192.0.2.1 raise the guard's error and are recorded."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkBlocked, match=r"192\.0\.2\.1"):
            sock.connect(("192.0.2.1", 443))
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("192.0.2.1", 80))
    assert guard.refused == ["('192.0.2.1', 443)", "('192.0.2.1', 80)"]


def test_create_connection_and_ipv6_are_refused(guard: OfflineGuard) -> None:
    """socket.create_connection is checked too, and IPv6 documentation addresses are refused."""
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.7", 443), timeout=1)
    with (
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock,
        pytest.raises(NetworkBlocked),
    ):
        sock.connect(("2001:db8::1", 443, 0, 0))
    assert len(guard.refused) == 2


def test_an_http_client_cannot_leave_the_machine(guard: OfflineGuard) -> None:
    """httpx to a TEST-NET address fails with the guard's error as its cause."""
    with httpx.Client(timeout=2) as client, pytest.raises(httpx.ConnectError) as caught:
        client.get("http://192.0.2.1/feed.xml")
    chain = []
    exc: BaseException | None = caught.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, NetworkBlocked) for e in chain)
    assert guard.refused == ["('192.0.2.1', 80)"]


def test_loopback_servers_still_work() -> None:
    """A real HTTP server on 127.0.0.1 is reachable under the guard (the suite's fakes)."""
    with FeedServer() as server:
        server.route("/ok", body=b"fine", content_type="text/plain")
        assert httpx.get(server.url("/ok"), timeout=5).text == "fine"


def test_a_test_that_swallows_the_error_still_fails(pytester: pytest.Pytester) -> None:
    """A test whose code catches the refusal is still failed by the guard at teardown."""
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        test_leaky=textwrap.dedent(
            """
            import socket

            def test_leaks():
                try:
                    socket.create_connection(("192.0.2.1", 443), timeout=1)
                except OSError:
                    pass  # a careless retry loop would hide this
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*tried to reach the network beyond loopback*192.0.2.1*"])
