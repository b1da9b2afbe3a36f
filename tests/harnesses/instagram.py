"""Contract harness for the Instagram publisher over the fake Graph API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import graph_api
from tests.harnesses import CLIENT_TIMEOUT, jpeg, sample_post
from tests.harnesses.facebook import GRAPH_REJECTION, graph_fault
from tests.publisher_helpers import api_channel

CHANNEL = "instagram-hi"
TOKEN = "IGfakeHindiAccessToken4b7e0a55"


class InstagramHarness:
    """FakeGraph plus an Instagram channel pointed at it."""

    platform = "instagram"
    rate_limit_wait = 120.0
    secrets = (TOKEN,)
    reconciles = True  # the stored container id tells whether it was published
    rejection = GRAPH_REJECTION

    def __init__(self, fake: graph_api.FakeGraph, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        options = {"ig_user_id": fake.ig_user_id, "graph_version": "v25.0"}
        self._channel = api_channel(
            "instagram", CHANNEL, {"access_token": TOKEN}, options=options, api_base=fake.base
        )
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("instagram", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.media)

    def fail_next(self, fault: Fault) -> None:
        # media_publish is the call that makes the post appear on the account.
        self.fake.fail("publish", graph_fault(fault, wait_minutes=int(self.rate_limit_wait / 60)))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[InstagramHarness]:
    """A running fake Graph API and a harness on it."""
    with (
        graph_api.FakeGraph(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield InstagramHarness(fake, http)
