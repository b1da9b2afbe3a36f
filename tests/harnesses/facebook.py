"""Contract harness for the Facebook Page publisher over the fake Graph API."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import graph_api
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.publisher_helpers import api_channel

CHANNEL = "facebook-hi"
TOKEN = "EAAGfakeHindiPageToken9f3c2d1e"


GRAPH_REJECTION = "(#100) Invalid parameter"


def graph_fault(fault: Fault, *, wait_minutes: int) -> graph_api.Fault:
    """The Graph API's documented answer for ``fault`` (shared by the Meta harnesses)."""
    if fault == "rate_limit":
        # Page/BUC throttling: code 32 plus the usage header saying when access returns.
        usage = {
            "1001": [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 60,
                    "estimated_time_to_regain_access": wait_minutes,
                }
            ]
        }
        error = {
            "message": "(#32) Page request limit reached",
            "type": "OAuthException",
            "code": 32,
            "fbtrace_id": "AxRate1",
        }
        return graph_api.Fault(
            status=400, error=error, headers={"x-business-use-case-usage": json.dumps(usage)}
        )
    if fault == "auth":
        error = {
            "message": "Error validating access token: Session has expired on Monday, "
            "16-Nov-26 01:00:00 PST.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "fbtrace_id": "AxAuth1",
        }
        return graph_api.Fault(status=400, error=error)
    if fault == "server_error":
        error = {
            "message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException",
            "code": 2,
            "is_transient": True,
            "fbtrace_id": "AxSrv1",
        }
        return graph_api.Fault(status=500, error=error)
    if fault == "timeout":
        return graph_api.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        error = {
            "message": GRAPH_REJECTION,
            "type": "OAuthException",
            "code": 100,
            "fbtrace_id": "AxBad1",
        }
        return graph_api.Fault(status=400, error=error)
    return graph_api.Fault(drop_after=True)


class FacebookHarness:
    """FakeGraph plus a Facebook Page channel pointed at it."""

    platform = "facebook"
    rate_limit_wait = 300.0
    secrets = (TOKEN,)
    reconciles = True  # a retry looks for the article on the Page's feed first
    rejection = GRAPH_REJECTION

    def __init__(self, fake: graph_api.FakeGraph, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        options = {"page_id": fake.page_id, "graph_version": "v25.0"}
        self._channel = api_channel(
            "facebook", CHANNEL, {"page_token": TOKEN}, options=options, api_base=fake.base
        )
        self._image = fake.add_image("/img/cover.jpg", jpeg())

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("facebook", CHANNEL, self._image)

    def posts_received(self) -> int:
        return len(self.fake.page_posts)

    def fail_next(self, fault: Fault) -> None:
        # The sample post has an image, so it goes out as a photo post.
        self.fake.fail("photos", graph_fault(fault, wait_minutes=int(self.rate_limit_wait / 60)))


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[FacebookHarness]:
    """A running fake Graph API and a harness on it."""
    with (
        graph_api.FakeGraph(token=TOKEN) as fake,
        httpx.Client(timeout=CLIENT_TIMEOUT) as http,
    ):
        yield FacebookHarness(fake, http)
