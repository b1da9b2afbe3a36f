"""Contract harness for the Mastodon publisher over the fake Mastodon instance."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import mastodon_api
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.publisher_helpers import api_channel

CHANNEL = "mastodon-hi"
TOKEN = "mAsToDoN-contract-token-5f1e2d3c4b5a69788796"


MASTODON_REJECTION = "Validation failed: Language is not a valid language"


def mastodon_fault(fault: Fault, *, wait: float) -> mastodon_api.Fault:
    """Mastodon's documented answer for ``fault``."""
    if fault == "rate_limit":
        reset = (datetime.now(UTC) + timedelta(seconds=wait)).isoformat(timespec="milliseconds")
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"),
        }
        return mastodon_api.Fault(status=429, body={"error": "Too many requests"}, headers=headers)
    if fault == "auth":
        return mastodon_api.Fault(status=401, body={"error": "The access token was revoked"})
    if fault == "server_error":
        return mastodon_api.Fault(status=503, body={"error": "Service Unavailable"})
    if fault == "timeout":
        return mastodon_api.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        return mastodon_api.Fault(status=422, body={"error": MASTODON_REJECTION})
    return mastodon_api.Fault(drop_after=True)


class MastodonHarness:
    """FakeMastodon plus a Mastodon channel pointed at it."""

    platform = "mastodon"
    rate_limit_wait = 240.0
    secrets = (TOKEN,)
    reconciles = True  # Idempotency-Key, then the account's timeline
    rejection = MASTODON_REJECTION

    def __init__(self, fake: mastodon_api.FakeMastodon, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        options = {"instance": "https://masto.example"}
        self._channel = api_channel(
            "mastodon", CHANNEL, {"access_token": TOKEN}, options=options, api_base=fake.base
        )
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("mastodon", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.statuses)

    def fail_next(self, fault: Fault) -> None:
        self.fake.fail("statuses", mastodon_fault(fault, wait=self.rate_limit_wait))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[MastodonHarness]:
    """A running fake Mastodon instance and a harness on it."""
    with (
        mastodon_api.FakeMastodon(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield MastodonHarness(fake, http)
