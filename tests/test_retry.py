"""Retry policy: the platform's wait wins, backoff grows with jitter, attempts are capped."""

import email.utils
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.retry import RetryPolicy, feed_backoff
from bot.errors import RateLimited, Transient
from bot.publishers.edge import MAX_WAIT, wait_or, wait_seconds


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


# -- the one wait parser (bot.publishers.edge.wait_seconds) ---------------------------------

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"retry-after": " 7.5 "}, 7.5),
        ({"Retry-After": "Fri, 20 Nov 2026 09:32:00 GMT"}, 120.0),
        ({"Retry-After": "Fri, 20 Nov 2026 09:32:00 -0000"}, 120.0),
        ({"Retry-After": "Fri, 20 Nov 2026 11:32:00 +0200"}, 120.0),
        ({"Retry-After": "-30"}, 0.0),
        ({"Retry-After": "Fri, 20 Nov 2026 09:00:00 GMT"}, 0.0),
        ({"Retry-After": "99999999999"}, MAX_WAIT),
        ({"Retry-After": "9" * 400}, MAX_WAIT),
        ({"x-rate-limit-reset": str(int(NOW.timestamp()) + 900)}, 900.0),
        ({"x-ratelimit-reset": "2026-11-20T09:35:00.000Z"}, 300.0),
        ({"x-ratelimit-reset": "45"}, 45.0),
        ({"ratelimit-reset": str(int(NOW.timestamp()) + 60)}, 60.0),
        ({"Retry-After": "soon", "x-rate-limit-reset": str(int(NOW.timestamp()) + 10)}, 10.0),
    ],
)
def test_wait_seconds_reads_every_documented_form(headers: dict[str, str], expected: float) -> None:
    """Delta-seconds, HTTP dates (GMT, -0000, offsets), unix and ISO resets are read;
    a past moment is 0 and an absurd one is cut to MAX_WAIT."""
    assert wait_seconds(headers, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value", ["soon", "", "   ", "NaN", "inf", "1e9", "Fri, 99 Foo 2026", "Mon, 32 Nov -1 25:61:61"]
)
def test_wait_seconds_is_none_for_garbage(value: str) -> None:
    """A header nobody can read counts as absent: None, never an exception."""
    assert wait_seconds({"Retry-After": value, "x-rate-limit-reset": value}, NOW) is None


def test_a_wait_in_the_body_wins_and_a_bool_is_no_number() -> None:
    """Telegram/Discord put retry_after in the JSON body: a number there wins; ``true`` does
    not count as 1 second."""
    headers = {"Retry-After": "30"}
    assert wait_seconds(headers, NOW, body=12.5) == 12.5
    assert wait_seconds(headers, NOW, body=True) == 30.0
    assert wait_or({}, NOW, 60.0, body="later") == 60.0


header_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    retry_after=header_text,
    reset=header_text,
    body=st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), header_text),
    naive_now=st.booleans(),
)
def test_wait_seconds_never_raises(
    retry_after: str, reset: str, body: object, naive_now: bool
) -> None:
    """For any header text and body value the parser answers None or a wait in
    0..MAX_WAIT; it never raises (a 429 is never handled as a publisher crash)."""
    now = NOW.replace(tzinfo=None) if naive_now else NOW
    headers = {"Retry-After": retry_after, "x-rate-limit-reset": reset, "ratelimit-reset": reset}
    found = wait_seconds(headers, now, body=body)
    assert found is None or 0.0 <= found <= MAX_WAIT


@given(st.datetimes(min_value=datetime(1900, 1, 1), timezones=st.just(UTC)))
@settings(max_examples=100, deadline=None)
def test_wait_seconds_reads_any_http_date(moment: datetime) -> None:
    """Every date written the HTTP way (format_datetime, GMT) is read back to the second."""
    value = email.utils.format_datetime(moment.replace(microsecond=0), usegmt=True)
    found = wait_seconds({"Retry-After": value}, NOW)
    expected = (moment.replace(microsecond=0) - NOW).total_seconds()
    assert found == pytest.approx(min(max(expected, 0.0), MAX_WAIT))
