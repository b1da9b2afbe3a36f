"""The only module that wires feeds, summariser, compose, store and publishers together.

    poll(feed)      FeedSource.fetch -> Store (seen items, pending deliveries)
    deliver(chan)   Store (due deliveries) -> compose -> Publisher.publish -> Store

Every state change goes through the store in one transaction, so a crash at any point
leaves each delivery pending, sending (resolved by ``recover_interrupted``) or final.
What a failed or interrupted send leads to is decided in ``bot.delivery``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.budget import Budget, budget_status, next_allowed
from bot.compose import compose
from bot.compose.validate import validate_post
from bot.config import ChannelConfig, Config
from bot.delivery import Failures, already_posted, idempotency_key, reconcile_retry
from bot.errors import AlreadyPosted, FeedError, PublishError, Transient
from bot.intake import record_items
from bot.models import Article, Delivery, Post
from bot.protocols import FeedSource, Publisher, Store, Summariser
from bot.retry import RetryPolicy, feed_backoff

log = logging.getLogger("syndbot")


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
        return self._failures().recover(
            lambda d: self.compose_for(d.article, self.config.channel(d.channel))
        )

    def deliver(self, channel_name: str | None = None, *, limit: int = 20) -> list[DeliveryReport]:
        """Send what is due, oldest first, within each channel's budget.

        ``channel_name`` restricts to one channel. Posts beyond a budget stay pending, in
        order, and go out when the budget allows (see ``bot.budget``).
        """
        reports: list[DeliveryReport] = []
        budgets: dict[str, tuple[Budget, list[datetime]]] = {}
        blocked: set[str] = set()
        # Each channel's job asks only for its own deliveries (the store filters them).
        due = self.store.due_deliveries(self.clock(), limit=1000, channel=channel_name)
        for delivery in due:
            channel = delivery.channel
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
            result = reconcile_retry(publisher, delivery, post, key)
            if result is None:
                result = publisher.publish(post, idempotency_key=key)
        except AlreadyPosted as exc:
            result = already_posted(exc)
        except PublishError as exc:
            return report(*self._failures().handle(delivery, exc), post)
        except Exception as exc:  # a publisher bug must not lose the delivery
            log.exception("publisher crashed channel=%s item=%s", channel.name, delivery.item_id)
            wrapped = Transient(f"unexpected {type(exc).__name__}: {exc}", channel=channel.name)
            return report(*self._failures().handle(delivery, wrapped), post)
        self.store.mark_sent(
            delivery.id,
            now=self.clock(),
            remote_id=result.remote_id,
            remote_url=result.url,
            note=result.note or None,
        )
        log.info(
            "sent channel=%s item=%s remote=%s",
            channel.name,
            delivery.item_id,
            result.remote_id or result.note,
        )
        return report("sent", result.url or result.remote_id or result.note, post)

    def _failures(self) -> Failures:
        return Failures(self.store, self.publishers, self.policy, self.clock)
