"""Every X API call the publisher makes is checked against X's own OpenAPI document.

The spec is the shared corpus copy of xdevplatform/xdk ``specs/openapi.json`` (v2.167);
the tests skip when it is absent. Request paths and methods must exist, JSON and
multipart bodies must validate against the operation's ``requestBody`` schema, query
parameters against its ``parameters``. The fake's 2xx answers are checked against the
response schemas too, so the fake cannot drift from the documented API unnoticed.

Known divergence: the spec names the Post field selector ``post.fields``, while X's own
documentation (docs.x.com "Fields") and tweepy use ``tweet.fields``; the check maps one to
the other and still validates the requested values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.x import build
from tests.fakes.x_api import FakeX, XRequest
from tests.openapi import OpenAPISpec
from tests.test_publisher_x import ARTICLE, HINDI, TAMIL, TELUGU, _channel, _jpeg, _post

jsonschema = pytest.importorskip("jsonschema")

SPEC = OpenAPISpec(
    "x-api-v2_openapi_v2.167.json",
    "X",
    jsonschema.Draft7Validator,
    format_checker=jsonschema.FormatChecker(),
    query_aliases={"tweet.fields": "post.fields"},  # see the module docstring
)

pytestmark = pytest.mark.corpus


def request_problems(request: XRequest) -> list[str]:
    """Everything about ``request`` the spec disagrees with (empty = conforms)."""
    operation = SPEC.operation(request.method, request.path)
    if operation is None:
        return [f"{request.method} {request.path} is not in the spec"]
    return SPEC.query_errors(operation, request.query) + SPEC.body_errors(operation, request)


def response_problems(request: XRequest, status: int, body: dict[str, Any]) -> list[str]:
    """Schema errors of a fake's 2xx answer against the operation's response schema."""
    operation = SPEC.operation(request.method, request.path)
    assert operation is not None
    answer = operation["responses"].get(str(status))
    if answer is None:
        return [f"status {status} is not documented for {request.method} {request.path}"]
    return SPEC.schema_errors(body, answer["content"]["application/json"]["schema"])


@pytest.fixture
def exercised() -> Iterator[FakeX]:
    """A fake X after a check, a post with image, a thread, a retry and a reconcile."""
    assert SPEC.document  # skips the test when the corpus copy is absent
    with FakeX() as x, httpx.Client() as http:
        x.images["cover.jpg"] = (_jpeg(800, 450), "image/jpeg")
        ctx = PublisherContext(http=http, state=MemoryState(), allow_private_media=True)
        publisher = build(_channel(x.base), ctx)
        publisher.check()
        image = f"{x.base}/img/cover.jpg"
        publisher.publish(_post(f"{HINDI} {ARTICLE}", image=image, alt=TAMIL), idempotency_key="a")
        thread = _post(f"{TELUGU} 1/2", f"{ARTICLE}#more 2/2", url=f"{ARTICLE}#more")
        publisher.publish(thread, idempotency_key="b")
        publisher.reconcile(_post("x", url="https://evnews.example/none"), idempotency_key="c")
        yield x


def test_every_request_is_in_the_spec(exercised: FakeX) -> None:
    """Paths, methods, query parameters and bodies of all calls conform to the spec."""
    calls = exercised.api_requests()
    assert {(r.method, re.sub(r"\d{5,}", ":id", r.path)) for r in calls} == {
        ("GET", "/2/users/me"),
        ("POST", "/2/media/upload"),
        ("POST", "/2/media/metadata"),
        ("POST", "/2/tweets"),
        ("GET", "/2/users/:id/tweets"),
    }
    problems = {f"{r.method} {r.path}": request_problems(r) for r in calls}
    assert {k: v for k, v in problems.items() if v} == {}


def test_fake_answers_match_the_spec(exercised: FakeX) -> None:
    """The fake's successful answers validate against the documented response schemas."""
    answered = [(r, s, b) for r, s, b in exercised.responses if 200 <= s < 300]
    assert len(answered) == len(exercised.api_requests())
    problems = {f"{r.method} {r.path}": response_problems(r, s, b) for r, s, b in answered}
    assert {k: v for k, v in problems.items() if v} == {}


def _fake_request(method: str, path: str, body: Any = None, query: str = "") -> XRequest:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"content-type": "application/json"} if body is not None else {}
    return XRequest(method, path, parse_qs(query), headers, data)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_fake_request("POST", "/2/statuses/update", {"status": "hi"}), "not in the spec"),
        (_fake_request("POST", "/2/tweets", {"text": "hi", "reply_to": "1"}), "reply_to"),
        (_fake_request("POST", "/2/tweets", {"text": "hi", "media": {"media_ids": [5]}}), "5"),
        (
            _fake_request("POST", "/2/media/metadata", {"id": "1", "metadata": {"alt_text": {}}}),
            "'text' is a required property",
        ),
        (_fake_request("GET", "/2/users/1/tweets", query="max_results=200"), "200"),
        (_fake_request("GET", "/2/users/1/tweets", query="tweet_fields=entities"), "not in"),
    ],
    ids=["unknown-path", "unknown-field", "int-media-id", "alt-without-text", "max-200", "param"],
)
def test_checker_catches_malformed_requests(request_: XRequest, expected: str) -> None:
    """The spec check itself rejects wrong paths, fields, types and parameter values."""
    assert SPEC.document  # skips the test when the corpus copy is absent
    problems = request_problems(request_)
    assert problems
    assert any(expected in p for p in problems), problems
