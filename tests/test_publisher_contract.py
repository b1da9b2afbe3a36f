"""The publisher contract, run on every harness in tests/harnesses (one id per platform)."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import tests.harnesses
from bot import registry
from bot.compose.profiles import profile_for
from bot.engine.delivery import Failures, already_posted
from bot.engine.retry import RetryPolicy
from bot.errors import AlreadyPosted, AuthError, PublishError, RateLimited, Rejected, Transient
from bot.models import Delivery, Length, Post, PublishResult
from bot.platform import Reconciles
from bot.protocols import Publisher
from bot.store.sqlite import SQLiteStore
from tests.contract import Harness
from tests.harnesses import NOW, sample_article

# Third-party loggers quieted to WARNING as the CLI does (bot.cli._common.setup_logging).
# At DEBUG they print OAuth 1.0a parameters, consumer key and access token included.
# "oauthlib" is missing from the CLI's list, so `syndbot -vv` still prints them (reported).
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "requests_oauthlib", "oauthlib")


def _harness_modules() -> list[ModuleType]:
    """Every ``tests/harnesses/<platform>.py`` that offers ``make_harness``."""
    modules = []
    for info in pkgutil.iter_modules(tests.harnesses.__path__):
        module = importlib.import_module(f"tests.harnesses.{info.name}")
        if hasattr(module, "make_harness"):
            modules.append(module)
    return modules


MODULES = _harness_modules()


def test_harnesses_are_discovered() -> None:
    """Discovery finds at least the X, Facebook and Instagram harnesses."""
    names = {m.__name__.rsplit(".", 1)[1] for m in MODULES}
    assert {"x", "facebook", "instagram"} <= names


def _reconciles(module: ModuleType) -> bool:
    """Whether the harness's platform declares it can tell a post already went out."""
    return Reconciles in registry.platforms()[module.__name__.rsplit(".", 1)[1]].abilities


RECONCILING = [m for m in MODULES if _reconciles(m)]


@pytest.fixture(params=MODULES, ids=[m.__name__.rsplit(".", 1)[1] for m in MODULES])
def harness(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Harness]:
    """A harness on its running fake; afterwards no secret may be in the captured logs."""
    yield from _running(request, tmp_path, caplog)


@pytest.fixture(params=RECONCILING, ids=[m.__name__.rsplit(".", 1)[1] for m in RECONCILING])
def reconciling_harness(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Harness]:
    """``harness``, for the platforms that declare ``Reconciles`` only."""
    yield from _running(request, tmp_path, caplog)


def _running(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Harness]:
    caplog.set_level(logging.DEBUG)
    for name in QUIET_LOGGERS:
        caplog.set_level(logging.WARNING, logger=name)
    module: ModuleType = request.param
    maker: Callable[[Path], contextlib.AbstractContextManager[Harness]] = module.make_harness
    with maker(tmp_path) as made:
        assert made.platform == module.__name__.rsplit(".", 1)[1]
        yield made
    # caplog.text holds only the current phase (teardown): read the test's own records.
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    formatter = logging.Formatter()
    _assert_no_secret(made, "\n".join(formatter.format(r) for r in records), "the logs")


def _assert_no_secret(harness: Harness, text: str, where: str) -> None:
    for secret in harness.secrets:
        assert secret not in text, f"a credential of {harness.platform} appears in {where}"


def _assert_real_id(result: PublishResult) -> None:
    """The platform's id, or none with a note saying why: never a made-up placeholder."""
    if result.remote_id is None:
        assert result.note.strip()
        return
    assert result.remote_id.strip()
    assert result.remote_id not in ("None", "already-posted")
    assert not result.remote_id.startswith(("slack:", "discord:", "syndbot-"))


def _publish_failing(harness: Harness, publisher: Publisher, post: Post) -> PublishError:
    """Publish once, expecting a PublishError; check it carries no secret."""
    with pytest.raises(PublishError) as caught:
        publisher.publish(post, idempotency_key="contract-1")
    error = caught.value
    _assert_no_secret(harness, str(error), "the error message")
    _assert_no_secret(harness, repr(error), "the error repr")
    return error


def test_publish_once(harness: Harness) -> None:
    """One publish makes exactly one post and returns its id; repr shows no secret."""
    publisher = harness.publisher()
    _assert_no_secret(harness, repr(publisher), "the publisher repr")
    post = harness.sample_post()
    assert post.parts[0].media
    assert post.parts[0].media[0].alt

    result = publisher.publish(post, idempotency_key="contract-1")

    assert isinstance(result, PublishResult)
    _assert_real_id(result)
    assert harness.posts_received() == 1


def test_rate_limit_carries_the_advertised_wait(harness: Harness) -> None:
    """A scripted 429 becomes RateLimited whose retry_after is the wait the fake announced."""
    harness.fail_next("rate_limit")
    error = _publish_failing(harness, harness.publisher(), harness.sample_post())

    assert isinstance(error, RateLimited), repr(error)
    tolerance = max(5.0, harness.rate_limit_wait * 0.10)
    assert abs(error.retry_after - harness.rate_limit_wait) <= tolerance, error.retry_after
    assert harness.posts_received() == 0


def test_refused_credentials_are_an_auth_error(harness: Harness) -> None:
    """Expired or revoked credentials become AuthError (the channel gets paused)."""
    harness.fail_next("auth")
    error = _publish_failing(harness, harness.publisher(), harness.sample_post())

    assert isinstance(error, AuthError), repr(error)
    assert harness.posts_received() == 0


