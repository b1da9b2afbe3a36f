"""Per-channel posting budgets: posts per hour/day, a minimum gap, quiet hours, time slots.

Pure: the times of recent posts and ``now`` are arguments. Posts beyond a budget are not
dropped; the pipeline leaves them pending, in order, until ``next_allowed``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.config import ChannelConfig

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A slot stays open this long after its time, so a restart or a scheduler tick a little
# late still uses it; a post arriving later waits for the next slot.
SLOT_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class Budget:
    per_hour: int | None = None
    per_day: int | None = None  # a rolling 24 h window, as the platforms count
    min_interval: float = 0.0
    quiet_hours: tuple[time, time] | None = None  # local [start, end), may wrap midnight
    timezone: str = "UTC"
    slots: tuple[time, ...] = ()  # local times; one post per slot, none in between

    @classmethod
    def for_channel(cls, channel: ChannelConfig) -> Budget:
        return cls(
            per_hour=channel.max_posts_per_hour,
            per_day=channel.max_posts_per_day,
            min_interval=channel.min_interval,
            quiet_hours=channel.quiet_hours,
            timezone=channel.timezone,
            slots=channel.slots,
        )

    @property
    def unlimited(self) -> bool:
        return not (
            self.per_hour or self.per_day or self.min_interval or self.quiet_hours or self.slots
        )

    @property
    def lookback(self) -> timedelta:
        """How far back sent times matter."""
        return max(DAY, timedelta(seconds=self.min_interval))


def next_allowed(budget: Budget, sent: Sequence[datetime], now: datetime) -> datetime:
    """The earliest moment >= ``now`` at which one more post fits every rule.

    ``sent`` are the times of earlier posts on the channel (any order).
    """
    if budget.unlimited:
        return now
    times = sorted(sent)
    moment = now
    for _ in range(16):  # each rule can only push later; a few rounds settle it
        later = _after_rules(budget, times, moment)
        if later == moment:
            return moment
        moment = later
    return moment


def used(budget: Budget, sent: Sequence[datetime], now: datetime) -> tuple[int, int]:
    """Posts in the last hour and the last 24 h, for ``syndbot status``."""
    return (sum(1 for t in sent if t > now - HOUR), sum(1 for t in sent if t > now - DAY))


def _after_rules(budget: Budget, times: list[datetime], moment: datetime) -> datetime:
    if budget.min_interval and times:
        moment = max(moment, times[-1] + timedelta(seconds=budget.min_interval))
    for limit, window in ((budget.per_hour, HOUR), (budget.per_day, DAY)):
        if not limit:
            continue
        recent = times[bisect_right(times, moment - window) :]
        if len(recent) >= limit:
            # The window frees a slot when its oldest counted post leaves it.
            moment = max(moment, recent[len(recent) - limit] + window)
    if budget.quiet_hours:
        moment = _after_quiet(budget.quiet_hours, ZoneInfo(budget.timezone), moment)
    if budget.slots:
        moment = _next_slot(budget.slots, ZoneInfo(budget.timezone), times, moment)
    return moment


def slot_starts(slots: tuple[time, ...], zone: ZoneInfo, around: datetime) -> list[datetime]:
    """The slot times from the day before ``around`` to two days after, in order."""
    day = around.astimezone(zone).date()
    starts = [
        datetime.combine(day + timedelta(days=offset), slot, tzinfo=zone).astimezone(around.tzinfo)
        for offset in (-1, 0, 1, 2)
        for slot in slots
    ]
    return sorted(starts)


def _next_slot(
    slots: tuple[time, ...], zone: ZoneInfo, times: list[datetime], moment: datetime
) -> datetime:
    """``moment`` if it falls in a free slot's grace window, else the next slot's time.

    A slot is taken by a post sent between its time and the next slot's."""
    starts = slot_starts(slots, zone, moment)
    for start, following in pairwise(starts):
        if start <= moment < following:
            taken = any(start <= t < following for t in times)
            if not taken and moment < start + SLOT_GRACE:
                return moment
            return following
    return moment  # unreachable: the starts span the days around moment


def _after_quiet(hours: tuple[time, time], zone: ZoneInfo, moment: datetime) -> datetime:
    start, end = hours
    local = moment.astimezone(zone)
    now_t = local.timetz().replace(tzinfo=None)
    wraps = start > end
    inside = (start <= now_t or now_t < end) if wraps else (start <= now_t < end)
    if not inside:
        return moment
    end_day = local.date()
    if wraps and now_t >= start:
        end_day += timedelta(days=1)
    resume = datetime.combine(end_day, end, tzinfo=zone)
    return resume.astimezone(moment.tzinfo)


def budget_status(
    budget: Budget, sent: Sequence[datetime], now: datetime
) -> tuple[int, int, datetime | None]:
    """(posts in the last hour, in the last 24 h, the next allowed time if it is later)."""
    hour, day = used(budget, sent, now)
    allowed = next_allowed(budget, sent, now)
    return hour, day, (allowed if allowed > now else None)
