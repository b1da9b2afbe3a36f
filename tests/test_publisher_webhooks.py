"""Discord and Slack webhook publishers against the fake webhook server over loopback HTTP."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.app import open_pipeline
from bot.compose import compose
from bot.config import ChannelConfig, load_config
from bot.errors import AuthError, PublishError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Media, Post
from bot.publishers import build_publisher
from bot.publishers.base import PublisherContext
from bot.publishers.discord import DiscordPublisher
from bot.publishers.slack import SlackPublisher
from bot.summarise import ExtractiveSummariser
from tests.builders import Item, rss, write_config
from tests.fakes.webhooks import (
    DISCORD_ID,
    DISCORD_TOKEN,
    DISCORD_URL,
    SLACK_PATH,
    SLACK_URL,
    FakeWebhooks,
    Fault,
    jpeg_bytes,
)
from tests.harnesses.discord import webhook_channel
from tests.harnesses.slack import make_harness as make_slack_harness
from tests.publisher_helpers import error_texts

ARTICLE = "https://evnews.example/2026/11/nexon-ev-price-cut/"
HINDI = "टाटा नेक्सन ईवी की कीमत घटी, अब 12 लाख से शुरू"
TAMIL = "ஓலா எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பு அறிமுகம்"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం"
SLACK_SECRET = SLACK_PATH.rsplit("/", 1)[1]
KEY = "ev:item-1:hook"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def hooks() -> Iterator[FakeWebhooks]:
    with FakeWebhooks() as fake:
        fake.add_image("/img/cover.jpg", jpeg_bytes())
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def _channel(platform: str, hooks: FakeWebhooks, url: str | None = None) -> ChannelConfig:
    default = DISCORD_URL if platform == "discord" else SLACK_URL
    return webhook_channel(platform, f"{platform}-main", url or default, hooks.base)


def _discord(hooks: FakeWebhooks, http: httpx.Client, url: str | None = None) -> DiscordPublisher:
    publisher = build_publisher(_channel("discord", hooks, url), PublisherContext(http=http))
    assert isinstance(publisher, DiscordPublisher)
    return publisher


def _slack(hooks: FakeWebhooks, http: httpx.Client, url: str | None = None) -> SlackPublisher:
    publisher = build_publisher(_channel("slack", hooks, url), PublisherContext(http=http))
    assert isinstance(publisher, SlackPublisher)
    return publisher


def _post(platform: str, hooks: FakeWebhooks, title: str = HINDI, body: str = TAMIL) -> Post:
    article = Article(
        feed="ev",
        item_id="item-1",
        url=ARTICLE,
        title=title,
        content_html=f"<p>{body}. {TELUGU}.</p>",
        lang="hi",
        image=Media(url=hooks.base + "/img/cover.jpg", alt="A white Nexon EV charging"),
    )
    style = ChannelStyle(platform=platform, name=f"{platform}-main")
    return compose(article, style, summariser=ExtractiveSummariser(), now=NOW)


# -- Discord -------------------------------------------------------------------------------


def test_discord_post_with_embed(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """One POST ?wait=true: content, one embed (title, summary, link, image), no mentions."""
    post = _post("discord", hooks)
    result = _discord(hooks, http).publish(post, idempotency_key=KEY)
    [call] = hooks.calls
    assert call.path == f"/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
    assert call.query == {"wait": ["true"]}
    assert call.json() == {
        "content": post.parts[0].text,
        "embeds": [
            {
                "title": HINDI,
                "url": ARTICLE,
                "description": post.summary,
                "image": {"url": hooks.base + "/img/cover.jpg"},
            }
        ],
        "allowed_mentions": {"parse": []},
    }
    assert TAMIL in hooks.discord[0]["content"]
    assert TELUGU in hooks.discord[0]["embeds"][0]["description"]
    assert result.remote_id.isdigit()


def test_discord_mentions_stay_silent(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """An @everyone in a headline is sent as text with allowed_mentions parsing nothing."""
    _discord(hooks, http).publish(
        _post("discord", hooks, title="@everyone EVs"), idempotency_key=KEY
    )
    sent = hooks.calls[0].json()
    assert "@everyone" in sent["content"]
    assert sent["allowed_mentions"] == {"parse": []}


def test_discord_check_returns_webhook_name(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """check() GETs the webhook and returns its name."""
    assert _discord(hooks, http).check() == "Volt Lane News"
    assert hooks.calls[0].method == "GET"


def test_discord_rate_limit_reads_json_retry_after(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """429's JSON retry_after (seconds, fractional) is the wait."""
    body = {"message": "You are being rate limited.", "retry_after": 3.75, "global": False}
    hooks.fail("discord", Fault(status=429, body=body, headers={"Retry-After": "4"}))
    with pytest.raises(RateLimited) as info:
        _discord(hooks, http).publish(_post("discord", hooks), idempotency_key=KEY)
    assert info.value.retry_after == 3.75


