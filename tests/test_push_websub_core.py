"""bot.websub without a hub: signatures, intent verification and lease renewal, with the
clock passed in. The hub's side is a loopback server that records subscribe requests."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from bot.websub import ALGORITHMS, SubscribeError, Subscriber, signature_ok
from tests.fakes.loopback import Loopback, LoopbackHandler

TOPIC = "http://127.0.0.1:9/feed.xml"


class _HubHandler(LoopbackHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.owner.requests.append(form)
        self.send_response(self.owner.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RecordingHub(Loopback):
    """Answers every POST with ``status`` and keeps the forms it got."""

    def __init__(self) -> None:
        super().__init__(_HubHandler)
        self.requests: list[dict[str, str]] = []
        self.status = 202


@pytest.fixture
def hub() -> Iterator[RecordingHub]:
    server = RecordingHub().start()
    try:
        yield server
    finally:
        server.close()


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _sign(secret: str, body: bytes, algo: str) -> str:
    return f"{algo}={hmac.new(secret.encode(), body, ALGORITHMS[algo]).hexdigest()}"


@pytest.mark.parametrize("algo", ["sha1", "sha256", "sha384", "sha512"])
def test_signatures_of_every_algorithm(algo: str) -> None:
    """X-Hub-Signature with sha1..sha512 over the exact body passes; another body, secret
    or algorithm, a missing or malformed header fails."""
    body = b"<rss>new</rss>"
    good = _sign("s3cret", body, algo)
    assert signature_ok("s3cret", good, body)
    assert signature_ok("s3cret", good.upper().replace(algo.upper(), algo), body)
    assert not signature_ok("s3cret", good, body + b" ")
    assert not signature_ok("other", good, body)
    assert not signature_ok("s3cret", "md5=" + hashlib.md5(body).hexdigest(), body)
    for header in (None, "", "sha256", good.split("=")[1]):
        assert not signature_ok("s3cret", header, body)


def test_subscribe_sends_a_fresh_callback_and_secret(hub: RecordingHub) -> None:
    """Each subscription asks the hub with its own unguessable callback path and a secret
    under 200 bytes; two subscriptions never share either."""
    with httpx.Client(trust_env=False) as http:
        sub = Subscriber("https://bot.example/", http=http, nudge=print, allow_private=True)
        first = sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
        second = sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
    sent = hub.requests[0]
    assert sent["hub.mode"] == "subscribe"
    assert sent["hub.topic"] == TOPIC
    assert sent["hub.callback"] == f"https://bot.example/websub/callback/{first.token}"
    assert sent["hub.secret"] == first.secret
    assert len(first.token) >= 32
    assert 32 <= len(first.secret.encode()) < 200
    assert first.token != second.token
    assert first.secret != second.secret


def test_intents_are_verified_only_for_what_we_asked(hub: RecordingHub) -> None:
    """The challenge is echoed only for our token, our topic and the mode we asked for."""
    clock = Clock()
    with httpx.Client(trust_env=False) as http:
        sub = Subscriber(
            "https://bot.example", http=http, nudge=print, clock=clock, allow_private=True
        )
        s = sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
    asked = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.challenge": "c1"}
    assert sub.verify("not-a-token", asked) is None
    assert sub.verify(s.token, {**asked, "hub.topic": "http://127.0.0.1:9/other"}) is None
    assert sub.verify(s.token, {**asked, "hub.mode": "unsubscribe"}) is None
    assert not s.active
    assert sub.verify(s.token, {**asked, "hub.lease_seconds": "100"}) == "c1"
    assert s.active
    assert s.lease_seconds == 100


def test_a_lease_is_renewed_at_80_percent(hub: RecordingHub) -> None:
    """At 80 % of the lease a new subscription is asked for (new token and secret); once it
    is verified the old one is gone and its callback answers as unknown."""
    clock = Clock()
    with httpx.Client(trust_env=False) as http:
        sub = Subscriber(
            "https://bot.example", http=http, nudge=print, clock=clock, allow_private=True
        )
        old = sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
        sub.verify(
            old.token, {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.lease_seconds": "100"}
        )
        clock.now = 79.0
        assert sub.renew_due() == 0
        clock.now = 80.0
        assert sub.renew_due() == 1
        assert len(hub.requests) == 2
        new = next(s for s in sub.subscriptions() if s is not old)
        assert new.token != old.token
        assert sub.notified(old.token, b"x", _sign(old.secret, b"x", "sha256")) is True
        sub.verify(new.token, {"hub.mode": "subscribe", "hub.topic": TOPIC})
        assert [s.token for s in sub.subscriptions()] == [new.token]
        assert sub.notified(old.token, b"x", _sign(old.secret, b"x", "sha256")) is None


def test_notices_nudge_only_when_signed(hub: RecordingHub) -> None:
    """A correctly signed notice nudges its feed; a tampered body or a wrong secret does
    not; an unknown token is None (answered 410 Gone)."""
    nudged: list[str] = []
    with httpx.Client(trust_env=False) as http:
        sub = Subscriber("https://bot.example", http=http, nudge=nudged.append, allow_private=True)
        s = sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
    body = b"<rss>v2</rss>"
    assert (
        sub.notified(s.token, body + b"<!-- tampered -->", _sign(s.secret, body, "sha512")) is False
    )
    assert sub.notified(s.token, body, _sign("guess", body, "sha512")) is False
    assert nudged == []
    assert sub.notified(s.token, body, _sign(s.secret, body, "sha512")) is True
    assert nudged == ["f"]
    assert sub.notified("unknown", body, _sign(s.secret, body, "sha512")) is None


def test_a_refusing_or_private_hub_is_an_error_and_forgotten(hub: RecordingHub) -> None:
    """A hub answering 4xx, or (without allow_private) a hub on a loopback address, is a
    SubscribeError and leaves no subscription behind; nothing is sent to the latter."""
    hub.status = 400
    with httpx.Client(trust_env=False) as http:
        sub = Subscriber("https://bot.example", http=http, nudge=print, allow_private=True)
        with pytest.raises(SubscribeError, match="400"):
            sub.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
        strict = Subscriber("https://bot.example", http=http, nudge=print)
        with pytest.raises(SubscribeError, match="private"):
            strict.subscribe("f", topic=TOPIC, hub=hub.url("/hub"))
    assert sub.subscriptions() == []
    assert strict.subscriptions() == []
    assert len(hub.requests) == 1


def test_subscriptions_retry_a_silent_hub_and_a_lapsed_lease(hub: RecordingHub) -> None:
    """Subscriptions.tick subscribes a feed that names a hub; a subscription the hub never
    verified, or whose lease lapsed, is forgotten after the retry period and asked again."""
    from bot.websub_feeds import Subscriptions
    from tests.feedserver import FeedServer

    clock = Clock()
    with FeedServer() as feeds, httpx.Client(trust_env=False) as http:
        link = f'<{hub.url("/hub")}>; rel="hub", <{feeds.url("/f.xml")}>; rel="self"'
        feeds.route("/f.xml", body=b"<rss><channel></channel></rss>", headers={"Link": link})
        sub = Subscriber(
            "https://bot.example", http=http, nudge=print, clock=clock, allow_private=True
        )
        ticks = Subscriptions(sub, [("f", feeds.url("/f.xml"))], http, clock=clock, retry=600)
        ticks.tick()
        assert [r["hub.topic"] for r in hub.requests] == [feeds.url("/f.xml")]
        clock.now = 599.0
        ticks.tick()
        assert len(hub.requests) == 1  # still waiting for the hub's check
        clock.now = 600.0
        ticks.tick()
        assert len(hub.requests) == 2
        (current,) = sub.subscriptions()
        sub.verify(
            current.token,
            {"hub.mode": "subscribe", "hub.topic": current.topic, "hub.lease_seconds": "1000"},
        )
        clock.now = 1000.0
        ticks.tick()  # at 40 % of the lease: nothing to do
        assert len(hub.requests) == 2
        clock.now = 1600.0
        ticks.tick()  # lapsed without renewal (say, the hub was down): asked again
        assert len(hub.requests) == 3
        assert sub.notified(current.token, b"", None) is None


def test_polling_slows_while_a_lease_holds_and_returns_when_it_lapses(
    hub: RecordingHub,
) -> None:
    """Once the hub verified a subscription the feed's polling is slowed (pace True); a
    renewal keeps it slowed; when the lease lapses it returns to normal (pace False)."""
    from bot.websub_feeds import Subscriptions
    from tests.feedserver import FeedServer

    clock = Clock()
    paced: list[tuple[str, bool]] = []
    with FeedServer() as feeds, httpx.Client(trust_env=False) as http:
        link = f'<{hub.url("/hub")}>; rel="hub"'
        feeds.route("/f.xml", body=b"<rss><channel></channel></rss>", headers={"Link": link})
        sub = Subscriber(
            "https://bot.example", http=http, nudge=print, clock=clock, allow_private=True
        )
        ticks = Subscriptions(
            sub,
            [("f", feeds.url("/f.xml"))],
            http,
            clock=clock,
            pace=lambda f, on: paced.append((f, on)),
        )
        ticks.tick()
        assert paced == []  # asked, not verified yet
        (first,) = sub.subscriptions()
        sub.verify(
            first.token,
            {"hub.mode": "subscribe", "hub.topic": first.topic, "hub.lease_seconds": "100"},
        )
        ticks.tick()
        assert paced == [("f", True)]
        clock.now = 85.0
        ticks.tick()  # renewing at 80 %: the old lease still holds
        assert len(hub.requests) == 2
        assert paced == [("f", True)]
        clock.now = 100.0
        ticks.tick()  # the hub never verified the renewal and the lease lapsed
        assert paced == [("f", True), ("f", False)]


def test_set_interval_changes_a_jobs_pace() -> None:
    """JobQueue.set_interval makes a job that ran once a minute run every 0.2 s."""
    from bot.scheduler import JobQueue

    runs: list[int] = []
    jobs = JobQueue(workers=2)
    jobs.run_repeating(lambda: runs.append(1), every=60, first_in=60, name="poll:f")
    jobs.start()
    try:
        jobs.set_interval("poll:f", every=0.2)
        time.sleep(1.1)
    finally:
        jobs.stop()
    assert len(runs) >= 3
