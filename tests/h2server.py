"""A real HTTP/2 feed server on 127.0.0.1 for tests: Hypercorn over TLS, with a throwaway
certificate authority (trustme) that the test trusts through ``SSL_CERT_FILE``.

    with H2FeedServer(tmp_path) as server:
        server.route("/feed.xml", body=b"<rss ...>", etag='"v1"')
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        ...
        server.requests[0].http_version  # "2" or "1.1"

Hypercorn offers HTTP/2 and HTTP/1.1 by ALPN; ``http1_only`` offers HTTP/1.1 alone. A
route may answer 304 to a matching ``If-None-Match`` or drip its body (``drip``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

hypercorn_config = pytest.importorskip("hypercorn.config")
hypercorn_asyncio = pytest.importorskip("hypercorn.asyncio")
trustme = pytest.importorskip("trustme")


@dataclass
class H2Route:
    body: bytes = b""
    etag: str | None = None
    drip: tuple[bytes, float] | None = None  # (chunk, seconds between chunks), for minutes


@dataclass(frozen=True)
class H2Request:
    path: str
    http_version: str  # "2" or "1.1", as the server spoke it
    client_port: int  # one port per TCP connection


class H2FeedServer:
    def __init__(self, directory: Path, *, http1_only: bool = False) -> None:
        ca = trustme.CA()
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        chain = directory / "server.pem"
        ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            str(chain)
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = hypercorn_config.Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.certfile = config.keyfile = str(chain)
        config.accesslog = config.errorlog = None
        if http1_only:
            config.alpn_protocols = ["http/1.1"]
        self._config = config
        self.routes: dict[str, H2Route] = {}
        self.requests: list[H2Request] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="h2-feed-server")

    def route(self, path: str, **settings: Any) -> H2Route:
        self.routes[path] = route = H2Route(**settings)
        return route

    def url(self, path: str) -> str:
        return f"https://localhost:{self.port}{path}"

    def __enter__(self) -> H2FeedServer:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the HTTP/2 test server did not start")
        # Hypercorn runs the app's startup before it listens: wait for the socket.
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def __exit__(self, *_exc: object) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._stop = asyncio.Event()
        self._loop.run_until_complete(
            hypercorn_asyncio.serve(self._app, self._config, shutdown_trigger=self._stop.wait)
        )
        self._loop.close()

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    self._started.set()
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        self.requests.append(H2Request(path, scope["http_version"], scope["client"][1]))
        route = self.routes.get(path)
        if route is None:
            await _answer(send, 404, [], b"not found")
            return
        headers = [(b"content-type", b"application/rss+xml; charset=utf-8")]
        if route.etag:
            headers.append((b"etag", route.etag.encode()))
            asked = dict(scope["headers"]).get(b"if-none-match", b"").decode()
            if asked == route.etag:
                await _answer(send, 304, headers, b"")
                return
        if route.drip is None:
            await _answer(send, 200, headers, route.body)
            return
        chunk, interval = route.drip
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for _ in range(int(120 / interval)):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(interval)
        await send({"type": "http.response.body", "body": b""})


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
