"""Refuse to fetch URLs that point into the bot's own network (SSRF guard).

Feed URLs come from the operator and are trusted, but only themselves: where a remote
server redirects them is not. A feed on a public host that answers 302 to
``http://169.254.169.254/`` (cloud metadata) is refused at that hop; a feed the operator put
on a loopback/private address (``is_private_host``) may redirect within it. Article pages
and images found *inside* feed content are chosen by whoever writes the feed, so every hop
of theirs is checked. For checked requests ``bot.feeds.fetch`` sets the ``GUARD_EXTENSION``
flag on the httpx request and installs ``guard_hook``, which httpx calls before sending.
``service.allow_private_addresses`` turns all of this off.

DNS rebinding: the hook resolves the host once, checks every address and stores them on the
request (``PIN_EXTENSION``). ``PinnedTransport`` (the transport of ``make_http_client``)
then connects to a checked address, keeping the Host header and the TLS server name (SNI,
certificate check) of the URL, so a second, different DNS answer is never used.

Residual risk: a client with another transport (tests' ``httpx.MockTransport``, a caller's
own client) only gets the hook's check, and httpx resolves the name again to connect; and
requests sent through an HTTP(S)_PROXY from the environment are resolved by the proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.errors import FetchError
from bot.httppool import pooled_transport

GUARD_EXTENSION = "syndbot_netguard"
PIN_EXTENSION = "syndbot_pinned_addresses"  # (host, port, addresses) checked by the hook

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: _IPAddress) -> bool:
    """True when ``address`` is routable on the public internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback in disguise
    blocked = (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    # is_global also excludes shared (100.64/10) and documentation ranges.
    return address.is_global and not blocked


def check_public_url(url: str) -> tuple[str, ...]:
    """Raise ``FetchError`` unless ``url`` is http(s) and every address of its host is public.

    Returns the checked addresses, in the resolver's order of preference.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(
            f"refusing {parts.scheme or 'scheme-less'} URL: only http and https links are fetched",
            url=url,
        )
    host = parts.hostname
    if not host:
        raise FetchError("the URL has no host name", url=url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"invalid port in URL: {exc}", url=url) from exc
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}", url=url) from exc
    checked: list[str] = []
    for address in _addresses(answers):
        if not is_public_address(address):
            raise FetchError(
                f"refusing to fetch {host} ({address}): it is a loopback/private/reserved "
                "address; links in feeds and redirects may only lead to public hosts "
                "(set service.allow_private_addresses = true to allow it)",
                url=url,
            )
        if str(address) not in checked:
            checked.append(str(address))
    return tuple(checked)


def is_private_host(url: str) -> bool:
    """True when the host of ``url`` is, or resolves to, a non-public address.

    False for a public host and for one that cannot be resolved here (fetching it will say
    why). Used for the operator's own URLs: a feed on the LAN may redirect within the LAN.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        if not host:
            return False
        answers = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    except (ValueError, OSError, UnicodeError):
        return False
    return any(not is_public_address(address) for address in _addresses(answers))


def _addresses(answers: Iterable[tuple[Any, ...]]) -> list[_IPAddress]:
    """The IP addresses of ``socket.getaddrinfo`` answers."""
    found: list[_IPAddress] = []
    for *_, sockaddr in answers:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id (fe80::1%eth0)
        found.append(ipaddress.ip_address(text))
    return found


def guard_hook(request: httpx.Request) -> None:
    """httpx request event hook: check requests flagged with ``GUARD_EXTENSION``."""
    if request.extensions.get(GUARD_EXTENSION):
        addresses = check_public_url(str(request.url))
        request.extensions[PIN_EXTENSION] = (request.url.host, request.url.port, addresses)


def install_guard(client: httpx.Client) -> None:
    """Add ``guard_hook`` to ``client`` once; unflagged requests are not affected."""
    hooks = client.event_hooks
    if guard_hook not in hooks.get("request", []):
        client.event_hooks = {
            "request": [*hooks.get("request", []), guard_hook],
            "response": list(hooks.get("response", [])),
        }


class PinnedTransport(httpx.BaseTransport):
    """Send guarded requests to the addresses the guard checked; others go to ``inner``.

    A guarded request's URL host is replaced by the checked IP address; the Host header
    stays and ``sni_hostname`` keeps TLS verifying the certificate for the real name.
    Guarded connections are never kept alive: a pooled connection is keyed by IP address
    and could otherwise be reused for another name whose certificate was never checked.
    """

    def __init__(self, inner: httpx.BaseTransport, guarded: httpx.BaseTransport) -> None:
        self._inner = inner
        self._guarded = guarded

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.extensions.get(GUARD_EXTENSION):
            return self._inner.handle_request(request)
        host, port = request.url.host, request.url.port
        pinned = request.extensions.get(PIN_EXTENSION)
        if pinned and pinned[:2] == (host, port):
            addresses = pinned[2]
        else:  # no hook ran for this hop: check here
            addresses = check_public_url(str(request.url))
        # The ASCII (punycode) form: ssl would encode a Unicode name with old IDNA 2003 rules.
        extensions = {**request.extensions, "sni_hostname": request.url.raw_host.decode("ascii")}
        for tried, address in enumerate(addresses[:_MAX_ADDRESSES], start=1):
            direct = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # carries the original Host header
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return self._guarded.handle_request(direct)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if tried == min(len(addresses), _MAX_ADDRESSES):
                    raise
        raise FetchError("the host name has no addresses", url=str(request.url))

    def close(self) -> None:
        self._inner.close()
        self._guarded.close()


_MAX_ADDRESSES = 3  # try this many of a name's addresses when connecting fails


def pinned_transport(keepalive: int = 64) -> PinnedTransport:
    """The transport ``bot.feeds.fetch.make_http_client`` uses.

    Up to ``keepalive`` idle connections are kept (the polls in flight: httpx keeps 20,
    so a cycle over more hosts than that reconnected to each host's next feed). The
    number of connections is not capped here: the poll threads and per-host limits
    already bound it, and a cap below them would make a poll wait for the pool and fail
    on its timeout. Guarded connections (addresses pinned per request) are never kept.
    """
    return PinnedTransport(
        pooled_transport(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=keepalive)
        ),
        pooled_transport(limits=httpx.Limits(max_connections=None, max_keepalive_connections=0)),
    )
