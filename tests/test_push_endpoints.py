"""/ping (XML-RPC weblogUpdates) and /websub (hub.mode=publish) on a running service.

Real HTTP over loopback both ways: the pings go to syndbot's uvicorn listener and the
feed is served by a FeedServer that counts its GETs. The feed is polled every minute,
so every fetch after the first one in a test is caused by a push.
"""

from __future__ import annotations

import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import Item, rss
from tests.feedserver import FeedServer
from tests.offline import OfflineGuard
from tests.pushkit import FEED, PushedService, pushed_service, wait_for

FIRST = Item(guid="g1", title="Charging map grows", link="https://volt.example/1")
SECOND = Item(guid="g2", title="New e-bus line opens", link="https://volt.example/2")
QUIET = 1.5  # seconds a push would have fetched within (settle is 0.5 s)


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.route(FEED, body=rss([FIRST]).encode(), etag='"v1"')
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def svc(tmp_path: Path, feeds: FeedServer) -> Iterator[PushedService]:
    with pushed_service(tmp_path, feeds) as service:
        yield service


def _publish_second(feeds: FeedServer) -> None:
    feeds.route(FEED, body=rss([SECOND, FIRST]).encode(), etag='"v2"')


def test_a_ping_for_the_site_fetches_the_feed_within_a_second_and_posts(
    svc: PushedService, feeds: FeedServer
) -> None:
    """weblogUpdates.ping naming the site's home (what WordPress sends) makes the service
    fetch the configured feed within a second, and the new item reaches the outbox."""
    wait_for("the first post", lambda: svc.posted_links() == [FIRST.link])
    _publish_second(feeds)
    before = svc.feed_requests()
    answer = svc.ping("weblogUpdates.ping", "Volt Lane", feeds.url("/"))
    assert answer == {"flerror": False, "message": "Thanks for the ping."}
    assert wait_for("a fetch", lambda: svc.feed_requests() > before, timeout=1.0) < 1.0
    wait_for("the new post", lambda: SECOND.link in svc.posted_links())
    assert svc.posted_links() == [FIRST.link, SECOND.link]


def test_extended_ping_naming_the_feed_fetches_it(svc: PushedService, feeds: FeedServer) -> None:
    """weblogUpdates.extendedPing(name, home, feed) matches on its feed URL even when the
    home URL is elsewhere."""
    before = svc.feed_requests()
    answer = svc.ping(
        "weblogUpdates.extendedPing",
        "Volt Lane",
        "http://elsewhere.invalid/blog/",
        feeds.url(FEED),
    )
    assert answer["flerror"] is False
    wait_for("a fetch", lambda: svc.feed_requests() > before, timeout=1.0)


def test_a_ping_for_an_unknown_url_fetches_nothing(
    svc: PushedService, feeds: FeedServer, offline_guard: OfflineGuard
) -> None:
    """A ping naming no configured feed (another path, another host, a non-loopback
    address) is answered flerror=true and fetches nothing, anywhere."""
    time.sleep(0.3)  # let the first poll finish
    before = len(feeds.requests)
    for url in (feeds.url("/other/"), "http://192.0.2.7/feed.xml", "not a url"):
        answer = svc.ping("weblogUpdates.ping", "Someone", url)
        assert answer["flerror"] is True
        assert "no feed" in answer["message"]
    time.sleep(QUIET)
    assert len(feeds.requests) == before
    assert offline_guard.refused == []


def test_ten_pings_in_a_row_make_one_fetch(svc: PushedService, feeds: FeedServer) -> None:
    """Ten pings for the same site in a row are debounced into one fetch of the feed."""
    time.sleep(0.3)
    before = svc.feed_requests()
    for _ in range(10):
        assert svc.ping("weblogUpdates.ping", "Volt Lane", feeds.url("/"))["flerror"] is False
    time.sleep(QUIET)
    assert svc.feed_requests() == before + 1


def test_malformed_calls_get_faults_not_500(svc: PushedService, feeds: FeedServer) -> None:
    """Broken XML, a DOCTYPE with entities, an unknown method and missing params each get
    an XML-RPC fault with the interoperable code (never a 500), and fetch nothing."""
    time.sleep(0.3)
    before = svc.feed_requests()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>weblogUpdates.ping</methodName><params>"
        b"<param><value>&b;</value></param></params></methodCall>"
    )
    cases = {
        b"<methodCall><methodName>weblogUpdates.ping": -32700,
        bomb: -32700,
        b"\xff\xfe not xml at all": -32700,
        xmlrpc.client.dumps(("a", "b"), "system.shutdown").encode(): -32601,
        xmlrpc.client.dumps(("only a name",), "weblogUpdates.ping").encode(): -32602,
        xmlrpc.client.dumps((1, 2), "weblogUpdates.ping").encode(): -32602,
    }
    for body, code in cases.items():
        response = svc.post("/ping", body, "text/xml")
        assert response.status_code == 200, response.text
        with pytest.raises(xmlrpc.client.Fault) as fault:
            xmlrpc.client.loads(response.content)
        assert fault.value.faultCode == code, body
    too_big = svc.post("/ping", b"<" * (65 * 1024), "text/xml")
    with pytest.raises(xmlrpc.client.Fault):
        xmlrpc.client.loads(too_big.content)
    time.sleep(QUIET)
    assert svc.feed_requests() == before


