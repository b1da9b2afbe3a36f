"""Contract harness for the Bluesky publisher against a REAL local PDS (see tests/pds.py).

Each harness gets a fresh account with a real app password on the session's PDS. Its
publisher's HTTP client goes through ``Tap``: the real transport, with every XRPC call
counted and faults injected at the transport edge for what the PDS cannot do on demand
(429, 5xx, no answer, an answer lost after the PDS wrote the post).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bot.config import ChannelConfig
from bot.models import Post
from bot.protocols import Publisher
from bot.publishers import MemoryState, PublisherContext, build_publisher
from tests.contract import Fault
from tests.feedserver import FeedServer
from tests.harnesses import jpeg, sample_post
from tests.pds import PdsInfo, create_account, shared_pds
from tests.publisher_helpers import api_channel

Answer = Callable[[httpx.Request, httpx.BaseTransport], httpx.Response]
CREATE = "com.atproto.repo.createRecord"
CLIENT_TIMEOUT = 15.0  # the real PDS; "timeout" faults are raised at the transport edge
_accounts = itertools.count(1)


class Tap(httpx.BaseTransport):
    """The real HTTP transport with XRPC calls counted by NSID and one-shot faults."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.calls: Counter[str] = Counter()
        self._faults: dict[str, list[Answer]] = {}

    def fail(self, nsid: str, answer: Answer) -> None:
        """Answer the next call of ``nsid`` with ``answer`` (queued, each used once)."""
        self._faults.setdefault(nsid, []).append(answer)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        self.calls[nsid] += 1
        queue = self._faults.get(nsid)
        if queue:
            return queue.pop(0)(request, self._inner)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def answer(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    """A scripted XRPC error answer; the PDS never sees the request."""

    def reply(request: httpx.Request, _inner: httpx.BaseTransport) -> httpx.Response:
        body = {"error": error, "message": message}
        return httpx.Response(status, json=body, headers=headers or {}, request=request)

    return reply


def rate_limited(wait: float) -> Answer:
    """429 as the PDS sends it: ``ratelimit-*`` headers, reset in unix seconds."""
    reset = math.ceil(time.time() + wait)
    headers = {
        "ratelimit-limit": "5000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(reset),
        "ratelimit-policy": "5000;w=3600",
    }
    return answer(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)


def raises(error: type[httpx.TransportError]) -> Answer:
    """No answer at all: the client sees ``error``."""

    def fail(request: httpx.Request, _inner: httpx.BaseTransport) -> httpx.Response:
        raise error("scripted transport failure", request=request)

    return fail


def lost_after_accept(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
    """The PDS gets and writes the post; the connection drops before the answer arrives."""
    response = inner.handle_request(request)
    response.read()
    response.close()
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


def app_password(info: PdsInfo, handle: str, password: str) -> str:
    """A real app password for the account (what users create in Settings)."""
    with httpx.Client(base_url=f"{info.pds_url}/xrpc/", timeout=CLIENT_TIMEOUT) as http:
        login = http.post(
            "com.atproto.server.createSession", json={"identifier": handle, "password": password}
        )
        login.raise_for_status()
        made = http.post(
            "com.atproto.server.createAppPassword",
            json={"name": f"syndbot-{secrets.token_hex(3)}"},
            headers={"Authorization": f"Bearer {login.json()['accessJwt']}"},
        )
        made.raise_for_status()
        return str(made.json()["password"])


def fresh_account(info: PdsInfo) -> tuple[str, str]:
    """``(handle, app_password)`` of a new account on the PDS."""
    handle = f"u{next(_accounts)}{secrets.token_hex(2)}.test"
    password = secrets.token_urlsafe(12)
    create_account(info, handle, password)
    return handle, app_password(info, handle, password)


def bluesky_channel(
    info: PdsInfo, handle: str, password: str, tmp_path: Path, **options: str
) -> ChannelConfig:
    return api_channel(
        "bluesky",
        "bluesky-main",
        {"handle": handle, "app_password": password},
        options={"pds": "https://bsky.social", **options},
        api_base=info.pds_url,
        outbox=tmp_path / "outbox.jsonl",
    )


def records(info: PdsInfo, repo: str) -> list[dict[str, Any]]:
    """The account's posts as the PDS holds them (listRecords is public)."""
    with httpx.Client(timeout=CLIENT_TIMEOUT) as http:
        response = http.get(
            f"{info.pds_url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": repo, "collection": "app.bsky.feed.post", "limit": "100"},
        )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()["records"]
    return found


class BlueskyHarness:
    """A fresh account on the local PDS, a Tap in front of it, and a channel for it."""

    platform = "bluesky"
    rate_limit_wait = 120.0
    reconciles = True  # the record key is chosen and noted before the first attempt
    rejection = "Invalid app.bsky.feed.post record: Record/langs/0 must be a valid language"

    def __init__(self, info: PdsInfo, images: FeedServer, http: httpx.Client, tap: Tap, tmp: Path):
        self.info = info
        self.tap = tap
        self.handle, password = fresh_account(info)
        self.secrets = (password,)
        self._ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        self._channel = bluesky_channel(info, self.handle, password, tmp)
        self._image = images.url("/img/cover.jpg")

    def publisher(self) -> Publisher:
        return build_publisher(self._channel, self._ctx)

    def sample_post(self) -> Post:
        return sample_post("bluesky", self._channel.name, self._image)

    def posts_received(self) -> int:
        return len(records(self.info, self.handle))

    def fail_next(self, fault: Fault) -> None:
        if fault == "auth":
            # The app password was revoked: the token, its refresh and a new login all fail.
            self.tap.fail(CREATE, answer(400, "ExpiredToken", "Token has expired"))
            self.tap.fail(
                "com.atproto.server.refreshSession",
                answer(400, "ExpiredToken", "Token has been revoked"),
            )
            self.tap.fail(
                "com.atproto.server.createSession",
                answer(401, "AuthenticationRequired", "Invalid identifier or password"),
            )
        elif fault == "rate_limit":
            self.tap.fail(CREATE, rate_limited(self.rate_limit_wait))
        elif fault == "server_error":
            self.tap.fail(CREATE, answer(502, "UpstreamFailure", "Upstream Failure"))
        elif fault == "timeout":
            self.tap.fail(CREATE, raises(httpx.ReadTimeout))
        elif fault == "rejected":
            self.tap.fail(CREATE, answer(400, "InvalidRequest", self.rejection))
        else:
            self.tap.fail(CREATE, lost_after_accept)


@contextlib.contextmanager
def make_harness(tmp_path: Path) -> Iterator[BlueskyHarness]:
    """The session's local PDS (skips when npm is missing), an image server, a harness."""
    info = shared_pds()
    tap = Tap()
    with FeedServer() as images, httpx.Client(transport=tap, timeout=CLIENT_TIMEOUT) as http:
        images.route("/img/cover.jpg", body=jpeg(), content_type="image/jpeg")
        yield BlueskyHarness(info, images, http, tap, tmp_path)
