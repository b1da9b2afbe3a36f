"""The ``[http]`` table: where ``syndbot run`` serves ``/healthz`` and ``/metrics`` (and,
with ``push = true``, the ``/ping`` and ``/websub`` endpoints of ``bot.web.push``).

Off unless ``listen`` is set. A bare port (``listen = 8787`` or ``":8787"``) binds
``127.0.0.1``; another address (``"0.0.0.0:8787"`` in a container) must be written out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from bot.config._section import Section

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class HttpConfig:
    """The listener's address, and how old a feed's last good poll may be before 503."""

    host: str = LOOPBACK
    port: int = 8787
    # None: three times each feed's own interval (plus the service jitter).
    stale_after: float | None = None
    # /ping (XML-RPC weblogUpdates) and /websub (hub.mode=publish) trigger an early poll.
    push: bool = False
    # Pushes fetch a feed at most once per this many seconds (pings between are one).
    push_debounce: float = 3.0
    # How hubs reach this listener ("https://bot.example"); set, it subscribes to hubs.
    public_url: str | None = None

    @property
    def probe_host(self) -> str:
        """Where a local probe connects: a wildcard bind answers on loopback."""
        if self.host in ("0.0.0.0", ""):  # noqa: S104  (a bind address, not a connection)
            return LOOPBACK
        return "::1" if self.host == "::" else self.host

    def url(self, path: str = "") -> str:
        host = f"[{self.probe_host}]" if ":" in self.probe_host else self.probe_host
        return f"http://{host}:{self.port}{path}"


def parse_http(sec: Section) -> HttpConfig | None:
    """``HttpConfig`` from ``[http]``, or None when it has no ``listen``."""
    sec.check_known(("listen", "stale_after", "push", "push_debounce", "public_url"))
    stale_after = sec.duration("stale_after", 0.0, positive=True) if "stale_after" in sec else None
    push = sec.boolean("push", HttpConfig.push)
    push_debounce = sec.duration("push_debounce", HttpConfig.push_debounce, positive=True)
    public_url = sec.optional_text("public_url")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise sec.error("public_url", f'"{public_url}" is not an http(s) URL')
    if "listen" not in sec:
        return None
    raw = sec.data["listen"]
    hint = 'write it like "127.0.0.1:8787" or a port number'
    if isinstance(raw, int) and not isinstance(raw, bool):
        host, port_text = LOOPBACK, str(raw)
    elif isinstance(raw, str):
        host, sep, port_text = raw.strip().rpartition(":")
        if not sep:
            host, port_text = "", raw.strip()
        host = host.strip("[]") or LOOPBACK
    else:
        raise sec.error("listen", f"expected an address, got {raw!r}; {hint}")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise sec.error("listen", f'"{raw}" has no valid port; {hint}')
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise sec.error("listen", f'"{host}" is not an IP address; {hint}') from exc
    return HttpConfig(
        host=host,
        port=int(port_text),
        stale_after=stale_after,
        push=push,
        push_debounce=push_debounce,
        public_url=public_url,
    )
