"""What every API publisher shares: its context and delivery notes (the HTTP edge, status
tables and scrubbing are in ``bot.publishers.edge``).

A publisher module exposes ``build(channel, ctx) -> Publisher``. It gets everything it
may touch from ``PublisherContext`` (an HTTP client tests can point at a local server, a
small per-channel state store for idempotency data, the clock), never from globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx


class ChannelStateStore(Protocol):
    """Non-secret JSON state per channel (e.g. Instagram container ids, a Bluesky session
    refresh marker). Implemented by the Store."""

    def channel_state(self, name: str) -> dict[str, Any]: ...

    def set_channel_state(self, name: str, state: dict[str, Any]) -> None: ...


class MemoryState:
    """A ChannelStateStore in memory, for previews and tests."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    def channel_state(self, name: str) -> dict[str, Any]:
        return dict(self._data.get(name, {}))

    def set_channel_state(self, name: str, state: dict[str, Any]) -> None:
        self._data[name] = dict(state)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class PublisherContext:
    """Everything a publisher may use besides its channel config."""

    http: httpx.Client
    state: ChannelStateStore = field(default_factory=MemoryState)
    clock: Callable[[], datetime] = _utcnow
    allow_private_media: bool = False  # fetch article images from private/loopback hosts
    user_agent: str = "syndbot"


class DeliveryNotes:
    """Small per-delivery records in the channel state, keyed by idempotency key.

    They let a retry see what an earlier attempt did (container id, post id) so it never
    posts twice. Entries older than two days are pruned on every write.
    """

    KEEP = timedelta(days=2)

    def __init__(self, ctx: PublisherContext, channel: str) -> None:
        self._ctx = ctx
        self._channel = channel

    def all(self) -> dict[str, dict[str, Any]]:
        notes = self._ctx.state.channel_state(self._channel).get("deliveries", {})
        return notes if isinstance(notes, dict) else {}

    def get(self, key: str) -> dict[str, Any]:
        return dict(self.all().get(key, {}))

    def put(self, key: str, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the note for ``key`` (stamped ``at`` now) and save it."""
        now = self._ctx.clock()
        state = self._ctx.state.channel_state(self._channel)
        notes = {k: v for k, v in self.all().items() if not _expired(v, now - self.KEEP)}
        note = {**notes.get(key, {}), **fields, "at": now.isoformat()}
        notes[key] = note
        self._ctx.state.set_channel_state(self._channel, {**state, "deliveries": notes})
        return note

    def forget(self, key: str) -> None:
        state = self._ctx.state.channel_state(self._channel)
        notes = self.all()
        if notes.pop(key, None) is not None:
            self._ctx.state.set_channel_state(self._channel, {**state, "deliveries": notes})


def _expired(note: Any, cutoff: datetime) -> bool:
    try:
        return datetime.fromisoformat(note["at"]) < cutoff
    except (TypeError, KeyError, ValueError):
        return True
