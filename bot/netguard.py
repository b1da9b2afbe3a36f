"""Refuse to fetch URLs that point into the bot's own network (SSRF guard).

Feed URLs come from the operator and are trusted. Article pages and images found *inside*
feed content are chosen by whoever writes the feed, so a hostile feed could make the bot
request ``http://169.254.169.254/`` (cloud metadata) or an admin page on the LAN. For those
requests ``bot.feeds.fetch`` sets the ``GUARD_EXTENSION`` flag on the httpx request and
installs ``guard_hook``, which httpx calls before every request, including each redirect hop.

Limitation: the check resolves the host itself, then httpx resolves it again to connect, so
a DNS server that answers differently within milliseconds (DNS rebinding) is not stopped.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from bot.errors import FetchError

GUARD_EXTENSION = "syndbot_netguard"

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


def check_public_url(url: str) -> None:
    """Raise ``FetchError`` unless ``url`` is http(s) and every address of its host is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
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
    for *_, sockaddr in answers:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id (fe80::1%eth0)
        address = ipaddress.ip_address(text)
        if not is_public_address(address):
            raise FetchError(
                f"refusing to fetch {host} ({address}): it is a loopback/private/reserved "
                "address; links found in feeds may only point to public hosts "
                "(set service.allow_private_addresses = true to allow it)",
                url=url,
            )


def guard_hook(request: httpx.Request) -> None:
    """httpx request event hook: check requests flagged with ``GUARD_EXTENSION``."""
    if request.extensions.get(GUARD_EXTENSION):
        check_public_url(str(request.url))


def install_guard(client: httpx.Client) -> None:
    """Add ``guard_hook`` to ``client`` once; unflagged requests are not affected."""
    hooks = client.event_hooks
    if guard_hook not in hooks.get("request", []):
        client.event_hooks = {
            "request": [*hooks.get("request", []), guard_hook],
            "response": list(hooks.get("response", [])),
        }
