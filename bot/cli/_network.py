"""One plain sentence for a network failure, instead of a library's exception dump.

``ProxyError: HTTPSConnectionPool(host='api.x.com', port=443): Max retries exceeded ...``
tells an operator little; "cannot reach api.x.com through the proxy in HTTPS_PROXY" tells
them where to look. Publishers raise our own errors ``from`` the library's exception, so
the original is found on the ``__cause__``/``__context__`` chain.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import requests

_NETWORK_ERRORS = (httpx.TransportError, requests.RequestException, OSError)
_HOST_IN_TEXT = re.compile(r"host='([^']+)'")

_NETWORK = "check this machine's network, DNS and proxy settings"

# (words in the library's text, what they mean, what to check); first match wins.
_MEANINGS = (
    (("name or service not known", "nodename nor servname", "getaddrinfo", "name resolution",
      "nameresolutionerror", "no address associated"),
     "its name could not be resolved", "check the host name and this machine's DNS"),
    (("connection refused", "errno 111"),
     "the connection was refused", "check the address (api_base) and that the service is up"),
    (("network is unreachable", "no route to host"),
     "there is no route to it", "check this machine's network"),
    (("connection reset", "remote end closed", "server disconnected", "connection aborted"),
     "the connection was closed before an answer", "try again later"),
    (("certificate", "ssl", "tls"),
     "its TLS certificate could not be verified",
     "check the system clock and any proxy that intercepts HTTPS"),
)  # fmt: skip


def network_cause(exc: BaseException) -> BaseException | None:
    """The library network error behind ``exc`` (itself included), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _NETWORK_ERRORS):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def describe_network_error(exc: BaseException) -> str:
    """``"cannot reach api.x.com: the connection was refused; check ..."``, one sentence."""
    problem, advice = explain_network_error(exc)
    return f"{problem}; {advice}"


def explain_network_error(exc: BaseException) -> tuple[str, str]:
    """(what went wrong, what to check) for a library network error; never the raw text."""
    host = _host(exc) or "the server"
    text = str(exc).lower()
    if isinstance(exc, httpx.ProxyError | requests.exceptions.ProxyError) or "proxy" in text:
        return (
            f"cannot reach {host} through the proxy",
            "check HTTPS_PROXY/HTTP_PROXY, or add the host to NO_PROXY",
        )
    if isinstance(exc, httpx.ConnectTimeout | requests.exceptions.ConnectTimeout):
        return f"cannot reach {host}: no connection within the time limit", _NETWORK
    if isinstance(exc, httpx.TimeoutException | requests.Timeout | TimeoutError):
        return f"{host} did not answer within the time limit", "try again later"
    for words, meaning, advice in _MEANINGS:
        if any(word in text for word in words):
            return f"cannot reach {host}: {meaning}", advice
    return f"cannot reach {host}: the network request failed", _NETWORK


def _host(exc: BaseException) -> str | None:
    url: object = None
    if isinstance(exc, httpx.RequestError):
        try:
            url = exc.request.url
        except RuntimeError:  # raised without a request
            url = None
    elif isinstance(exc, requests.RequestException) and exc.request is not None:
        url = exc.request.url
    if url is not None:
        host = urlsplit(str(url)).hostname
        if host:
            return host
    match = _HOST_IN_TEXT.search(str(exc))
    return match[1] if match else None
