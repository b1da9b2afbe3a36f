"""A real HTTP server on 127.0.0.1 for tests: routes registered per test, requests recorded.

    with FeedServer() as server:
        server.route("/feed.xml", body=b"<rss ...>", etag='"v1"')
        client.get(server.url("/feed.xml"))
        server.requests[0].headers["user-agent"]

Routes can answer 304 to matching validators (``etag``/``last_modified``), gzip the body,
wait before answering (``delay``), drip a chunked body forever (``drip``), drip the header
lines forever (``header_drip``), stream a body generated lazily (``stream``, chunked, so a
test can serve gigabytes without building them) or redirect.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.loopback import Loopback, LoopbackHandler


@dataclass
class Route:
    """What the server answers for one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    drip: tuple[bytes, float] | None = None  # (chunk, seconds between chunks), never ending
    header_drip: float | None = None  # seconds between header bytes, never ending
    stream: Callable[[], Iterable[bytes]] | None = None  # chunked body made while sending


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received; header names are lowercase."""

    path: str
    headers: dict[str, str]


class _Handler(LoopbackHandler):
    def setup(self) -> None:
        super().setup()  # one handler per accepted TCP connection
        with self.owner.lock:
            self.owner.connections += 1
            self.owner.open_sockets.add(self.request)

    def finish(self) -> None:
        with self.owner.lock:
            self.owner.open_sockets.discard(self.request)
        super().finish()

    def do_GET(self) -> None:
        owner: FeedServer = self.owner
        with owner.lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._answer(owner)
        finally:
            with owner.lock:
                owner.in_flight -= 1

    def _answer(self, owner: FeedServer) -> None:
        headers = self.lower_headers()
        owner.requests.append(RecordedRequest(self.path, headers))
        route = owner.routes.get(self.path.split("?", 1)[0])
        if route is None:
            route = Route(status=404, body=b"not found", content_type="text/plain")
        if route.delay:
            time.sleep(route.delay)
        if _validators_match(route, headers):
            self._head(304, {"Content-Length": "0", **_validators(route)})
            return
        if route.drip is not None:
            self._drip(route, *route.drip)
            return
        if route.header_drip is not None:
            self._drip_headers(route.header_drip)
            return
        if route.stream is not None:
            self._stream(route, route.stream())
            return
        body = gzip.compress(route.body) if route.gzip else route.body
        self._head(
            route.status,
            {
                "Content-Type": route.content_type,
                "Content-Length": str(len(body)),
                **({"Content-Encoding": "gzip"} if route.gzip else {}),
                **_validators(route),
                **route.headers,
            },
        )
        self.wfile.write(body)

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _drip(self, route: Route, chunk: bytes, interval: float) -> None:
        self.close_connection = True
        self._head(
            route.status, {"Content-Type": route.content_type, "Transfer-Encoding": "chunked"}
        )
        try:
            while not self.owner.stopping.is_set():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(interval)
        except OSError:
            return  # the client gave up, as it should

    def _drip_headers(self, interval: float) -> None:
        self.close_connection = True
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        try:
            while not self.owner.stopping.is_set():
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(interval)
        except OSError:
            return

    def _stream(self, route: Route, chunks: Iterable[bytes]) -> None:
        self.close_connection = True
        headers = {"Content-Type": route.content_type, "Transfer-Encoding": "chunked"}
        self._head(route.status, {**headers, **route.headers})
        try:
            for chunk in chunks:
                if self.owner.stopping.is_set():
                    return
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return  # the client stopped reading, as it should


def _validators(route: Route) -> dict[str, str]:
    found = {"ETag": route.etag, "Last-Modified": route.last_modified}
    return {k: v for k, v in found.items() if v}


def _validators_match(route: Route, headers: dict[str, str]) -> bool:
    if route.etag and headers.get("if-none-match") == route.etag:
        return True
    return bool(route.last_modified and headers.get("if-modified-since") == route.last_modified)


class FeedServer(Loopback):
    """The test server. ``route``/``redirect`` register answers; ``requests`` records them."""

    hangups = (ConnectionError,)  # a client hanging up mid-body (size and time limits)

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows here)
        self.in_flight = 0  # requests being answered now, and the most at any one time
        self.max_in_flight = 0
        self.open_sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def route(self, path: str, **settings: Any) -> Route:
        """Answer GET ``path`` as described by ``Route``'s fields."""
        route = Route(**settings)
        self.routes[path] = route
        return route

    def redirect(self, path: str, to: str, *, status: int = 302) -> None:
        """Redirect ``path`` to ``to`` (a path on this server or an absolute URL)."""
        self.route(path, status=status, headers={"Location": to}, content_type="text/plain")

    def close(self) -> None:
        self.stopping.set()  # endless answers (drip, stream) end, so the server can stop
        super().close()
        # A stopped server answers nothing more, not even on a kept-alive connection.
        with self.lock:
            for sock in self.open_sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
