"""Every Mastodon API call the publisher makes is checked against an OpenAPI document.

The spec is the shared corpus copy of abraham/mastodon-openapi ``dist/schema.json``
(OpenAPI 3.1, Mastodon 4.7.0, generated from the Mastodon documentation); the tests skip
when it is absent. Paths and methods must exist, JSON and multipart bodies must validate
against the operation's ``requestBody`` schema, query parameters against ``parameters``,
and every header the spec declares for the operation must be one it names.

Known divergences of the generated spec, handled here on purpose:
- ``POST /api/v1/statuses`` offers ``oneOf`` Text/Media/PollStatus, but none of them
  forbids extra properties, so a status with both text and media matches two branches
  and fails ``oneOf``; the check accepts a body valid under *any* branch.
- The ``Idempotency-Key`` header is typed ``object`` (it is a string on the wire); the
  check requires the header to be declared and non-empty, not its type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.models import Length, Media, Post, PostPart
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.mastodon import MastodonPublisher
from tests.fakes.loopback import Request
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.webhooks import jpeg_bytes
from tests.openapi import OpenAPISpec
from tests.test_publisher_mastodon import ARTICLE, HINDI, TAMIL, TELUGU, _channel

jsonschema = pytest.importorskip("jsonschema")

SPEC = OpenAPISpec(
    "mastodon-api_openapi-3.1_v4.7.0.json",
    "Mastodon",
    jsonschema.Draft202012Validator,  # OpenAPI 3.1's dialect
    literal_paths_first=True,
)
SENT_HEADERS = ("idempotency-key",)  # headers the publisher adds beyond auth and content

pytestmark = pytest.mark.corpus


def _any_branch_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """``oneOf`` read as ``anyOf`` (see the module docstring)."""
    branches = schema.get("oneOf")
    if not branches:
        return SPEC.schema_errors(instance, schema)
    per_branch = [SPEC.schema_errors(instance, branch) for branch in branches]
    return [] if any(not errors for errors in per_branch) else [e for b in per_branch for e in b]


def _header_errors(operation: dict[str, Any], headers: dict[str, str]) -> list[str]:
    declared = {
        p["name"].lower()
        for p in map(SPEC.resolve, operation.get("parameters", []))
        if p["in"] == "header"
    }
    return [
        f"header {name} is not declared for this operation"
        for name in SENT_HEADERS
        if name in headers and (name not in declared or not headers[name])
    ]


def request_problems(request: Request) -> list[str]:
    """Everything about ``request`` the spec disagrees with (empty = conforms)."""
    operation = SPEC.operation(request.method, request.path)
    if operation is None:
        return [f"{request.method} {request.path} is not in the spec"]
    return (
        SPEC.query_errors(operation, request.query)
        + _header_errors(operation, request.headers)
        + SPEC.body_errors(operation, request, _any_branch_errors)
    )


def _post(*texts: str, image: str | None = None) -> Post:
    media = (Media(url=image, alt=TAMIL),) if image else ()
    parts = tuple(PostPart(text=t, media=media if i == 0 else ()) for i, t in enumerate(texts))
    return Post(
        platform="mastodon",
        channel="mastodon-main",
        item_id="item-1",
        article_url=ARTICLE,
        title="t",
        lang="hi",
        summary=texts[0],
        hashtags=(),
        parts=parts,
        length=Length(unit="graphemes", value=1, limit=500),
    )


@pytest.fixture
def exercised() -> Iterator[FakeMastodon]:
    """A fake Mastodon after a check, a post with a slow image, a thread and a reconcile."""
    assert SPEC.document  # skips the test when the corpus copy is absent
    with FakeMastodon() as masto, httpx.Client() as http:
        image = masto.add_image("/img/cover.jpg", jpeg_bytes())
        masto.processing_polls = 1
        ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        publisher = MastodonPublisher(_channel(masto), ctx, sleep=lambda _: None)
        publisher.check()
        publisher.publish(_post(f"{HINDI} {ARTICLE}", image=image), idempotency_key="a")
        publisher.publish(_post(f"{TELUGU} 1/2", "2/2"), idempotency_key="b")
        publisher.reconcile(_post("x"), idempotency_key="c")
        yield masto


def test_every_request_is_in_the_spec(exercised: FakeMastodon) -> None:
    """Paths, methods, query parameters, headers and bodies of all calls conform."""
    calls = [c for c in exercised.calls if c.route != "image"]
    assert {(c.method, re.sub(r"/\d{6,}", "/:id", c.path)) for c in calls} == {
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v2/instance"),
        ("POST", "/api/v2/media"),
        ("GET", "/api/v1/media/:id"),
        ("POST", "/api/v1/statuses"),
        ("GET", "/api/v1/accounts/:id/statuses"),
    }
    problems = {f"{c.method} {c.path}": request_problems(c) for c in calls}
    assert {k: v for k, v in problems.items() if v} == {}


def _fake_request(
    method: str, path: str, body: Any = None, query: str = "", headers: dict[str, str] | None = None
) -> Request:
    data = json.dumps(body).encode() if body is not None else b""
    sent = {"content-type": "application/json"} if body is not None else {}
    parsed = {k: [v] for k, _, v in (p.partition("=") for p in query.split("&") if p)}
    return Request("test", method, path, parsed, {**sent, **(headers or {})}, data)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_fake_request("POST", "/api/v1/status", {"status": "hi"}), "not in the spec"),
        (_fake_request("POST", "/api/v1/statuses", {"media_ids": [5]}), "5"),
        (_fake_request("POST", "/api/v1/statuses", {"status": 7}), "7"),
        (
            _fake_request("POST", "/api/v1/statuses", {"status": "x", "visibility": "friends"}),
            "friends",
        ),
        (_fake_request("GET", "/api/v1/accounts/1/statuses", query="limit=abc"), "abc"),
        (_fake_request("GET", "/api/v1/accounts/1/statuses", query="count=5"), "count"),
        (
            _fake_request("GET", "/api/v2/instance", headers={"idempotency-key": "k"}),
            "idempotency-key",
        ),
    ],
    ids=["path", "int-media-id", "int-status", "visibility", "limit", "param", "header"],
)
def test_checker_catches_malformed_requests(request_: Request, expected: str) -> None:
    """The spec check itself rejects wrong paths, types, enum values, parameters, headers."""
    assert SPEC.document  # skips the test when the corpus copy is absent
    problems = request_problems(request_)
    assert problems
    assert any(expected in p for p in problems), problems
