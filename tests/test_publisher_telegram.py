"""Telegram publisher against the fake Bot API over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.compose import compose
from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Length, Media, Post, PostPart
from bot.publishers.base import PublisherContext
from bot.publishers.telegram import TelegramPublisher, build, message_url
from bot.summarise import ExtractiveSummariser
from tests.fakes.telegram_api import (
    CHAT_ID,
    NUMERIC_CHAT_ID,
    TOKEN,
    FakeTelegram,
    Fault,
    telegram_error,
)
from tests.fakes.webhooks import jpeg_bytes
from tests.publisher_helpers import api_channel

ARTICLE = "https://evnews.example/2026/11/nexon-ev-price-cut/?a=1&b=2"
HINDI = "टाटा नेक्सन ईवी की कीमत घटी, अब 12 लाख से शुरू"
TAMIL = "ஓலா எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பு அறிமுகம்"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం"
KEY = "ev-hi:item-1:telegram-main"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.add_image("/img/cover.jpg", jpeg_bytes())
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def _channel(tg: FakeTelegram, *, token: str = TOKEN, chat_id: str = CHAT_ID) -> ChannelConfig:
    options = {"chat_id": chat_id}
    return api_channel(
        "telegram", "telegram-main", {"bot_token": token}, options=options, api_base=tg.base
    )


def _publisher(tg: FakeTelegram, http: httpx.Client, **kw: str) -> TelegramPublisher:
    return build(_channel(tg, **kw), PublisherContext(http=http))


def _post(text: str, *, image: str | None = None, alt: str = "") -> Post:
    media = (Media(url=image, alt=alt),) if image else ()
    return Post(
        platform="telegram",
        channel="telegram-main",
        item_id="item-1",
        article_url=ARTICLE,
        title="t",
        lang="hi",
        summary=text,
        hashtags=(),
        parts=(PostPart(text=text, media=media),),
        length=Length(unit="utf16", value=len(text), limit=4096),
    )


def test_photo_with_html_caption(tg: FakeTelegram, http: httpx.Client) -> None:
    """A composed post with an image is one sendPhoto: photo URL, HTML caption, parse mode."""
    article = Article(
        feed="ev-hi",
        item_id="hi-1",
        url=ARTICLE,
        title=f"{HINDI}: 5 < 10 & more",
        content_html=f"<p>{HINDI}। {TAMIL}। {TELUGU}।</p>",
        lang="hi",
        image=Media(url=tg.base + "/img/cover.jpg", alt="कार"),
    )
    style = ChannelStyle(platform="telegram", name="telegram-main")
    post = compose(article, style, summariser=ExtractiveSummariser(), now=NOW)
    result = _publisher(tg, http).publish(post, idempotency_key=KEY)
    [call] = tg.calls
    assert call.route == "sendPhoto"
    assert call.path == f"/bot{TOKEN}/sendPhoto"
    sent = call.json()
    assert sent == {
        "chat_id": CHAT_ID,
        "photo": tg.base + "/img/cover.jpg",
        "caption": post.parts[0].text,
        "parse_mode": "HTML",
    }
    assert "5 &lt; 10 &amp; more" in sent["caption"]  # compose escaped it for HTML mode
    [message] = tg.messages
    assert message["caption"].startswith(f"{HINDI}: 5 < 10 & more")  # what readers see
    assert result.remote_id == str(message["message_id"])
    assert result.url == f"https://t.me/voltlane_ev/{message['message_id']}"


@pytest.mark.parametrize("text", [HINDI, TAMIL, TELUGU])
def test_indic_text_round_trip(tg: FakeTelegram, http: httpx.Client, text: str) -> None:
    """Hindi, Tamil and Telugu text arrives unchanged in a sendMessage with a link preview."""
    _publisher(tg, http).publish(_post(text), idempotency_key=KEY)
    [call] = tg.calls
    assert call.route == "sendMessage"
    assert call.json()["text"] == text
    assert call.json()["link_preview_options"] == {"url": ARTICLE, "prefer_large_media": True}
    assert tg.messages[0]["text"] == text


def test_long_caption_becomes_a_message(tg: FakeTelegram, http: httpx.Client) -> None:
    """Text over the 1,024 caption limit is sent as a message (the preview shows the image)."""
    post = _post("अ" * 1500, image=tg.base + "/img/cover.jpg")
    _publisher(tg, http).publish(post, idempotency_key=KEY)
    assert [c.route for c in tg.calls] == ["sendMessage"]


def test_unusable_photo_url_falls_back_to_a_message(tg: FakeTelegram, http: httpx.Client) -> None:
    """Telegram's "wrong file identifier/HTTP URL specified" sends the text instead."""
    post = _post(HINDI, image="https://img.invalid/missing.jpg")
    result = _publisher(tg, http).publish(post, idempotency_key=KEY)
    assert [c.route for c in tg.calls] == ["sendPhoto", "sendMessage"]
    assert len(tg.messages) == 1
    assert result.remote_id == str(tg.messages[0]["message_id"])