def test_discord_deleted_webhook_is_auth_error(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """An unknown webhook (deleted) answers 404 -> AuthError with the fix, no token."""
    url = DISCORD_URL.replace(DISCORD_ID, "1")
    with pytest.raises(AuthError, match="Integrations > Webhooks") as info:
        _discord(hooks, http, url).publish(_post("discord", hooks), idempotency_key=KEY)
    assert "Unknown Webhook" in str(info.value)
    assert DISCORD_TOKEN not in str(info.value)


def test_discord_wrong_token_is_auth_error(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """A wrong webhook token answers 401 -> AuthError."""
    url = DISCORD_URL.replace(DISCORD_TOKEN, "x" * 40)
    with pytest.raises(AuthError, match="Invalid Webhook Token"):
        _discord(hooks, http, url).check()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"message": "Invalid Form Body", "code": 50035, "errors": {}}, Rejected),
        (500, {"message": "Internal Server Error", "code": 0}, Transient),
        (502, "<html>bad gateway</html>", Transient),
        (403, {"message": "Missing Permissions", "code": 50013}, AuthError),
    ],
)
def test_discord_status_codes(
    hooks: FakeWebhooks, http: httpx.Client, status: int, body: object, error: type[PublishError]
) -> None:
    """Discord answers map onto the error tree."""
    hooks.fail("discord", Fault(status=status, body=body))
    with pytest.raises(error) as info:
        _discord(hooks, http).publish(_post("discord", hooks), idempotency_key=KEY)
    assert type(info.value) is error


def test_discord_webhook_url_must_look_right(http: httpx.Client) -> None:
    """A URL that is not a Discord webhook is an AuthError naming the key, not the URL."""
    channel = webhook_channel("discord", "d", "https://example.com/hook/abc123secret", None)
    publisher = build_publisher(channel, PublisherContext(http=http))
    with pytest.raises(AuthError, match=r"credentials\.webhook_url") as info:
        publisher.check()
    assert "abc123secret" not in str(info.value)


