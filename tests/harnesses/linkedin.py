"""Contract harness for the LinkedIn organization page publisher over the fake LinkedIn API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import linkedin_api
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post

TOKEN = "AQVfakeHindiLinkedInToken_31ac55e0"


LINKEDIN_REJECTION = "ERROR :: /content/article/source :: invalid URL"


def linkedin_fault(fault: Fault) -> linkedin_api.Fault:
    """LinkedIn's documented answer for ``fault``."""
    if fault == "rate_limit":
        # LinkedIn's 429 carries no Retry-After or reset header.
        body = linkedin_api.li_error(429, "TOO_MANY_REQUESTS", "Resource level throttle limit")
        return linkedin_api.Fault(status=429, body=body)
    if fault == "auth":
        body = linkedin_api.li_error(401, "EXPIRED_ACCESS_TOKEN", "The token used has expired")
        return linkedin_api.Fault(status=401, body=body)
    if fault == "server_error":
        body = linkedin_api.li_error(503, "SERVICE_UNAVAILABLE", "Service Unavailable")
        return linkedin_api.Fault(status=503, body=body)
    if fault == "timeout":
        return linkedin_api.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        body = {"message": LINKEDIN_REJECTION, "status": 422}
        return linkedin_api.Fault(status=422, body=body)
    return linkedin_api.Fault(drop_after=True)


class LinkedInHarness:
    """FakeLinkedIn plus a LinkedIn organization channel pointed at it."""

    platform = "linkedin"
    rate_limit_wait = 3600.0  # nothing advertised: the publisher's documented default
    secrets = (TOKEN,)
    reconciles = True  # a retry looks for the article among the page's recent posts
    rejection = LINKEDIN_REJECTION

    def __init__(self, fake: linkedin_api.FakeLinkedIn, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        self._channel = linkedin_api.channel(fake, token=TOKEN)
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("linkedin", self._channel.name, self._image)

    def posts_received(self) -> int:
        return len(self.fake.posts)

    def fail_next(self, fault: Fault) -> None:
        self.fake.fail("create", linkedin_fault(fault))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[LinkedInHarness]:
    """A running fake LinkedIn API and a harness on it."""
    with (
        linkedin_api.FakeLinkedIn(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield LinkedInHarness(fake, http)