def test_check(tg: FakeTelegram, http: httpx.Client) -> None:
    """check() is getMe + getChat: "@bot in <chat title>"."""
    assert _publisher(tg, http).check() == "@VoltBot in Volt Lane EV News"
    assert [c.route for c in tg.calls] == ["getMe", "getChat"]


def test_numeric_chat_id_and_private_link() -> None:
    """A channel without a username gets a t.me/c/ link."""
    chat = {"id": NUMERIC_CHAT_ID, "type": "channel", "title": "x"}
    assert message_url({"message_id": 5, "chat": chat}) == "https://t.me/c/1234567890/5"


def test_rate_limit_uses_retry_after(tg: FakeTelegram, http: httpx.Client) -> None:
    """429 with parameters.retry_after becomes RateLimited(retry_after)."""
    body = telegram_error(429, "Too Many Requests: retry after 17", 17)
    tg.fail("sendMessage", Fault(status=429, body=body))
    with pytest.raises(RateLimited) as info:
        _publisher(tg, http).publish(_post("x"), idempotency_key=KEY)
    assert info.value.retry_after == 17.0


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was kicked from the channel chat"),
        (400, "Bad Request: chat not found"),
        (400, "Bad Request: not enough rights to send text messages to the chat"),
        (403, "Forbidden: bot is not a member of the channel chat"),
    ],
)
def test_no_access_is_auth_error_with_hint(
    tg: FakeTelegram, http: httpx.Client, status: int, description: str
) -> None:
    """Kicked, unknown chat, missing rights: AuthError telling how to fix it."""
    tg.fail("sendMessage", Fault(status=status, body=telegram_error(status, description)))
    with pytest.raises(AuthError, match="administrator") as info:
        _publisher(tg, http).publish(_post("x"), idempotency_key=KEY)
    assert description in str(info.value)


def test_unknown_chat_from_the_server(tg: FakeTelegram, http: httpx.Client) -> None:
    """A chat_id the fake does not know answers "chat not found" -> AuthError."""
    with pytest.raises(AuthError, match="chat not found"):
        _publisher(tg, http, chat_id="@nosuchchannel").check()


def test_wrong_token_is_auth_error(tg: FakeTelegram, http: httpx.Client) -> None:
    """401 Unauthorized points at @BotFather and never shows the token."""
    bad = "123456:WrongTokenValue_abcdefghij"
    with pytest.raises(AuthError, match="BotFather") as info:
        _publisher(tg, http, token=bad).check()
    assert bad not in str(info.value)


def test_bad_request_is_rejected(tg: FakeTelegram, http: httpx.Client) -> None:
    """Text Telegram cannot parse as HTML is Rejected (the fake parses like Telegram)."""
    with pytest.raises(Rejected, match="can't parse entities"):
        _publisher(tg, http).publish(_post("a < b"), idempotency_key=KEY)


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_are_transient(tg: FakeTelegram, http: httpx.Client, status: int) -> None:
    """5xx answers (JSON or not) are Transient."""
    tg.fail("sendMessage", Fault(status=status, body="<html>Bad Gateway</html>"))
    with pytest.raises(Transient):
        _publisher(tg, http).publish(_post("x"), idempotency_key=KEY)


def test_no_token_in_errors_logs_or_causes(
    tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Timeouts, drops and errors: the token is in no message, cause, repr or log line."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore"):  # the CLI tests quiet them process-wide
        caplog.set_level(logging.DEBUG, logger=name)
    tg.fail(
        "sendMessage",
        Fault(delay=1.0),
        Fault(drop=True),
        Fault(status=401, body=telegram_error(401, f"Unauthorized {TOKEN}")),
        Fault(status=500, body=f"proxy error for /bot{TOKEN}/sendMessage"),
    )
    messages = []
    with httpx.Client(timeout=0.3) as client:
        pub = _publisher(tg, client)
        for _ in range(4):
            with pytest.raises(PublishError) as info:
                pub.publish(_post("x"), idempotency_key=KEY)
            cause = info.value.__cause__
            messages += [str(info.value), repr(info.value), str(cause), repr(cause)]
            messages += [repr(getattr(cause, "_request", None))]
    messages += [repr(pub), caplog.text]
    assert "sendMessage" in caplog.text  # httpx logged the requests, redacted
    assert not [m for m in messages if TOKEN in m]


def test_answer_without_message_id_is_sent_with_no_id_and_a_note(
    tg: FakeTelegram, http: httpx.Client
) -> None:
    """An ``ok`` answer whose message lacks ``message_id`` is still sent (a retry would post
    twice), recorded with no id and a note: never the string "None" as an id."""
    tg.fail("sendMessage", Fault(status=200, body={"ok": True, "result": {"chat": {}}}))
    result = _publisher(tg, http).publish(_post("EV news"), idempotency_key="k1")
    assert result.remote_id is None
    assert "message_id" in result.note
