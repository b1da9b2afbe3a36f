"""A running ``syndbot run`` (in-process, real uvicorn on loopback) with ``[http] push``.

    with pushed_service(tmp_path, feeds) as svc:
        svc.ping("weblogUpdates.ping", "Volt Lane", feeds.url("/"))
        svc.feed_requests()  # GETs the loopback feed server has seen

The feed is polled every minute, so within a test every fetch after the first comes
from a push.
"""

from __future__ import annotations

import json
import socket
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.app import open_pipeline
from bot.config import load_config
from tests.builders import write_config
from tests.feedserver import FeedServer
from tests.servicethread import service_running

FEED = "/feed.xml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``check()`` held; fails the test after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class PushedService:
    base: str
    feeds: FeedServer
    outbox: Path

    def feed_requests(self) -> int:
        return sum(1 for r in self.feeds.requests if r.path.split("?")[0] == FEED)

    def posted_links(self) -> list[str]:
        if not self.outbox.exists():
            return []
        lines = self.outbox.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["article_url"] for line in lines if line.strip()]

    def ping(self, method: str, *params: str) -> dict[str, Any]:
        """The decoded answer to an XML-RPC ping (a Fault is raised as xmlrpc.client.Fault)."""
        body = xmlrpc.client.dumps(params, method)
        response = self.post("/ping", body.encode(), "text/xml")
        assert response.status_code == 200, response.text
        (answer,), _ = xmlrpc.client.loads(response.content)
        assert isinstance(answer, dict)
        return answer

    def post(self, path: str, body: bytes, content_type: str) -> httpx.Response:
        return httpx.post(
            f"{self.base}{path}",
            content=body,
            headers={"Content-Type": content_type},
            timeout=5,
            trust_env=False,
        )


@contextmanager
def pushed_service(
    tmp_path: Path,
    feeds: FeedServer,
    *,
    push: bool = True,
    debounce: str = "2s",
    websub: bool = False,
    interval: str = "1m",
    port: int | None = None,
    websub_key: str | None = None,
) -> Iterator[PushedService]:
    """``syndbot run`` on a feed at ``feeds`` + FEED, one outbox channel, /ping and /websub;
    with ``websub`` its public_url is its own listener, so it subscribes to hubs; with
    ``websub_key`` (the key's value) its subscriptions are kept in the database."""
    path = write_config(tmp_path, feeds={"site": feeds.url(FEED)}, platforms=("x",))
    port = port or free_port()
    text = path.read_text(encoding="utf-8").replace('"1m"', f'"{interval}"', 1)
    text += f'[http]\nlisten = "127.0.0.1:{port}"\n'
    text += f'push = {"true" if push else "false"}\npush_debounce = "{debounce}"\n'
    if websub:
        text += f'public_url = "http://127.0.0.1:{port}"\n'
    env: dict[str, str] = {}
    if websub_key is not None:
        text += 'websub_key_env = "SYNDBOT_WEBSUB_KEY"\n'
        env["SYNDBOT_WEBSUB_KEY"] = websub_key
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env=env)
    with open_pipeline(config) as pipeline, service_running(pipeline):
        svc = PushedService(f"http://127.0.0.1:{port}", feeds, tmp_path / "outbox.jsonl")
        wait_for("the first poll", lambda: svc.feed_requests() >= 1)
        wait_for("the listener", lambda: _answers(f"{svc.base}/healthz"))
        yield svc


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2, trust_env=False)
    except httpx.TransportError:
        return False
    return True
