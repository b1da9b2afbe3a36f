"""The HTTP edge every publisher goes through: one request, one error table, one scrubber.

Each platform declares a ``StatusTable`` (HTTP status -> error class, the hint a person
needs, the wait when a 429 says none) and the secrets of its channel; ``Edge`` sends the
request, turns transport failures into ``Transient`` (``maybe_sent`` once the request may
have gone out) and error answers into the table's error, with every message and exception
chain scrubbed of those secrets. Platform modules refine only what their error *bodies*
say (a Graph error code, a Telegram description) and pass that in as ``kind``.

``wait_seconds`` is the one reader of ``Retry-After`` (delta-seconds or an HTTP date) and
of the rate-limit reset headers platforms send instead (``x-rate-limit-reset`` unix time
on X, ``x-ratelimit-reset`` ISO time on Mastodon, ``ratelimit-reset`` on Bluesky). It
never raises: a header it cannot read counts as absent (None), a wait in the past is 0
and a wait longer than ``MAX_WAIT`` is cut to it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.errors import AlreadyPosted, AuthError, PublishError, RateLimited, Rejected, Transient

if TYPE_CHECKING:  # httpx loads with the first client, not with the declarations
    import httpx

MAX_WAIT = 86_400.0  # no platform limit resets later than a day: beyond that is garbage
RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
EPOCH_FROM = 1_000_000_000  # a reset number this large is a unix time, smaller is seconds
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def wait_seconds(headers: Mapping[str, str], now: datetime, *, body: object = None) -> float | None:
    """Seconds the answer asks us to wait, or None when it says nothing readable.

    ``body`` is a wait the platform put in its JSON answer (Telegram's and Discord's
    ``retry_after``): when it is a number it wins. Then ``Retry-After``, then the reset
    headers, in the order of ``RESET_HEADERS``.
    """
    found = seconds(body)
    if found is not None:
        return found
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    value = lowered.get("retry-after", "").strip()
    if value:
        found = seconds(value) if _NUMBER.fullmatch(value) else until(http_date(value), now)
        if found is not None:
            return found
    for name in RESET_HEADERS:
        found = reset_seconds(lowered.get(name, ""), now)
        if found is not None:
            return found
    return None


def reset_seconds(value: str, now: datetime) -> float | None:
    """Seconds until a reset header's moment: a unix time, seconds from now, an ISO 8601
    or an HTTP date; None when ``value`` is none of these."""
    value = value.strip()
    if not value:
        return None
    if _NUMBER.fullmatch(value):
        number = float(value)
        return clamp(number - now.timestamp() if number >= EPOCH_FROM else number)
    try:
        moment: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        moment = http_date(value)
    return until(moment, now)


def seconds(value: object) -> float | None:
    """A number of seconds given as a JSON number or a decimal string, clamped; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return clamp(float(value))
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return clamp(float(value))
    return None


def http_date(value: str) -> datetime | None:
    """An RFC 9110 date (``-0000`` and ``GMT`` mean UTC), aware; None when unreadable."""
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment


