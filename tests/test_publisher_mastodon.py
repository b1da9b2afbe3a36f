"""Mastodon publisher against the fake Mastodon instance over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.compose import compose
from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Length, Media, Post, PostPart
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.mastodon import MastodonPublisher, build, status_length
from bot.summarise import ExtractiveSummariser
from tests.fakes.mastodon_api import ACCOUNT_ID, TOKEN, FakeMastodon, Fault
from tests.fakes.webhooks import jpeg_bytes
from tests.publisher_helpers import api_channel

ARTICLE = "https://evnews.example/2026/11/nexon-ev-price-cut/"
HINDI = "टाटा नेक्सन ईवी की कीमत घटी, अब 12 लाख से शुरू"
TAMIL = "ஓலா எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பு அறிமுகம்"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం"
KEY = "ev-hi:item-1:mastodon-main"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        fake.add_image("/img/cover.jpg", jpeg_bytes())
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def _channel(masto: FakeMastodon, *, token: str = TOKEN, **options: str) -> ChannelConfig:
    options = {"instance": "https://masto.example", **options}
    credentials = {"access_token": token}
    return api_channel(
        "mastodon", "mastodon-main", credentials, options=options, api_base=masto.base
    )


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _publisher(
    masto: FakeMastodon,
    http: httpx.Client,
    *,
    state: MemoryState | None = None,
    clock: Clock | None = None,
    sleeps: list[float] | None = None,
    **options: str,
) -> MastodonPublisher:
    ctx = PublisherContext(
        http=http, state=state or MemoryState(), clock=clock or Clock(), allow_private_media=True
    )
    record = sleeps if sleeps is not None else []
    return MastodonPublisher(_channel(masto, **options), ctx, sleep=record.append)


def _post(*texts: str, image: str | None = None, alt: str = "", lang: str = "hi") -> Post:
    media = (Media(url=image, alt=alt),) if image else ()
    parts = tuple(PostPart(text=t, media=media if i == 0 else ()) for i, t in enumerate(texts))
    return Post(
        platform="mastodon",
        channel="mastodon-main",
        item_id="item-1",
        article_url=ARTICLE,
        title="Nexon EV price cut",
        lang=lang,
        summary=texts[0],
        hashtags=(),
        parts=parts,
        length=Length(unit="graphemes", value=max(status_length(t) for t in texts), limit=500),
    )


def test_post_with_image_and_alt_text(masto: FakeMastodon, http: httpx.Client) -> None:
    """One upload with description = alt, then one status with media id, visibility, language."""
    post = _post(f"{HINDI}\n\n{ARTICLE}", image=masto.base + "/img/cover.jpg", alt=TAMIL)
    result = _publisher(masto, http).publish(post, idempotency_key=KEY)
    [upload] = masto.calls_to("media")
    form = upload.form()
    assert form["description"][0].decode() == TAMIL
    assert form["file"][1] == "image/jpeg"
    assert form["file"][0][:2] == b"\xff\xd8"
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    [call] = masto.calls_to("statuses")
    media_id = next(iter(masto.media))
    assert call.json() == {
        "status": post.parts[0].text,
        "visibility": "public",
        "language": "hi",
        "media_ids": [media_id],
    }
    assert call.headers["idempotency-key"] == KEY
    [status] = masto.statuses
    assert (result.remote_id, result.url) == (status["id"], status["url"])
    assert status["media_attachments"][0]["description"] == TAMIL


@pytest.mark.parametrize("text", [HINDI, TAMIL, TELUGU])
def test_indic_text_round_trip(masto: FakeMastodon, http: httpx.Client, text: str) -> None:
    """Hindi, Tamil and Telugu text arrives byte for byte."""
    _publisher(masto, http).publish(_post(f"{text} {ARTICLE}", lang="ta"), idempotency_key=KEY)
    assert masto.statuses[0]["text"] == f"{text} {ARTICLE}"
    assert masto.statuses[0]["language"] == "ta"


def test_composed_post_is_accepted(masto: FakeMastodon, http: httpx.Client) -> None:
    """A post from the real compose (Telugu, image, hashtags) goes out as composed."""
    article = Article(
        feed="ev-te",
        item_id="te-1",
        url=ARTICLE,
        title=TELUGU,
        content_html=f"<p>{TELUGU}. {TELUGU} నగరంలో వంద కొత్త స్టేషన్లు.</p>",
        lang="te-IN",
        tags=("EV",),
        image=Media(url=masto.base + "/img/cover.jpg", alt=TELUGU),
    )
    style = ChannelStyle(platform="mastodon", name="mastodon-main")
    post = compose(article, style, summariser=ExtractiveSummariser(), now=NOW)
    _publisher(masto, http).publish(post, idempotency_key=KEY)
    [call] = masto.calls_to("statuses")
    assert call.json()["status"] == post.parts[0].text
    assert call.json()["language"] == "te"


def test_same_key_twice_makes_one_status(masto: FakeMastodon, http: httpx.Client) -> None:
    """Two publishers (no shared notes) sending the same key get one status back."""
    post = _post(f"{HINDI} {ARTICLE}")
    first = _publisher(masto, http).publish(post, idempotency_key=KEY)
    second = _publisher(masto, http).publish(post, idempotency_key=KEY)
    assert len(masto.calls_to("statuses")) == 2
    assert len(masto.statuses) == 1
    assert first == second


def test_lost_answer_retry_uses_the_same_key(masto: FakeMastodon, http: httpx.Client) -> None:
    """The status was made but the answer lost: the retry gets it back, no second status."""
    masto.fail("statuses", Fault(drop_after=True))
    pub = _publisher(masto, http)
    post = _post(f"{HINDI} {ARTICLE}", image=masto.base + "/img/cover.jpg", alt="car")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)
    result = pub.publish(post, idempotency_key=KEY)
    assert len(masto.statuses) == 1
    assert len(masto.calls_to("media")) == 1  # the uploaded image is reused
    assert result.remote_id == masto.statuses[0]["id"]
    assert pub.publish(post, idempotency_key=KEY) == result
    assert len(masto.calls_to("statuses")) == 2  # the third call answered from the notes


def test_retry_after_the_key_expired_finds_the_status(
    masto: FakeMastodon, http: httpx.Client
) -> None:
    """Past the server's one-hour key memory, the retry finds the status on the timeline."""
    masto.fail("statuses", Fault(drop_after=True))
    clock = Clock()
    pub = _publisher(masto, http, clock=clock)
    post = _post(f"{HINDI} {ARTICLE}")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)
    masto.key_ttl = 0.0  # the instance forgot the key
    clock.now += timedelta(hours=2)
    result = pub.publish(post, idempotency_key=KEY)
    assert len(masto.statuses) == 1
    assert result.remote_id == masto.statuses[0]["id"]
    [lookup] = masto.calls_to("account_statuses")
    assert lookup.path == f"/api/v1/accounts/{ACCOUNT_ID}/statuses"
    assert lookup.query["limit"] == ["20"]


