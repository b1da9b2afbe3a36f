"""The reference site for real: WordPress (Debian's package) pings syndbot, syndbot posts.

WordPress is installed in a temporary directory and served on loopback (``tests/wordpress.py``);
syndbot's ``/ping`` is its only Update Service. Posts are published through WordPress's
REST API, WP-Cron is run the way a visitor's request runs it, and WordPress's own XML-RPC
ping makes syndbot fetch WordPress's own feed. syndbot polls the feed once an hour, so
every fetch after its first one comes from a ping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from tests.builders import write_config
from tests.fakes.images import png_bytes
from tests.pushkit import free_port, wait_for
from tests.servicethread import service_running
from tests.wordpress import WordPress, set_update_services

pytestmark = pytest.mark.wordpress

HINDI_SLUG = "दिल्ली-में-बिजली-बसें"
SETTLE = 3.0  # seconds a second post of the edited article would have taken (delivery: 1 s)


@contextmanager
def syndbot_on(tmp_path: Path, feed: str, port: int) -> Iterator[Path]:
    """``syndbot run`` on ``feed`` (polled hourly) with one outbox channel and /ping on
    ``port``; yields the outbox file."""
    path = write_config(tmp_path, feeds={"site": feed}, platforms=("mastodon",))
    text = path.read_text(encoding="utf-8").replace('"1m"', '"1h"', 1)
    text += f'[http]\nlisten = "127.0.0.1:{port}"\npush = true\npush_debounce = "1s"\n'
    path.write_text(text, encoding="utf-8")
    with open_pipeline(load_config(path, env={})) as pipeline, service_running(pipeline):
        yield tmp_path / "outbox.jsonl"


def _posts(outbox: Path) -> list[dict[str, Any]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines() if line]


def _feed_gets(wp: WordPress, status: str = "") -> int:
    """GETs of WordPress's RSS2 feed (answered ``status``: "200" read it, "304" did not)."""
    return sum(r.startswith("GET /feed/ " + status) for r in wp.requests())


def test_wordpress_pings_syndbot_and_each_post_goes_out_once(
    tmp_path: Path, wordpress: WordPress
) -> None:
    """Three posts published through WordPress's REST API (English, Hindi with a Devanagari
    slug, one with a featured image) reach the outbox channel once each after WP-Cron sends
    WordPress's ping, with their link (slug intact), title, summary and image taken from
    WordPress's own feed; editing a published post pings again, is fetched, and posts
    nothing more. WordPress requested nothing beyond itself and syndbot's /ping."""
    wp = wordpress
    port = free_port()
    ping_url = f"http://127.0.0.1:{port}/ping"
    set_update_services(wp, ping_url)
    with syndbot_on(tmp_path, f"{wp.home}/feed/", port) as outbox:
        wait_for("syndbot's first poll", lambda: _feed_gets(wp) >= 1, timeout=30)
        polled = _feed_gets(wp, "200")
        # WordPress's Last-Modified (and the ETag made from it) has one-second resolution:
        # a post modified in the second of the previous fetch would be answered 304.
        time.sleep(1.1)

        image = wp.api(
            "POST",
            "/wp/v2/media",
            content=png_bytes(1200, 630),
            headers={
                "Content-Type": "image/png",
                "Content-Disposition": 'attachment; filename="charger.png"',
            },
        ).json()
        published = [
            {
                "title": "Charging map grows to 400 stations",
                "slug": "charging-map-grows",
                "excerpt": "The city's public charging map now lists 400 stations.",
                "content": "<p>The city's public charging map now lists 400 stations.</p>",
            },
            {
                "title": "दिल्ली में नई बिजली बसें",
                "slug": HINDI_SLUG,
                "excerpt": "दिल्ली में आज से पचास नई बिजली बसें चलेंगी।",
                "content": "<p>दिल्ली में आज से पचास नई बिजली बसें चलेंगी।</p>",
            },
            {
                "title": "New fast charger opens downtown",
                "slug": "fast-charger-downtown",
                "excerpt": "A 350 kW charger opened on Main Street.",
                "content": "<p>A 350 kW charger opened on Main Street.</p>",
                "featured_media": image["id"],
            },
        ]
        ids = [
            wp.api("POST", "/wp/v2/posts", json={**post, "status": "publish"}).json()["id"]
            for post in published
        ]
        assert _posts(outbox) == []  # nothing before WordPress pings

        wp.run_cron()
        wait_for("three posts", lambda: len(_posts(outbox)) >= 3, timeout=30)
        assert _feed_gets(wp, "200") > polled

        posts = {unquote(p["article_url"]): p for p in _posts(outbox)}
        expected_links = [f"{wp.home}/{post['slug']}/" for post in published]
        assert sorted(posts) == sorted(expected_links)
        for post, link in zip(published, expected_links, strict=True):
            sent = posts[link]
            assert sent["title"] == post["title"]
            text = sent["parts"][0]["text"]
            assert post["excerpt"] in text, text
            media = sent["parts"][0]["media"]
            if "featured_media" in post:
                assert [m["url"] for m in media] == [image["source_url"]]
            else:
                assert media == []

        polled = _feed_gets(wp, "200")
        time.sleep(1.1)
        wp.api(
            "POST",
            f"/wp/v2/posts/{ids[0]}",
            json={"content": "<p>The map now lists 400 stations and 12 fast chargers.</p>"},
        )
        wp.run_cron()
        wait_for("the edited feed read", lambda: _feed_gets(wp, "200") > polled, timeout=30)
        time.sleep(SETTLE)
        assert len(_posts(outbox)) == 3

    # One ping per WP-Cron run: WordPress read syndbot's answer to weblogUpdates.extendedPing
    # (it falls back to weblogUpdates.ping when it cannot). Besides, it requested only itself.
    outgoing = wp.outgoing()
    assert outgoing.count(ping_url) == 2, outgoing
    assert all(url.startswith(f"{wp.home}/") for url in outgoing if url != ping_url), outgoing
