"""The service's side of WebSub: which configured feeds are subscribed, and how.

``discover`` reads the hub a feed names (``Link: rel="hub"`` or ``atom:link rel="hub"``);
``Subscriptions`` subscribes each http(s) feed that names one through a
``bot.websub.Subscriber``, retries while a hub fails, renews leases, slows the polling
of pushed feeds and unsubscribes at stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import httpx

from bot.websub import SubscribeError, Subscriber, Subscription

log = logging.getLogger("syndbot.websub")


def hub_links(response: httpx.Response, feed_links: list[Mapping[str, str]]) -> tuple[str, str]:
    """(hub, self) from the HTTP ``Link`` header, else the feed's own links; "" if none."""
    found = {rel: link.get("url", "") for rel, link in response.links.items()}
    for link in feed_links:
        rel = link.get("rel", "")
        if rel in ("hub", "self") and rel not in found:
            found[rel] = link.get("href", "")
    return found.get("hub", ""), found.get("self", "") or str(response.url)


def discover(http: httpx.Client, url: str, *, max_bytes: int = 10_000_000) -> tuple[str, str]:
    """(hub, topic) that the feed at ``url`` advertises; hub is "" when it names none."""
    import feedparser  # the feeds' own parser, for atom:link rel="hub" in RSS and Atom

    body = bytearray()
    with http.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise httpx.HTTPError(f"feed larger than {max_bytes} bytes")
    links = feedparser.parse(bytes(body)).feed.get("links", [])
    hub, topic = hub_links(response, links)
    return (hub if hub.startswith(("http://", "https://")) else ""), topic


class Subscriptions:
    """The service's side: subscribe each http(s) feed that names a hub (retrying every
    ``retry`` seconds while a hub fails), renew leases, unsubscribe all at stop."""

    def __init__(
        self,
        subscriber: Subscriber,
        feeds: list[tuple[str, str]],
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.monotonic,
        retry: float = 600.0,
        pace: Callable[[str, bool], object] | None = None,
    ) -> None:
        self.subscriber = subscriber
        self._pace = pace  # pace(feed, True): it is pushed to, poll it less often
        self._paced: set[str] = set()
        self._feeds = [(n, u) for n, u in feeds if u.startswith(("http://", "https://"))]
        self._http = http
        self._clock = clock
        self._retry = retry
        self._tried: dict[str, float] = {}
        self._restored = False

    def tick(self) -> None:
        """Subscribe feeds without a live subscription (at most once per ``retry``), renew.
        The first tick takes back stored subscriptions and drops those of removed feeds."""
        if not self._restored:
            self._restored = True
            for feed in sorted(self.subscriber.restore({name for name, _ in self._feeds})):
                log.info("websub feed=%s left the config: unsubscribing", feed)
                self.subscriber.unsubscribe(feed)
        now = self._clock()
        live: set[str] = set()
        for sub in self.subscriber.subscriptions():
            if self._alive(sub, now):
                live.add(sub.feed)
            else:  # never verified, or the lease lapsed: its callback answers 410 now
                self.subscriber.forget(sub)
        for name, url in self._feeds:
            if name in live or now - self._tried.get(name, -self._retry) < self._retry:
                continue
            self._tried[name] = now
            try:
                hub, topic = discover(self._http, url)
                if hub:
                    self.subscriber.subscribe(name, topic=topic, hub=hub)
                    log.info("websub feed=%s: subscribing at %s", name, hub)
            except (httpx.HTTPError, SubscribeError) as exc:
                log.info("websub feed=%s: not subscribed (%s); polling goes on", name, exc)
        self.subscriber.renew_due()
        self._set_pace(now)

    def _set_pace(self, now: float) -> None:
        """Slow the polling of feeds with a verified lease; back to normal once it lapses."""
        pushed = {
            s.feed
            for s in self.subscriber.subscriptions()
            if s.verified_at is not None and s.mode != "unsubscribe" and not s.lapsed(now)
        }
        if self._pace is not None:
            for feed in sorted(pushed - self._paced):
                self._pace(feed, True)
            for feed in sorted(self._paced - pushed):
                self._pace(feed, False)
        self._paced = pushed

    def _alive(self, sub: Subscription, now: float) -> bool:
        """Verified and within its lease, or still waiting for the hub's check (a while)."""
        if sub.verified_at is None:
            return now - sub.asked_at < self._retry
        return not sub.lapsed(now)

    def close(self) -> None:
        """Unsubscribe every feed, unless the subscriptions are kept for the next start."""
        if not self.subscriber.persistent:
            for name, _ in self._feeds:
                self.subscriber.unsubscribe(name)
        self._http.close()