def test_read_back_needs_read_statuses_and_says_so(masto: FakeMastodon, http: httpx.Client) -> None:
    """Mastodon refuses an account's statuses to a token without read:statuses (403): the
    read-back is an AuthError whose hint lists the scopes to grant, read:statuses included."""
    masto.scopes.discard("read:statuses")
    with pytest.raises(AuthError, match="read:statuses"):
        _publisher(masto, http).reconcile(_post(f"{HINDI} {ARTICLE}"), idempotency_key=KEY)


def test_reconcile(masto: FakeMastodon, http: httpx.Client) -> None:
    """reconcile() finds a status linking the article (HTML content), else None."""
    pub = _publisher(masto, http)
    post = _post(f"{HINDI} {ARTICLE}")
    assert pub.reconcile(post, idempotency_key=KEY) is None
    _publisher(masto, http).publish(post, idempotency_key="another-key")
    found = pub.reconcile(post, idempotency_key=KEY)
    assert found is not None
    assert found.remote_id == masto.statuses[0]["id"]


def test_thread_replies_and_resumes(masto: FakeMastodon, http: httpx.Client) -> None:
    """A two-part post is a reply chain; a retry after part 2 failed posts only part 2."""
    masto.fail("statuses", Fault(), Fault(status=503, body={"error": "down"}))
    pub = _publisher(masto, http)
    post = _post(f"{HINDI} 1/2 {ARTICLE}", f"{TAMIL} 2/2")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)
    pub.publish(post, idempotency_key=KEY)
    first, second = masto.statuses
    assert second["in_reply_to_id"] == first["id"]
    keys = [c.headers["idempotency-key"] for c in masto.calls_to("statuses")]
    assert keys == [KEY, f"{KEY}:2", f"{KEY}:2"]


def test_media_processing_is_polled(masto: FakeMastodon, http: httpx.Client) -> None:
    """A 202 upload is polled (206 while processing) before the status is posted."""
    masto.processing_polls = 2
    sleeps: list[float] = []
    pub = _publisher(masto, http, sleeps=sleeps)
    pub.publish(_post("x", image=masto.base + "/img/cover.jpg", alt="a"), idempotency_key=KEY)
    assert [a.status for r, a in masto.answers if r.route == "media_get"] == [206, 206, 200]
    assert sleeps == [1.0, 1.0, 2.0]
    assert len(masto.statuses) == 1


def test_media_never_ready_is_transient(masto: FakeMastodon, http: httpx.Client) -> None:
    """Polling is bounded: media still processing ends in Transient, no status."""
    masto.processing_polls = 1000
    pub = _publisher(masto, http)
    with pytest.raises(Transient, match="still processing"):
        pub.publish(_post("x", image=masto.base + "/img/cover.jpg"), idempotency_key=KEY)
    assert masto.statuses == []


def test_unusable_image_posts_text(masto: FakeMastodon, http: httpx.Client) -> None:
    """An image URL that is not an image is left out; the status still goes out."""
    masto.add_image("/img/page.html", b"<html></html>", "text/html")
    pub = _publisher(masto, http)
    pub.publish(_post("x", image=masto.base + "/img/page.html"), idempotency_key=KEY)
    assert masto.calls_to("media") == []
    assert "media_ids" not in masto.calls_to("statuses")[0].json()


