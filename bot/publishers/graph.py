"""Meta Graph API plumbing shared by the Facebook Page and Instagram publishers.

URLs carry the API version pinned in the channel options (``graph_version``, default
``v25.0``: Meta retires versions, so an upgrade is a deliberate config change). The access
token travels in the ``access_token`` form field (POST) or an ``Authorization`` header (GET),
never in a URL, and is scrubbed from every error message.

Graph errors look like ``{"error": {"code", "error_subcode", "message", "type",
"fbtrace_id"}}``; ``graph_error`` reads the code, and the channel's ``Edge`` (with the
``TABLE`` below) makes the error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bot.config import ChannelConfig
from bot.errors import (
    AlreadyPosted,
    AuthError,
    ConfigError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from bot.publishers.edge import Edge, StatusTable, json_object

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v25.0"
DEFAULT_RATE_WAIT = 15 * 60.0

_AUTH_CODES = frozenset({102, 190, 10})
_RATE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
_TRANSIENT_CODES = frozenset({1, 2})
_DUPLICATE_CODES = frozenset({506})
_IG_PUBLISH_LIMIT = (9, 2207042)  # Instagram: 24 h publishing quota reached
_IG_NOT_READY = (9007, 2207027)  # Instagram: container not finished processing
_USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage")
# An answer without a Graph error object reads by status; Graph errors by their code.
TABLE = StatusTable("Graph", default_wait=DEFAULT_RATE_WAIT)


def graph_url(
    channel: ChannelConfig,
    *path: str,
    default_base: str = DEFAULT_BASE,
    default_version: str = DEFAULT_VERSION,
) -> str:
    """``{api_base or default_base}/{graph_version or default_version}/{path...}``.

    The defaults are Facebook's; Threads passes graph.threads.net and v1.0."""
    base = (channel.api_base or default_base).rstrip("/")
    version = channel.options.get("graph_version", default_version).strip("/")
    return "/".join([base, version, *(p.strip("/") for p in path)])


def require(channel: ChannelConfig, *, credential: str = "", option: str = "") -> str:
    """A credential or option value, or ``ConfigError`` naming the key to set."""
    if credential:
        return channel.secret(credential)
    value = channel.options.get(option, "").strip()
    if not value:
        raise ConfigError("missing", key=f"channels.{channel.name}.options.{option}")
    return value


class GraphClient:
    """Sends Graph calls for one channel and turns every failure into a ``PublishError``."""

    def __init__(
        self,
        http: httpx.Client,
        channel: ChannelConfig,
        *,
        token: str,
        permission: str,
        default_base: str = DEFAULT_BASE,
        default_version: str = DEFAULT_VERSION,
    ) -> None:
        self.http = http
        self.channel = channel
        self._token = token
        self._edge = Edge(http, TABLE, channel=channel.name, secrets=[token])
        self._permission = permission  # named in auth hints, e.g. "pages_manage_posts"
        self._default_base = default_base  # another Graph host, e.g. graph.threads.net
        self._default_version = default_version

    def get(self, *path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"}
        return self._call("GET", path, params=params, data=None, headers=headers)

    def post(
        self,
        *path: str,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        form = {**(data or {}), "access_token": self._token}
        return self._call("POST", path, params=params, data=form, headers={})

    def _call(
        self,
        method: str,
        path: tuple[str, ...],
        *,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        what = f"{method} /{'/'.join(path)}"
        url = graph_url(
            self.channel,
            *path,
            default_base=self._default_base,
            default_version=self._default_version,
        )
        response = self._edge.send(
            method, url, what=what, params=params, data=data, headers=headers
        )
        body = json_object(response)
        if response.is_error or "error" in body:
            raise graph_error(
                response, body, edge=self._edge, what=what, permission=self._permission
            )
        return body

    def __repr__(self) -> str:
        return f"GraphClient(channel={self.channel.name!r})"


def graph_error(
    response: httpx.Response,
    body: Mapping[str, Any],
    *,
    edge: Edge,
    what: str,
    permission: str,
) -> PublishError:
    """The syndbot error for a Graph error answer, judged by its error code."""
    raw = body.get("error")
    err: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    code, sub = _int(err.get("code")), _int(err.get("error_subcode"))
    if code is None:  # not Graph answering (a proxy, a load balancer): read the status
        return edge.error(response, what)
    message = (
        f"Graph error {code}"
        + (f"/{sub}" if sub is not None else "")
        + f" ({err.get('type', 'unknown')}): {err.get('message', response.reason_phrase)}"
        + (f" [fbtrace_id {err['fbtrace_id']}]" if err.get("fbtrace_id") else "")
    )
    kind, hint, wait = _verdict(response, err, code, sub, permission)
    return edge.error(response, what, message=message, kind=kind, hint=hint, wait=wait)


def _verdict(  # noqa: PLR0911 - one flat code table reads best as early returns
    response: httpx.Response, err: Mapping[str, Any], code: int, sub: int | None, permission: str
) -> tuple[type[PublishError], str, float | None]:
    """(error class, hint, wait) for a Graph error code."""
    if code in _AUTH_CODES or 200 <= code <= 299:
        return AuthError, _auth_hint(code, permission), None
    if (code, sub) == _IG_PUBLISH_LIMIT:
        return RateLimited, "", 3600.0
    if (code, sub) == _IG_NOT_READY:
        return Transient, "the media container is not ready yet", None
    if code in _RATE_CODES or response.status_code == 429:
        return RateLimited, "", usage_wait(response.headers)
    if code in _DUPLICATE_CODES:
        return AlreadyPosted, "the Page already has this post", None
    if code in _TRANSIENT_CODES or err.get("is_transient") or response.status_code >= 500:
        return Transient, "", None
    return Rejected, "", None


def _auth_hint(code: int, permission: str) -> str:
    if code in (190, 102):
        return (
            "the access token expired or was revoked (password change, app removed): create "
            "a new long-lived token and put it in the environment variable named in "
            "credentials"
        )
    return f"the token lacks a permission: grant {permission} to the app and create a new token"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def usage_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns per the usage headers' ``estimated_time_to_regain_access``
    (minutes); None when they do not say (then Retry-After, else 15 minutes)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    minutes = [
        m for name in _USAGE_HEADERS if name in lowered for m in _regain_minutes(lowered[name])
    ]
    return max(minutes) * 60.0 if any(m > 0 for m in minutes) else None


def _regain_minutes(header: str) -> Iterator[float]:
    try:
        usage = json.loads(header)
    except json.JSONDecodeError:
        return
    yield from _find_regain(usage)


def _find_regain(node: Any) -> Iterator[float]:
    """Every ``estimated_time_to_regain_access`` in the (nested) usage JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "estimated_time_to_regain_access" and isinstance(value, int | float):
                yield float(value)
            else:
                yield from _find_regain(value)
    elif isinstance(node, list):
        for item in node:
            yield from _find_regain(item)
