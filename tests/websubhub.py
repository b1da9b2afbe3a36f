"""A real WebSub hub on loopback for tests: flask-websub's ``Hub`` (its own SQLite storage),
its celery tasks run eagerly in the request thread, served by werkzeug in a thread.

    with WebSubHub(tmp_path) as hub:
        hub.url                      # where to subscribe / publish
        hub.callbacks(topic)         # [(callback_url, secret)] of verified subscriptions
        hub.publish(topic)           # hub fetches the topic and POSTs it, signed, to each
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from celery import Celery
from flask import Flask
from flask_websub.hub import Hub, SQLite3HubStorage
from werkzeug.serving import make_server

_names = itertools.count()


class WebSubHub:
    def __init__(self, tmp_path: Path, *, min_lease: int = 5) -> None:
        name = f"hub{next(_names)}"
        celery = Celery(name, broker="memory://")
        celery.conf.task_always_eager = True
        app = Flask(name)
        app.config.update(PUBLISH_SUPPORTED=True, HUB_MIN_LEASE_SECONDS=min_lease)
        self.storage = SQLite3HubStorage(str(tmp_path / f"{name}.db"))
        self.hub = Hub(self.storage, celery, **app.config)
        app.register_blueprint(self.hub.build_blueprint(url_prefix="/hub"))
        self._server: Any = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hub"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebSubHub:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def callbacks(self, topic: str) -> list[tuple[str, str]]:
        return [(str(c), str(s)) for c, s in self.storage.get_callbacks(topic)]

    def publish(self, topic: str) -> httpx.Response:
        form = {"hub.mode": "publish", "hub.topic": topic}
        return httpx.post(self.url, data=form, timeout=10, trust_env=False)