def until(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from ``now`` to ``moment`` (a naive moment is UTC), clamped."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        return clamp((moment - now).total_seconds())
    except OverflowError:
        return MAX_WAIT


def clamp(wait: float) -> float | None:
    """``wait`` within 0..MAX_WAIT; None for NaN."""
    if math.isnan(wait):
        return None
    return min(max(wait, 0.0), MAX_WAIT)


def wait_or(
    headers: Mapping[str, str], now: datetime, default: float, *, body: object = None
) -> float:
    """``wait_seconds``, or the platform's documented ``default`` when the answer says none."""
    found = wait_seconds(headers, now, body=body)
    return default if found is None else found


# -- secrets ---------------------------------------------------------------------------------

REDACTED = "***"
MAX_DETAIL = 300  # characters of a server answer quoted in an error message
HTTP_LOGGERS = ("httpx", "httpcore")
_SECRETS: set[str] = set()
_GUARD = threading.Lock()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret replaced by ``***``, longest first (one may contain another).

    The one scrubber: publishers, ``syndbot channels check`` and the log filter use it."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class _RedactSecrets(logging.Filter):
    """Replaces every registered secret in a record's message before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _GUARD:
            secrets = tuple(_SECRETS)
        message = record.getMessage()
        if any(s in message for s in secrets):
            record.msg, record.args = scrub(message, secrets), ()
        return True


_FILTER = _RedactSecrets()


def hide_in_logs(*secrets: str, loggers: tuple[str, ...] = HTTP_LOGGERS) -> None:
    """Keep ``secrets`` out of the HTTP libraries' log lines (idempotent, process-wide).

    A logger's filter sees only records logged on that very logger, not those of its
    children: ``loggers`` names each one that may print a secret."""
    with _GUARD:
        _SECRETS.update(s for s in secrets if len(s) >= 8)  # a short value is no secret
    for name in loggers:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def registered_secrets() -> tuple[str, ...]:
    """Every secret ``hide_in_logs`` was given (log formatters scrub whole lines with them)."""
    with _GUARD:
        return tuple(_SECRETS)


# -- status tables ---------------------------------------------------------------------------


def default_kind(status: int) -> type[PublishError]:
    """What an HTTP status means when the platform's table says nothing more."""
    if status == 429:
        return RateLimited
    if status in (401, 403):
        return AuthError
    if status in (408, 425) or status >= 500:
        return Transient
    return Rejected


@dataclass(frozen=True)
class StatusTable:
    """One platform's reading of HTTP error statuses, declared in its module."""

    label: str  # the platform as messages name it
    default_wait: float = 60.0  # seconds, when a 429 says nothing about when to return
    kinds: Mapping[int, type[PublishError]] = field(default_factory=dict)  # beyond defaults
    hints: Mapping[type[PublishError] | int, str] = field(default_factory=dict)  # what to do

    def kind(self, status: int) -> type[PublishError]:
        return self.kinds.get(status) or default_kind(status)

    def hint(self, status: int, kind: type[PublishError]) -> str:
        return self.hints.get(status) or self.hints.get(kind, "")

    def error(
        self,
        *,
        status: int,
        headers: Mapping[str, str],
        text: str,
        channel: str,
        now: datetime,
        kind: type[PublishError] | None = None,
        hint: str | None = None,
        wait: object = None,
    ) -> PublishError:
        """The error for an answer: ``kind`` (the body's verdict) or the table's for the
        status, ``hint`` appended, and for RateLimited the wait from ``wait`` (a number the
        body gave), the headers, or ``default_wait``."""
        kind = kind or self.kind(status)
        hint = self.hint(status, kind) if hint is None else hint
        message = f"{text}; {hint}" if hint else text
        if issubclass(kind, RateLimited):
            seconds = wait_or(headers, now, self.default_wait, body=wait)
            return RateLimited(
                f"{message}; waiting {seconds:.0f}s", retry_after=seconds, channel=channel
            )
        if issubclass(kind, Transient):
            return Transient(message, channel=channel)
        if issubclass(kind, AlreadyPosted):
            return AlreadyPosted(message, channel=channel)
        return kind(message, channel=channel)


# -- the client ------------------------------------------------------------------------------


def maybe_sent(exc: Exception) -> bool:
    """False only when no connection was made, so nothing can have been posted."""
    import httpx

    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not one (HTML error pages, "ok")."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Edge:
    """One channel's way out: requests, their failures, and the secrets to hide."""

    def __init__(
        self,
        http: httpx.Client,
        table: StatusTable,
        *,
        channel: str,
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.http = http
        self.table = table
        self.channel = channel
        self.clock = clock
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(*secrets)

    def __repr__(self) -> str:
        return f"Edge({self.table.label}, channel={self.channel!r})"

    def add_secrets(self, *values: str) -> None:
        """Hide ``values`` too (e.g. a session token got after a login), logs included."""
        self._secrets = tuple(dict.fromkeys((*self._secrets, *(v for v in values if v))))
        hide_in_logs(*values)

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One request, whatever it answers; no answer raises a scrubbed ``Transient``."""
        import httpx

        try:
            return self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            text = self.scrub(f"{what}: {type(exc).__name__}: {exc}")
            # The exception holds the request (and so the URL): chain a clean copy that
            # keeps only the scrubbed URL, so a caller can still name the host.
            clean = type(exc)(self.scrub(str(exc)), request=self._scrubbed_request(method, url))
            sent = maybe_sent(exc)
            raise Transient(text, channel=self.channel, maybe_sent=sent) from clean

    def _scrubbed_request(self, method: str, url: str) -> httpx.Request | None:
        import httpx

        try:
            return httpx.Request(method, self.scrub(str(url)))
        except (httpx.InvalidURL, ValueError, TypeError):
            return None

    def request(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """``send``, raising the table's error for an error answer."""
        response = self.send(method, url, what=what, **kwargs)
        if response.is_error:
            raise self.error(response, what)
        return response

    def error(
        self,
        response: httpx.Response,
        what: str,
        *,
        message: str = "",
        kind: type[PublishError] | None = None,
        hint: str | None = None,
        wait: object = None,
        status: int | None = None,
    ) -> PublishError:
        """The error for ``response``: ``message`` is what the platform said (else the
        start of its answer), ``kind``/``hint``/``wait`` what its body adds."""
        code = status or response.status_code
        said = message or self.detail(response) or response.reason_phrase
        return self.table.error(
            status=code,
            headers=response.headers,
            text=self.scrub(f"{what}: HTTP {code}: {said}"),
            channel=self.channel,
            now=self.clock(),
            kind=kind,
            hint=None if hint is None else self.scrub(hint),
            wait=wait,
        )

    def detail(self, response: httpx.Response) -> str:
        """The start of a server answer, scrubbed, for an error message."""
        import httpx

        try:
            text = response.text
        except (UnicodeDecodeError, httpx.ResponseNotRead):
            return ""
        return self.scrub(text.strip())[:MAX_DETAIL]
