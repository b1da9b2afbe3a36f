"""The web page in a real browser (Chromium through Playwright) against a running service:
a loopback feed, a loopback fake Mastodon, ``run_service`` in a thread on an ephemeral port.

One story, as an editor would live it: a wrong password is refused; after logging in the
held posts are shown with their counts; an over-long edit is refused with its count; the
fixed edit is approved and Mastodon receives it exactly once; a skipped post is never
sent; a POST without the CSRF token is refused; a title with a script tag is shown as
text and does not run. Screenshots of each page go to var/test-artifacts/web-ui/.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.pipeline import Pipeline
from tests.browser import ARTIFACTS
from tests.builders import Item, rss
from tests.fakes.mastodon_api import TOKEN, FakeMastodon
from tests.feedserver import FeedServer
from tests.servicethread import service_running
from tests.webui import HOSTILE, PASSWORD, PASSWORD_ENV

pytestmark = pytest.mark.browser
TOKEN_ENV = "SYNDBOT_TEST_MASTODON_TOKEN"
CHANNEL = "mastodon-en"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _config_text(tmp_path: Path, feed_url: str, masto: str, port: int) -> str:
    return f"""
[service]
database = "{tmp_path / "state.db"}"
poll_interval = "1m"
jitter = "0s"
deliver_interval = "1s"
allow_private_addresses = true

[http]
listen = "127.0.0.1:{port}"
ui = true
ui_password_env = "{PASSWORD_ENV}"

[[feeds]]
name = "site"
url = "{feed_url}"
catch_up = "all"
full_text = "never"

[[channels]]
name = "{CHANNEL}"
platform = "mastodon"
api_base = "{masto}"
approval = "manual"

[channels.credentials]
access_token = "{TOKEN_ENV}"

[channels.options]
instance = "{masto}"
"""


@contextmanager
def _running(tmp_path: Path, feed_url: str, masto: str) -> Iterator[tuple[Pipeline, str]]:
    """``syndbot run``'s service in a thread; yields its pipeline and the page's base URL."""
    port = _free_port()
    path = tmp_path / "syndbot.toml"
    path.write_text(_config_text(tmp_path, feed_url, masto, port), encoding="utf-8")
    config = load_config(path, env={PASSWORD_ENV: PASSWORD, TOKEN_ENV: TOKEN})
    with open_pipeline(config) as pipe, service_running(pipe):
        yield pipe, f"http://127.0.0.1:{port}/ui"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _card(page: Any, title: str) -> Any:
    return page.locator("article.post").filter(has_text=title)


def test_editor_reviews_the_queue_in_a_browser(tmp_path: Path, browser_context: Any) -> None:
    """Log in, refuse an over-long edit with its count, approve the fixed one (sent once),
    skip another (never sent), refuse a CSRF-less POST, show a script title as text."""
    items = [
        Item("g0", HOSTILE, "https://site.example/0/"),
        Item("g1", "Charging network doubles", "https://site.example/1/"),
        Item("g2", "Battery plant opens", "https://site.example/2/"),
    ]
    with FeedServer() as site, FakeMastodon() as masto:
        site.route("/feed.xml", body=rss(items).encode())
        with _running(tmp_path, site.url("/feed.xml"), masto.base) as (pipe, base):
            page = browser_context.new_page()
            _wait("the page", lambda: page.goto(f"{base}/login").status == 200)

            page.fill("#password", "not the password")
            page.click("button[type=submit]")
            assert page.get_by_role("alert").inner_text() == "Wrong password."
            page.goto(f"{base}/queue")
            assert page.url.endswith("/ui/login")  # still not logged in

            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            def three_held() -> bool:
                page.goto(f"{base}/queue")
                return page.locator("article.post .count").count() == 3

            _wait("three held posts with their counts", three_held)
            _shot(page, "queue")
            card = _card(page, "Charging network doubles")
            count = card.locator(".count").inner_text()
            assert count.endswith("/ 500 graphemes"), count
            assert int(count.split("/")[0]) > 0

            # The script title is text on the page, and it did not run.
            assert page.locator(".title").filter(has_text=HOSTILE).count() == 1
            assert page.evaluate("typeof window.__pwned") == "undefined"

            # An over-long edit is refused with its count; nothing changes.
            card.locator("summary").click()
            card.locator("textarea").fill("a" * 600)
            card.locator("button[name=save]").click()
            refusal = page.locator("#refused").inner_text()
            assert "600 / 500 graphemes" in refusal, refusal
            assert masto.statuses == []

            fixed = "200 new fast chargers this year.\n\nhttps://site.example/1/"
            card = _card(page, "Charging network doubles")
            card.locator("textarea").fill(fixed)
            card.locator("button[name=save]").click()
            assert "edited and approved" in page.get_by_role("status").inner_text()

            skipped = _card(page, "Battery plant opens")
            skipped.locator("input[name=reason]").fill("duplicate")
            skipped.locator("button[name=skip]").click()
            assert "skipped" in page.get_by_role("status").inner_text()

            _wait("the approved post at Mastodon", lambda: len(masto.statuses) == 1)
            time.sleep(3)  # three more delivery rounds: nothing else may go out
            texts = [str(s["content"]) for s in masto.statuses]
            assert len(texts) == 1
            assert "200 new fast chargers" in texts[0]
            sent = pipe.store.deliveries(status="sent")
            assert [d.article.title for d in sent] == ["Charging network doubles"]
            by_title = {d.article.title: d for d in pipe.store.deliveries()}
            assert by_title["Battery plant opens"].status == "skipped"
            assert by_title[HOSTILE].status == "pending"

            # A POST without the CSRF token is refused, with the session cookie sent.
            target = by_title[HOSTILE].id
            answer = page.request.post(
                f"{base}/queue/{target}/approve", form={"reason": "x"}, max_redirects=0
            )
            assert answer.status == 403
            assert pipe.store.delivery(target).review == "awaiting"  # type: ignore[union-attr]

            page.goto(f"{base}/history")
            link = page.get_by_role("link", name="view post")
            assert link.count() == 1
            assert link.get_attribute("href") == sent[0].remote_url
            _shot(page, "history")
            page.goto(f"{base}/")
            summary = page.locator(f"#channel-{CHANNEL}").inner_text()
            assert "1 waiting · 1 sent · 0 failed · 1 skipped" in summary, summary
            _shot(page, "overview")
            page.goto(f"{base}/problems")
            assert page.get_by_text("skipped in review: duplicate").count() == 1
            _shot(page, "problems")
            assert page.evaluate("typeof window.__pwned") == "undefined"
