"""The web page over real HTTP on loopback, without a browser: login, session cookie,
CSRF, escaping of feed text, the actions and their log lines."""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.pipeline import Pipeline
from bot.web.ui import safe_url
from tests.webui import HOSTILE, IMAGE, PASSWORD, csrf_of, held_config, logged_in, served


def _pending(pipe: Pipeline) -> list[int]:
    return sorted(d.id for d in pipe.store.deliveries(status="pending"))


def test_ui_is_not_served_unless_enabled(tmp_path: Path) -> None:
    """Without ui = true, /ui is 404 while /healthz still answers."""
    config = held_config(tmp_path)
    assert config.http is not None
    off = replace(config, http=replace(config.http, ui=False, ui_password=None))
    with served(off) as site:
        assert httpx.get(f"{site.base}/", trust_env=False).status_code == 404
        health = httpx.get(site.base.removesuffix("/ui") + "/healthz", trust_env=False)
        assert health.status_code in (200, 503)


def test_wrong_password_is_refused_and_the_right_one_logs_in(tmp_path: Path) -> None:
    """A wrong password gets 403 and no access; the right one sets an HttpOnly,
    SameSite=Strict cookie limited to /ui and shows the queue."""
    with served(held_config(tmp_path)) as site:
        with logged_in(site.base, "wrong password") as (client, _):
            assert client.get(f"{site.base}/queue").status_code == 303  # to the login page
        with httpx.Client(trust_env=False) as client:
            token = csrf_of(client.get(f"{site.base}/login").text)
            answer = client.post(f"{site.base}/login", data={"csrf": token, "password": "nope"})
            assert answer.status_code == 403
            assert "Wrong password" in answer.text
            answer = client.post(f"{site.base}/login", data={"csrf": token, "password": PASSWORD})
            assert answer.status_code == 303
            cookie = answer.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=strict" in cookie
            assert "path=/ui" in cookie
            assert PASSWORD.lower() not in cookie
            queue = client.get(f"{site.base}/queue")
            assert queue.status_code == 200
            assert "Story 1" in queue.text


def test_post_without_or_with_a_wrong_csrf_token_is_refused(tmp_path: Path) -> None:
    """approve without the token or with another session's token is 403 and changes nothing."""
    with (
        served(held_config(tmp_path)) as site,
        logged_in(site.base) as (client, token),
        logged_in(site.base) as (_, other_token),
    ):
        target = _pending(site.pipe)[0]
        url = f"{site.base}/queue/{target}/approve"
        assert client.post(url, data={}).status_code == 403
        assert client.post(url, data={"csrf": other_token}).status_code == 403
        assert site.pipe.store.delivery(target).review == "awaiting"  # type: ignore[union-attr]
        assert client.post(url, data={"csrf": token}).status_code == 303
        assert site.pipe.store.delivery(target).review == "approved"  # type: ignore[union-attr]


def test_login_itself_needs_the_csrf_token(tmp_path: Path) -> None:
    """A login POST without the token (a cross-site login) is refused even with the password."""
    with served(held_config(tmp_path)) as site, httpx.Client(trust_env=False) as client:
        client.get(f"{site.base}/login")
        answer = client.post(f"{site.base}/login", data={"password": PASSWORD})
        assert answer.status_code == 403


def test_feed_text_is_escaped_and_scripts_are_forbidden(tmp_path: Path) -> None:
    """A title with a script tag is shown as text; the page forbids scripts by CSP."""
    with served(held_config(tmp_path)) as site, logged_in(site.base) as (client, _):
        for page in ("/queue", "/"):
            answer = client.get(f"{site.base}{page}")
            assert HOSTILE not in answer.text
            csp = answer.headers["content-security-policy"]
            assert "default-src 'none'" in csp
            assert "script-src" not in csp  # falls back to default-src 'none'
        assert html.escape(HOSTILE, quote=False) in client.get(f"{site.base}/queue").text


