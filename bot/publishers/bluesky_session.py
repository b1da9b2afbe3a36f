"""XRPC over httpx for the Bluesky publisher: log in once per process, refresh, map errors.

``com.atproto.server.createSession`` is limited to 30 calls per 5 minutes and 300 per day
per account, so the session is created once and reused for every post; an expired access
token is renewed with ``refreshSession``, and only a failed refresh logs in again.

The session survives restarts without the database ever holding a usable token: it is
kept *sealed* (``bot.sealed``: encrypted with a key derived from the channel's app
password, which lives only in the environment). A restart unseals it and goes on with
``refreshSession``; a changed app password makes the seal unreadable and one login follows.
The channel state also keeps non-secret facts: the account's DID and handle, when and how
often this channel logged in. Those login times let a process that restarts often stay
under the login limits instead of being locked out.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import AuthError, PublishError, RateLimited, Rejected, Transient
from bot.publishers.base import PublisherContext
from bot.publishers.edge import Edge, StatusTable, json_object
from bot.sealed import seal, unseal

if TYPE_CHECKING:
    import httpx

DEFAULT_PDS = "https://bsky.social"
_SEALED = "sealed_session"  # channel state key: the session, encrypted (see bot.sealed)
LOGIN_LIMITS = ((300, 30), (86_400, 300))  # createSession: (window seconds, calls)
AUTH_HINT = (
    "create a new app password (Bluesky: Settings > Privacy and security > App passwords) "
    "and put it in the environment variable named in credentials.app_password"
)
# Answers that mean "this session is no good": renew it once, then give up.
_SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_ACCOUNT_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired"})
# XRPC errors by status; what the body's ``error`` name adds is read in ``xrpc_error``.
TABLE = StatusTable("Bluesky", default_wait=300.0, hints={AuthError: AUTH_HINT})


class NotFound(Exception):
    """Cause attached to the ``Rejected`` of a RecordNotFound answer (see ``Xrpc.find``)."""


@dataclass(frozen=True)
class Session:
    """A logged-in session. Never stored, logged or shown (see ``__repr__``)."""

    access: str
    refresh: str
    did: str
    handle: str

    def __repr__(self) -> str:
        return f"Session(did={self.did!r}, handle={self.handle!r})"


def error_code(response: httpx.Response) -> tuple[str, str]:
    """``(error, message)`` of an XRPC error body; empty strings when there is none."""
    body = json_object(response)
    return str(body.get("error") or ""), str(body.get("message") or "")


def xrpc_error(response: httpx.Response, *, edge: Edge, what: str) -> PublishError:
    """The syndbot error for an XRPC error answer. The wait of a 429 comes from
    ``ratelimit-reset`` (unix seconds) or Retry-After, else 5 minutes."""
    error, message = error_code(response)
    said = ": ".join(p for p in (error, message) if p)
    kind: type[PublishError] | None = None
    if error == "RateLimitExceeded":
        kind = RateLimited
    elif error in _SESSION_ERRORS or error in _ACCOUNT_ERRORS:
        kind = AuthError
    return edge.error(response, what, message=said, kind=kind)


class Xrpc:
    """Authenticated XRPC calls to one PDS for one channel."""

    def __init__(
        self,
        ctx: PublisherContext,
        *,
        channel: str,
        base: str,
        identifier: str,
        password: str,
    ) -> None:
        self._ctx = ctx
        self._channel = channel
        self._base = base.rstrip("/")
        self._identifier = identifier
        self._password = password
        self._session: Session | None = None
        self._edge = Edge(ctx.http, TABLE, channel=channel, secrets=[password], clock=ctx.clock)

    def __repr__(self) -> str:
        return f"Xrpc(channel={self._channel!r}, base={self._base!r})"

    @property
    def session(self) -> Session:
        """The current session: this process's, else the sealed one, else a new login."""
        if self._session is None:
            self._session = self._unseal() or self._login()
            self._edge.add_secrets(self._session.access, self._session.refresh)
        return self._session

    def _unseal(self) -> Session | None:
        token = self._ctx.state.channel_state(self._channel).get(_SEALED)
        if not isinstance(token, str):
            return None
        data = unseal(token, secret=self._password, context=self._seal_context)
        if data is None:
            return None
        try:
            return Session(**{k: str(data[k]) for k in ("access", "refresh", "did", "handle")})
        except KeyError:
            return None

    def _keep(self, session: Session | None) -> None:
        """Remember the session (sealed) for the next process, or forget it."""
        self._session = session
        if session is not None:
            self._edge.add_secrets(session.access, session.refresh)
        state = self._ctx.state.channel_state(self._channel)
        state.pop(_SEALED, None)
        if session is not None:
            state[_SEALED] = seal(
                dataclasses.asdict(session), secret=self._password, context=self._seal_context
            )
        self._ctx.state.set_channel_state(self._channel, state)

    @property
    def _seal_context(self) -> str:
        return f"bluesky:{self._channel}:{self._base}:{self._identifier}"

    def get(self, nsid: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._authed("GET", nsid, params=params)

    def find(self, nsid: str, params: Mapping[str, str]) -> dict[str, Any] | None:
        """``get``, but None when the PDS answers RecordNotFound."""
        try:
            return self.get(nsid, params)
        except Rejected as exc:
            if isinstance(exc.__cause__, NotFound):
                return None
            raise

    def post(self, nsid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._authed("POST", nsid, json=dict(body))

    def upload(self, data: bytes, mime: str) -> dict[str, Any]:
        """``com.atproto.repo.uploadBlob``: the blob reference to put in a record."""
        body = self._authed(
            "POST", "com.atproto.repo.uploadBlob", content=data, headers={"Content-Type": mime}
        )
        blob = body.get("blob")
        if not isinstance(blob, dict):
            raise Transient(f"uploadBlob answered without a blob: {body}", channel=self._channel)
        return blob

    def _authed(self, method: str, nsid: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, nsid, self.session.access, **kwargs)
        if _session_expired(response):
            self._renew()
            response = self._send(method, nsid, self.session.access, **kwargs)
        return self._body(response, nsid)

    def _send(self, method: str, nsid: str, bearer: str | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        url = f"{self._base}/xrpc/{nsid}"
        return self._edge.send(method, url, what=nsid, headers=headers, **kwargs)

    def _body(self, response: httpx.Response, nsid: str) -> dict[str, Any]:
        if response.is_error:
            error = xrpc_error(response, edge=self._edge, what=nsid)
            if error_code(response)[0] == "RecordNotFound":
                raise error from NotFound(nsid)
            raise error
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Transient(f"{nsid}: answer is not JSON", channel=self._channel) from exc
        return body if isinstance(body, dict) else {}

    def _renew(self) -> None:
        """Refresh the session; log in again only when the refresh token is refused too."""
        session = self._session
        if session is None:
            return
        response = self._send("POST", "com.atproto.server.refreshSession", session.refresh)
        if response.is_error and _session_expired(response):
            self._keep(None)  # the next use of ``self.session`` logs in again
            return
        # A 5xx or 429 keeps the old session: the next call refreshes again, no new login.
        body = self._body(response, "com.atproto.server.refreshSession")
        self._keep(self._session_from(body))

    def _login(self) -> Session:
        self._check_login_budget()
        self._note_login()
        response = self._send(
            "POST",
            "com.atproto.server.createSession",
            None,
            json={"identifier": self._identifier, "password": self._password},
        )
        session = self._session_from(self._body(response, "com.atproto.server.createSession"))
        self._save_account(session)
        self._keep(session)
        return session

    def _session_from(self, body: Mapping[str, Any]) -> Session:
        try:
            return Session(
                access=str(body["accessJwt"]),
                refresh=str(body["refreshJwt"]),
                did=str(body["did"]),
                handle=str(body["handle"]),
            )
        except KeyError as exc:
            raise Transient(
                f"the PDS {self._base} answered a session without {exc.args[0]}",
                channel=self._channel,
            ) from exc

    def _account(self) -> dict[str, Any]:
        facts = self._ctx.state.channel_state(self._channel).get("account", {})
        return dict(facts) if isinstance(facts, dict) else {}

    def _put_account(self, facts: dict[str, Any]) -> None:
        state = self._ctx.state.channel_state(self._channel)
        self._ctx.state.set_channel_state(self._channel, {**state, "account": facts})

    def _check_login_budget(self) -> None:
        """Refuse to log in when this channel would pass createSession's limits."""
        now = self._ctx.clock().timestamp()
        times = [float(t) for t in self._account().get("login_times", [])]
        for window, limit in LOGIN_LIMITS:
            recent = sorted(t for t in times if t > now - window)
            if len(recent) >= limit:
                wait = recent[-limit] + window - now
                raise RateLimited(
                    f"{self._channel}: {limit} Bluesky logins in {window // 60} minutes "
                    f"already; waiting {wait:.0f}s before logging in again",
                    retry_after=max(1.0, wait),
                    channel=self._channel,
                )

    def _note_login(self) -> None:
        """Count the attempt before sending it: a failed login still uses the budget."""
        now = self._ctx.clock()
        facts = self._account()
        day_ago = now.timestamp() - LOGIN_LIMITS[-1][0]
        times = [t for t in facts.get("login_times", []) if float(t) > day_ago]
        facts["login_times"] = [*times, int(now.timestamp())]
        facts["logins"] = int(facts.get("logins", 0)) + 1
        facts["last_login"] = now.isoformat()
        self._put_account(facts)

    def _save_account(self, session: Session) -> None:
        self._put_account({**self._account(), "did": session.did, "handle": session.handle})


def _session_expired(response: httpx.Response) -> bool:
    if response.status_code not in (400, 401):
        return False
    error, _ = error_code(response)
    return response.status_code == 401 or error in ("ExpiredToken", "InvalidToken")
