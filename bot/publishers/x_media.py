"""X plumbing: a session aimed at ``api_base``, the v2 media endpoints, error translation.

tweepy 4.17 hard-codes ``https://api.twitter.com`` in ``Client.request`` and has no v2
media upload, so ``XSession`` replaces ``Client.session`` and the upload is done here with
the same OAuth 1.0a credentials. Failed answers raise the very tweepy exceptions tweepy
itself raises, so ``bot.publishers.x`` translates errors from both paths in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.errors import (
    AlreadyPosted,
    AuthError,
    PublishError,
    Rejected,
    Transient,
)
from bot.models import Media
from bot.publishers.edge import StatusTable, reset_seconds, wait_or
from bot.textfit import fit_text

if TYPE_CHECKING:  # requests, tweepy and Pillow load when an X channel is built or posts
    import httpx
    import requests
    import tweepy
    from tweepy.errors import HTTPException

    from bot.images import ImageData

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.x.com"
DEFAULT_TIMEOUT = 30.0
MAX_IMAGE_BYTES = 5_000_000  # X: images up to 5 MB
MAX_IMAGES = 4  # per post
ALT_TEXT_LIMIT = 1000  # characters
RATE_WINDOW = 900.0  # X limits reset every 15 minutes; the wait when no reset header came
IMAGE_FORMATS = ("image/jpeg", "image/png", "image/webp", "image/gif")
_TWEEPY_HOSTS = ("https://api.twitter.com", "https://api.x.com")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


class XSession:
    """A requests session that sends tweepy's calls to ``api_base`` with a timeout.

    The URL is rewritten in ``request``, before requests prepares it, so the OAuth 1.0a
    signature covers the address actually called. (A mounted adapter would only see the
    request after signing; a server checking signatures would then reject it.) tweepy
    passes no timeout at all, so one is supplied here. It wraps a ``requests.Session``
    rather than subclassing it, so that declaring the X platform does not import requests;
    tweepy only calls ``request``.
    """

    def __init__(self, api_base: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        import requests

        self.http = requests.Session()
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def rewrite(self, url: str) -> str:
        """``url`` with X's hard-coded host replaced by ``api_base``."""
        for host in _TWEEPY_HOSTS:
            if url == host or url.startswith(host + "/"):
                return self.api_base + url[len(host) :]
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        """``requests.Session.request`` on the rewritten URL, with the timeout."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        response = self.http.request(method, self.rewrite(url), *args, **kwargs)
        if response.status_code == 429 and _reset_time(response.headers) is None:
            # tweepy does int() on this header and would crash on anything else; an
            # unreadable reset is as good as none (the 15-minute window is assumed).
            response.headers.pop("x-rate-limit-reset", None)
        return response

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.http.close()


def _reset_time(headers: Mapping[str, str]) -> int | None:
    value = headers.get("x-rate-limit-reset", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def oauth1(client: tweepy.Client) -> Any:
    """The requests ``auth`` object tweepy signs its user-context calls with."""
    import tweepy

    handler = tweepy.OAuth1UserHandler(
        client.consumer_key,
        client.consumer_secret,
        client.access_token,
        client.access_token_secret,
    )
    return handler.apply_auth()


def raise_for_status(response: requests.Response) -> None:
    """Raise what ``tweepy.Client.request`` would raise for this answer."""
    from tweepy.errors import (
        BadRequest,
        Forbidden,
        HTTPException,
        NotFound,
        TooManyRequests,
        TwitterServerError,
        Unauthorized,
    )

    code = response.status_code
    if 200 <= code < 300:
        return
    if code == 429:
        raise TooManyRequests(response, reset_time=_reset_time(response.headers))
    by_code: dict[int, type[HTTPException]] = {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
    }
    if code >= 500:
        raise TwitterServerError(response)
    raise by_code.get(code, HTTPException)(response)


def data_id(answer: Any, *, action: str, channel: str) -> str:
    """``data.id`` of a successful v2 answer; a malformed answer is retried as a server fault."""
    value = answer.get("data", {}).get("id") if isinstance(answer, dict) else None
    if not isinstance(value, str | int) or not str(value).isdigit():
        raise Transient(f"X {action}: the answer has no data.id; retrying later", channel=channel)
    return str(value)


def _json(response: requests.Response, *, action: str, channel: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise Transient(
            f"X {action}: answer is not JSON (HTTP {response.status_code})", channel=channel
        ) from exc


def upload_image(session: XSession, auth: Any, image: ImageData, *, channel: str) -> str:
    """``POST /2/media/upload`` (multipart, ``tweet_image``); returns the media id."""
    name = f"image.{_EXTENSIONS.get(image.mime, 'jpg')}"
    with session.post(
        f"{session.api_base}/2/media/upload",
        files={"media": (name, image.data, image.mime)},
        data={"media_category": "tweet_image"},
        auth=auth,
    ) as response:
        raise_for_status(response)
        action = "POST /2/media/upload"
        return data_id(
            _json(response, action=action, channel=channel), action=action, channel=channel
        )


def set_alt_text(session: XSession, auth: Any, media_id: str, alt: str) -> None:
    """``POST /2/media/metadata``: alt text, cut at a word boundary to X's 1000 characters."""
    text = fit_text(alt, ALT_TEXT_LIMIT)
    body = {"id": media_id, "metadata": {"alt_text": {"text": text}}}
    with session.post(f"{session.api_base}/2/media/metadata", json=body, auth=auth) as response:
        raise_for_status(response)


