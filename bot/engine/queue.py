"""The review queue as plain functions: what waits per channel, and a person's decisions.

Library first: ``syndbot queue`` (``bot.cli.queue``) and a web page call these and only
render what they return. Every decision is one store transaction on a delivery that is
still pending, so a decision can never race a send into a duplicate: a post the service
already claimed raises ``NotQueued`` instead.

An edit counts as an approval: on a ``hold`` channel the edited post goes at the channel's
next free time without a new veto window; on a ``manual`` channel it needs no separate
``approve``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.compose.edit import EditRefused, edit_post
from bot.config import Config
from bot.engine.budget import Budget, next_allowed
from bot.errors import ConfigError, SyndbotError
from bot.models import Delivery, Length, Post
from bot.protocols import Store
from bot.store.errors import DeliveryTaken

log = logging.getLogger("syndbot")

SKIPPED_SHOWN = 5  # recently skipped deliveries listed under each channel


class QueueError(SyndbotError):
    """A queue action that cannot be done; the message says why and what to do."""


class NotQueued(QueueError):
    """No such delivery, or it is not waiting any more (sent, skipped, being sent)."""


class NotEditable(QueueError):
    """The delivery waits but has no reviewable post (an ``auto`` channel, or retried)."""


class EditInvalid(QueueError):
    """The edited text would be refused by the platform; ``length`` when it is too long."""

    def __init__(self, message: str, *, problems: list[str], length: Length | None) -> None:
        super().__init__(message)
        self.problems = problems
        self.length = length


@dataclass(frozen=True)
class QueueEntry:
    """One waiting delivery. ``state``: held, awaiting, approved or waiting (an ``auto``
    channel, not in review); ``due`` the expected send time (None: waits for a person)."""

    delivery: Delivery
    state: str
    due: datetime | None

    @property
    def id(self) -> int:
        return self.delivery.id

    @property
    def post(self) -> Post | None:
        return self.delivery.post

    @property
    def length(self) -> Length | None:
        return None if self.delivery.post is None else self.delivery.post.length


@dataclass(frozen=True)
class ChannelQueue:
    """What waits on one channel, in sending order, and what was skipped lately."""

    channel: str
    approval: str
    entries: tuple[QueueEntry, ...]
    skipped: tuple[Delivery, ...]


def list_queue(
    store: Store,
    config: Config,
    now: datetime,
    *,
    channel: str | None = None,
    skipped_shown: int = SKIPPED_SHOWN,
) -> list[ChannelQueue]:
    """Each configured channel (or ``channel``) with its waiting and recently skipped posts."""
    names = [channel] if channel is not None else [c.name for c in config.channels]
    queues: list[ChannelQueue] = []
    for name in names:
        settings = config.channel(name)
        pending = store.deliveries(status="pending", channel=name)
        skipped = store.deliveries(status="skipped", channel=name)
        recent = sorted(skipped, key=lambda d: (d.updated or now, d.id), reverse=True)
        queues.append(
            ChannelQueue(
                channel=name,
                approval=str(settings.approval),
                entries=tuple(_projected(pending, Budget.for_channel(settings), store, now)),
                skipped=tuple(recent[:skipped_shown]),
            )
        )
    return queues


def show(store: Store, config: Config, delivery_id: int, now: datetime) -> QueueEntry:
    """The waiting delivery ``delivery_id`` with its state and expected send time."""
    delivery = _waiting(store, delivery_id)
    try:
        queue = list_queue(store, config, now, channel=delivery.channel, skipped_shown=0)
    except ConfigError:  # the channel left the config: it waits, but will not be sent
        return QueueEntry(delivery, _state(delivery), None)
    return next(e for e in queue[0].entries if e.id == delivery_id)


def approve(store: Store, delivery_id: int, now: datetime) -> Delivery:
    """Let a held or awaiting post go at the channel's next free time. Approving twice is
    harmless; a post on an ``auto`` channel needs no approval and is refused."""
    delivery = _waiting(store, delivery_id)
    if delivery.review is None:
        raise NotEditable(
            f"delivery {delivery_id} on {delivery.channel} is not in review: its channel "
            'posts automatically (approval = "auto"); it goes out when due'
        )
    _decide(lambda: store.approve_delivery(delivery_id, now=now), delivery_id)
    log.info("approved channel=%s item=%s id=%d", delivery.channel, delivery.item_id, delivery_id)
    return store.delivery(delivery_id) or delivery


def skip(store: Store, delivery_id: int, now: datetime, *, reason: str = "") -> Delivery:
    """Never send this waiting post; ``reason`` is recorded and shown by ``status``."""
    delivery = _waiting(store, delivery_id)
    why = "skipped in review" + (f": {reason.strip()}" if reason.strip() else "")
    _decide(lambda: store.skip_pending(delivery_id, now=now, reason=why), delivery_id)
    log.info(
        "skipped channel=%s item=%s id=%d %s", delivery.channel, delivery.item_id, delivery_id, why
    )
    return delivery


def edit(store: Store, delivery_id: int, text: str, now: datetime) -> Post:
    """Replace a reviewed post's text and approve it; the platform's counting decides.

    Raises ``EditInvalid`` (with the count and limit when too long) and changes nothing
    when the platform would refuse the text."""
    delivery = _waiting(store, delivery_id)
    if delivery.review is None or delivery.post is None:
        raise NotEditable(
            f"delivery {delivery_id} on {delivery.channel} has no post in review: its "
            'channel posts automatically; set approval = "hold:15m" or "manual" to edit posts'
        )
    if delivery.attempts:
        raise NotEditable(
            f"delivery {delivery_id} was already attempted; its text stays as sent then so a "
            "retry cannot post a second, different copy"
        )
    try:
        post = edit_post(delivery.post, text)
    except EditRefused as exc:
        raise EditInvalid(
            f"delivery {delivery_id} not changed: {exc}", problems=exc.problems, length=exc.length
        ) from exc
    _decide(lambda: store.approve_delivery(delivery_id, now=now, post=post), delivery_id)
    log.info(
        "edited and approved channel=%s item=%s id=%d",
        delivery.channel,
        delivery.item_id,
        delivery_id,
    )
    return post


def _projected(
    pending: list[Delivery], budget: Budget, store: Store, now: datetime
) -> list[QueueEntry]:
    """Entries in sending order with their expected time under budgets and slots."""
    sent = store.sent_times(pending[0].channel, since=now - budget.lookback) if pending else []
    order = sorted(pending, key=lambda d: (d.next_attempt is None, d.next_attempt or now, d.id))
    entries: list[QueueEntry] = []
    for delivery in order:
        due: datetime | None = None
        if delivery.next_attempt is not None:
            due = next_allowed(budget, sent, max(now, delivery.next_attempt))
            sent = [*sent, due]
        entries.append(QueueEntry(delivery, _state(delivery), due))
    return entries


def _state(delivery: Delivery) -> str:
    return delivery.review or "waiting"


def _waiting(store: Store, delivery_id: int) -> Delivery:
    delivery = store.delivery(delivery_id)
    if delivery is None:
        raise NotQueued(f"no delivery with id {delivery_id}; see `syndbot queue` for the ids")
    if delivery.status != "pending":
        raise NotQueued(
            f"delivery {delivery_id} is {delivery.status}, not waiting; nothing was changed"
        )
    return delivery


def _decide(action: Callable[[], None], delivery_id: int) -> None:
    """Run one store decision; a delivery the service claimed meanwhile is ``NotQueued``."""
    try:
        action()
    except DeliveryTaken as exc:
        raise NotQueued(
            f"delivery {delivery_id} changed meanwhile (the service may be sending it); "
            "nothing was changed, see `syndbot queue`"
        ) from exc
