"""Plumbing for APIs whose URL *is* the secret: Discord and Slack webhooks, Telegram bots.

A Discord webhook URL carries its token, a Slack one is the credential, and the Telegram
Bot API puts the bot token in the path (``/bot<token>/sendMessage``). So the URL must never
reach an error message, a log line or an exception chain:

- ``send`` turns transport failures into ``Transient`` errors whose message *and* cause
  are scrubbed copies (httpx exceptions carry the request, whose repr shows the URL);
- ``hide_in_logs`` redacts the secret from records of the ``httpx``/``httpcore`` loggers,
  which log every request URL at INFO level.

``webhook_url`` resolves a channel's webhook credential, with ``channel.api_base``
replacing its scheme and host so tests (and proxies) can point it elsewhere;
``WebhookPublisher`` holds what the Discord and Slack publishers share on top of it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError, Rejected, Transient
from bot.publishers.base import PublisherContext, maybe_sent

REDACTED = "***"
MAX_DETAIL = 300  # characters of a server answer quoted in an error message
_LOGGERS = ("httpx", "httpcore")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SECRETS: set[str] = set()
_GUARD = threading.Lock()


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


def hide_in_logs(*secrets: str, loggers: tuple[str, ...] = _LOGGERS) -> None:
    """Keep ``secrets`` out of the HTTP libraries' log lines (idempotent, process-wide).

    A logger's filter sees only records logged on that very logger, not those of its
    children: ``loggers`` names each one that may print a secret."""
    with _GUARD:
        _SECRETS.update(s for s in secrets if len(s) >= 8)  # a short value is no secret
    for name in loggers:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret replaced by ``***``, longest first (one may contain another)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    secrets: tuple[str, ...],
    channel: str,
    what: str,
    **kwargs: Any,
) -> httpx.Response:
    """One request; a timeout or dropped connection becomes a scrubbed ``Transient``."""
    try:
        return http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        text = scrub(f"{type(exc).__name__}: {exc}", secrets)
        # The original exception holds the request (and so the URL): chain a clean copy.
        clean = type(exc)(scrub(str(exc), secrets))
        sent = maybe_sent(exc)
        raise Transient(f"{what}: {text}", channel=channel, maybe_sent=sent) from clean


def detail(response: httpx.Response, secrets: Iterable[str]) -> str:
    """The start of a server answer, scrubbed, for an error message."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return scrub(text.strip(), secrets)[:MAX_DETAIL]


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not one (HTML error pages, "ok")."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def webhook_url(channel: ChannelConfig, *, hosts: tuple[str, ...], path_prefix: str) -> str:
    """The channel's webhook URL (``credentials.webhook_url``), checked for shape.

    ``channel.api_base`` replaces scheme and host (so the real-looking URL can be sent to a
    local fake). Errors name the config key, never the URL: the URL is the secret.
    """
    key = f"channels.{channel.name}.credentials.webhook_url"
    raw = _raw_url(channel)
    if not raw:
        raise AuthError(
            f"{key} is missing; set it to the name of the environment variable holding the "
            "webhook URL",
            channel=channel.name,
        )
    parts = urlsplit(raw)
    if not parts.path.startswith(path_prefix) or parts.scheme not in ("http", "https"):
        raise AuthError(
            f"{key}: the environment variable does not hold a webhook URL of the form "
            f"https://{hosts[0]}{path_prefix}...; copy the URL again from the platform",
            channel=channel.name,
        )
    if channel.api_base:
        base = urlsplit(channel.api_base)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    if parts.hostname in _LOOPBACK:
        return raw  # a local test server or relay, named in the config on purpose
    if parts.scheme != "https" or parts.hostname not in hosts:
        raise AuthError(
            f"{key}: the webhook URL must be https on {' or '.join(hosts)}; copy the URL "
            "again from the platform (or set api_base to send elsewhere)",
            channel=channel.name,
        )
    return raw


def _raw_url(channel: ChannelConfig) -> str:
    secret = channel.credentials.get("webhook_url")
    return secret.get().strip() if secret is not None else ""


def answer_error(
    text: str, *, status: int, no_access: bool, hint: str, channel: str
) -> PublishError:
    """A webhook's error answer other than 429: ``no_access`` (the webhook is gone or
    refused) -> AuthError with ``hint``, 5xx -> Transient, anything else -> Rejected."""
    if no_access:
        return AuthError(f"{text}; {hint}", channel=channel)
    if status >= 500:
        return Transient(f"{text}; will retry", channel=channel)
    return Rejected(text, channel=channel)


class WebhookPublisher:
    """One channel behind one webhook URL (Discord, Slack): the URL, its secrets, requests.

    Subclasses set ``hosts`` and ``path_prefix`` (what a real webhook URL looks like) and
    map the platform's error answers in ``_error``."""

    hosts: tuple[str, ...] = ()
    path_prefix = ""

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._channel = channel
        self._http = ctx.http
        self._clock = ctx.clock
        raw = _raw_url(channel)
        # The id/token part of the path is the secret; scrub it wherever a URL may show.
        self._secrets = tuple(s for s in (raw, raw.partition(self.path_prefix)[2]) if s)
        hide_in_logs(*self._secrets)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _url(self) -> str:
        return webhook_url(self._channel, hosts=self.hosts, path_prefix=self.path_prefix)

    def _request(self, method: str, what: str, **kwargs: Any) -> httpx.Response:
        """One call on the webhook URL; an error answer raises ``self._error``."""
        response = send(
            self._http,
            method,
            self._url(),
            secrets=self._secrets,
            channel=self.name,
            what=what,
            **kwargs,
        )
        if response.is_error:
            raise self._error(response, what)
        return response

    def _error(self, response: httpx.Response, what: str) -> PublishError:
        raise NotImplementedError
