"""Contract harness for the Slack incoming-webhook publisher over the fake webhooks server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import webhooks
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.harnesses.discord import webhook_channel

CHANNEL = "slack-hi"


def slack_fault(fault: Fault, *, wait: int) -> webhooks.Fault:
    """Slack's documented answer for ``fault`` (plain-text bodies)."""
    if fault == "rate_limit":
        return webhooks.Fault(status=429, body="rate_limited", headers={"Retry-After": str(wait)})
    if fault == "auth":
        return webhooks.Fault(status=404, body="no_service")
    if fault == "server_error":
        return webhooks.Fault(status=500, body="internal_error")
    if fault == "timeout":
        return webhooks.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        return webhooks.Fault(status=400, body="invalid_blocks")
    return webhooks.Fault(drop_after=True)


class SlackHarness:
    """FakeWebhooks plus a Slack channel pointed at it."""

    platform = "slack"
    rate_limit_wait = 30.0
    secrets = (webhooks.SLACK_PATH.rsplit("/", 1)[1],)
    reconciles = False  # incoming webhooks cannot read the channel
    rejection = "invalid_blocks"

    def __init__(self, fake: webhooks.FakeWebhooks, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        self._channel = webhook_channel("slack", CHANNEL, webhooks.SLACK_URL, fake.base)
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("slack", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.slack)

    def fail_next(self, fault: Fault) -> None:
        self.fake.fail("slack", slack_fault(fault, wait=int(self.rate_limit_wait)))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[SlackHarness]:
    """A running fake webhook server and a harness on it."""
    with webhooks.FakeWebhooks() as fake, httpx.Client(timeout=CLIENT_TIMEOUT) as http:
        yield SlackHarness(fake, http)
