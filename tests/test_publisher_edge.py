"""The shared HTTP edge (bot.publishers.edge): status tables, waits, scrubbing, and what a
failed request says about whether it may have been sent."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import pytest

from bot.errors import AlreadyPosted, AuthError, PublishError, RateLimited, Rejected, Transient
from bot.publishers.edge import Edge, StatusTable, default_kind, scrub

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SECRET = "hook-token-6f1c9a2b77d04e13"
TABLE = StatusTable(
    "Example",
    default_wait=42.0,
    kinds={404: AuthError, 409: AlreadyPosted},
    hints={AuthError: "make a new token", 410: "the account is gone", Transient: "will retry"},
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, Rejected), (401, AuthError), (403, AuthError), (404, Rejected), (408, Transient)],
)
def test_default_kinds(status: int, kind: type[PublishError]) -> None:
    """Without a platform's word: 401/403 auth, 408/425/5xx transient, other 4xx rejected."""
    assert default_kind(status) is kind


@pytest.mark.parametrize(
    ("status", "kind", "hint"),
    [
        (404, AuthError, "make a new token"),
        (409, AlreadyPosted, ""),
        (410, Rejected, "the account is gone"),
        (503, Transient, "will retry"),
        (422, Rejected, ""),
    ],
)
def test_a_declared_table_overrides_the_defaults(
    status: int, kind: type[PublishError], hint: str
) -> None:
    """A platform's table decides the class, and its hint (by status, else by class) ends
    the message."""
    error = TABLE.error(status=status, headers={}, text="POST /x: nope", channel="c", now=NOW)
    assert type(error) is kind
    assert str(error) == ("POST /x: nope" + (f"; {hint}" if hint else ""))
    assert error.channel == "c"


@pytest.mark.parametrize(
    ("headers", "body", "wait"),
    [({}, None, 42.0), ({"Retry-After": "7"}, None, 7.0), ({"Retry-After": "7"}, 3, 3.0)],
)
def test_rate_limit_wait_body_then_headers_then_default(
    headers: dict[str, str], body: object, wait: float
) -> None:
    """A 429 waits what the body said, else the headers, else the table's default."""
    error = TABLE.error(status=429, headers=headers, text="t", channel="c", now=NOW, wait=body)
    assert isinstance(error, RateLimited)
    assert error.retry_after == wait


def test_scrub_replaces_the_longest_secret_first() -> None:
    """A secret containing another is hidden whole, not left half-visible."""
    assert scrub("url https://h/x/abc123456789/tok", ["abc123456789", "x/abc123456789/tok"]) == (
        "url https://h/***"
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_is_transient_not_sent_and_scrubbed() -> None:
    """A refused loopback connection: Transient, nothing can have been sent, and the secret
    in the URL is in neither the message nor the chained cause."""
    url = f"http://127.0.0.1:{_closed_port()}/hooks/{SECRET}"
    with httpx.Client(timeout=1.0) as http:
        edge = Edge(http, TABLE, channel="c", secrets=[SECRET], clock=lambda: NOW)
        with pytest.raises(Transient) as caught:
            edge.send("POST", url, what="POST hook", json={})
    error = caught.value
    assert not error.maybe_sent
    assert SECRET not in str(error)
    assert SECRET not in repr(error.__cause__)
