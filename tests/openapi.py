"""Checking requests a fake received against a platform's OpenAPI document.

The X and Mastodon spec tests share this: ``OpenAPISpec`` loads the document from the
shared corpus (the test skips when it is absent), finds the operation for a concrete
path, resolves local ``$ref``s and validates query parameters and bodies with jsonschema.
What differs per platform (the jsonschema dialect, spec quirks) is passed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import pytest

CORPUS_SPECS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "specs"

SchemaCheck = Callable[[Any, dict[str, Any]], list[str]]


class SentRequest(Protocol):
    """What the fakes record of a request (``XRequest``, ``loopback.Request``)."""

    @property
    def headers(self) -> dict[str, str]: ...

    @property
    def body(self) -> bytes: ...

    def json(self) -> Any: ...

    def form(self) -> dict[str, tuple[bytes, str | None]]: ...


class OpenAPISpec:
    """One OpenAPI document; ``validator`` is the jsonschema class of its dialect."""

    def __init__(
        self,
        file_name: str,
        platform: str,
        validator: Any,
        *,
        format_checker: Any = None,
        literal_paths_first: bool = False,
        query_aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.path = CORPUS_SPECS / file_name
        self._platform = platform
        self._validator = validator
        self._format_checker = format_checker
        self._literal_first = literal_paths_first  # "/x/me" before "/x/{id}"
        self._aliases = dict(query_aliases or {})  # name sent -> name in the spec

    @cached_property
    def document(self) -> dict[str, Any]:
        """The parsed spec; skips the test when the corpus copy is absent."""
        if not self.path.exists():
            pytest.skip(f"{self._platform} OpenAPI spec not found at {self.path}")
        spec: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return spec

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local ``$ref`` (``#/components/...``) to what it names."""
        while "$ref" in node:
            target: Any = self.document
            for key in node["$ref"].removeprefix("#/").split("/"):
                target = target[key]
            node = target
        return node

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        """The operation for a concrete path, matching ``{param}`` templates."""
        paths = self.document["paths"]
        if self._literal_first and method.lower() in paths.get(path, {}):
            literal: dict[str, Any] = paths[path][method.lower()]
            return literal
        for template, item in paths.items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in item:
                operation: dict[str, Any] = item[method.lower()]
                return operation
        return None

    def schema_errors(self, instance: Any, schema: dict[str, Any]) -> list[str]:
        """jsonschema messages for ``instance``; ``$ref``s resolve inside the whole spec."""
        root = {**schema, "components": self.document["components"]}
        validator = self._validator(root, format_checker=self._format_checker)
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def query_errors(self, operation: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
        """Each sent query parameter must be declared and its value fit its schema."""
        declared = {p["name"]: p for p in map(self.resolve, operation.get("parameters", []))}
        errors = []
        for sent_name, values in query.items():
            param = declared.get(self._aliases.get(sent_name, sent_name)) or declared.get(sent_name)
            if param is None or param["in"] != "query":
                errors.append(f"query parameter {sent_name} is not in the spec")
                continue
            schema = self.resolve(param["schema"])
            value = _typed(values[0], schema.get("type"))
            errors += [f"{sent_name}: {e}" for e in self.schema_errors(value, schema)]
        return errors

    def body_errors(
        self, operation: dict[str, Any], request: SentRequest, check: SchemaCheck | None = None
    ) -> list[str]:
        """The JSON or multipart body against the operation's ``requestBody`` schema."""
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
        return (check or self.schema_errors)(instance, schema)


def _typed(value: str, kind: Any) -> Any:
    """A query string value as the schema types it (style=form, explode=false arrays)."""
    if kind == "array":
        return value.split(",")
    if kind == "integer":
        return int(value) if value.isdigit() else value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value
