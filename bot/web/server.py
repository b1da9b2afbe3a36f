"""The HTTP listener of ``syndbot run``: a Starlette app served by uvicorn in a thread.

    service = HttpService.start(config.http, build_app(...))
    ...
    service.stop()

The socket is bound before the thread starts, so "address in use" is an error at start-up
(not a log line later) and ``listen = "127.0.0.1:0"`` reports the port it got.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.config import Config, HttpConfig
from bot.errors import SyndbotError
from bot.protocols import Store
from bot.push import Nudger
from bot.web.health import Health, database_writable, evaluate
from bot.web.metrics import Metrics
from bot.web.ui import ui_routes
from bot.websub import Subscriber

log = logging.getLogger("syndbot.http")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def build_app(
    config: Config,
    store: Store,
    metrics: Metrics,
    *,
    scheduler_running: Callable[[], bool],
    started_at: datetime,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    push: Nudger | None = None,
    websub: Subscriber | None = None,
) -> Starlette:
    """``GET /healthz`` (200 or 503, JSON reasons) and ``GET /metrics`` (Prometheus text)."""

    def check() -> Health:
        return evaluate(
            config,
            store.feed_states(),
            now=clock(),
            started_at=started_at,
            scheduler_running=scheduler_running(),
            database_problem=database_writable(config.service.database),
        )

    def healthz(request: Request) -> Response:
        health = check()
        return JSONResponse(health.to_json(), status_code=200 if health.ok else 503)

    def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        *ui_routes(config, store, clock=clock),  # /ui when [http] ui = true (bot.web.ui)
    ]
    if push is not None:  # [http] push: /ping and /websub (bot.web.push)
        from bot.web.push import push_routes

        routes += push_routes(push)
    if websub is not None:  # [http] public_url: hubs call back here (bot.websub)
        from bot.web.push import websub_callback_routes

        routes += websub_callback_routes(websub)
    return Starlette(routes=routes)


class HttpService:
    """uvicorn on a bound socket, in a daemon thread; ``stop`` asks it to exit and waits."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._server = server
        self._socket = sock
        self.before_stop: list[Callable[[], object]] = []  # while still serving
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="syndbot-http", daemon=True
        )

    @classmethod
    def start(cls, http: HttpConfig, app: Any) -> HttpService:
        family = socket.AF_INET6 if ":" in http.host else socket.AF_INET
        try:
            sock = socket.create_server((http.host, http.port), family=family)
        except OSError as exc:
            raise SyndbotError(
                f"[http] listen: cannot listen on {http.host}:{http.port} ({exc.strerror}); "
                "pick another port or stop what uses it"
            ) from exc
        config = uvicorn.Config(
            app,
            log_config=None,  # uvicorn's records go through our handler (text or json)
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        service = cls(uvicorn.Server(config), sock)
        service._thread.start()
        log.info("http: /healthz and /metrics on %s:%d", http.host, service.port)
        return service

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def stop(self, *, timeout: float = 10.0) -> None:
        for call in self.before_stop:
            try:
                call()
            except Exception:
                log.exception("http: a clean-up before stopping failed")
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()
