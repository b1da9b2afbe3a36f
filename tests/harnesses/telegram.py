"""Contract harness for the Telegram publisher over the fake Bot API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import telegram_api
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.publisher_helpers import api_channel

CHANNEL = "telegram-hi"
TOKEN = "7700011122:AAContractTelegramToken_9a8b7c6d5e4f"


REJECTION = 'can\'t parse entities: Unsupported start tag "blink" at byte offset 3'


def telegram_fault(fault: Fault, *, wait: int) -> telegram_api.Fault:
    """The Bot API's documented answer for ``fault``."""
    if fault == "rate_limit":
        body = telegram_api.telegram_error(429, f"Too Many Requests: retry after {wait}", wait)
        return telegram_api.Fault(status=429, body=body, headers={"Retry-After": str(wait)})
    if fault == "auth":
        body = telegram_api.telegram_error(403, "Forbidden: bot was kicked from the channel chat")
        return telegram_api.Fault(status=403, body=body)
    if fault == "server_error":
        body = telegram_api.telegram_error(502, "Bad Gateway")
        return telegram_api.Fault(status=502, body=body)
    if fault == "timeout":
        return telegram_api.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        body = {"ok": False, "error_code": 400, "description": f"Bad Request: {REJECTION}"}
        return telegram_api.Fault(status=400, body=body)
    return telegram_api.Fault(drop_after=True)


class TelegramHarness:
    """FakeTelegram plus a Telegram channel pointed at it."""

    platform = "telegram"
    rate_limit_wait = 37.0
    secrets = (TOKEN,)
    # The Bot API has no idempotency key and bots cannot read channel history.
    reconciles = False
    rejection = REJECTION

    def __init__(self, fake: telegram_api.FakeTelegram, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        options = {"chat_id": telegram_api.CHAT_ID}
        self._channel = api_channel(
            "telegram", CHANNEL, {"bot_token": TOKEN}, options=options, api_base=fake.base
        )
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("telegram", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.messages)

    def fail_next(self, fault: Fault) -> None:
        # The sample post has an image and a short caption: it goes out as sendPhoto.
        self.fake.fail("sendPhoto", telegram_fault(fault, wait=int(self.rate_limit_wait)))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[TelegramHarness]:
    """A running fake Bot API and a harness on it."""
    with (
        telegram_api.FakeTelegram(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield TelegramHarness(fake, http)