def test_webhook_url_pointing_at_the_fake(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """Without api_base, a webhook URL on 127.0.0.1 is used as it is."""
    url = f"{hooks.base}/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
    channel = webhook_channel("discord", "d", url, None)
    build_publisher(channel, PublisherContext(http=http)).publish(
        _post("discord", hooks), idempotency_key=KEY
    )
    assert len(hooks.discord) == 1


# -- Slack ---------------------------------------------------------------------------------


def test_slack_post_with_blocks(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """One POST: text fallback, mrkdwn section, image block with alt text, context link."""
    post = _post("slack", hooks)
    result = _slack(hooks, http).publish(post, idempotency_key=KEY)
    [call] = hooks.calls
    assert call.path == SLACK_PATH
    assert call.json() == {
        "text": post.parts[0].text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": post.parts[0].text}},
            {
                "type": "image",
                "image_url": hooks.base + "/img/cover.jpg",
                "alt_text": "A white Nexon EV charging",
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{ARTICLE}|evnews.example>"}],
            },
        ],
    }
    assert HINDI in hooks.slack[0]["text"]
    assert TELUGU in hooks.slack[0]["blocks"][0]["text"]["text"]
    assert result.remote_id is None  # Slack names no message: no made-up id either
    assert "without a message id" in result.note


def test_slack_mentions_are_escaped(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """<@U123> from a feed reaches Slack escaped (<!channel> is dropped), so nobody is pinged."""
    post = _post("slack", hooks, title="<!channel> <@U123> & @channel EV news")
    _slack(hooks, http).publish(post, idempotency_key=KEY)
    text = hooks.slack[0]["blocks"][0]["text"]["text"]
    assert "&lt;@U123&gt; &amp; @channel EV news" in text
    body = hooks.calls[0].text()
    assert "<!channel>" not in body
    assert "<@U123>" not in body
    assert "link_names" not in hooks.calls[0].json()


def test_slack_check_posts_nothing(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """check() only verifies the URL's shape."""
    assert _slack(hooks, http).check() == "incoming webhook"
    assert hooks.calls == []
    bad = webhook_channel("slack", "s", "https://hooks.slack.com/workflows/T1/A2/x", None)
    with pytest.raises(AuthError, match=r"credentials\.webhook_url"):
        build_publisher(bad, PublisherContext(http=http)).check()


def test_slack_rate_limit(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """429 with Retry-After becomes RateLimited(Retry-After)."""
    hooks.fail("slack", Fault(status=429, body="rate_limited", headers={"Retry-After": "42"}))
    with pytest.raises(RateLimited) as info:
        _slack(hooks, http).publish(_post("slack", hooks), idempotency_key=KEY)
    assert info.value.retry_after == 42.0


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, "invalid_payload", Rejected),
        (400, "invalid_blocks", Rejected),
        (404, "no_service", AuthError),
        (410, "channel_is_archived", AuthError),
        (403, "action_prohibited", AuthError),
        (500, "internal_error", Transient),
    ],
)
def test_slack_errors(
    hooks: FakeWebhooks, http: httpx.Client, status: int, body: str, error: type[PublishError]
) -> None:
    """Slack's plain-text error codes map onto the error tree."""
    hooks.fail("slack", Fault(status=status, body=body))
    with pytest.raises(error, match=body):
        _slack(hooks, http).publish(_post("slack", hooks), idempotency_key=KEY)


def test_slack_wrong_url_from_the_server(hooks: FakeWebhooks, http: httpx.Client) -> None:
    """The fake's own no_service answer for an unknown hook path is an AuthError."""
    url = SLACK_URL.replace(SLACK_SECRET, "RevokedSecret0000")
    with pytest.raises(AuthError, match="no_service"):
        _slack(hooks, http, url).publish(_post("slack", hooks), idempotency_key=KEY)


# -- both ----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["discord", "slack"])
def test_no_webhook_secret_in_errors_or_logs(
    hooks: FakeWebhooks, caplog: pytest.LogCaptureFixture, platform: str
) -> None:
    """Timeouts, drops and errors quoting the URL: the secret is nowhere to be seen."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # the CLI tests quiet them process-wide
        caplog.set_level(logging.DEBUG, logger=name)
    secret = DISCORD_TOKEN if platform == "discord" else SLACK_SECRET
    hooks.fail(
        platform,
        Fault(delay=1.0),
        Fault(drop=True),
        Fault(drop_after=True),
        Fault(status=400, body=f"bad request to {SLACK_URL} {DISCORD_URL}"),
    )
    with httpx.Client(timeout=0.3) as client:
        publisher = build_publisher(_channel(platform, hooks), PublisherContext(http=client))
        post = _post(platform, hooks)
        messages = error_texts(lambda: publisher.publish(post, idempotency_key=KEY), 4)
    messages += [repr(publisher), caplog.text]
    assert "HTTP Request" in caplog.text  # httpx logged the requests, redacted
    assert not [m for m in messages if secret in m]


def test_slack_delivery_is_stored_without_an_id_and_with_the_reason(tmp_path: Path) -> None:
    """Through the pipeline, a Slack post is stored as sent with no remote id (never a
    made-up ``slack:<key>``) and the reason in place of one."""
    feed = tmp_path / "feed.xml"
    items = [Item(guid="g1", title="Charging news", link="https://volt.example/1/")]
    feed.write_text(rss(items), encoding="utf-8")
    config = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("slack",))
    with (
        make_slack_harness(tmp_path) as harness,
        open_pipeline(load_config(config, env={})) as base,
    ):
        pipe = dataclasses.replace(base, publishers={"slack-out": harness.publisher()})
        pipe.poll("volt")
        (report,) = pipe.deliver()
        (sent,) = pipe.store.deliveries(status="sent")
    assert report.outcome == "sent"
    assert sent.remote_id is None
    assert "without a message id" in (sent.last_error or "")
    assert harness.posts_received() == 1
