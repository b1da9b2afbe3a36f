"""The only module that wires feeds, summariser, compose, store and publishers together.

    poll(feed)      FeedSource.fetch -> Store (seen items, pending deliveries)
    deliver(chan)   Store (due deliveries) -> compose -> Publisher.publish -> Store

Every state change goes through the store in one transaction, so a crash at any point
leaves each delivery pending, sending (resolved by ``recover_interrupted``) or final.
What a failed or interrupted send leads to is decided in ``bot.engine.delivery``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.compose import Summaries, compose
from bot.compose.validate import validate_post
from bot.config import ChannelConfig, Config
from bot.engine.budget import Budget, next_allowed
from bot.engine.delivery import Failures, already_posted, idempotency_key, reconcile_retry
from bot.engine.gate import filter_refusal
from bot.engine.intake import record_items
from bot.engine.retry import RetryPolicy, feed_backoff
from bot.errors import AlreadyPosted, FeedError, PublishError, Transient
from bot.models import Article, Delivery, Outcome, Post
from bot.observe import NullObserver, Observer
from bot.platform import InstanceLimits
from bot.protocols import FeedSource, Publisher, Store, Summariser
from bot.publishers.outbox import post_line
from bot.store.errors import DeliveryTaken

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
    outcome: Outcome
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
    observer: Observer = field(default_factory=NullObserver)
    # Every channel of an article asks for the same summaries: each is made once.
    summaries: Summaries = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.summaries = Summaries.of(self.summariser)

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
        started = time.monotonic()
        report = self._poll(feed_name)
        outcome = "error" if report.error else "not_modified" if report.not_modified else "ok"
        seconds = time.monotonic() - started
        self.observer.polled(feed_name, outcome=outcome, seconds=seconds, new_items=report.new)
        if outcome == "ok":
            log.info(
                "polled feed=%s: %d new items, %d posts queued",
                feed_name,
                report.new,
                report.queued,
            )
        elif outcome == "not_modified":
            log.info("polled feed=%s: not modified", feed_name)
        return report

    def _poll(self, feed_name: str) -> PollReport:
        feed = self.config.feed(feed_name)
        source = self.sources[feed_name]
        state = self.store.feed_state(feed_name)
        now = self.clock()
        # Validators only go back to the URL that issued them: after the feed's url was
        # changed, the old document's ETag could make the new one answer 304 for ever.
        etag, last_modified = state.validators_for(source.url)
        try:
            outcome = source.fetch(etag=etag, last_modified=last_modified)
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
                feed_name, now=now, etag=etag, last_modified=last_modified, url=source.url
            )
            return PollReport(feed=feed_name, not_modified=True)
        first_poll = not state.initialised
        intake = record_items(
            self.store, self.config, feed, outcome.articles, now=now, first_poll=first_poll
        )
        self.store.record_poll_ok(
            feed_name,
            now=now,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            url=source.url,
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
        publisher = self.publishers.get(channel.name)
        # A Mastodon instance may allow more (or fewer) than 500 characters.
        limits = publisher.limits() if isinstance(publisher, InstanceLimits) else None
        return compose(
            article, channel.style, summariser=self.summaries, now=self.clock(), limits=limits
        )

    def recover_interrupted(self, *, only: Sequence[Delivery] | None = None) -> int:
        """Resolve deliveries left in ``sending`` by a crash (or just ``only`` these, for a
        fleet taking over a channel), without blind re-sends.

        Each is looked for with the post stored when it was claimed; only a delivery
        claimed by a syndbot older than stored posts is composed again."""
        return self._failures().recover(
            lambda d: self.compose_for(d.article, self.config.channel(d.channel)), only=only
        )

    def deliver(self, channel_name: str | None = None, *, limit: int = 20) -> list[DeliveryReport]:
        """Send what is due, oldest first, within each channel's budget.

        ``channel_name`` restricts to one channel. Posts beyond a budget stay pending, in
        order, and go out when the budget allows (see ``bot.engine.budget``).
        """
        # Each channel's job asks only for its own deliveries (the store filters them).
        due = self.store.due_deliveries(self.clock(), limit=1000, channel=channel_name)
        return self._send(due, limit=limit, budgeted=True)

    def post_now(self, article: Article, channels: Sequence[str]) -> list[DeliveryReport]:
        """``syndbot post``: queue ``article`` on ``channels`` and send it now, the way
        ``deliver`` sends a due delivery, without waiting for a budget (a person asked).
        A channel that had this article queued before is left as it stands, also when a
        feed recorded it under its own id (a guid): it is matched by its link."""
        article = self._as_recorded(article)
        ids = set(self.store.queue(article, now=self.clock(), channels=channels))
        due = [d for d in self.store.due_deliveries(self.clock(), limit=10_000) if d.id in ids]
        return self._send(due, limit=len(due), budgeted=False)

    def _as_recorded(self, article: Article) -> Article:
        """``article`` under the feed and id a configured feed recorded it with (same
        normalised link), so posting a page a feed already queued or sent is not a second
        article; unchanged when no feed has it."""
        for feed in self.config.feeds:
            known = self.store.find_item(feed.name, article.item_id, article.url)
            if known is not None:
                return dataclasses.replace(article, feed=known.feed, item_id=known.item_id)
        return article

    def _send(self, due: Sequence[Delivery], *, limit: int, budgeted: bool) -> list[DeliveryReport]:
        """Deliver ``due`` in order, up to ``limit`` reports; a channel stops at its budget
        (when ``budgeted``) or once its credentials need a person."""
        reports: list[DeliveryReport] = []
        budgets: dict[str, tuple[Budget, list[datetime]]] = {}
        blocked: set[str] = set()
        for candidate in due:
            channel = candidate.channel
            if channel not in self.publishers:
                continue  # removed from config (stays visible in status)
            delivery = candidate
            if budgeted:  # `syndbot post` is a person's decision: no filters, no review
                # Admitted even while the channel waits, so the review queue fills in order.
                admitted = self.admit(candidate)
                if isinstance(admitted, DeliveryReport):
                    reports.append(admitted)  # filtered, held for review, or cannot be composed
                    continue
                delivery = admitted
            if channel in blocked:
                continue  # over budget, or paused
            if channel not in budgets:
                budget = Budget.for_channel(self.config.channel(channel))
                since = self.clock() - budget.lookback
                budgets[channel] = (budget, self.store.sent_times(channel, since=since))
            budget, sent = budgets[channel]
            if budgeted and next_allowed(budget, sent, self.clock()) > self.clock():
                blocked.add(channel)
                self.observer.budget_wait(channel)
                continue
            report = self.deliver_one(delivery)
            self.observer.delivered(channel, outcome=report.outcome)
            if report.outcome is Outcome.SENT:
                sent.append(self.clock())
            elif report.outcome is Outcome.PAUSED:
                blocked.add(channel)  # credentials need a person: stop this channel's run
            reports.append(report)
            if len(reports) >= limit:
                break
        return reports

    def admit(self, delivery: Delivery) -> Delivery | DeliveryReport:
        """``delivery`` if it may be sent now (budget permitting), else the report of what
        became of it: skipped by a filter, held for review (see ``bot.engine.approval``), or
        failed/skipped because no valid post can be composed.

        Only ``deliver`` admits; ``deliver_one`` (``syndbot post``, a person's decision)
        sends without filters or review."""
        if delivery.review is not None:
            return delivery  # in review already: held until due, or approved
        refused = self._filtered(delivery)
        if refused is not None:
            return refused
        channel = self.config.channel(delivery.channel)
        if channel.approval.mode == "auto":
            return delivery
        now = self.clock()
        post = self._post_for(delivery, channel, now)
        if isinstance(post, DeliveryReport):
            return post
        review, until = channel.approval.entry(now)
        try:
            self.store.hold_delivery(delivery.id, now=now, post=post, review=review, until=until)
        except DeliveryTaken:
            return _report(delivery, Outcome.TAKEN, "another syndbot process is handling it", post)
        detail = "waits for approval" if until is None else f"held until {until:%Y-%m-%d %H:%M}Z"
        log.info("held for review channel=%s item=%s %s", channel.name, delivery.item_id, detail)
        return _report(delivery, Outcome.HELD, detail, post)

    def _filtered(self, delivery: Delivery) -> DeliveryReport | None:
        """Record ``delivery`` as skipped when a filter refuses its article (bot.engine.gate)."""
        found = filter_refusal(self.config, delivery, now=self.clock())
        if found is None:
            return None
        self.store.mark_skipped(delivery.id, now=self.clock(), reason=found.reason)
        log.info("filtered channel=%s item=%s %s", delivery.channel, delivery.item_id, found.reason)
        self.observer.delivered(delivery.channel, outcome=Outcome.SKIPPED)
        return _report(delivery, Outcome.SKIPPED, found.reason)

    def deliver_one(self, delivery: Delivery) -> DeliveryReport:
        channel = self.config.channel(delivery.channel)
        publisher = self.publishers[delivery.channel]
        now = self.clock()

        def report(outcome: Outcome, detail: str = "", post: Post | None = None) -> DeliveryReport:
            return _report(delivery, outcome, detail, post)

        post = self._post_for(delivery, channel, now)
        if isinstance(post, DeliveryReport):
            return post
        key = idempotency_key(delivery.feed, delivery.item_id, delivery.channel)
        try:
            self.store.mark_sending(delivery.id, now=now, post=post)
        except DeliveryTaken:  # `syndbot post` and the service raced for it; one sends
            log.info("taken by another process channel=%s item=%s", channel.name, delivery.item_id)
            return report(Outcome.TAKEN, "another syndbot process is handling it", post)
        if delivery.review is not None:
            # A person may have edited it between our read and the claim; once claimed it
            # cannot change, so the stored post is the one to send.
            claimed = self.store.delivery(delivery.id)
            post = claimed.post if claimed is not None and claimed.post is not None else post
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
            "sent channel=%s item=%s %s remote=%s",
            channel.name,
            delivery.item_id,
            post_line(post),
            result.remote_id or result.note,
        )
        return report(Outcome.SENT, result.url or result.remote_id or result.note, post)

    def _post_for(
        self, delivery: Delivery, channel: ChannelConfig, now: datetime
    ) -> Post | DeliveryReport:
        """The post stored when the delivery was first attempted or held (never recomposed
        from today's config), else one composed and checked now, or the report of a
        delivery recorded as failed or skipped because it cannot be sent."""
        if delivery.post is not None:
            return delivery.post
        return self._fresh_post(delivery, channel, now)

    def _fresh_post(
        self, delivery: Delivery, channel: ChannelConfig, now: datetime
    ) -> Post | DeliveryReport:
        """The post composed and checked for a first attempt, or the report of a delivery
        recorded as failed or skipped because it cannot be sent."""
        try:
            post = self.compose_for(delivery.article, channel)
        except ValueError as exc:  # e.g. a limit too small to hold the link: a person must act
            error = f"cannot compose a post for {channel.name}: {exc}"
            self.store.mark_failed(delivery.id, now=now, error=error)
            log.error("compose failed channel=%s item=%s %s", channel.name, delivery.item_id, exc)
            return _report(delivery, Outcome.FAILED, error)
        if post.image_missing:
            reason = (
                f"{channel.platform} needs an image and this article has none; give it a "
                "featured image (media:content, enclosure or og:image) to post it there"
            )
            self.store.mark_skipped(delivery.id, now=now, reason=reason)
            return _report(delivery, Outcome.SKIPPED, reason, post)
        problems = validate_post(post)
        if problems:
            error = "composed post is invalid: " + "; ".join(problems)
            self.store.mark_failed(delivery.id, now=now, error=error)
            log.error("post invalid channel=%s item=%s %s", channel.name, delivery.item_id, error)
            return _report(delivery, Outcome.FAILED, error, post)
        return post

    def _failures(self) -> Failures:
        return Failures(self.store, self.publishers, self.policy, self.clock)


def _report(
    delivery: Delivery, outcome: Outcome, detail: str = "", post: Post | None = None
) -> DeliveryReport:
    return DeliveryReport(delivery.id, delivery.channel, delivery.item_id, outcome, detail, post)
