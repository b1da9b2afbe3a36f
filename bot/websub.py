"""A WebSub subscriber: feeds that name a hub tell syndbot themselves when they change.

    subscriber = Subscriber(public_url, http=client, nudge=lambda feed: ...)
    subscriber.subscribe("evnews", topic="https://evnews.example/feed/", hub="https://hub.example/")
    # the hub GETs  <public_url>/websub/callback/<token>?hub.mode=subscribe&hub.challenge=...
    # and later POSTs the feed there, signed with X-Hub-Signature: sha512=<hex>

- Each subscription has its own unguessable callback path (``token``) and a random secret
  (43 bytes, the hub's limit is 200), so a notification can only come from that hub.
- An intent is verified (the challenge echoed) only for the topic we asked for, in the
  mode we asked for, on a token we handed out; anything else is 404.
- A notification must carry ``X-Hub-Signature`` (sha1, sha256, sha384 or sha512) over
  the exact body, compared in constant time. A bad or missing one is answered 2xx (as the
  spec asks) and dropped. A good one is still only a hint: the configured feed is polled,
  the pushed body is never read as content.
- The lease is renewed at 80 % of its length (``due``, clock passed in).
- A hub link comes from the feed's author, not the operator: unless private addresses
  are allowed, only hubs on public addresses are contacted.

Without a key, subscriptions live in memory: at stop syndbot unsubscribes, after a
restart it subscribes again with new tokens (old callbacks answer 410 Gone, which tells a
hub to drop them). With a key (``[http] websub_key_env``) each secret is
HMAC-SHA256(key, token), so only topic, hub, token and lease are stored (``store``):
verified subscriptions are re-used after a restart, and those of feeds that left the
config are unsubscribed.

Which feeds are subscribed (the hub each names, retries, pacing) is ``bot.websub_feeds``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from bot.errors import FetchError
from bot.netguard import check_public_url
from bot.store.websub import StoredSubscription

log = logging.getLogger("syndbot.websub")
CALLBACK_PATH = "/websub/callback/"
LEASE_SECONDS = 7 * 86400  # asked for; the hub decides
RENEW_AT = 0.8  # of the lease
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384}
ALGORITHMS["sha512"] = hashlib.sha512


class SubscriptionStore(Protocol):
    def websub_subscriptions(self) -> list[StoredSubscription]: ...
    def save_websub_subscription(self, sub: StoredSubscription) -> None: ...
    def delete_websub_subscription(self, token: str) -> None: ...


class SubscribeError(Exception):
    """The hub refused or could not be reached; polling goes on regardless."""


@dataclass
class Subscription:
    feed: str
    topic: str
    hub: str
    token: str  # the callback path segment
    secret: str
    mode: str = "subscribe"  # the intent we are waiting to have verified
    asked_at: float = 0.0
    verified_at: float | None = None
    lease_seconds: float | None = None

    @property
    def active(self) -> bool:
        return self.mode == "subscribe" and self.verified_at is not None

    def due(self, now: float) -> bool:
        """True when the lease should be renewed (80 % of it has passed) or has lapsed."""
        if self.verified_at is None or self.lease_seconds is None:
            return False
        return now >= self.verified_at + RENEW_AT * self.lease_seconds

    def lapsed(self, now: float) -> bool:
        if self.verified_at is None or self.lease_seconds is None:
            return False
        return now >= self.verified_at + self.lease_seconds


def signature_ok(secret: str, header: str | None, body: bytes) -> bool:
    """True when ``header`` ("sha256=<hex>") is the HMAC of ``body`` under ``secret``."""
    if not header or "=" not in header:
        return False
    method, _, received = header.partition("=")
    digest = ALGORITHMS.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, received.strip().lower())


class Subscriber:
    """Subscriptions by callback token; thread-safe. ``nudge(feed)`` polls a feed early."""

    def __init__(
        self,
        public_url: str,
        *,
        http: httpx.Client,
        nudge: Callable[[str], object],
        clock: Callable[[], float] = time.monotonic,
        allow_private: bool = False,
        lease_seconds: int = LEASE_SECONDS,
        key: bytes | None = None,
        store: SubscriptionStore | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._base = public_url.rstrip("/")
        self._key = key
        self._store = store if key is not None else None  # no key: nothing to re-use
        self._wall = wall
        self._http = http
        self._nudge = nudge
        self._clock = clock
        self._allow_private = allow_private
        self._lease = lease_seconds
        self._by_token: dict[str, Subscription] = {}
        self._lock = threading.Lock()

    def callback_url(self, sub: Subscription) -> str:
        return f"{self._base}{CALLBACK_PATH}{sub.token}"

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._by_token.values())

    def subscribe(self, feed: str, *, topic: str, hub: str) -> Subscription:
        """Ask ``hub`` for ``topic`` with a new callback and secret; the hub verifies later."""
        token = secrets.token_urlsafe(24)
        sub = Subscription(
            feed=feed,
            topic=topic,
            hub=hub,
            token=token,
            secret=self._secret_for(token),
            asked_at=self._clock(),
        )
        with self._lock:
            self._by_token[sub.token] = sub
        self._request(sub, "subscribe")
        return sub

    @property
    def persistent(self) -> bool:
        """True when verified subscriptions are kept in the database across restarts."""
        return self._store is not None

    def _secret_for(self, token: str) -> str:
        if self._key is None:
            return secrets.token_urlsafe(32)
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def restore(self, feeds: set[str]) -> set[str]:
        """Take back the stored subscriptions whose lease runs; return the feeds among
        them that are not in ``feeds`` (they left the config: unsubscribe them)."""
        if self._store is None:
            return set()
        now, wall = self._clock(), self._wall()
        for row in self._store.websub_subscriptions():
            left = row.lease_expires.timestamp() - wall
            if left <= 0:
                self._store.delete_websub_subscription(row.token)
                continue
            sub = Subscription(
                feed=row.feed,
                topic=row.topic,
                hub=row.hub,
                token=row.token,
                secret=self._secret_for(row.token),
                verified_at=now - max(row.lease_seconds - left, 0.0),
                lease_seconds=float(row.lease_seconds),
            )
            with self._lock:
                self._by_token[sub.token] = sub
        return {s.feed for s in self.subscriptions()} - feeds

    def _save(self, sub: Subscription) -> None:
        if self._store is None or sub.lease_seconds is None:
            return
        lease = int(sub.lease_seconds)
        expires = datetime.fromtimestamp(self._wall() + lease, UTC)
        self._store.save_websub_subscription(
            StoredSubscription(sub.token, sub.feed, sub.topic, sub.hub, lease, expires)
        )

    def unsubscribe(self, feed: str) -> None:
        """Ask the hub to stop sending ``feed``; its callbacks answer 404/410 from now on."""
        with self._lock:
            mine = [s for s in self._by_token.values() if s.feed == feed]
        for sub in mine:
            sub.mode = "unsubscribe"
            try:
                self._request(sub, "unsubscribe")
            except SubscribeError as exc:
                log.info("websub unsubscribe feed=%s failed: %s", feed, exc)
                self._drop(sub)

    def renew_due(self) -> int:
        """Subscribe again (a new token and secret) for each lease at 80 %; the old
        subscription is dropped once the new one is verified."""
        now = self._clock()
        renewed = 0
        for sub in self.subscriptions():
            if sub.mode == "subscribe" and sub.due(now):
                sub.mode = "renewing"
                try:
                    self.subscribe(sub.feed, topic=sub.topic, hub=sub.hub)
                    renewed += 1
                except SubscribeError as exc:
                    sub.mode = "subscribe"
                    log.info("websub renewal feed=%s failed: %s", sub.feed, exc)
        return renewed

    def verify(self, token: str, params: Mapping[str, str]) -> str | None:
        """The challenge to echo when the hub verifies an intent we have, else None."""
        with self._lock:
            sub = self._by_token.get(token)
        if sub is None or params.get("hub.topic") != sub.topic:
            return None
        mode = params.get("hub.mode", "")
        if mode == "denied":
            log.warning("websub hub denied feed=%s: %s", sub.feed, params.get("hub.reason", ""))
            self._drop(sub)
            return ""
        if mode != sub.mode:
            return None
        if mode == "unsubscribe":
            self._drop(sub)
            return params.get("hub.challenge", "")
        try:
            lease = float(params.get("hub.lease_seconds", ""))
        except ValueError:
            lease = float(self._lease)
        sub.verified_at, sub.lease_seconds = self._clock(), max(lease, 1.0)
        self._save(sub)
        with self._lock:  # the subscription it renews is no longer needed
            renewed = [
                old
                for old in self._by_token.values()
                if old is not sub and old.feed == sub.feed and old.mode == "renewing"
            ]
        for old in renewed:
            self._drop(old)
        log.info("websub subscribed feed=%s lease=%.0fs", sub.feed, sub.lease_seconds)
        return params.get("hub.challenge", "")

    def notified(self, token: str, body: bytes, signature: str | None) -> bool | None:
        """None for an unknown token; False for a bad signature (dropped); True when the
        feed will be polled."""
        with self._lock:
            sub = self._by_token.get(token)
        if sub is None:
            return None
        if not signature_ok(sub.secret, signature, body):
            log.warning("websub notification for feed=%s dropped: bad signature", sub.feed)
            return False
        self._nudge(sub.feed)
        return True

    def forget(self, sub: Subscription) -> None:
        """Drop ``sub`` without asking the hub (its callback answers 410 from now on)."""
        self._drop(sub)

    def _drop(self, sub: Subscription) -> None:
        with self._lock:
            self._by_token.pop(sub.token, None)
        if self._store is not None:
            self._store.delete_websub_subscription(sub.token)

    def _request(self, sub: Subscription, mode: str) -> None:
        form = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.callback": self.callback_url(sub),
            "hub.lease_seconds": str(self._lease),
        }
        if mode == "subscribe":
            form["hub.secret"] = sub.secret
        try:
            if not self._allow_private:
                check_public_url(sub.hub)
            response = self._http.post(sub.hub, data=form)
        except (FetchError, httpx.HTTPError) as exc:
            # A hub verifies before it answers: if it did, it holds the subscription even
            # though its answer was lost (e.g. syndbot stopping mid-request), so keep it.
            if not (mode == "subscribe" and sub.active):
                self._drop(sub)
            raise SubscribeError(f"hub {sub.hub}: {exc}") from exc
        if response.status_code not in (202, 204):
            self._drop(sub)
            raise SubscribeError(f"hub {sub.hub} answered {response.status_code}")
