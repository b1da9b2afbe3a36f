"""The suite's offline guard: no test may open a connection beyond this machine.

Like python-telegram-bot's ``OfflineRequest``, but at the socket layer, so it also covers
SDKs with their own HTTP stacks. ``socket.socket.connect``/``connect_ex`` and
``socket.create_connection`` check the address before the real call: loopback (127.0.0.0/8,
::1, ``localhost``) and Unix sockets pass; anything else is recorded and refused with
``NetworkBlocked`` before a single packet leaves. ``socket.getaddrinfo`` refuses names other
than ``localhost`` (``NameLookupBlocked``), since a DNS query leaves the machine too; IP
literals need no query and pass (their connection is checked). The conftest fixture fails
the test at teardown when anything was refused, even if the code under test swallowed it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class NetworkBlocked(ConnectionRefusedError):
    """A test tried to connect to a non-loopback address; the guard refused it."""


class NameLookupBlocked(socket.gaierror):
    """A test tried to resolve a name through DNS; the guard refused it."""


def needs_dns(host: Any) -> bool:
    """True when resolving ``host`` would send a DNS query (a name other than localhost)."""
    if host is None:
        return False
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    name = text.strip().rstrip(".").lower()
    if not name or name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return True
    return False


def is_local(address: Any) -> bool:
    """True for a Unix socket path or a loopback host; False for anything that could leave."""
    if isinstance(address, str | bytes | bytearray | memoryview):
        return True  # AF_UNIX path (or abstract name): never leaves the machine
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a name other than localhost: resolving it could already leave
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


class OfflineGuard:
    """Patches the socket layer while active; ``refused`` lists every blocked address."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        # The real calls, looked up through here so a test can swap in a tripwire.
        self.real_connect: Callable[..., Any] = socket.socket.connect
        self.real_connect_ex: Callable[..., Any] = socket.socket.connect_ex
        self.real_create_connection: Callable[..., Any] = socket.create_connection
        self.real_getaddrinfo: Callable[..., Any] = socket.getaddrinfo

    def check(self, address: Any) -> None:
        if not is_local(address):
            self.refused.append(repr(address))
            raise NetworkBlocked(
                f"offline guard: tests may only connect to loopback, not {address!r}"
            )

    def _getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if needs_dns(host):
            self.refused.append(f"DNS lookup of {host!r}")
            raise NameLookupBlocked(
                socket.EAI_NONAME,
                f"offline guard: tests may not resolve {host!r} (a DNS query leaves the "
                "machine); fake the resolver as tests/test_netguard.py does",
            )
        return self.real_getaddrinfo(host, *args, **kwargs)

    def _create_connection(self, address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        self.check(address)
        return self.real_create_connection(address, *args, **kwargs)  # type: ignore[no-any-return]

    @contextmanager
    def active(self) -> Iterator[OfflineGuard]:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check(address)
            guard.real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check(address)
            return guard.real_connect_ex(sock, address)  # type: ignore[no-any-return]

        saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection)
        saved_getaddrinfo = socket.getaddrinfo
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.create_connection = self._create_connection  # type: ignore[assignment]
        socket.getaddrinfo = self._getaddrinfo
        try:
            yield self
        finally:
            socket.getaddrinfo = saved_getaddrinfo
            socket.socket.connect, socket.socket.connect_ex, socket.create_connection = saved  # type: ignore[method-assign,assignment]
