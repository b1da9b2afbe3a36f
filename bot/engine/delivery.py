"""What becomes of a delivery whose send failed or was cut off, for ``bot.pipeline``.

``Failures.handle`` turns a ``PublishError`` into the delivery's next state: skipped,
failed, its channel paused, or retried after the policy's delay. ``Failures.recover``
resolves deliveries a crash left in ``sending``. Neither may post twice: where the
platform can tell whether a post went out (``Reconciles``), it is asked before a resend;
where it cannot and the post may have gone, a person decides.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engine.retry import RetryPolicy
from bot.errors import (
    AlreadyPosted,
    AuthError,
    PublishError,
    RateLimited,
    Rejected,
    Skipped,
    Transient,
)
from bot.models import Delivery, Outcome, Post, PublishResult
from bot.platform import Reconciles
from bot.protocols import Publisher, Store

log = logging.getLogger("syndbot")


def idempotency_key(feed: str, item_id: str, channel: str) -> str:
    """Stable per (item, channel), short, and free of anything secret."""
    digest = hashlib.sha256(f"{feed}\0{item_id}\0{channel}".encode()).hexdigest()
    return f"syndbot-{digest[:32]}"


def reconcile_retry(
    publisher: Publisher, delivery: Delivery, post: Post, key: str
) -> PublishResult | None:
    """Before a retry, ask the platform whether the last attempt got through after all
    (an answer lost to a timeout or dropped connection): never post twice."""
    if delivery.attempts == 0 or not isinstance(publisher, Reconciles):
        return None
    return publisher.reconcile(post, idempotency_key=key)


def already_posted(exc: AlreadyPosted) -> PublishResult:
    """A "duplicate" answer counts as sent: with the existing post's id when the platform
    could name it, else with no id and a note saying so (never a made-up id)."""
    if exc.remote_id:
        return PublishResult(remote_id=exc.remote_id, url=exc.url)
    return PublishResult(
        remote_id=None, url=exc.url, note=f"the platform already had this post: {exc}"
    )


@dataclass(frozen=True)
class Failures:
    """Records failed and interrupted deliveries in the store."""

    store: Store
    publishers: Mapping[str, Publisher]
    policy: RetryPolicy
    clock: Callable[[], datetime]

    def recover(
        self, compose_again: Callable[[Delivery], Post], *, only: Sequence[Delivery] | None = None
    ) -> int:
        """Resolve deliveries left in ``sending`` by a crash (``only`` these, when given),
        without blind re-sends.

        ``reconcile`` looks for the post stored with the delivery when it was claimed;
        ``compose_again`` is only for a delivery claimed before posts were stored."""
        resolved = 0
        for delivery in self.store.sending_deliveries() if only is None else only:
            resolved += 1
            now = self.clock()
            publisher = self.publishers.get(delivery.channel)
            key = idempotency_key(delivery.feed, delivery.item_id, delivery.channel)
            if publisher is None or not isinstance(publisher, Reconciles):
                self.store.mark_failed(
                    delivery.id,
                    now=now,
                    error="interrupted while sending and this platform cannot confirm whether "
                    "the post went out; check the account, then `syndbot retry` if it did not",
                )
                continue
            try:
                post = delivery.post if delivery.post is not None else compose_again(delivery)
                found = publisher.reconcile(post, idempotency_key=key)
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
                self.handle(delivery, exc)
                continue
            if found is not None:
                self.store.mark_sent(
                    delivery.id,
                    now=now,
                    remote_id=found.remote_id,
                    remote_url=found.url,
                    note=found.note or None,
                )
            else:
                self.store.reschedule(
                    delivery.id, now=now, next_attempt=now, error="interrupted before sending"
                )
        return resolved

    def handle(self, delivery: Delivery, exc: PublishError) -> tuple[Outcome, str]:
        """Record the failed send; (outcome, detail) for the delivery report."""
        now = self.clock()
        attempts = delivery.attempts + 1
        if isinstance(exc, Skipped):
            self.store.mark_skipped(delivery.id, now=now, reason=str(exc))
            return Outcome.SKIPPED, str(exc)
        if isinstance(exc, Rejected):
            # The platform refused it: nothing went out, so `syndbot retry` after a config
            # fix composes the post again instead of resending the refused text.
            self.store.mark_failed(delivery.id, now=now, error=f"rejected: {exc}", forget_post=True)
            return Outcome.FAILED, str(exc)
        if isinstance(exc, AuthError):
            # Pause the whole channel; the delivery waits, it is not lost or retried blindly.
            self.store.pause_channel(delivery.channel, reason=str(exc), now=now)
            self.store.reschedule(delivery.id, now=now, next_attempt=now, error=f"auth: {exc}")
            return Outcome.PAUSED, str(exc)
        if isinstance(exc, Transient) and exc.maybe_sent:
            publisher = self.publishers.get(delivery.channel)
            if not isinstance(publisher, Reconciles):
                # No idempotency and no way to look: resending could post twice.
                error = (
                    f"{exc}; the platform may have published it without answering and "
                    "offers no way to check: look at the channel, then `syndbot retry "
                    f"--channel {delivery.channel}` if the post is missing"
                )
                self.store.mark_failed(delivery.id, now=now, error=error)
                return Outcome.FAILED, error
        return self._retry_later(delivery, exc, now, attempts)

    def _retry_later(
        self, delivery: Delivery, exc: PublishError, now: datetime, attempts: int
    ) -> tuple[Outcome, str]:
        delay = self.policy.delay(attempts, exc)
        if delay is None:
            self.store.mark_failed(
                delivery.id, now=now, error=f"gave up after {attempts} attempts: {exc}"
            )
            return Outcome.FAILED, str(exc)
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
        return Outcome.RETRY, f"{kind}, next try in {delay:.0f}s: {exc}"
