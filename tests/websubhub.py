"""A real WebSub hub on loopback for tests: flask-websub's ``Hub`` in its own process.

    with WebSubHub(tmp_path) as hub:
        hub.url                      # where to subscribe and publish
        hub.callbacks(topic)         # [(callback_url, secret)] of verified subscriptions
        hub.publish(topic)           # the hub fetches the topic and POSTs it, signed

flask-websub is installed apart (``.ci/websub-setup.sh``, ``$SYNDBOT_WEBSUB_HUB_DIR``):
its wheel ships a top-level ``tests`` package that would shadow this one. Run as a script
(``python tests/websubhub.py STORAGE.db``) this module is the hub: celery runs its tasks
eagerly, so an intent check or a notification is done when the hub answers the request.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

HUB_DIR_ENV = "SYNDBOT_WEBSUB_HUB_DIR"


def hub_dir() -> str | None:
    """Where flask-websub is installed, or None (the hub tests then skip, saying why)."""
    path = os.environ.get(HUB_DIR_ENV) or str(Path.home() / ".cache" / "syndbot-websub-hub")
    return path if (Path(path) / "flask_websub").is_dir() else None


class WebSubHub:
    def __init__(self, tmp_path: Path) -> None:
        self.storage = tmp_path / "hub.db"
        self._tmp = tmp_path
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> WebSubHub:
        where = hub_dir()
        assert where is not None, f"flask-websub is not installed (${HUB_DIR_ENV})"
        env = {**os.environ, "PYTHONPATH": where}
        with (self._tmp / "hub.log").open("w") as log:
            self._proc = subprocess.Popen(
                [sys.executable, __file__, str(self.storage)],
                cwd=self._tmp,  # never this repository: its tests package must not be found
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("port "):
            raise AssertionError("the hub did not start: " + (self._tmp / "hub.log").read_text())
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/hub"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()

    def callbacks(self, topic: str) -> list[tuple[str, str]]:
        if not self.storage.exists():
            return []
        with sqlite3.connect(self.storage) as db:
            rows = db.execute(
                "SELECT callback_url, secret FROM hub WHERE topic_url = ?", (topic,)
            ).fetchall()
        return [(str(c), str(s)) for c, s in rows]

    def publish(self, topic: str) -> httpx.Response:
        form = {"hub.mode": "publish", "hub.topic": topic}
        return httpx.post(self.url, data=form, timeout=10, trust_env=False)


def _serve(storage: str) -> None:
    from celery import Celery
    from flask import Flask
    from flask_websub.hub import Hub, SQLite3HubStorage
    from werkzeug.serving import make_server

    celery = Celery("hub", broker="memory://")
    celery.conf.task_always_eager = True
    app = Flask("hub")
    app.config.update(PUBLISH_SUPPORTED=True, HUB_MIN_LEASE_SECONDS=5, MAX_ATTEMPTS=1)
    hub = Hub(SQLite3HubStorage(storage), celery, **app.config)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(sys.argv[1])
