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
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.x import build
from tests.fakes.x_api import FakeX, XRequest
from tests.test_publisher_x import ARTICLE, HINDI, TAMIL, TELUGU, _channel, _jpeg, _post

jsonschema = pytest.importorskip("jsonschema")

SPEC = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus"
    / "specs"
    / "x-api-v2_openapi_v2.167.json"
)
QUERY_ALIASES = {"tweet.fields": "post.fields"}  # see the module docstring

pytestmark = pytest.mark.corpus


@cache
def _spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"X OpenAPI spec not found at {SPEC}")
    spec: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return spec


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while "$ref" in node:
        target: Any = _spec()
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        node = target
    return node


def _operation(method: str, path: str) -> dict[str, Any] | None:
    """The spec's operation for a concrete path, matching ``{param}`` templates."""
    for template, item in _spec()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            operation: dict[str, Any] = item[method.lower()]
            return operation
    return None


def _schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """jsonschema messages for ``instance``; ``$ref``s resolve inside the whole spec."""
    root = {**schema, "components": _spec()["components"]}
    validator = jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _query_errors(operation: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
    declared = {p["name"]: p for p in map(_resolve, operation.get("parameters", []))}
    errors = []
    for sent_name, values in query.items():
        param = declared.get(QUERY_ALIASES.get(sent_name, sent_name)) or declared.get(sent_name)
        if param is None or param["in"] != "query":
            errors.append(f"query parameter {sent_name} is not in the spec")
            continue
        schema = _resolve(param["schema"])
        value: Any = values[0]
        if schema.get("type") == "array":
            value = value.split(",")  # style=form, explode=false
        elif schema.get("type") == "integer":
            value = int(value)
        errors += [f"{sent_name}: {e}" for e in _schema_errors(value, schema)]
    return errors


def _body_errors(operation: dict[str, Any], request: XRequest) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    kind = request.headers.get("content-type", "").split(";")[0]
    if not request.body:
        return ["a body was sent to an operation without one"] if content else []
    if kind not in content:
        return [f"content type {kind} is not accepted here (spec: {sorted(content)})"]
    schema = content[kind]["schema"]
    if kind == "multipart/form-data":
        form = request.form()
        # Binary parts validate as strings; their bytes are checked by the publisher tests.
        instance: Any = {name: data.decode("latin-1") for name, (data, _) in form.items()}
    else:
        instance = request.json()
    return _schema_errors(instance, schema)


def request_problems(request: XRequest) -> list[str]:
    """Everything about ``request`` the spec disagrees with (empty = conforms)."""
    operation = _operation(request.method, request.path)
    if operation is None:
        return [f"{request.method} {request.path} is not in the spec"]
    return _query_errors(operation, request.query) + _body_errors(operation, request)


def response_problems(request: XRequest, status: int, body: dict[str, Any]) -> list[str]:
    """Schema errors of a fake's 2xx answer against the operation's response schema."""
    operation = _operation(request.method, request.path)
    assert operation is not None
    answer = operation["responses"].get(str(status))
    if answer is None:
        return [f"status {status} is not documented for {request.method} {request.path}"]
    return _schema_errors(body, answer["content"]["application/json"]["schema"])


@pytest.fixture
def exercised() -> Iterator[FakeX]:
    """A fake X after a check, a post with image, a thread, a retry and a reconcile."""
    _spec()
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
    _spec()
    problems = request_problems(request_)
    assert problems
    assert any(expected in p for p in problems), problems
