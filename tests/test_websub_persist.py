"""WebSub subscriptions kept in the database with a key from the environment
(``[http] websub_key_env``): secrets derived, never stored; re-used after a restart; the
feeds that left the config unsubscribed. The hub is a loopback server that records forms."""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.store import SQLiteStore
from bot.websub import SubscribeError, Subscriber
from bot.websub_feeds import Subscriptions
from tests.fakes.loopback import Loopback, LoopbackHandler
from tests.test_push_websub_core import TOPIC, Clock, RecordingHub, _sign

KEY = b"k" * 40
LEASE = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.lease_seconds": "1000"}


@pytest.fixture
def hub() -> Iterator[RecordingHub]:
    server = RecordingHub().start()
    try:
        yield server
    finally:
        server.close()


class Wall(Clock):
    now = 1_800_000_000.0


nudged: list[str] = []  # feeds the subscribers asked to poll


def _subscriber(http: httpx.Client, store: SQLiteStore, clock: Clock, wall: Wall) -> Subscriber:
    return Subscriber(
        "https://bot.example",
        http=http,
        nudge=nudged.append,
        clock=clock,
        wall=wall,
        allow_private=True,
        key=KEY,
        store=store,
    )


def test_a_verified_subscription_is_reused_after_a_restart(
    tmp_path: Path, hub: RecordingHub
) -> None:
    """The secret sent to the hub is HMAC-SHA256(key, callback token) and is nowhere in the
    database file; after a restart (new process clock, same wall clock minus 300 s of the
    1000 s lease) the same callback still accepts a notification signed with it, nothing
    is asked of the hub, and the lease is renewed at 80 % of its original length."""
    db = tmp_path / "state.db"
    clock, wall = Clock(), Wall()
    with httpx.Client(trust_env=False) as http, SQLiteStore.open(db) as store:
        first = _subscriber(http, store, clock, wall)
        sub = first.subscribe("f", topic=TOPIC, hub=hub.url("/"))
        assert store.websub_subscriptions() == []  # kept only once the hub verified it
        assert first.verify(sub.token, {**LEASE, "hub.challenge": "c"}) == "c"
    expected = hmac.new(KEY, sub.token.encode(), hashlib.sha256).hexdigest()
    assert hub.requests[0]["hub.secret"] == sub.secret == expected
    assert sub.secret.encode() not in db.read_bytes()
    assert sub.token.encode() in db.read_bytes()

    clock.now, wall.now = 5.0, wall.now + 300.0  # restarted: a new monotonic clock
    nudged.clear()
    with httpx.Client(trust_env=False) as http, SQLiteStore.open(db) as store:
        again = _subscriber(http, store, clock, wall)
        assert again.restore({"f"}) == set()
        (back,) = again.subscriptions()
        assert (back.token, back.topic, back.active) == (sub.token, TOPIC, True)
        assert again.notified(sub.token, b"<rss/>", _sign(expected, b"<rss/>", "sha256"))
        assert again.notified(sub.token, b"<rss/>", _sign("guess", b"<rss/>", "sha256")) is False
        assert nudged == ["f"]
        clock.now = 5.0 + 499.0  # 300 + 499 < 800 s: not yet
        assert again.renew_due() == 0
        clock.now = 5.0 + 500.0
        assert again.renew_due() == 1
    assert len(hub.requests) == 2  # the first subscribe and the renewal, nothing at restart


def test_a_lapsed_lease_is_not_reused(tmp_path: Path, hub: RecordingHub) -> None:
    """A stored subscription whose lease ran out while syndbot was stopped is deleted at
    start, so the feed is subscribed afresh."""
    clock, wall = Clock(), Wall()
    with httpx.Client(trust_env=False) as http, SQLiteStore.open(tmp_path / "s.db") as store:
        first = _subscriber(http, store, clock, wall)
        sub = first.subscribe("f", topic=TOPIC, hub=hub.url("/"))
        first.verify(sub.token, LEASE)
        wall.now += 1000.0
        again = _subscriber(http, store, clock, wall)
        assert again.restore({"f"}) == set()
        assert again.subscriptions() == []
        assert store.websub_subscriptions() == []


