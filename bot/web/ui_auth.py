"""The web page's guard: login, a signed session cookie, a CSRF token on every form.

Every request to ``/ui`` passes ``Guard.check``: without a password configured the page
answers only requests addressed to a loopback name (a web page elsewhere cannot reach it
through DNS rebinding); with one it needs a logged-in session. Every POST must carry the
session's CSRF token (``csrf`` form field) or is refused with 403 before anything happens.
The cookie is signed with a key made at start-up (never logged): a restart logs everyone out.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from starlette.requests import Request

from bot.config import HttpConfig

log = logging.getLogger("syndbot.http")

COOKIE = "syndbot_ui"
SESSION_HOURS = 12
USER = "admin"  # one operator account: the password is the only credential
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_FAILURES = 5  # wrong passwords from one address within FAILURE_WINDOW...
FAILURE_WINDOW = 300.0  # ...lock that address out of the login until the window passes


class Refused(Exception):
    """A request turned away: 403 (forbidden), 413 (too large), 429 (locked out), 303 (log in)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def session_key() -> str:
    """A fresh signing key for this process's session cookies."""
    return secrets.token_urlsafe(32)


def who(request: Request) -> str:
    """``admin@127.0.0.1``: the user and the address the request came from, for the log."""
    user = request.session.get("user") or "anonymous"
    host = request.client.host if request.client else "unknown"
    return f"{user}@{host}"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class Guard:
    """Who may see the page and send its forms."""

    def __init__(self, http: HttpConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._password = http.ui_password
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def login_needed(self) -> bool:
        return self._password is not None

    def check(self, request: Request, *, login_page: bool = False) -> None:
        """Raise ``Refused`` unless this request may see the page (the login page always)."""
        if self._password is None:
            host = (request.url.hostname or "").strip("[]").lower()
            if host not in LOOPBACK_NAMES:
                raise Refused(403, f"host {host!r} is not a loopback name")
            request.session["user"] = "local"
            return
        if not login_page and request.session.get("user") != USER:
            raise Refused(303, "not logged in")

    def check_form(self, request: Request, form: Mapping[str, str]) -> None:
        """Raise ``Refused(403)`` unless the form carries this session's CSRF token."""
        sent = form.get("csrf")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not isinstance(expected, str):
            raise Refused(403, "no CSRF token")
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Refused(403, "wrong CSRF token")

    def log_in(self, request: Request, password: str) -> bool:
        """True, and the session logged in (with a new CSRF token), for the right password.

        Raises ``Refused(429)`` while the address is locked out after ``MAX_FAILURES``."""
        if self._password is None:
            return True
        address = request.client.host if request.client else "unknown"
        now = self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < FAILURE_WINDOW]
            self._failures[address] = recent
            if len(recent) >= MAX_FAILURES:
                log.warning("ui: login refused for %s: too many wrong passwords", who(request))
                raise Refused(429, "too many wrong passwords; try again in a few minutes")
        ok = hmac.compare_digest(password.encode(), self._password.get().encode())
        if ok:
            request.session.clear()
            request.session["user"] = USER
            csrf_token(request)
            log.info("ui: login by %s", who(request))
        else:
            with self._lock:
                self._failures.setdefault(address, []).append(now)
            log.warning("ui: wrong password from %s", who(request))
        return ok
