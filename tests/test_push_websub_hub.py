"""The WebSub subscriber against a real hub (flask-websub's, in its own process on
loopback): subscribe and verify, a signed notification polls the feed, a tampered one
is ignored, and a hub that is down leaves the feed to polling.

The feed names the hub in its HTTP Link header, as the WordPress WebSub plugin does.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.config import HttpConfig
from bot.web.push import websub_callback_routes
from bot.web.server import HttpService
from bot.websub import Subscriber
from tests.builders import Item, rss
from tests.feedserver import FeedServer
from tests.pushkit import FEED, free_port, pushed_service, wait_for
from tests.websubhub import HUB_DIR_ENV, WebSubHub, hub_dir

# Skipped without the hub, except under CI=true, where .ci/run installs it.
pytestmark = pytest.mark.skipif(
    hub_dir() is None and os.environ.get("CI") != "true",
    reason=f"flask-websub not installed: run .ci/websub-setup.sh (${HUB_DIR_ENV})",
)
FIRST = Item(guid="g1", title="Charging map grows", link="https://volt.example/1")
SECOND = Item(guid="g2", title="New e-bus line opens", link="https://volt.example/2")


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.close()


def _serve(feeds: FeedServer, items: list[Item], hub_url: str, etag: str) -> None:
    link = f'<{hub_url}>; rel="hub", <{feeds.url(FEED)}>; rel="self"'
    feeds.route(FEED, body=rss(items).encode(), etag=etag, headers={"Link": link})


def test_subscribe_verify_and_signed_notification(tmp_path: Path, feeds: FeedServer) -> None:
    """syndbot subscribes at the hub its feed names (the hub verifies the intent through
    syndbot's listener); a publish at the hub reaches syndbot signed, and the feed's new
    item is fetched and posted within seconds although the feed is polled every minute."""
    with WebSubHub(tmp_path) as hub:
        _serve(feeds, [FIRST], hub.url, '"v1"')
        with pushed_service(tmp_path, feeds, push=False, websub=True) as svc:
            wait_for("a verified subscription", lambda: len(hub.callbacks(feeds.url(FEED))) == 1)
            ((callback, secret),) = hub.callbacks(feeds.url(FEED))
            assert callback.startswith(f"{svc.base}/websub/callback/")
            assert 0 < len(secret.encode()) < 200
            _serve(feeds, [SECOND, FIRST], hub.url, '"v2"')
            started = time.monotonic()
            assert hub.publish(feeds.url(FEED)).status_code == 202
            wait_for("the new post", lambda: SECOND.link in svc.posted_links(), timeout=10)
            assert time.monotonic() - started < 5
        assert hub.callbacks(feeds.url(FEED)) == []  # unsubscribed (and verified) at stop


def test_a_tampered_notification_is_answered_but_ignored(tmp_path: Path, feeds: FeedServer) -> None:
    """A notification whose body does not match its signature gets 202 and fetches
    nothing; the same body correctly signed does fetch."""
    with WebSubHub(tmp_path) as hub:
        _serve(feeds, [FIRST], hub.url, '"v1"')
        with pushed_service(tmp_path, feeds, push=False, websub=True) as svc:
            wait_for("a verified subscription", lambda: len(hub.callbacks(feeds.url(FEED))) == 1)
            ((callback, secret),) = hub.callbacks(feeds.url(FEED))
            time.sleep(0.5)
            before = svc.feed_requests()
            body = rss([SECOND, FIRST]).encode()
            signed = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            tampered = body.replace(b"e-bus", b"scam")
            answer = httpx.post(
                callback, content=tampered, headers={"X-Hub-Signature": signed}, trust_env=False
            )
            assert answer.status_code == 202
            time.sleep(1.5)
            assert svc.feed_requests() == before
            answer = httpx.post(
                callback, content=body, headers={"X-Hub-Signature": signed}, trust_env=False
            )
            assert answer.status_code == 202
            wait_for("a fetch", lambda: svc.feed_requests() > before, timeout=2)
            gone = httpx.post(f"{svc.base}/websub/callback/nope", content=body, trust_env=False)
            assert gone.status_code == 410


def test_a_hub_that_is_down_leaves_the_feed_to_polling(tmp_path: Path, feeds: FeedServer) -> None:
    """With the named hub unreachable, nothing is subscribed and the feed is still polled
    on its interval: a new item arrives by polling."""
    dead_hub = f"http://127.0.0.1:{free_port()}/hub"
    _serve(feeds, [FIRST], dead_hub, '"v1"')
    with pushed_service(tmp_path, feeds, push=False, websub=True, interval="2s") as svc:
        _serve(feeds, [SECOND, FIRST], dead_hub, '"v2"')
        wait_for("the new post by polling", lambda: SECOND.link in svc.posted_links(), timeout=15)


def test_a_kept_subscription_is_reused_after_a_restart(tmp_path: Path, feeds: FeedServer) -> None:
    """With websub_key_env set, stopping syndbot leaves the subscription at the hub; the
    restarted service (same database, same listener) subscribes nothing new and accepts
    the hub's notification on the old callback, signed with the secret derived from the
    key, and the new item is posted."""
    key, port = "k" * 40, free_port()
    with WebSubHub(tmp_path) as hub:
        _serve(feeds, [FIRST], hub.url, '"v1"')
        topic = feeds.url(FEED)
        with pushed_service(tmp_path, feeds, push=False, websub=True, port=port, websub_key=key):
            wait_for("a verified subscription", lambda: len(hub.callbacks(topic)) == 1)
        kept = hub.callbacks(topic)
        ((callback, secret),) = kept
        token = callback.rsplit("/", 1)[1]
        assert secret == hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()
        with pushed_service(
            tmp_path, feeds, push=False, websub=True, port=port, websub_key=key
        ) as svc:
            time.sleep(1.5)  # the first websub tick (1 s) restores rather than subscribes
            assert hub.callbacks(topic) == kept
            _serve(feeds, [SECOND, FIRST], hub.url, '"v2"')
            assert hub.publish(topic).status_code == 202
            wait_for("the new post", lambda: SECOND.link in svc.posted_links(), timeout=10)
        assert hub.callbacks(topic) == kept


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lease_renewal_at_the_real_hub(tmp_path: Path, feeds: FeedServer) -> None:
    """At 80 % of the lease the hub granted (clock passed in) syndbot subscribes again with
    a new callback and secret; the hub then notifies the new one, and the old callback
    answers 410 so the hub drops it."""
    clock = Clock()
    nudged: list[str] = []
    port = free_port()
    with WebSubHub(tmp_path) as hub, httpx.Client(trust_env=False) as http:
        subscriber = Subscriber(
            f"http://127.0.0.1:{port}",
            http=http,
            nudge=nudged.append,
            clock=clock,
            allow_private=True,
            lease_seconds=100,
        )
        service = HttpService.start(
            HttpConfig(port=port), Starlette(routes=websub_callback_routes(subscriber))
        )
        try:
            _serve(feeds, [FIRST], hub.url, '"v1"')
            topic = feeds.url(FEED)
            old = subscriber.subscribe("site", topic=topic, hub=hub.url)
            assert old.active  # the hub verified it before answering
            assert old.lease_seconds == 100
            clock.now = 79.0
            assert subscriber.renew_due() == 0
            clock.now = 80.0
            assert subscriber.renew_due() == 1
            (new,) = subscriber.subscriptions()
            assert new.active
            assert new.token != old.token
            assert len(hub.callbacks(topic)) == 2  # the hub still has the old one
            assert hub.publish(topic).status_code == 202
            assert nudged == ["site"]  # once: the old callback is gone (410)
            assert hub.callbacks(topic) == [(subscriber.callback_url(new), new.secret)]
        finally:
            service.stop()