@pytest.mark.parametrize("key", ["hub.url", "hub.topic"])
def test_websub_publish_fetches_the_feed_once(
    svc: PushedService, feeds: FeedServer, key: str
) -> None:
    """hub.mode=publish with hub.url (the WordPress WebSub plugin) or hub.topic answers 204
    and fetches the named feed once; the new item reaches the outbox."""
    wait_for("the first post", lambda: svc.posted_links() == [FIRST.link])
    _publish_second(feeds)
    before = svc.feed_requests()
    form = f"hub.mode=publish&{key}={feeds.url(FEED)}&{key}={feeds.url('/comments/feed')}"
    response = svc.post("/websub", form.encode(), "application/x-www-form-urlencoded")
    assert response.status_code == 204, response.text
    wait_for("a fetch", lambda: svc.feed_requests() > before, timeout=1.0)
    wait_for("the new post", lambda: SECOND.link in svc.posted_links())
    time.sleep(QUIET)
    assert svc.feed_requests() == before + 1


def test_websub_refuses_what_it_cannot_use(svc: PushedService, feeds: FeedServer) -> None:
    """A subscribe request, a publish without a URL and a publish for an unknown topic are
    400s that fetch nothing; an oversized body is 413."""
    time.sleep(0.3)
    before = svc.feed_requests()
    form = "application/x-www-form-urlencoded"
    subscribe = f"hub.mode=subscribe&hub.topic={feeds.url(FEED)}&hub.callback=http://x.invalid/"
    assert svc.post("/websub", subscribe.encode(), form).status_code == 400
    assert svc.post("/websub", b"hub.mode=publish", form).status_code == 400
    unknown = b"hub.mode=publish&hub.url=http://192.0.2.7/feed"
    assert svc.post("/websub", unknown, form).status_code == 400
    assert svc.post("/websub", b"a" * (65 * 1024), form).status_code == 413
    time.sleep(QUIET)
    assert svc.feed_requests() == before


def test_without_push_the_endpoints_do_not_exist(tmp_path: Path, feeds: FeedServer) -> None:
    """With [http] push off (the default) /ping and /websub are 404 and a ping polls nothing."""
    with pushed_service(tmp_path, feeds, push=False) as svc:
        time.sleep(0.3)
        before = svc.feed_requests()
        body = xmlrpc.client.dumps(("Volt Lane", feeds.url("/")), "weblogUpdates.ping")
        assert svc.post("/ping", body.encode(), "text/xml").status_code == 404
        assert svc.post("/websub", b"hub.mode=publish", "text/plain").status_code == 404
        time.sleep(QUIET)
        assert svc.feed_requests() == before


def test_the_bytes_wordpress_core_sends(svc: PushedService, feeds: FeedServer) -> None:
    """The request WordPress core's IXR client makes for an Update Service (its XML layout,
    Content-Type and User-Agent; home URL with a trailing slash, then the RSS2 feed URL)
    is answered flerror=false and fetches the feed."""
    time.sleep(0.3)
    before = svc.feed_requests()
    body = (
        '<?xml version="1.0"?>\n<methodCall>\n'
        "<methodName>weblogUpdates.extendedPing</methodName>\n<params>\n"
        "<param><value><string>Volt Lane &amp; Co</string></value></param>\n"
        f"<param><value><string>{feeds.url('/')}</string></value></param>\n"
        f"<param><value><string>{feeds.url(FEED)}</string></value></param>\n"
        "</params></methodCall>"
    ).encode()
    response = httpx.post(
        f"{svc.base}/ping",
        content=body,
        headers={
            "Content-Type": "text/xml",
            "User-Agent": "The Incutio XML-RPC PHP Library -- WordPress/6.8",
        },
        timeout=5,
        trust_env=False,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    (answer,), _ = xmlrpc.client.loads(response.content)
    assert answer == {"flerror": False, "message": "Thanks for the ping."}
    wait_for("a fetch", lambda: svc.feed_requests() > before, timeout=1.0)
