"""Helpers for the web page's tests: a held queue on loopback, a logged-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.app import open_pipeline
from bot.config import Config, load_config
from bot.pipeline import Pipeline
from bot.web.metrics import Metrics
from bot.web.server import HttpService, build_app
from tests.builders import Item, rss, write_config

PASSWORD = "correct horse battery staple"
PASSWORD_ENV = "SYNDBOT_TEST_UI_PASSWORD"
HOSTILE = "<script>window.__pwned=1</script>"
IMAGE = "https://site.example/bus.jpg"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def held_config(tmp_path: Path, *, password: bool = True, items: int = 2) -> Config:
    """An outbox mastodon channel with approval = "manual", the web page on 127.0.0.1:0;
    item 0 is titled with a script tag, the last one has an image."""
    feed = tmp_path / "feed.xml"
    titles = [HOSTILE, *(f"Story {i}" for i in range(1, items))]
    entries = [Item(f"g{i}", t, f"https://site.example/{i}/") for i, t in enumerate(titles)]
    entries[-1].image = IMAGE  # never loaded: these tests read the HTML, no browser
    feed.write_text(rss(entries), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, platforms=("mastodon",), catch_up="all")
    ui = f'ui_password_env = "{PASSWORD_ENV}"\n' if password else ""
    text = path.read_text(encoding="utf-8") + 'approval = "manual"\n'
    path.write_text(text + f'[http]\nlisten = "127.0.0.1:0"\nui = true\n{ui}', encoding="utf-8")
    return load_config(path, env={PASSWORD_ENV: PASSWORD})


@dataclass
class Served:
    pipe: Pipeline
    base: str  # http://127.0.0.1:<port>/ui


@contextmanager
def served(config: Config) -> Iterator[Served]:
    """Poll once (the posts wait for approval) and serve the page on an ephemeral port."""
    with open_pipeline(config) as pipe:
        pipe.poll("f")
        for channel in config.channels:
            pipe.deliver(channel.name)
        app = build_app(
            config,
            pipe.store,
            Metrics(config, pipe.store, scheduler_running=lambda: True),
            scheduler_running=lambda: True,
            started_at=datetime.now(UTC),
        )
        assert config.http is not None
        service = HttpService.start(config.http, app)
        try:
            yield Served(pipe, f"http://127.0.0.1:{service.port}/ui")
        finally:
            service.stop()


@contextmanager
def logged_in(base: str, password: str = PASSWORD) -> Iterator[tuple[httpx.Client, str]]:
    """A client that tried to log in (cookies kept) and the session's CSRF token."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        token = csrf_of(client.get(f"{base}/login").text)
        answer = client.post(f"{base}/login", data={"csrf": token, "password": password})
        if answer.status_code == 303:
            token = csrf_of(client.get(f"{base}/queue").text)
        yield client, token
