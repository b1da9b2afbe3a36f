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
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.models import Length, Media, Post, PostPart
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.mastodon import MastodonPublisher
from tests.fakes.loopback import Request
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.webhooks import jpeg_bytes
from tests.test_publisher_mastodon import ARTICLE, HINDI, TAMIL, TELUGU, _channel

jsonschema = pytest.importorskip("jsonschema")

SPEC = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus"
    / "specs"
    / "mastodon-api_openapi-3.1_v4.7.0.json"
)
SENT_HEADERS = ("idempotency-key",)  # headers the publisher adds beyond auth and content

pytestmark = pytest.mark.corpus


@cache
def _spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"Mastodon OpenAPI spec not found at {SPEC}")
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
    """The spec's operation for a concrete path; literal paths win over ``{id}`` ones."""
    paths = _spec()["paths"]
    if path in paths and method.lower() in paths[path]:
        operation: dict[str, Any] = paths[path][method.lower()]
        return operation
    for template, item in paths.items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            found: dict[str, Any] = item[method.lower()]
            return found
    return None


def _schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """jsonschema (2020-12, OpenAPI 3.1's dialect) messages; ``$ref``s resolve in the spec."""
    root = {**schema, "components": _spec()["components"]}
    validator = jsonschema.Draft202012Validator(root)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _any_branch_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """``oneOf`` read as ``anyOf`` (see the module docstring)."""
    branches = schema.get("oneOf")
    if not branches:
        return _schema_errors(instance, schema)
    per_branch = [_schema_errors(instance, branch) for branch in branches]
    return [] if any(not errors for errors in per_branch) else [e for b in per_branch for e in b]


def _query_errors(operation: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
    declared = {p["name"]: p for p in map(_resolve, operation.get("parameters", []))}
    errors = []
    for name, values in query.items():
        param = declared.get(name)
        if param is None or param["in"] != "query":
            errors.append(f"query parameter {name} is not in the spec")
            continue
        schema = _resolve(param["schema"])
        value: Any = values[0]
        if schema.get("type") == "integer":
            value = int(value) if value.isdigit() else value
        elif schema.get("type") == "boolean":
            value = {"true": True, "false": False}.get(value, value)
        errors += [f"{name}: {e}" for e in _schema_errors(value, schema)]
    return errors


def _header_errors(operation: dict[str, Any], headers: dict[str, str]) -> list[str]:
    declared = {
        p["name"].lower()
        for p in map(_resolve, operation.get("parameters", []))
        if p["in"] == "header"
    }
    return [
        f"header {name} is not declared for this operation"
        for name in SENT_HEADERS
        if name in headers and (name not in declared or not headers[name])
    ]


def _body_errors(operation: dict[str, Any], request: Request) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    kind = request.headers.get("content-type", "").split(";")[0]
    if not request.body:
        return ["a body was sent to an operation without one"] if content else []
    if kind not in content:
        return [f"content type {kind} is not accepted here (spec: {sorted(content)})"]
    schema = content[kind]["schema"]
    if kind == "multipart/form-data":
        # Binary parts validate as strings; their bytes are checked by the publisher tests.
        instance: Any = {k: data.decode("latin-1") for k, (data, _) in request.form().items()}
    else:
        instance = request.json()
    return _any_branch_errors(instance, schema)


def request_problems(request: Request) -> list[str]:
    """Everything about ``request`` the spec disagrees with (empty = conforms)."""
    operation = _operation(request.method, request.path)
    if operation is None:
        return [f"{request.method} {request.path} is not in the spec"]
    return (
        _query_errors(operation, request.query)
        + _header_errors(operation, request.headers)
        + _body_errors(operation, request)
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
    _spec()
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
    _spec()
    problems = request_problems(request_)
    assert problems
    assert any(expected in p for p in problems), problems
