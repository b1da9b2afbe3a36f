"""Retry policy in one place: how long a failed delivery or feed waits before trying again.

The platform's own wait (Retry-After, x-rate-limit-reset) always wins over our backoff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.errors import PublishError, RateLimited


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 30.0  # first retry after ~30 s
    factor: float = 2.0
    cap: float = 3600.0  # never wait more than an hour between tries of a transient error
    jitter: float = 0.2  # +-20 % so many channels do not retry in lockstep
    max_attempts: int = 8  # then the delivery is failed with its reason

    def delay(
        self, attempts: int, error: PublishError, *, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait before attempt ``attempts + 1``; None means give up.

        ``attempts`` counts the tries made so far (>= 1).
        """
        if attempts >= self.max_attempts:
            return None
        r = rng or random
        if isinstance(error, RateLimited):
            # Honour the platform's reset; add a little jitter, never less than asked.
            return max(error.retry_after, 1.0) * (1 + r.uniform(0, self.jitter / 2))
        raw = min(self.cap, self.base * self.factor ** max(attempts - 1, 0))
        return raw * (1 + r.uniform(-self.jitter, self.jitter))


def feed_backoff(interval: float, consecutive_errors: int, *, cap: float = 6 * 3600) -> float:
    """Seconds between polls of a failing feed: the interval doubled per consecutive error."""
    if consecutive_errors <= 0:
        return interval
    return float(min(cap, interval * 2 ** min(consecutive_errors, 16)))
