"""Contract harness for the X publisher over the fake X API v2 (``tests/fakes/x_api.py``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.fakes import x_api
from tests.harnesses import CLIENT_TIMEOUT, SLOW_ANSWER, jpeg, sample_post
from tests.publisher_helpers import api_channel

SECRETS = (
    x_api.CONSUMER_KEY,
    x_api.CONSUMER_SECRET,
    x_api.ACCESS_TOKEN,
    x_api.ACCESS_TOKEN_SECRET,
)
CREDENTIAL_KEYS = ("api_key", "api_secret", "access_token", "access_token_secret")
CHANNEL = "x-hi"


X_REJECTION = "$.media.media_ids: media id 1800000000000000001 is not valid"


class XHarness:
    """FakeX plus an X channel pointed at it."""

    platform = "x"
    rate_limit_wait = 900.0  # X's 15-minute window, advertised in x-rate-limit-reset
    secrets = SECRETS
    reconciles = True  # the timeline lookup finds a tweet whose answer was lost
    rejection = X_REJECTION

    def __init__(self, fake: x_api.FakeX, http: httpx.Client) -> None:
        self.fake = fake
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        credentials = dict(zip(CREDENTIAL_KEYS, SECRETS, strict=True))
        options = {"timeout": str(CLIENT_TIMEOUT)}
        self._channel = api_channel("x", CHANNEL, credentials, options=options, api_base=fake.base)
        fake.images["cover.jpg"] = (jpeg(), "image/jpeg")

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("x", CHANNEL, f"{self.fake.base}/img/cover.jpg")

    def posts_received(self) -> int:
        return len(self.fake.tweets)

    def fail_next(self, fault: Fault) -> None:
        self.fake.script("POST", "/2/tweets", _fault(fault, self.rate_limit_wait))


def _fault(fault: Fault, wait: float) -> x_api.Fault:
    if fault == "rate_limit":
        reset = str(int(time.time() + wait))
        headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
        return x_api.Fault(status=429, body=x_api.TOO_MANY, headers=headers)
    if fault == "auth":
        return x_api.Fault(status=401, body=x_api.UNAUTHORIZED)
    if fault == "server_error":
        return x_api.Fault(status=503, body=x_api.SERVER_ERROR)
    if fault == "timeout":
        return x_api.Fault(delay=SLOW_ANSWER)
    if fault == "rejected":
        body = {
            "errors": [{"message": X_REJECTION}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        }
        return x_api.Fault(status=400, body=body)
    return x_api.Fault(drop=True)


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[XHarness]:
    """A running fake X and a harness on it; fails if the fake itself broke."""
    with x_api.FakeX() as fake, httpx.Client(timeout=2.0) as http:
        yield XHarness(fake, http)
    assert fake.errors == [], fake.errors
