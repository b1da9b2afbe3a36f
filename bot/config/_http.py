"""The ``[http]`` table: where ``syndbot run`` serves ``/healthz`` and ``/metrics`` (and,
with ``push = true``, the ``/ping`` and ``/websub`` endpoints of ``bot.web.push``).

Off unless ``listen`` is set. A bare port (``listen = 8787`` or ``":8787"``) binds
``127.0.0.1``; another address (``"0.0.0.0:8787"`` in a container) must be written out.
The web page (``ui = true``, served under ``/ui``) logs in with the value of the variable
named by ``ui_password_env``; without one it is refused on any but a loopback address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.config._section import Section

if TYPE_CHECKING:  # bot.config.model imports this module
    from bot.config.model import Secret

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
    # Derives each WebSub subscription's secret from its callback token (HMAC-SHA256), so
    # subscriptions are kept in the database and re-used after a restart; None: in memory.
    websub_key: Secret | None = None
    ui: bool = False  # the web page under /ui
    ui_password: Secret | None = None  # None: no login (only allowed on loopback)

    @property
    def loopback(self) -> bool:
        """True when only this machine can connect."""
        if self.host == "localhost":
            return True
        return ipaddress.ip_address(self.host).is_loopback

    @property
    def probe_host(self) -> str:
        """Where a local probe connects: a wildcard bind answers on loopback."""
        if self.host in ("0.0.0.0", ""):  # noqa: S104  (a bind address, not a connection)
            return LOOPBACK
        return "::1" if self.host == "::" else self.host

    def url(self, path: str = "") -> str:
        host = f"[{self.probe_host}]" if ":" in self.probe_host else self.probe_host
        return f"http://{host}:{self.port}{path}"


def parse_http(sec: Section, env: Mapping[str, str]) -> HttpConfig | None:
    """``HttpConfig`` from ``[http]``, or None when it has no ``listen``."""
    sec.check_known(
        (
            "listen",
            "stale_after",
            "ui",
            "ui_password_env",
            "push",
            "push_debounce",
            "public_url",
            "websub_key_env",
        )
    )
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
    http = HttpConfig(
        host=host,
        port=int(port_text),
        stale_after=stale_after,
        push=push,
        push_debounce=push_debounce,
        public_url=public_url,
        websub_key=_websub_key(sec, env),
    )
    return _with_ui(sec, http, env) if sec.boolean("ui", False) else http


def _websub_key(sec: Section, env: Mapping[str, str]) -> Secret | None:
    """The key in the environment variable named by ``websub_key_env`` (at least 32 chars)."""
    from bot.config._credentials import looks_like_secret
    from bot.config.model import DOTENV_HINT, Secret

    name = sec.optional_text("websub_key_env")
    if name is None:
        return None
    if looks_like_secret(name):  # never echo it: it may be the key itself
        raise sec.error(
            "websub_key_env",
            "this looks like a secret value; put the NAME of an environment variable here "
            '(e.g. "SYNDBOT_WEBSUB_KEY") and the key in .env',
        )
    value = env.get(name, "").strip()
    if not value:
        raise sec.error(
            "websub_key_env", f"the environment variable {name} is not set or empty; {DOTENV_HINT}"
        )
    if len(value) < 32:
        raise sec.error(
            "websub_key_env",
            f"the key in {name} is shorter than 32 characters; make one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`",
        )
    return Secret(value)


def _with_ui(sec: Section, http: HttpConfig, env: Mapping[str, str]) -> HttpConfig:
    """``http`` with the web page on, its password read from the variable named in config."""
    from bot.config._credentials import secret_from_env

    password = secret_from_env(
        sec, "ui_password_env", env, example="SYNDBOT_UI_PASSWORD", what="password"
    )
    if password is None and not http.loopback:
        raise sec.error(
            "ui",
            f"the web page on {http.host} (not a loopback address) would let anyone who can "
            "reach it approve and skip posts; set ui_password_env to the name of a variable "
            'holding a password (e.g. "SYNDBOT_UI_PASSWORD"), or listen on 127.0.0.1',
        )
    return replace(http, ui=True, ui_password=password)