def test_instance_limits_cached_for_a_day(masto: FakeMastodon, http: httpx.Client) -> None:
    """instance_limits() reads /api/v2/instance once a day and keeps it in channel state."""
    state, clock = MemoryState(), Clock()
    masto.max_characters = 1000
    pub = _publisher(masto, http, state=state, clock=clock)
    limits = pub.instance_limits()
    assert limits["max_characters"] == 1000
    assert limits["characters_reserved_per_url"] == 23
    assert limits["description_limit"] == 1500
    clock.now += timedelta(hours=23)
    _publisher(masto, http, state=state, clock=clock).instance_limits()
    assert len(masto.calls_to("instance")) == 1
    assert state.channel_state("mastodon-main")["instance"]["max_characters"] == 1000
    clock.now += timedelta(hours=2)
    pub.instance_limits()
    assert len(masto.calls_to("instance")) == 2


def test_too_long_for_the_instance_is_rejected(masto: FakeMastodon, http: httpx.Client) -> None:
    """A post over the instance's max_characters is Rejected before any upload."""
    masto.max_characters = 100
    post = _post("अ" * 101, image=masto.base + "/img/cover.jpg")
    with pytest.raises(Rejected, match="max_chars = 100"):
        _publisher(masto, http).publish(post, idempotency_key=KEY)
    assert masto.calls_to("media") == []
    assert masto.calls_to("statuses") == []


def test_check_returns_acct(masto: FakeMastodon, http: httpx.Client) -> None:
    """check() reads verify_credentials and returns @acct."""
    assert _publisher(masto, http).check() == "@voltlane"


def test_wrong_token_is_auth_error(masto: FakeMastodon, http: httpx.Client) -> None:
    """The server's 401 becomes AuthError naming the scopes, without the token."""
    pub = _publisher(masto, http, token="wrong-token-123456")
    with pytest.raises(AuthError, match="write:media") as info:
        pub.check()
    assert "The access token is invalid" in str(info.value)
    assert "wrong-token-123456" not in str(info.value)


def test_rate_limit_reads_the_reset_time(masto: FakeMastodon, http: httpx.Client) -> None:
    """429 waits until X-RateLimit-Reset (an ISO 8601 time)."""
    reset = (NOW + timedelta(seconds=90)).isoformat().replace("+00:00", "Z")
    masto.fail("statuses", Fault(429, {"error": "Too many requests"}, {"X-RateLimit-Reset": reset}))
    with pytest.raises(RateLimited) as info:
        _publisher(masto, http).publish(_post("x"), idempotency_key=KEY)
    assert info.value.retry_after == 90.0


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, AuthError), (422, Rejected), (500, Transient), (503, Transient), (410, AuthError)],
)
def test_status_codes(
    masto: FakeMastodon, http: httpx.Client, status: int, error: type[PublishError]
) -> None:
    """HTTP status codes map onto the error tree."""
    masto.fail("statuses", Fault(status, {"error": "Validation failed: boom"}))
    with pytest.raises(error) as info:
        _publisher(masto, http).publish(_post("x"), idempotency_key=KEY)
    assert type(info.value) is error


def test_timeout_is_transient(masto: FakeMastodon) -> None:
    """An answer slower than the client timeout is Transient."""
    masto.fail("statuses", Fault(delay=1.0))
    with httpx.Client(timeout=0.2) as slow, pytest.raises(Transient, match="Timeout"):
        _publisher(masto, slow).publish(_post("x"), idempotency_key=KEY)


def test_bad_visibility_is_a_config_error(masto: FakeMastodon, http: httpx.Client) -> None:
    """options.visibility must be one Mastodon knows; it is sent as given."""
    with pytest.raises(Exception, match="visibility"):
        _publisher(masto, http, visibility="friends")
    _publisher(masto, http, visibility="unlisted").publish(_post("x"), idempotency_key=KEY)
    assert masto.statuses[0]["visibility"] == "unlisted"


def test_no_token_in_errors_logs_or_repr(
    masto: FakeMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    """Across failures the token appears in no exception, log line or repr."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # the CLI tests quiet them process-wide
        caplog.set_level(logging.DEBUG, logger=name)
    masto.fail(
        "statuses",
        Fault(401, {"error": f"token {TOKEN} revoked"}),
        Fault(500, {"error": f"oops {TOKEN}"}),
        Fault(drop=True),
        Fault(delay=1.0),
    )
    messages = []
    with httpx.Client(timeout=0.3) as client:
        pub = build(_channel(masto), PublisherContext(http=client))
        for n in range(4):
            with pytest.raises(PublishError) as info:
                pub.publish(_post("x"), idempotency_key=f"k{n}")
            messages += [str(info.value), repr(info.value), repr(info.value.__cause__)]
    messages += [repr(pub), caplog.text]
    assert caplog.text
    assert not [m for m in messages if TOKEN in m]
