"""HTTP GET with conditional requests, size and wall-time limits, errors mapped to FetchError.

The body is read raw and decompressed in bounded steps (``bot.feeds.decode``) instead of
by httpx: httpx inflates a whole network chunk at once, and 64 KB of brotli can expand to
gigabytes.

httpx only has per-operation timeouts; ``bot.feeds.watchdog`` enforces the whole deadline.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bot.errors import FetchError
from bot.feeds.decode import decoded
from bot.feeds.watchdog import Watchdog
from bot.netguard import GUARD_EXTENSION, install_guard, is_private_host, pinned_transport

MAX_REDIRECTS = 5


@dataclass(frozen=True)
class RawResponse:
    """A fetched document. ``not_modified`` is a 304: ``body`` is empty."""

    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    not_modified: bool = False


class HTTPStatusError(FetchError):
    """The server answered with a 4xx/5xx status; ``status`` holds it."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


def make_http_client(*, user_agent: str, timeout: float, in_flight: int = 64) -> httpx.Client:
    """The one HTTP client the bot shares: compression accepted, redirects followed.

    ``fetch`` follows redirects itself (max 5) to check each hop; its transport connects
    guarded requests to the addresses ``bot.netguard`` checked. ``in_flight``: the requests
    made at once (``service.poll_concurrency``), as many connections as are kept alive.
    """
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=pinned_transport(keepalive=in_flight),
    )


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 10_000_000,
    deadline: float = 30.0,
    trusted: bool = True,
    allow_private: bool = False,
) -> RawResponse:
    """GET ``url``; raise ``FetchError`` on any failure, limit or refused address.

    Which addresses may be reached (``bot.netguard``): a ``trusted`` URL (the operator's:
    a configured feed, a URL typed on the command line) is fetched wherever it points, and
    so are its redirects when it is itself on a loopback/private address; but a redirect
    from a public host to such an address is refused before connecting. An untrusted URL
    (an article page found in a feed) is checked on every hop. ``allow_private`` (service
    ``allow_private_addresses``) checks nothing.
    """
    started = time.monotonic()
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a bad port, like a bad IPv6 host, raises ValueError)
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({exc}); check it", url=url) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("only http and https URLs can be fetched", url=url)
    guard = _Guard(url, trusted=trusted, allow_private=allow_private)
    if not allow_private:
        install_guard(client)
    watchdog = Watchdog(deadline)
    with watchdog:
        try:
            request = client.build_request(
                "GET",
                url,
                headers=headers,
                timeout=_timeout(client, deadline),
                extensions={"trace": watchdog.trace},
            )
            response = _send(client, request, guard=guard, url=url)
        except httpx.HTTPError as exc:
            raise FetchError(_failed(exc, watchdog), url=url) from exc
        watchdog.watch(response.extensions.get("network_stream"))
        try:
            return _read(response, url=url, max_bytes=max_bytes, started=started, watchdog=watchdog)
        finally:
            response.close()


@dataclass
class _Guard:
    """Which hops the SSRF guard checks: every one for an untrusted URL; for the operator's
    URL only its redirects, and those only when the URL itself is public (resolved once, at
    the first redirect, so a poll without redirects does no extra lookup)."""

    url: str
    trusted: bool
    allow_private: bool
    _url_private: bool | None = None

    def checks(self, hop: int) -> bool:
        if self.allow_private:
            return False
        if not self.trusted:
            return True
        if hop == 0:
            return False
        if self._url_private is None:
            self._url_private = is_private_host(self.url)
        return not self._url_private


def _send(
    client: httpx.Client, request: httpx.Request, *, guard: _Guard, url: str
) -> httpx.Response:
    """Send ``request`` and follow its redirects, flagging the hops ``guard`` checks."""
    for hop in range(MAX_REDIRECTS + 1):
        if guard.checks(hop):
            # A copy: httpx hands the same extensions dict to every redirect request.
            request.extensions = {**request.extensions, GUARD_EXTENSION: True}
        response = client.send(request, stream=True, follow_redirects=False)
        if response.next_request is None:
            return response
        response.close()
        request = response.next_request
    raise FetchError(_TOO_MANY_REDIRECTS, url=url)


def _timeout(client: httpx.Client, deadline: float) -> httpx.Timeout:
    """Per-operation timeouts never longer than the whole ``deadline``."""
    configured = client.timeout
    return httpx.Timeout(
        connect=min(configured.connect or deadline, deadline),
        read=min(configured.read or deadline, deadline),
        write=min(configured.write or deadline, deadline),
        pool=min(configured.pool or deadline, deadline),
    )


