"""X publisher against a fake X API v2 on loopback: posts, media, threads, errors, lookups."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import tweepy
from PIL import Image

from bot.config import ChannelConfig, Secret
from bot.errors import AlreadyPosted, AuthError, ConfigError, RateLimited, Rejected, Transient
from bot.models import Length, Media, Post, PostPart
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.x import XPublisher, build
from tests.fakes.x_api import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    DUPLICATE,
    READ_ONLY_APP,
    SERVER_ERROR,
    TOO_MANY,
    UNAUTHORIZED,
    USERNAME,
    FakeX,
    Fault,
    XRequest,
)
from tests.publisher_helpers import api_channel, error_texts

ARTICLE = "https://evnews.example/2025/ather-rizta-price?utm_source=x"
SECRETS = (CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET)
HINDI = "टाटा नेक्सन ईवी की कीमत घटी, अब 12 लाख से शुरू"
TAMIL = "ஓலா எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பு அறிமுகம்"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం"


@pytest.fixture
def x() -> Iterator[FakeX]:
    with FakeX() as server:
        server.images["cover.jpg"] = (_jpeg(1200, 630), "image/jpeg")
        yield server
    assert server.errors == []


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 60)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _channel(base: str, **options: str) -> ChannelConfig:
    names = ("api_key", "api_secret", "access_token", "access_token_secret")
    credentials = dict(zip(names, SECRETS, strict=True))
    return api_channel("x", "x-en", credentials, options={"timeout": "1", **options}, api_base=base)


def _publisher(
    x: FakeX, http: httpx.Client, state: MemoryState | None = None, **options: str
) -> XPublisher:
    ctx = PublisherContext(http=http, state=state or MemoryState(), allow_private_media=True)
    return build(_channel(x.base, **options), ctx)


def _post(*texts: str, image: str | None = None, alt: str = "", url: str = ARTICLE) -> Post:
    media = (Media(url=image, alt=alt),) if image else ()
    parts = tuple(PostPart(text=t, media=media if i == 0 else ()) for i, t in enumerate(texts))
    return Post(
        platform="x",
        channel="x-en",
        item_id="item-1",
        article_url=url,
        title="Ather Rizta price cut",
        lang="en",
        summary="",
        hashtags=(),
        parts=parts,
        length=Length(unit="weighted", value=100, limit=280),
    )


def _calls(x: FakeX) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in x.api_requests()]


def _tweet_bodies(x: FakeX) -> list[dict[str, object]]:
    return [r.json() for r in x.api_requests() if (r.method, r.path) == ("POST", "/2/tweets")]


def test_one_tweet_with_image_and_alt_text(x: FakeX, http: httpx.Client) -> None:
    """A single post uploads the image, sets its alt text and posts one tweet carrying it."""
    post = _post(
        f"Ather cuts the Rizta price {ARTICLE}",
        image=f"{x.base}/img/cover.jpg",
        alt="A green Ather Rizta scooter",
    )
    result = _publisher(x, http).publish(post, idempotency_key="k1")

    assert _calls(x) == [
        ("POST", "/2/media/upload"),
        ("POST", "/2/media/metadata"),
        ("POST", "/2/tweets"),
    ]
    [media_id] = x.media
    upload: XRequest = x.api_requests()[0]
    fields = upload.form()
    assert fields["media_category"][0] == b"tweet_image"
    assert Image.open(io.BytesIO(fields["media"][0])).size == (1200, 630)
    assert x.api_requests()[1].json() == {
        "id": media_id,
        "metadata": {"alt_text": {"text": "A green Ather Rizta scooter"}},
    }
    assert _tweet_bodies(x) == [
        {"text": f"Ather cuts the Rizta price {ARTICLE}", "media": {"media_ids": [media_id]}}
    ]
    [tweet] = x.tweets
    assert result.remote_id == tweet["id"]
    assert result.url == f"https://x.com/i/web/status/{tweet['id']}"


def test_alt_text_is_cut_to_1000_characters(x: FakeX, http: httpx.Client) -> None:
    """An alt text longer than X's 1000 characters is shortened, not refused."""
    long_alt = " ".join(["तमिलनाडु में नया चार्जिंग स्टेशन"] * 60)
    post = _post(f"{HINDI} {ARTICLE}", image=f"{x.base}/img/cover.jpg", alt=long_alt)
    _publisher(x, http).publish(post, idempotency_key="k1")
    [media] = x.media.values()
    assert 0 < len(media["alt"]) <= 1000
    assert long_alt.startswith(media["alt"].rstrip("…").rstrip())