def prepare_image(
    http: httpx.Client, media: Media, *, allow_private: bool, channel: str
) -> ImageData | None:
    """The article image, fitted to X's limits; None (and a warning) when it cannot be had.

    A missing picture must not cost the post, so fetch and fit errors only warn.
    """
    from bot.images import fetch_image, fit_image

    try:
        image = fetch_image(http, media.url, allow_private=allow_private)
        return fit_image(image, max_bytes=MAX_IMAGE_BYTES, formats=IMAGE_FORMATS)
    except PublishError as exc:
        log.warning(
            "channel %s: posting without the image %s: %s",
            channel,
            media.url,
            exc,
            extra={"channel": channel},
        )
        return None


# -- errors ----------------------------------------------------------------------------------


def translate_error(
    exc: Exception, *, channel: str, action: str, now: datetime, timeout: float
) -> PublishError:
    """Our error for a tweepy or requests failure of ``action`` (e.g. "POST /2/tweets")."""
    import requests
    from tweepy.errors import HTTPException

    if isinstance(exc, HTTPException):
        return _http_error(exc, channel=channel, action=action, now=now)
    if isinstance(exc, requests.Timeout):
        return Transient(
            f"X {action}: no answer within {timeout:g} s", channel=channel, maybe_sent=True
        )
    # Refused or dropped connections, and anything else tweepy raises before an answer.
    return Transient(
        f"X {action}: {type(exc).__name__}: {exc}", channel=channel, maybe_sent=_maybe_sent(exc)
    )


def _maybe_sent(exc: Exception) -> bool:
    """False only when no connection to X was made, so nothing can have been posted."""
    import requests
    import urllib3

    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


CREDENTIALS_HINT = (
    "check api_key, api_secret, access_token and access_token_secret; regenerate the "
    "access token if it was revoked"
)
PERMISSION_HINT = (
    "give the app Read and Write permission in the developer portal (User authentication "
    "settings) and regenerate the access token and secret"
)
APP_HINT = "attach the app to a Project with v2 access in the developer portal"
_PERMISSION_MARKS = ("oauth1-permissions", "oauth1 app permissions", "not permitted to perform")
_APP_MARKS = ("client-forbidden", "client-not-enrolled", "unsupported-authentication")
# A 403 is judged by its problem body (duplicate, permissions, app), else Rejected.
TABLE = StatusTable(
    "X", default_wait=RATE_WINDOW, kinds={403: Rejected}, hints={401: CREDENTIALS_HINT}
)


def _http_error(exc: HTTPException, *, channel: str, action: str, now: datetime) -> PublishError:
    from tweepy.errors import TooManyRequests

    response = exc.response
    code = response.status_code
    text = f"X {action}: HTTP {code}{problem_detail(response)}"
    kind: type[PublishError] | None = None
    hint: str | None = None
    wait: float | None = None
    if isinstance(exc, TooManyRequests) or code == 429:
        wait, why = rate_limit_wait(response.headers, now=now)
        text += why
    elif code == 403:
        kind, hint = _forbidden(response)
    return TABLE.error(
        status=code,
        headers=response.headers,
        text=text,
        channel=channel,
        now=now,
        kind=kind,
        hint=hint,
        wait=wait,
    )


def _forbidden(response: requests.Response) -> tuple[type[PublishError], str]:
    """What X's 403 problem body means: (error class, hint)."""
    text = f"{problem_detail(response)} {_problem_type(response)}".lower()
    if "duplicate" in text:
        return AlreadyPosted, "X already has this post"
    if any(mark in text for mark in _PERMISSION_MARKS):
        return AuthError, PERMISSION_HINT
    if any(mark in text for mark in _APP_MARKS):
        return AuthError, APP_HINT
    return Rejected, ""


def rate_limit_wait(headers: Mapping[str, str], *, now: datetime) -> tuple[float, str]:
    """Seconds until X lets us post again, and why, from its rate-limit headers.

    ``x-rate-limit-reset`` is the 15-minute window; when a 24-hour allowance is used up
    (``x-user-limit-24hour-remaining: 0``) its own reset is later and wins.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    wait = wait_or(lowered, now, RATE_WINDOW)
    why = ""
    for prefix, label in (("x-user-limit-24hour", "user"), ("x-app-limit-24hour", "app")):
        if lowered.get(f"{prefix}-remaining") != "0":
            continue
        day_wait = reset_seconds(lowered.get(f"{prefix}-reset", ""), now)
        if day_wait is not None and day_wait > wait:
            wait, why = day_wait, f" (24-hour {label} limit used up)"
    return max(0.0, wait), why


def problem_detail(response: requests.Response) -> str:
    """ ": <what X said>" from a problem body (detail/title) or a v1-style errors list."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    said = [str(body[k]) for k in ("detail", "title") if body.get(k)][:1]
    said += [str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict)]
    text = "; ".join(dict.fromkeys(s for s in said if s and s != "None"))
    return f": {text[:300]}" if text else ""


def _problem_type(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""