def _read(
    response: httpx.Response, *, url: str, max_bytes: int, started: float, watchdog: Watchdog
) -> RawResponse:
    final_url = str(response.url)
    validators = {
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
    }
    if response.status_code == 304:
        # Read the (empty) body to its end: only then does httpx keep the connection for
        # the next feed on this host, instead of a new TCP (and TLS) handshake per 304.
        with contextlib.suppress(httpx.HTTPError):
            response.read()
        return RawResponse(304, b"", None, final_url=final_url, not_modified=True, **validators)
    if response.status_code >= 400:
        raise HTTPStatusError(_status_message(response), url=url, status=response.status_code)
    declared = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if declared.isdigit() and int(declared) > max_bytes and encoding in ("", "identity"):
        raise FetchError(_too_big(max_bytes), url=url)
    body = bytearray()
    try:
        for piece in _body_pieces(response, encoding, url=url):
            body += piece
            if len(body) > max_bytes:
                raise FetchError(_too_big(max_bytes), url=url)
            if time.monotonic() - started > watchdog.deadline:
                raise FetchError(_gave_up(watchdog.deadline), url=url)
    except httpx.HTTPError as exc:
        raise FetchError(_failed(exc, watchdog), url=url) from exc
    return RawResponse(
        status=response.status_code,
        body=bytes(body),
        content_type=response.headers.get("Content-Type"),
        final_url=final_url,
        **validators,
    )


def _body_pieces(response: httpx.Response, encoding: str, *, url: str) -> Iterator[bytes]:
    try:
        yield from decoded(response.iter_raw(), encoding, url=url)
    except httpx.StreamConsumed:
        # Only transports that build responses in memory (httpx.MockTransport) get here;
        # httpx has already decoded that body.
        yield response.content


def _too_big(max_bytes: int) -> str:
    return (
        f"response is larger than {max_bytes:,} bytes (after decompression); "
        "raise service.max_feed_bytes if this feed is really that big"
    )


_STATUS_HINTS = {
    401: "the server wants a login; syndbot cannot read private feeds",
    403: "access denied; the site may block bots (check the URL or the User-Agent)",
    # The URL may be a configured feed's or one typed on the command line (preview, post).
    404: "check the URL (for a configured feed: its url in the config file)",
    410: "removed for good; use another URL (for a configured feed: update or delete it "
    "in the config file)",
    429: "the server is rate limiting; poll this feed less often",
}


def _status_message(response: httpx.Response) -> str:
    status = response.status_code
    hint = _STATUS_HINTS.get(status)
    if hint is None:
        hint = "server error; will retry on the next poll" if status >= 500 else "request refused"
    return f"HTTP {status} {response.reason_phrase}: {hint}".replace("  ", " ")


def _gave_up(deadline: float) -> str:
    return (
        f"gave up after {deadline:g} s (the deadline for a whole download): the server was "
        "still sending "
        "(too slow, or a response that never ends)"
    )


_OPERATION = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def _timed_out(exc: httpx.TimeoutException, deadline: float) -> str:
    """Name the limit that fired: the per-request timeout, or the download ``deadline``
    when that was shorter (``_timeout`` caps the first at the second)."""
    try:
        limits = exc.request.extensions.get("timeout", {})
    except RuntimeError:  # an exception raised without its request
        limits = {}
    limit = limits.get(_OPERATION.get(type(exc), "read"))
    if isinstance(limit, int | float) and limit < deadline:
        return (
            f"timed out: no answer within {limit:g} s (the per-request timeout, "
            "service.timeout); the server is too slow"
        )
    return f"timed out: no answer within the {deadline:g} s deadline; the server is too slow"


def _failed(exc: httpx.HTTPError, watchdog: Watchdog) -> str:
    """Why the request failed: the watchdog closing the connection, or ``exc`` itself."""
    return _gave_up(watchdog.deadline) if watchdog.fired else _describe(exc, watchdog.deadline)


_TOO_MANY_REDIRECTS = f"more than {MAX_REDIRECTS} redirects (a redirect loop?): check the URL"
_EXPLAINED: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str], ...] = (
    (httpx.TooManyRedirects, _TOO_MANY_REDIRECTS),
    (httpx.ConnectError, "cannot connect ({exc}): check the host name and your network"),
    (
        (httpx.UnsupportedProtocol, httpx.InvalidURL),
        "not a fetchable URL ({exc}): use an http(s) URL",
    ),
)


def _describe(exc: httpx.HTTPError, deadline: float) -> str:
    """A human sentence for an httpx error (the URL is added by FetchError)."""
    if isinstance(exc, httpx.TimeoutException):
        return _timed_out(exc, deadline)
    if isinstance(exc, httpx.RemoteProtocolError):
        if "complete message body" in str(exc):  # h11: a body shorter than promised
            return f"the connection closed before the whole body arrived ({exc}); will retry"
        return f"the server broke the HTTP protocol ({exc})"
    for kinds, template in _EXPLAINED:
        if isinstance(exc, kinds):
            return template.format(exc=exc)
    return f"HTTP request failed: {type(exc).__name__}: {exc}"