@pytest.mark.parametrize("fault", ["server_error", "timeout"])
def test_server_trouble_is_transient(harness: Harness, fault: Any) -> None:
    """A 5xx answer or no answer within the client timeout becomes Transient."""
    harness.fail_next(fault)
    error = _publish_failing(harness, harness.publisher(), harness.sample_post())

    assert isinstance(error, Transient), repr(error)
    assert error.retryable


def _sized(post: Post, units: int) -> Post:
    """``post`` with its text replaced by ``units`` Devanagari letters (no link, no facets):
    one unit each however the platform counts (code points, UTF-16, graphemes, X weight)."""
    text = "क" * units
    profile = profile_for(post.platform)
    assert profile.measure(text) == units
    part = dataclasses.replace(post.parts[0], text=text, facets=())
    length = Length(unit=profile.unit, value=units, limit=profile.limit)
    return dataclasses.replace(post, parts=(part,), length=length)


def test_a_post_exactly_at_the_limit_is_accepted(harness: Harness) -> None:
    """A post at exactly the platform's documented limit (counted as the platform counts)
    goes out; one unit more is Rejected, by the publisher or by the fake (which enforces
    the platform's limit), and nothing is posted."""
    publisher, post = harness.publisher(), harness.sample_post()
    limit = profile_for(harness.platform).limit

    result = publisher.publish(_sized(post, limit), idempotency_key="at-limit")

    _assert_real_id(result)
    assert harness.posts_received() == 1
    with pytest.raises(Rejected):
        publisher.publish(_sized(post, limit + 1), idempotency_key="over-limit")
    assert harness.posts_received() == 1


def test_a_rejection_is_final_and_quotes_the_platform(harness: Harness, tmp_path: Path) -> None:
    """The platform's documented 4xx refusal becomes Rejected carrying the platform's own
    words; it is not retryable, nothing is posted, and the delivery ends failed at once."""
    harness.fail_next("rejected")
    publisher = harness.publisher()
    error = _publish_failing(harness, publisher, harness.sample_post())

    assert isinstance(error, Rejected), repr(error)
    assert harness.rejection in str(error)
    assert not error.retryable
    outcome, detail, stored = _engine_outcome(tmp_path, publisher, error)
    assert outcome == "failed", detail
    assert stored.status == "failed"
    assert stored.next_attempt is None
    assert harness.posts_received() == 0


def _retry(publisher: Publisher, post: Post, key: str) -> PublishResult:
    """What the pipeline does next: reconcile where possible, else publish again."""
    reconcile = getattr(publisher, "reconcile", None)
    if reconcile is not None:
        found: PublishResult | None = reconcile(post, idempotency_key=key)
        if found is not None:
            return found
    try:
        return publisher.publish(post, idempotency_key=key)
    except AlreadyPosted as exc:  # the pipeline counts this as sent
        return already_posted(exc)


def _engine_outcome(
    tmp_path: Path, publisher: Publisher, error: PublishError
) -> tuple[str, str, Delivery]:
    """What the delivery engine (``bot.engine.delivery.Failures``) makes of ``error`` on a first
    attempt, recorded in a real SQLite store: (outcome, detail, the stored delivery)."""
    store = SQLiteStore.open(tmp_path / "contract.db")
    try:
        store.add_item(
            sample_article("https://img.example/a.jpg"), now=NOW, channels=[publisher.name]
        )
        (delivery,) = store.deliveries()
        failures = Failures(store, {publisher.name: publisher}, RetryPolicy(), lambda: NOW)
        outcome, detail = failures.handle(delivery, error)
        (stored,) = store.deliveries()
    finally:
        store.close()
    return outcome, detail, stored


def test_lost_answer_is_never_resent_blindly(harness: Harness, tmp_path: Path) -> None:
    """The platform accepts the post but the answer is lost. The publisher reports a
    Transient that may have been sent; then either the retry finds the post (platforms
    that can look: no second post) or, where nothing can confirm it, the delivery ends
    ``failed`` with advice to check the channel and nothing is sent again."""
    harness.fail_next("drop_after_accept")
    publisher, post = harness.publisher(), harness.sample_post()
    try:
        settled = publisher.publish(post, idempotency_key="contract-1")
    except Transient as error_:
        error = error_
    else:  # the publisher settled it itself (Bluesky: the record key tells)
        assert harness.reconciles
        _assert_real_id(settled)
        assert harness.posts_received() == 1
        return
    _assert_no_secret(harness, str(error), "the error message")
    assert error.maybe_sent, "a dropped answer after sending must say the post may be out"
    assert harness.posts_received() == 1  # the fake did accept it

    outcome, detail, stored = _engine_outcome(tmp_path, publisher, error)

    if harness.reconciles:
        assert outcome == "retry", detail
        result = _retry(harness.publisher(), post, "contract-1")
        _assert_real_id(result)
    else:
        assert getattr(publisher, "reconcile", None) is None
        assert outcome == "failed", detail
        assert stored.status == "failed"
        assert "may have published" in detail
        assert f"syndbot retry --channel {publisher.name}" in detail
    assert harness.posts_received() == 1


def test_lost_answer_then_plain_retry_posts_once(reconciling_harness: Harness) -> None:
    """Where the platform can confirm, a retry by publish() alone (no reconcile first)
    does not post twice either. (Where it cannot, no retry happens: the case above ends
    the delivery as failed.)"""
    harness = reconciling_harness
    assert harness.reconciles
    harness.fail_next("drop_after_accept")
    publisher, post = harness.publisher(), harness.sample_post()
    with contextlib.suppress(Transient):
        publisher.publish(post, idempotency_key="contract-1")

    try:
        publisher.publish(post, idempotency_key="contract-1")
    except AlreadyPosted as exc:
        _assert_no_secret(harness, str(exc), "the error message")

    assert harness.posts_received() == 1