def test_a_feed_that_left_the_config_is_unsubscribed(tmp_path: Path, hub: RecordingHub) -> None:
    """At the first tick after a restart, a stored subscription of a feed no longer in the
    config is unsubscribed at its hub, on its stored callback; once the hub verifies that,
    its row is gone. Stopping keeps the others subscribed (no unsubscribe is sent)."""
    clock, wall = Clock(), Wall()
    with httpx.Client(trust_env=False) as http, SQLiteStore.open(tmp_path / "s.db") as store:
        first = _subscriber(http, store, clock, wall)
        gone = first.subscribe("gone", topic=TOPIC, hub=hub.url("/"))
        first.verify(gone.token, LEASE)
        hub.requests.clear()

        subs = Subscriptions(_subscriber(http, store, clock, wall), [], http, clock=clock)
        subs.tick()
        (asked,) = hub.requests
        assert asked["hub.mode"] == "unsubscribe"
        assert asked["hub.callback"] == f"https://bot.example/websub/callback/{gone.token}"
        mode = {"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.challenge": "bye"}
        assert subs.subscriber.verify(gone.token, mode) == "bye"
        assert store.websub_subscriptions() == []
        subs.close()
        assert len(hub.requests) == 1


class _VerifyThenHangUp(LoopbackHandler):
    """A hub that verifies the intent (through ``owner.verify``) and then loses its answer."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.owner.verify(form["hub.callback"].rsplit("/", 1)[1], {**LEASE, "hub.challenge": "c"})
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


def test_a_verified_subscription_is_kept_when_the_hubs_answer_is_lost(tmp_path: Path) -> None:
    """A hub verifies before it answers: when its answer is then lost (syndbot stopping
    mid-request, a dropped connection), the subscription it verified is kept, in memory
    and in the database, instead of being dropped while the hub holds it."""
    with (
        httpx.Client(trust_env=False) as http,
        SQLiteStore.open(tmp_path / "s.db") as store,
        Loopback(_VerifyThenHangUp) as hub,
    ):
        sub = _subscriber(http, store, Clock(), Wall())
        hub.verify = sub.verify
        with pytest.raises(SubscribeError):
            sub.subscribe("f", topic=TOPIC, hub=hub.url("/"))
        (kept,) = sub.subscriptions()
        assert kept.active
        assert [row.token for row in store.websub_subscriptions()] == [kept.token]


def test_without_a_key_nothing_is_stored(tmp_path: Path, hub: RecordingHub) -> None:
    """Without websub_key_env secrets are random, no row is written and stopping
    unsubscribes (the behaviour before subscriptions were kept)."""
    with httpx.Client(trust_env=False) as http, SQLiteStore.open(tmp_path / "s.db") as store:
        sub = Subscriber(
            "https://bot.example", http=http, nudge=print, allow_private=True, store=store
        )
        s = sub.subscribe("f", topic=TOPIC, hub=hub.url("/"))
        sub.verify(s.token, LEASE)
        assert not sub.persistent
        assert store.websub_subscriptions() == []
        assert s.secret != hmac.new(KEY, s.token.encode(), hashlib.sha256).hexdigest()


FEED = 'channels = []\n[[feeds]]\nname = "f"\nurl = "builtin:demo"\n'


@pytest.mark.parametrize(
    ("name", "env", "message"),
    [
        ("ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7", {}, "looks like a secret"),
        ("WS_KEY", {}, "WS_KEY is not set"),
        ("WS_KEY", {"WS_KEY": "short"}, "shorter than 32"),
    ],
)
def test_websub_key_env_takes_a_name_of_a_long_enough_key(
    tmp_path: Path, name: str, env: dict[str, str], message: str
) -> None:
    """websub_key_env is the NAME of a variable: a pasted token is refused without being
    echoed, an unset variable is named, a short key is refused; a good one is read."""
    path = tmp_path / "syndbot.toml"
    path.write_text(f'{FEED}[http]\nlisten = 8787\nwebsub_key_env = "{name}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path, env=env)
    assert caught.value.key == "http.websub_key_env"
    assert "ghp_" not in str(caught.value)
    if name == "WS_KEY":
        http = load_config(path, env={name: "x" * 40}).http
        assert http is not None
        assert http.websub_key is not None
        assert http.websub_key.get() == "x" * 40
