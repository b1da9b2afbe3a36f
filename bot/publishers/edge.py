"""The HTTP edge every publisher goes through: how long a platform asks us to wait.

``wait_seconds`` is the one reader of ``Retry-After`` (delta-seconds or an HTTP date) and
of the rate-limit reset headers platforms send instead (``x-rate-limit-reset`` unix time
on X, ``x-ratelimit-reset`` ISO time on Mastodon, ``ratelimit-reset`` on Bluesky). It
never raises: a header it cannot read counts as absent (None), a wait in the past is 0
and a wait longer than ``MAX_WAIT`` is cut to it.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime

MAX_WAIT = 86_400.0  # no platform limit resets later than a day: beyond that is garbage
RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
EPOCH_FROM = 1_000_000_000  # a reset number this large is a unix time, smaller is seconds
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def wait_seconds(headers: Mapping[str, str], now: datetime, *, body: object = None) -> float | None:
    """Seconds the answer asks us to wait, or None when it says nothing readable.

    ``body`` is a wait the platform put in its JSON answer (Telegram's and Discord's
    ``retry_after``): when it is a number it wins. Then ``Retry-After``, then the reset
    headers, in the order of ``RESET_HEADERS``.
    """
    found = seconds(body)
    if found is not None:
        return found
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    value = lowered.get("retry-after", "").strip()
    if value:
        found = seconds(value) if _NUMBER.fullmatch(value) else until(http_date(value), now)
        if found is not None:
            return found
    for name in RESET_HEADERS:
        found = reset_seconds(lowered.get(name, ""), now)
        if found is not None:
            return found
    return None


def reset_seconds(value: str, now: datetime) -> float | None:
    """Seconds until a reset header's moment: a unix time, seconds from now, an ISO 8601
    or an HTTP date; None when ``value`` is none of these."""
    value = value.strip()
    if not value:
        return None
    if _NUMBER.fullmatch(value):
        number = float(value)
        return clamp(number - now.timestamp() if number >= EPOCH_FROM else number)
    try:
        moment: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        moment = http_date(value)
    return until(moment, now)


def seconds(value: object) -> float | None:
    """A number of seconds given as a JSON number or a decimal string, clamped; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return clamp(float(value))
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return clamp(float(value))
    return None


def http_date(value: str) -> datetime | None:
    """An RFC 9110 date (``-0000`` and ``GMT`` mean UTC), aware; None when unreadable."""
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment


def until(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from ``now`` to ``moment`` (a naive moment is UTC), clamped."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        return clamp((moment - now).total_seconds())
    except OverflowError:
        return MAX_WAIT


def clamp(wait: float) -> float | None:
    """``wait`` within 0..MAX_WAIT; None for NaN."""
    if math.isnan(wait):
        return None
    return min(max(wait, 0.0), MAX_WAIT)


def wait_or(
    headers: Mapping[str, str], now: datetime, default: float, *, body: object = None
) -> float:
    """``wait_seconds``, or the platform's documented ``default`` when the answer says none."""
    found = wait_seconds(headers, now, body=body)
    return default if found is None else found
