"""The only module that wires feeds, summariser, compose, store and publishers together.

    poll(feed)      FeedSource.fetch -> Store (seen items, pending deliveries)
    deliver(chan)   Store (due deliveries) -> compose -> Publisher.publish -> Store

Every state change goes through the store in one transaction, so a crash at any point
leaves each delivery pending, sending (resolved by ``recover_interrupted``) or final.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.budget import Budget, budget_status, next_allowed
from bot.compose import compose
from bot.compose.validate import validate_post
from bot.config import ChannelConfig, Config
from bot.errors import (
    AlreadyPosted,
    AuthError,
    FeedError,
    PublishError,
    RateLimited,
    Rejected,
    Skipped,
    Transient,
)
from bot.intake import record_items
from bot.models import Article, Delivery, Post, PublishResult
from bot.protocols import FeedSource, Publisher, Store, Summariser
from bot.retry import RetryPolicy, feed_backoff

log = logging.getLogger("syndbot")


class Reconcilable(Protocol):
    """A publisher that can tell whether a post with this key already went out."""

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None: ...


@dataclass(frozen=True)
class PollReport:
    feed: str
    new: int = 0
    queued: int = 0
    edited: int = 0
    not_modified: bool = False
    skipped: bool = False  # backing off after errors
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryReport:
    delivery_id: int
    channel: str
    item_id: str
    outcome: str  # sent | retry | failed | skipped | paused
    detail: str = ""
    post: Post | None = None


def idempotency_key(feed: str, item_id: str, channel: str) -> str:
    """Stable per (item, channel), short, and free of anything secret."""
    digest = hashlib.sha256(f"{feed}\0{item_id}\0{channel}".encode()).hexdigest()
    return f"syndbot-{digest[:32]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pipeline:
    config: Config
    store: Store
    sources: Mapping[str, FeedSource]
    publishers: Mapping[str, Publisher]
    summariser: Summariser
    clock: Callable[[], datetime] = utcnow
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    # ---- feeds -------------------------------------------------------------------------

    def poll_due(self, feed_name: str) -> PollReport:
        """Poll unless the feed is backing off after consecutive errors."""
        feed = self.config.feed(feed_name)
        state = self.store.feed_state(feed_name)
        if state.consecutive_errors and state.last_poll is not None:
            wait = feed_backoff(feed.interval, state.consecutive_errors)
            if self.clock() < state.last_poll + timedelta(seconds=wait):
                return PollReport(feed=feed_name, skipped=True, error=state.last_error)
        return self.poll(feed_name)

    def poll(self, feed_name: str) -> PollReport:
        """Fetch one feed, record what is new, queue deliveries. Never raises for feed trouble."""
        feed = self.config.feed(feed_name)
        source = self.sources[feed_name]
        state = self.store.feed_state(feed_name)
        now = self.clock()
        try:
            outcome = source.fetch(etag=state.etag, last_modified=state.last_modified)
        except FeedError as exc:
            new_state = self.store.record_poll_error(feed_name, now=now, error=str(exc))
            log.warning(
                "feed failed feed=%s errors=%d error=%s",
                feed_name,
                new_state.consecutive_errors,
                exc,
            )
            return PollReport(feed=feed_name, error=str(exc))
        if outcome.not_modified:
            self.store.record_poll_ok(
                feed_name, now=now, etag=state.etag, last_modified=state.last_modified
            )
            return PollReport(feed=feed_name, not_modified=True)
        first_poll = not state.initialised
        intake = record_items(
            self.store, self.config, feed, outcome.articles, now=now, first_poll=first_poll
        )
        self.store.record_poll_ok(
            feed_name, now=now, etag=outcome.etag, last_modified=outcome.last_modified
        )
        for warning in outcome.warnings:
            log.info("feed warning feed=%s %s", feed_name, warning)
        return PollReport(
            feed=feed_name,
            new=intake.new,
            queued=intake.queued,
            edited=intake.edited,
            warnings=outcome.warnings + intake.warnings,
        )

    # ---- deliveries --------------------------------------------------------------------

    def compose_for(self, article: Article, channel: ChannelConfig) -> Post:
        style = channel.style
        limits = getattr(self.publishers.get(channel.name), "instance_limits", None)
        if style.max_chars is None and limits is not None:
            # A Mastodon instance may allow more (or fewer) than 500 characters.
            try:
                style = dataclasses.replace(style, max_chars=limits()["max_characters"])
            except (PublishError, KeyError) as exc:
                log.info("instance limits unavailable channel=%s %s", channel.name, exc)
        return compose(article, style, summariser=self.summariser, now=self.clock())

    def paused_reason(self, channel: str) -> str | None:
        return self.store.channel_paused(channel)

    def recover_interrupted(self) -> int:
        """Resolve deliveries left in ``sending`` by a crash, without blind re-sends."""
        resolved = 0
        for delivery in self.store.sending_deliveries():
            resolved += 1
            now = self.clock()
            publisher = self.publishers.get(delivery.channel)
            key = idempotency_key(delivery.feed, delivery.item_id, delivery.channel)
            reconcile = getattr(publisher, "reconcile", None)
            if publisher is None or reconcile is None:
                self.store.mark_failed(
                    delivery.id,
                    now=now,
                    error="interrupted while sending and this platform cannot confirm whether "
                    "the post went out; check the account, then `syndbot retry` if it did not",
                )
                continue
            channel = self.config.channel(delivery.channel)
            try:
                found = reconcile(self.compose_for(delivery.article, channel), idempotency_key=key)
            except PublishError as exc:
                # The platform cannot be asked now (down, rate limited, token expired).
                # Raising would keep every channel from starting; treat it like a failed
                # send instead: it waits its backoff, and publishing is safe to retry.
                log.warning(
                    "cannot check interrupted delivery channel=%s item=%s: %s",
                    delivery.channel,
                    delivery.item_id,
                    exc,
                )
                self._handle_failure(delivery, exc)
                continue
            if found is not None:
                self.store.mark_sent(
                    delivery.id, now=now, remote_id=found.remote_id, remote_url=found.url
                )
            else:
                self.store.reschedule(
                    delivery.id, now=now, next_attempt=now, error="interrupted before sending"
                )
        return resolved

    def deliver(self, channel_name: str | None = None, *, limit: int = 20) -> list[DeliveryReport]:
        """Send what is due, oldest first, within each channel's budget.

        ``channel_name`` restricts to one channel. Posts beyond a budget stay pending, in
        order, and go out when the budget allows (see ``bot.budget``).
        """
        reports: list[DeliveryReport] = []
        budgets: dict[str, tuple[Budget, list[datetime]]] = {}
        blocked: set[str] = set()
        for delivery in self.store.due_deliveries(self.clock(), limit=1000):
            channel = delivery.channel
            if channel_name is not None and channel != channel_name:
                continue
            if channel not in self.publishers or channel in blocked:
                continue  # removed from config (stays visible in status) or over budget
            if channel not in budgets:
                budget = Budget.for_channel(self.config.channel(channel))
                since = self.clock() - budget.lookback
                budgets[channel] = (budget, self.store.sent_times(channel, since=since))
            budget, sent = budgets[channel]
            if next_allowed(budget, sent, self.clock()) > self.clock():
                blocked.add(channel)
                continue
            report = self.deliver_one(delivery)
            if report.outcome == "sent":
                sent.append(self.clock())
            elif report.outcome == "paused":
                blocked.add(channel)  # credentials need a person: stop this channel's run
            reports.append(report)
            if len(reports) >= limit:
                break
        return reports

    def budget_status(self, channel_name: str) -> tuple[int, int, datetime | None]:
        """(posts in the last hour, in the last 24 h, when the next post may go if later)."""
        budget = Budget.for_channel(self.config.channel(channel_name))
        now = self.clock()
        sent = self.store.sent_times(channel_name, since=now - budget.lookback)
        return budget_status(budget, sent, now)

    def deliver_one(self, delivery: Delivery) -> DeliveryReport:
        channel = self.config.channel(delivery.channel)
        publisher = self.publishers[delivery.channel]
        now = self.clock()

        def report(outcome: str, detail: str = "", post: Post | None = None) -> DeliveryReport:
            return DeliveryReport(
                delivery.id, delivery.channel, delivery.item_id, outcome, detail, post
            )

        try:
            post = self.compose_for(delivery.article, channel)
        except ValueError as exc:  # e.g. a limit too small to hold the link: a person must act
            error = f"cannot compose a post for {channel.name}: {exc}"
            self.store.mark_failed(delivery.id, now=now, error=error)
            log.error("compose failed channel=%s item=%s %s", channel.name, delivery.item_id, exc)
            return report("failed", error)
        if post.extra.get("image_missing") == "true":
            reason = (
                f"{channel.platform} needs an image and this article has none; give it a "
                "featured image (media:content, enclosure or og:image) to post it there"
            )
            self.store.mark_skipped(delivery.id, now=now, reason=reason)
            return report("skipped", reason, post)
        problems = validate_post(post)
        if problems:
            error = "composed post is invalid: " + "; ".join(problems)
            self.store.mark_failed(delivery.id, now=now, error=error)
            log.error("post invalid channel=%s item=%s %s", channel.name, delivery.item_id, error)
            return report("failed", error, post)
        key = idempotency_key(delivery.feed, delivery.item_id, delivery.channel)
        self.store.mark_sending(delivery.id, now=now)
        try:
            result = self._reconcile_retry(publisher, delivery, post, key)
            if result is None:
                result = publisher.publish(post, idempotency_key=key)
        except AlreadyPosted as exc:
            result = PublishResult(remote_id=exc.remote_id or "already-posted", url=exc.url)
        except PublishError as exc:
            return report(*self._handle_failure(delivery, exc), post)
        except Exception as exc:  # a publisher bug must not lose the delivery
            log.exception("publisher crashed channel=%s item=%s", channel.name, delivery.item_id)
            wrapped = Transient(f"unexpected {type(exc).__name__}: {exc}", channel=channel.name)
            return report(*self._handle_failure(delivery, wrapped), post)
        self.store.mark_sent(
            delivery.id, now=self.clock(), remote_id=result.remote_id, remote_url=result.url
        )
        log.info(
            "sent channel=%s item=%s remote=%s", channel.name, delivery.item_id, result.remote_id
        )
        return report("sent", result.url or result.remote_id, post)

    @staticmethod
    def _reconcile_retry(
        publisher: Publisher, delivery: Delivery, post: Post, key: str
    ) -> PublishResult | None:
        """Before a retry, ask the platform whether the last attempt got through after all
        (an answer lost to a timeout or dropped connection): never post twice."""
        reconcile = getattr(publisher, "reconcile", None)
        if delivery.attempts == 0 or reconcile is None:
            return None
        found: PublishResult | None = reconcile(post, idempotency_key=key)
        return found

    def _handle_failure(self, delivery: Delivery, exc: PublishError) -> tuple[str, str]:
        now = self.clock()
        attempts = delivery.attempts + 1
        if isinstance(exc, Skipped):
            self.store.mark_skipped(delivery.id, now=now, reason=str(exc))
            return "skipped", str(exc)
        if isinstance(exc, Rejected):
            self.store.mark_failed(delivery.id, now=now, error=f"rejected: {exc}")
            return "failed", str(exc)
        if isinstance(exc, AuthError):
            # Pause the whole channel; the delivery waits, it is not lost or retried blindly.
            self.store.pause_channel(delivery.channel, reason=str(exc), now=now)
            self.store.reschedule(delivery.id, now=now, next_attempt=now, error=f"auth: {exc}")
            return "paused", str(exc)
        if isinstance(exc, Transient) and exc.maybe_sent:
            publisher = self.publishers.get(delivery.channel)
            if getattr(publisher, "reconcile", None) is None:
                # No idempotency and no way to look: resending could post twice.
                error = (
                    f"{exc}; the platform may have published it without answering and "
                    "offers no way to check: look at the channel, then `syndbot retry "
                    f"--channel {delivery.channel}` if the post is missing"
                )
                self.store.mark_failed(delivery.id, now=now, error=error)
                return "failed", error
        delay = self.policy.delay(attempts, exc)
        if delay is None:
            self.store.mark_failed(
                delivery.id, now=now, error=f"gave up after {attempts} attempts: {exc}"
            )
            return "failed", str(exc)
        kind = "rate limited" if isinstance(exc, RateLimited) else "transient"
        self.store.reschedule(
            delivery.id,
            now=now,
            next_attempt=now + timedelta(seconds=delay),
            error=f"{kind}: {exc}",
        )
        log.warning(
            "retry later channel=%s item=%s in=%.0fs %s",
            delivery.channel,
            delivery.item_id,
            delay,
            exc,
        )
        return "retry", f"{kind}, next try in {delay:.0f}s: {exc}"
