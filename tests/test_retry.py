"""Retry policy: the platform's wait wins, backoff grows with jitter, attempts are capped."""

import random

from bot.errors import RateLimited, Transient
from bot.retry import RetryPolicy, feed_backoff


def test_rate_limit_waits_at_least_what_the_platform_asked() -> None:
    """A RateLimited(retry_after=900) is retried no sooner than 900 s."""
    policy = RetryPolicy()
    for seed in range(20):
        delay = policy.delay(1, RateLimited("429", retry_after=900), rng=random.Random(seed))
        assert delay is not None
        assert 900 <= delay <= 900 * 1.1


def test_transient_backoff_grows_and_is_capped() -> None:
    """Transient failures back off exponentially (within jitter) up to the cap."""
    policy = RetryPolicy(base=10, factor=2, cap=100, jitter=0.2, max_attempts=10)
    rng = random.Random(1)
    delays = [policy.delay(n, Transient("503"), rng=rng) for n in range(1, 7)]
    assert [d is not None for d in delays] == [True] * 6
    assert 8 <= delays[0] <= 12  # type: ignore[operator]
    assert 16 <= delays[1] <= 24  # type: ignore[operator]
    assert all(d <= 120 for d in delays)  # type: ignore[operator]


def test_gives_up_after_max_attempts() -> None:
    """After max_attempts tries the policy says stop (the delivery becomes failed)."""
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay(3, Transient("503")) is None
    assert policy.delay(2, Transient("503")) is not None


def test_failing_feed_backs_off_by_doubling() -> None:
    """A feed with consecutive errors is polled less often, up to six hours."""
    assert feed_backoff(600, 0) == 600
    assert feed_backoff(600, 1) == 1200
    assert feed_backoff(600, 3) == 4800
    assert feed_backoff(600, 30) == 6 * 3600
