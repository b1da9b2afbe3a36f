"""A circuit breaker: after N consecutive endpoint failures, stop asking for a cool-down.

While open, ``allow`` says no at once, so every summary falls back to the extractive one
without waiting for an endpoint that is down. After the cool-down one request is let
through (half-open): success closes the breaker, failure opens it for another cool-down.
The clock is injected; thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._trial = False  # a half-open trial request is in flight
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while requests are refused (the cool-down has not run out)."""
        with self._lock:
            return self._open_until is not None and self._clock() < self._open_until

    def allow(self) -> bool:
        """May a request go out now? In half-open state, only one at a time."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._trial:
                return False
            self._trial = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = None
            self._trial = False

    def failure(self) -> bool:
        """Count a failure; True when this one opened (or re-opened) the breaker."""
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.threshold:
                self._open_until = self._clock() + self.cooldown
                self._trial = False
                return True
            return False
