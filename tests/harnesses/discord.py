"""Contract harness for the Discord webhook publisher over the fake webhooks server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.config import ChannelConfig
from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import webhooks
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.publisher_helpers import api_channel

CHANNEL = "discord-hi"


def discord_fault(fault: Fault, *, wait: float) -> webhooks.Fault:
    """Discord's documented answer for ``fault``."""
    if fault == "rate_limit":
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
        headers = {"Retry-After": str(int(wait)), "X-RateLimit-Scope": "shared"}
        return webhooks.Fault(status=429, body=body, headers=headers)
    if fault == "auth":
        return webhooks.Fault(status=404, body={"message": "Unknown Webhook", "code": 10015})
    if fault == "server_error":
        return webhooks.Fault(status=502, body="<html>502 Bad Gateway</html>")
    if fault == "timeout":
        return webhooks.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        errors = {"embeds": {"0": {"url": {"_errors": [{"code": "URL_TYPE_INVALID_URL"}]}}}}
        body = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        return webhooks.Fault(status=400, body=body)
    return webhooks.Fault(drop_after=True)


def webhook_channel(platform: str, name: str, url: str, base: str | None) -> ChannelConfig:
    """A webhook channel (Discord or Slack) whose URL is sent to ``base`` when given."""
    return api_channel(platform, name, {"webhook_url": url}, api_base=base)


class DiscordHarness:
    """FakeWebhooks plus a Discord channel pointed at it."""

    platform = "discord"
    rate_limit_wait = 12.5
    secrets = (webhooks.DISCORD_TOKEN,)
    reconciles = False  # webhooks cannot list the channel's messages
    rejection = "Invalid Form Body"

    def __init__(self, fake: webhooks.FakeWebhooks, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        self._channel = webhook_channel("discord", CHANNEL, webhooks.DISCORD_URL, fake.base)
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("discord", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.discord)

    def fail_next(self, fault: Fault) -> None:
        self.fake.fail("discord", discord_fault(fault, wait=self.rate_limit_wait))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[DiscordHarness]:
    """A running fake webhook server and a harness on it."""
    with webhooks.FakeWebhooks() as fake, httpx.Client(timeout=CLIENT_TIMEOUT) as http:
        yield DiscordHarness(fake, http)
