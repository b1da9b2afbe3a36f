"""Plumbing for APIs whose URL *is* the secret: Discord and Slack webhooks.

A Discord webhook URL carries its token and a Slack one is the credential, so the URL must
never reach an error message, a log line or an exception chain: the channel's ``Edge``
(``bot.publishers.edge``) is given the URL and its secret path as secrets, and scrubs them
from every message, cause and HTTP-library log line.

``webhook_url`` resolves a channel's webhook credential, with ``channel.api_base``
replacing its scheme and host so tests (and proxies) can point it elsewhere;
``WebhookPublisher`` holds what the Discord and Slack publishers share on top of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError
from bot.publishers.base import PublisherContext
from bot.publishers.edge import Edge, StatusTable

if TYPE_CHECKING:
    import httpx

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    return channel.secret("webhook_url")


class WebhookPublisher:
    """One channel behind one webhook URL (Discord, Slack): the URL, its secrets, requests.

    Subclasses set ``hosts`` and ``path_prefix`` (what a real webhook URL looks like) and
    ``table``, and read what the platform's error bodies add in ``_error``."""

    hosts: tuple[str, ...] = ()
    path_prefix = ""
    table: ClassVar[StatusTable]

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._channel = channel
        raw = _raw_url(channel)
        # The id/token part of the path is the secret; scrub it wherever a URL may show.
        secrets = (raw, raw.partition(self.path_prefix)[2])
        self._edge = Edge(ctx.http, self.table, channel=self.name, secrets=secrets, clock=ctx.clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _url(self) -> str:
        return webhook_url(self._channel, hosts=self.hosts, path_prefix=self.path_prefix)

    def _request(self, method: str, what: str, **kwargs: Any) -> httpx.Response:
        """One call on the webhook URL; an error answer raises ``self._error``."""
        response = self._edge.send(method, self._url(), what=what, **kwargs)
        if response.is_error:
            raise self._error(response, what)
        return response

    def _error(self, response: httpx.Response, what: str) -> PublishError:
        raise NotImplementedError
