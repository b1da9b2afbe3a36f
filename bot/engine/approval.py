"""Per-channel approval: ``auto``, ``hold:15m`` (a veto window) or ``manual``.

A delivery on a ``hold`` or ``manual`` channel enters the review queue once: its post is
composed and stored, and its ``review`` state recorded in the same transaction, so a restart
neither loses nor re-composes it. States (``Delivery.review``):

- ``None``      not reviewed: an ``auto`` channel, or not yet entered.
- ``held``      in the veto window until ``next_attempt``; then it goes, unless skipped.
- ``awaiting``  waits for a person (``next_attempt`` is empty, so it is never due).
- ``approved``  a person approved or edited it: it goes at the channel's next free time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.durations import format_duration, parse_duration

ApprovalMode = Literal["auto", "hold", "manual"]
ReviewState = Literal["held", "awaiting", "approved"]
HINT = 'use "auto", "manual" or "hold:" with a duration, e.g. "hold:15m"'


@dataclass(frozen=True)
class Approval:
    """How a channel's posts are approved; ``hold`` is the veto window in seconds."""

    mode: ApprovalMode = "auto"
    hold: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Approval:
        """``"auto"``, ``"manual"`` or ``"hold:<duration>"``; ``ValueError`` otherwise."""
        mode, colon, arg = text.strip().partition(":")
        if mode in ("auto", "manual") and not colon:
            return cls(mode=mode)  # type: ignore[arg-type]  # narrowed by the test above
        if mode == "hold" and arg:
            try:
                seconds = parse_duration(arg)
            except ValueError:
                seconds = 0.0
            if seconds > 0:
                return cls(mode="hold", hold=seconds)
        raise ValueError(f'"{text}" is not an approval mode; {HINT}')

    def __str__(self) -> str:
        return f"hold:{format_duration(self.hold)}" if self.mode == "hold" else self.mode

    def entry(self, now: datetime) -> tuple[ReviewState, datetime | None]:
        """The review state and due time of a post entering the queue at ``now``."""
        if self.mode == "manual":
            return "awaiting", None
        return "held", now + timedelta(seconds=self.hold)