def test_actions_are_logged_with_who(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """approve, skip and a refused edit are logged as "ui: <action> delivery N by admin@..."."""
    with served(held_config(tmp_path)) as site:
        first, second = _pending(site.pipe)
        with (
            logged_in(site.base) as (client, token),
            caplog.at_level(logging.INFO, logger="syndbot.http"),
        ):
            client.post(f"{site.base}/queue/{first}/approve", data={"csrf": token})
            client.post(f"{site.base}/queue/{second}/skip", data={"csrf": token, "reason": "dup"})
            refused = client.post(
                f"{site.base}/queue/{second}/edit", data={"csrf": token, "text": "x"}
            )
        assert refused.status_code == 303  # skipped already: not waiting any more
        messages = [r.getMessage() for r in caplog.records]
        assert f"ui: approve delivery {first} by admin@127.0.0.1" in messages
        assert f"ui: skip delivery {second} by admin@127.0.0.1" in messages
        assert site.pipe.store.delivery(second).status == "skipped"  # type: ignore[union-attr]
        assert not any(PASSWORD in m for m in messages)


def test_an_over_long_edit_is_refused_with_its_count(tmp_path: Path) -> None:
    """An edit over the Mastodon limit answers 422 with count / limit and stores nothing."""
    with served(held_config(tmp_path)) as site:
        target = _pending(site.pipe)[0]
        before = site.pipe.store.delivery(target)
        with logged_in(site.base) as (client, token):
            answer = client.post(
                f"{site.base}/queue/{target}/edit", data={"csrf": token, "text": "a" * 600}
            )
        assert answer.status_code == 422
        assert "600 / 500" in answer.text
        assert site.pipe.store.delivery(target) == before


def test_a_post_card_shows_text_count_image_alt_and_link(tmp_path: Path) -> None:
    """The queue renders each held post like the platform would: its text with the link,
    the counted length against the limit, the image with its alt text, the actions."""
    with served(held_config(tmp_path)) as site, logged_in(site.base) as (client, _):
        target = _pending(site.pipe)[-1]
        post = site.pipe.store.delivery(target).post  # type: ignore[union-attr]
        assert post is not None
        page = client.get(f"{site.base}/queue").text
        card = page[page.index(f'id="delivery-{target}"') :]
        card = card[: card.index("</article>")]
        assert html.escape(post.parts[0].text, quote=False) in card
        assert f"{post.length.value} / 500 graphemes" in card
        assert f'<img src="{IMAGE}" alt="Story 1"' in card
        assert "alt: Story 1" in card
        for action in ("approve", "skip", "edit"):
            assert f'action="/ui/queue/{target}/{action}"' in card


def test_without_a_password_only_loopback_names_are_answered(tmp_path: Path) -> None:
    """No ui_password_env: 127.0.0.1 gets the page, a rebound Host name gets 403."""
    with served(held_config(tmp_path, password=False)) as site:
        assert httpx.get(f"{site.base}/queue", trust_env=False).status_code == 200
        rebound = httpx.get(
            f"{site.base}/queue", headers={"Host": "attacker.example"}, trust_env=False
        )
        assert rebound.status_code == 403


def test_retry_requeues_failed_posts_and_resumes_the_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed delivery is listed with its reason; Retry makes it pending and resumes the
    paused channel, like `syndbot retry`, and logs who did it."""
    with served(held_config(tmp_path)) as site:
        store = site.pipe.store
        target = _pending(site.pipe)[0]
        now = datetime.now(UTC)
        store.mark_sending(target, now=now)
        store.mark_failed(target, now=now, error="401 The access token is invalid")
        store.pause_channel("mastodon-out", reason="credentials refused", now=now)
        with (
            logged_in(site.base) as (client, token),
            caplog.at_level(logging.INFO, logger="syndbot.http"),
        ):
            problems = client.get(f"{site.base}/problems").text
            assert "401 The access token is invalid" in problems
            assert "paused" in client.get(f"{site.base}/").text
            answer = client.post(
                f"{site.base}/retry", data={"csrf": token, "channel": "mastodon-out"}
            )
            assert answer.status_code == 303
            assert "Re-queued 1 failed" in client.get(f"{site.base}/problems").text
        assert store.delivery(target).status == "pending"  # type: ignore[union-attr]
        assert store.channel_paused("mastodon-out") is None
        assert any(
            r.getMessage().startswith("ui: retry mastodon-out (1 re-queued, resumed mastodon-out)")
            for r in caplog.records
        )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://site.example/a", "https://site.example/a"),
        ("HTTP://site.example/", "HTTP://site.example/"),
        ("javascript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("data:text/html,<script>", ""),
        (None, ""),
    ],
)
def test_only_http_links_become_links(url: str | None, shown: str) -> None:
    """A feed's javascript: or data: link is never put in an href."""
    assert safe_url(url) == shown


def test_repeated_wrong_passwords_lock_the_address_out(tmp_path: Path) -> None:
    """After five wrong passwords even the right one is refused (429) from that address."""
    with served(held_config(tmp_path)) as site, httpx.Client(trust_env=False) as client:
        token = csrf_of(client.get(f"{site.base}/login").text)
        for _ in range(5):
            answer = client.post(f"{site.base}/login", data={"csrf": token, "password": "no"})
            assert answer.status_code == 403
        answer = client.post(f"{site.base}/login", data={"csrf": token, "password": PASSWORD})
        assert answer.status_code == 429
        assert "Too many wrong passwords" in answer.text
        assert client.get(f"{site.base}/queue").status_code == 303  # still not logged in