def test_missing_image_posts_without_it(
    x: FakeX, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """An image that cannot be fetched costs a warning, not the post."""
    post = _post(f"{TAMIL} {ARTICLE}", image=f"{x.base}/img/gone.jpg", alt="gone")
    with caplog.at_level(logging.WARNING):
        result = _publisher(x, http).publish(post, idempotency_key="k1")
    assert _calls(x) == [("POST", "/2/tweets")]
    assert _tweet_bodies(x) == [{"text": f"{TAMIL} {ARTICLE}"}]
    assert result.remote_id == x.tweets[0]["id"]
    assert "posting without the image" in caplog.text
    assert "gone.jpg" in caplog.text


def test_thread_is_a_reply_chain(x: FakeX, http: httpx.Client) -> None:
    """Each part after the first replies to the part before it; the result is the first."""
    post = _post(f"{TELUGU} 1/3", "రెండవ భాగం 2/3", f"{ARTICLE} 3/3")
    result = _publisher(x, http).publish(post, idempotency_key="k1")
    ids = [t["id"] for t in x.tweets]
    assert len(ids) == 3
    bodies = _tweet_bodies(x)
    assert "reply" not in bodies[0]
    assert bodies[1]["reply"] == {"in_reply_to_tweet_id": ids[0]}
    assert bodies[2]["reply"] == {"in_reply_to_tweet_id": ids[1]}
    assert result.remote_id == ids[0]
    assert {t["conversation_id"] for t in x.tweets} == {ids[0]}


def test_retry_of_a_thread_resumes_after_the_posted_parts(x: FakeX, http: httpx.Client) -> None:
    """A thread that failed at part 2 continues at part 2 on retry; part 1 is not reposted."""
    state = MemoryState()
    post = _post("part one 1/3", "part two 2/3", f"{ARTICLE} 3/3")
    x.script("POST", "/2/tweets", Fault(), Fault(status=500, body=SERVER_ERROR))
    # Fault() with no status lets the first call through normally.
    with pytest.raises(Transient):
        _publisher(x, http, state).publish(post, idempotency_key="k1")
    assert [t["text"] for t in x.tweets] == ["part one 1/3"]

    result = _publisher(x, http, state).publish(post, idempotency_key="k1")
    assert [t["text"] for t in x.tweets] == ["part one 1/3", "part two 2/3", f"{ARTICLE} 3/3"]
    assert _tweet_bodies(x)[-2]["reply"] == {"in_reply_to_tweet_id": x.tweets[0]["id"]}
    assert result.remote_id == x.tweets[0]["id"]


def test_retry_after_success_does_not_post_again(x: FakeX, http: httpx.Client) -> None:
    """Publishing the same key twice (crash before the store recorded it) posts once."""
    state = MemoryState()
    post = _post(f"One tweet {ARTICLE}")
    first = _publisher(x, http, state).publish(post, idempotency_key="k1")
    second = _publisher(x, http, state).publish(post, idempotency_key="k1")
    assert first == second
    assert len(x.tweets) == 1


def test_dropped_answer_mid_thread_is_recovered_from_the_timeline(
    x: FakeX, http: httpx.Client
) -> None:
    """Part 2 accepted but its answer lost: the retry finds it and posts only part 3."""
    state = MemoryState()
    post = _post("part one 1/3", "part two 2/3", f"{ARTICLE} 3/3")
    x.script("POST", "/2/tweets", Fault(), Fault(drop=True))
    with pytest.raises(Transient):
        _publisher(x, http, state).publish(post, idempotency_key="k1")
    assert len(x.tweets) == 2

    result = _publisher(x, http, state).publish(post, idempotency_key="k1")
    texts = [t["text"] for t in x.tweets]
    assert texts == ["part one 1/3", "part two 2/3", f"{ARTICLE} 3/3"]
    assert x.tweets[2]["referenced_tweets"] == [{"type": "replied_to", "id": x.tweets[1]["id"]}]
    assert result.remote_id == x.tweets[0]["id"]


def test_rate_limit_gives_the_wait_from_the_reset_header(x: FakeX, http: httpx.Client) -> None:
    """429 becomes RateLimited whose retry_after runs to x-rate-limit-reset."""
    reset = int(time.time()) + 600
    x.script("POST", "/2/tweets", Fault(429, TOO_MANY, {"x-rate-limit-reset": str(reset)}))
    with pytest.raises(RateLimited) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert 590 <= caught.value.retry_after <= 601
    assert x.tweets == []


@pytest.mark.parametrize("reset", ["soon", "Fri, 20 Nov 2026 09:32:00 -0000", "-5"])
def test_unreadable_reset_header_is_a_rate_limit_not_a_crash(
    x: FakeX, http: httpx.Client, reset: str
) -> None:
    """A 429 whose x-rate-limit-reset is not a unix time (tweepy would int() it and crash)
    is still RateLimited, waiting X's 15-minute window."""
    x.script("POST", "/2/tweets", Fault(429, TOO_MANY, {"x-rate-limit-reset": reset}))
    with pytest.raises(RateLimited) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert caught.value.retry_after == 900.0
    assert x.tweets == []


def test_rate_limit_waits_for_the_24_hour_reset_when_the_day_is_used_up(
    x: FakeX, http: httpx.Client
) -> None:
    """With the 24-hour user allowance at 0, the wait runs to its later reset."""
    now = int(time.time())
    headers = {
        "x-rate-limit-reset": str(now + 60),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(now + 7200),
    }
    x.script("POST", "/2/tweets", Fault(429, TOO_MANY, headers))
    with pytest.raises(RateLimited) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert 7190 <= caught.value.retry_after <= 7201
    assert "24-hour user limit" in str(caught.value)


def test_unauthorized_is_an_auth_error(x: FakeX, http: httpx.Client) -> None:
    """401 becomes AuthError naming the credential keys to check."""
    x.script("POST", "/2/tweets", Fault(401, UNAUTHORIZED))
    with pytest.raises(AuthError) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert "access_token_secret" in str(caught.value)
    assert caught.value.channel == "x-en"


def test_read_only_app_is_an_auth_error_with_the_fix(x: FakeX, http: httpx.Client) -> None:
    """403 for missing write permission says to enable Read and Write and regenerate."""
    x.script("POST", "/2/tweets", Fault(403, READ_ONLY_APP))
    with pytest.raises(AuthError, match=r"Read and Write.*regenerate"):
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")


def test_duplicate_content_is_already_posted_with_the_existing_id(
    x: FakeX, http: httpx.Client
) -> None:
    """X's duplicate answer becomes AlreadyPosted, carrying the tweet found by its link."""
    earlier = x.add_tweet(f"Ather cuts the Rizta price {ARTICLE}")
    with pytest.raises(AlreadyPosted) as caught:
        _publisher(x, http).publish(
            _post(f"Ather cuts the Rizta price {ARTICLE}"), idempotency_key="k1"
        )
    assert caught.value.remote_id == earlier["id"]
    assert caught.value.url == f"https://x.com/{USERNAME}/status/{earlier['id']}"
    assert len(x.tweets) == 1


def test_scripted_duplicate_answer_is_already_posted(x: FakeX, http: httpx.Client) -> None:
    """The documented 403 duplicate body alone (nothing on the timeline) is AlreadyPosted."""
    x.script("POST", "/2/tweets", Fault(403, DUPLICATE))
    with pytest.raises(AlreadyPosted) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert caught.value.remote_id is None
    assert "duplicate" in str(caught.value)


def test_other_forbidden_is_rejected(x: FakeX, http: httpx.Client) -> None:
    """A 403 that is neither duplicate nor permissions (reply to a deleted tweet) is Rejected."""
    state = MemoryState()
    state.set_channel_state(
        "x-en",
        {"threads": {"k1": {"ids": ["1799999999999999999"], "at": datetime.now(UTC).isoformat()}}},
    )
    with pytest.raises(Rejected, match="deleted or not visible"):
        _publisher(x, http, state).publish(_post("one 1/2", "two 2/2"), idempotency_key="k1")


def test_bad_request_is_rejected(x: FakeX, http: httpx.Client) -> None:
    """400 becomes Rejected with X's own explanation."""
    body = {
        "errors": [{"message": "text: too long"}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    x.script("POST", "/2/tweets", Fault(400, body))
    with pytest.raises(Rejected, match="text: too long"):
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")


@pytest.mark.parametrize(
    "fault",
    [Fault(500, SERVER_ERROR), Fault(503, SERVER_ERROR), Fault(delay=2.5), Fault(drop=True)],
    ids=["500", "503", "timeout", "dropped"],
)
def test_server_and_network_trouble_is_transient(
    x: FakeX, http: httpx.Client, fault: Fault
) -> None:
    """5xx, no answer within the timeout and a dropped connection all become Transient."""
    x.script("POST", "/2/tweets", fault)
    started = time.monotonic()
    with pytest.raises(Transient) as caught:
        _publisher(x, http).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert time.monotonic() - started < 2.4  # the 1 s timeout fired; no retry loop
    assert caught.value.retryable
    assert len(_tweet_bodies(x)) == 1


def test_media_server_error_is_transient(x: FakeX, http: httpx.Client) -> None:
    """An upload 5xx fails the post for a retry instead of silently dropping the image."""
    x.script("POST", "/2/media/upload", Fault(500, SERVER_ERROR))
    post = _post(f"hello {ARTICLE}", image=f"{x.base}/img/cover.jpg", alt="scooter")
    with pytest.raises(Transient):
        _publisher(x, http).publish(post, idempotency_key="k1")
    assert x.tweets == []


def test_check_returns_the_username(x: FakeX, http: httpx.Client) -> None:
    """check() calls GET /2/users/me and later post URLs carry the username."""
    publisher = _publisher(x, http)
    assert publisher.check() == f"@{USERNAME}"
    assert _calls(x) == [("GET", "/2/users/me")]
    result = publisher.publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert result.url == f"https://x.com/{USERNAME}/status/{result.remote_id}"


def test_check_with_revoked_token_is_an_auth_error(x: FakeX, http: httpx.Client) -> None:
    """A signature the server does not accept (wrong secret) makes check() an AuthError."""
    channel = _channel(x.base)
    channel.credentials["access_token_secret"] = Secret("revoked-secret")
    publisher = build(channel, PublisherContext(http=http))
    with pytest.raises(AuthError):
        publisher.check()


def test_reconcile_finds_the_tweet_by_its_expanded_url(x: FakeX, http: httpx.Client) -> None:
    """reconcile() matches entities.urls[].expanded_url (t.co-wrapped) to the article URL."""
    x.add_tweet("something else https://other.example/a")
    mine = x.add_tweet(f"{HINDI} {ARTICLE}")
    x.add_tweet("later news https://other.example/b")
    found = _publisher(x, http).reconcile(_post("unused"), idempotency_key="k1")
    assert found is not None
    assert found.remote_id == mine["id"]
    timeline = [r for r in x.api_requests() if r.path.endswith("/tweets")]
    assert timeline[0].query["max_results"] == ["20"]
    assert "entities" in timeline[0].query["tweet.fields"][0].split(",")


def test_reconcile_finds_a_thread_by_its_first_tweet(x: FakeX, http: httpx.Client) -> None:
    """A link in the last part of a thread leads to the thread's first tweet."""
    first = x.add_tweet("part one 1/2")
    x.add_tweet(f"{ARTICLE} 2/2", reply_to=first["id"])
    found = _publisher(x, http).reconcile(_post("unused"), idempotency_key="k1")
    assert found is not None
    assert found.remote_id == first["id"]


def test_reconcile_none_when_not_posted(x: FakeX, http: httpx.Client) -> None:
    """reconcile() returns None when no recent tweet links the article."""
    x.add_tweet("something else https://evnews.example/2025/other")
    assert _publisher(x, http).reconcile(_post("unused"), idempotency_key="k1") is None


def test_reconcile_leaves_a_half_posted_thread_to_publish(x: FakeX, http: httpx.Client) -> None:
    """A thread with saved progress but missing parts is "not there" yet (no lookup)."""
    state = MemoryState()
    post = _post("part one 1/2", f"{ARTICLE} 2/2")
    x.script("POST", "/2/tweets", Fault(), Fault(status=500, body=SERVER_ERROR))
    with pytest.raises(Transient):
        _publisher(x, http, state).publish(post, idempotency_key="k1")
    before = len(x.requests)
    assert _publisher(x, http, state).reconcile(post, idempotency_key="k1") is None
    assert len(x.requests) == before


def test_progress_older_than_two_days_is_pruned(x: FakeX, http: httpx.Client) -> None:
    """Saved thread progress is kept small: entries over two days old are dropped."""
    state = MemoryState()
    state.set_channel_state(
        "x-en", {"threads": {"old": {"ids": ["1"], "at": "2020-01-01T00:00:00+00:00"}}}
    )
    _publisher(x, http, state).publish(_post(f"hello {ARTICLE}"), idempotency_key="k1")
    assert set(state.channel_state("x-en")["threads"]) == {"k1"}


def test_no_secret_in_errors_or_logs(
    x: FakeX, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """No credential appears in any error message or in our logs, even at DEBUG."""
    faults = [
        Fault(401, UNAUTHORIZED),
        Fault(403, READ_ONLY_APP),
        Fault(429, TOO_MANY),
        Fault(500, SERVER_ERROR),
        Fault(delay=2.5),
        Fault(drop=True),
    ]
    x.script("POST", "/2/tweets", *faults)
    with caplog.at_level(logging.DEBUG):
        publisher = _publisher(x, http)
        messages = [repr(publisher)]
        post = _post(f"hello {ARTICLE}", image=f"{x.base}/img/gone.jpg")
        expected = (AuthError, RateLimited, Transient)
        messages += error_texts(
            lambda: publisher.publish(post, idempotency_key="k1"), len(faults), expected
        )
        messages.append(publisher.check())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "posting without the image" in ours  # the scan did see our log lines
    for secret in SECRETS:
        assert all(secret not in m for m in messages), secret
        assert secret not in ours, secret
    # requests-oauthlib logs the Authorization header at DEBUG: key and token are visible
    # there by design of OAuth 1.0a, but the two signing secrets must never be.
    for secret in (CONSUMER_SECRET, ACCESS_TOKEN_SECRET):
        assert secret not in everything, secret


def test_missing_credential_is_a_config_error() -> None:
    """build() names the missing credential key and where to set it."""
    channel = _channel("http://127.0.0.1:9")
    del channel.credentials["api_secret"]
    with httpx.Client() as client, pytest.raises(ConfigError, match=r"credentials\.api_secret"):
        build(channel, PublisherContext(http=client))


def test_tweepy_host_is_redirected_and_timeout_set(x: FakeX, http: httpx.Client) -> None:
    """The session rewrites tweepy's api.twitter.com and the default api.x.com to api_base."""
    publisher = _publisher(x, http)
    session = publisher._session
    assert session.rewrite("https://api.twitter.com/2/tweets") == f"{x.base}/2/tweets"
    assert session.rewrite("https://api.x.com/2/users/me") == f"{x.base}/2/users/me"
    assert session.rewrite("https://example.com/2/tweets") == "https://example.com/2/tweets"
    assert session.timeout == 1.0
    assert publisher._client.wait_on_rate_limit is False


@pytest.mark.parametrize("field", ["link", "url", "in_reply_to_status_id"])
def test_fake_refuses_tweet_fields_x_does_not_document(
    x: FakeX, http: httpx.Client, field: str
) -> None:
    """The fake refuses a timeline read asking for a tweet field X's OpenAPI does not list
    (400 Invalid Request), so the read-back must use documented fields."""
    publisher = _publisher(x, http)
    with pytest.raises(tweepy.BadRequest):
        publisher._client.get_users_tweets(x.user_id, tweet_fields=[field], user_auth=True)
