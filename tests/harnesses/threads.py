"""Contract harness for the Threads publisher over the fake Threads Graph API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import threads_api
from tests.harnesses import CLIENT_TIMEOUT, jpeg, sample_post
from tests.harnesses.facebook import GRAPH_REJECTION, graph_fault

TOKEN = "THfakeHindiThreadsToken90c2ab44"


class ThreadsHarness:
    """FakeThreads plus a Threads channel pointed at it."""

    platform = "threads"
    rate_limit_wait = 600.0
    secrets = (TOKEN,)
    reconciles = True  # the stored container id tells whether it was published
    rejection = GRAPH_REJECTION

    def __init__(self, fake: threads_api.FakeThreads, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        self._channel = threads_api.channel(fake, token=TOKEN)
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("threads", self._channel.name, self._image)

    def posts_received(self) -> int:
        return len(self.fake.posts)

    def fail_next(self, fault: Fault) -> None:
        # threads_publish is the call that makes the post appear on the profile; Threads
        # speaks Graph errors, so the Meta harnesses' scripted answers fit it as they are.
        self.fake.fail("publish", graph_fault(fault, wait_minutes=int(self.rate_limit_wait / 60)))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[ThreadsHarness]:
    """A running fake Threads API and a harness on it."""
    with (
        threads_api.FakeThreads(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield ThreadsHarness(fake, http)
