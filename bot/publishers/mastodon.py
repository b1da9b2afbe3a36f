"""Mastodon publisher (REST API over httpx).

Images are uploaded first (``bot.publishers.mastodon_media``). The status goes out with
``POST /api/v1/statuses`` and an ``Idempotency-Key`` header: Mastodon answers a repeated key
with the status it already made, for an hour. Each attempt is noted in the channel state,
so a retry later than that first looks for the article on the account's timeline
(``reconcile``); a thread resumes after its last posted part.

Instance limits (``GET /api/v2/instance``) are cached in the channel state for a day; a
post longer than the instance allows is ``Rejected`` before anything is uploaded.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.compose import counting
from bot.compose.profiles import BLOCK_TEMPLATE, Profile
from bot.compose.xlength import extract_urls
from bot.config import ChannelConfig
from bot.errors import AuthError, ConfigError, PublishError, RateLimited, Rejected, Transient
from bot.models import Limits, Post, PostPart, PublishResult
from bot.platform import InstanceLimits, Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.edge import Edge, StatusTable, json_object
from bot.publishers.mastodon_media import MediaUploader
from bot.textfit import grapheme_count

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

VISIBILITIES = ("public", "unlisted", "private", "direct")
# read:statuses: a token that reads an account's statuses (the read-back) must carry it.
SCOPES = "write:statuses write:media read:accounts read:statuses"
LIMITS_MAX_AGE = timedelta(days=1)
KEY_LIFETIME = timedelta(minutes=55)  # Mastodon keeps an Idempotency-Key one hour
DEFAULT_LIMITS: dict[str, int] = {
    "max_characters": 500,
    "characters_reserved_per_url": 23,
    "max_media_attachments": 4,
    "description_limit": 1500,
    "image_size_limit": 16_777_216,
}


class MastodonPublisher:
    """One Mastodon account on one instance."""

    platform = "mastodon"

    def __init__(
        self,
        channel: ChannelConfig,
        ctx: PublisherContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = channel.name
        self._ctx = ctx
        instance = channel.options.get("instance", "").strip().rstrip("/")
        self.instance = instance or channel.api_base or ""
        self._base = (channel.api_base or instance).rstrip("/")
        if not self._base.startswith(("https://", "http://")):
            raise ConfigError(
                f'"{instance}" is not a base URL; write it like "https://mastodon.social"',
                key=f"channels.{channel.name}.options.instance",
            )
        self._token = channel.secret("access_token")
        self._visibility = channel.options.get("visibility", "public").strip() or "public"
        if self._visibility not in VISIBILITIES:
            raise ConfigError(
                f'"{self._visibility}" is not a visibility; use one of {", ".join(VISIBILITIES)}',
                key=f"channels.{channel.name}.options.visibility",
            )
        table = _table(self.instance)
        self._edge = Edge(
            ctx.http, table, channel=self.name, secrets=[self._token], clock=ctx.clock
        )
        self._notes = DeliveryNotes(ctx, channel.name)
        self._media = MediaUploader(
            self._request, ctx, self._notes, channel=self.name, instance=self.instance, sleep=sleep
        )

    def __repr__(self) -> str:
        return f"MastodonPublisher(name={self.name!r}, instance={self.instance!r})"

    # ---- public API --------------------------------------------------------------------

    def check(self) -> str:
        """``@acct`` of the token's account (``GET /api/v1/accounts/verify_credentials``)."""
        account = self._json("GET", "/api/v1/accounts/verify_credentials")
        self._remember(account_id=str(account.get("id", "")))
        return f"@{account.get('acct') or account.get('username')}"

    def instance_limits(self) -> dict[str, int]:
        """The instance's text/media limits, cached in the channel state for a day."""
        state = self._ctx.state.channel_state(self.name)
        cached = state.get("instance")
        now = self._ctx.clock()
        if isinstance(cached, dict) and _fresh(cached, now):
            return _limits_of(cached)
        try:
            body = self._json("GET", "/api/v2/instance")
        except (Transient, RateLimited):
            if isinstance(cached, dict):
                return _limits_of(cached)  # stale beats none
            raise
        limits = parse_limits(body)
        self._remember(instance={"fetched": now.isoformat(), **limits})
        return limits

    def limits(self) -> Limits | None:
        """The instance's limits for compose (``InstanceLimits``); None when the instance
        cannot be asked now, so compose uses the profile's 500."""
        try:
            found = self.instance_limits()
        except PublishError as exc:  # publish meets the same trouble and reports it
            log.info("instance limits unavailable channel=%s %s", self.name, exc)
            return None
        return Limits(characters=found["max_characters"])

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        note = self._notes.get(idempotency_key)
        if note.get("done"):
            return _result(note)
        if _key_expired(note, self._ctx.clock()):
            found = self.reconcile(post, idempotency_key=idempotency_key)
            if found is not None and self._notes.get(idempotency_key).get("done"):
                return found
            note = self._notes.get(idempotency_key)
        limits = self._limits_or_none()
        if limits is not None:
            self._check_length(post, limits)
        if not note.get("first"):
            note = self._notes.put(idempotency_key, first=self._ctx.clock().isoformat())
        ids = [str(i) for i in note.get("statuses", [])]
        for index, part in enumerate(post.parts):
            if index < len(ids):
                continue  # an earlier attempt posted this part of the thread
            media_ids = self._media.for_part(part, index, idempotency_key, limits or DEFAULT_LIMITS)
            key = idempotency_key if index == 0 else f"{idempotency_key}:{index + 1}"
            status = self._post_status(part, post.lang, media_ids, ids[-1] if ids else None, key)
            ids.append(str(status["id"]))
            url = note.get("url") or status.get("url") or status.get("uri")
            note = self._notes.put(idempotency_key, statuses=ids, url=url)
        log.info("mastodon status posted channel=%s id=%s", self.name, ids[0])
        return _result(self._notes.put(idempotency_key, done=True))

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The status an earlier attempt made: from the notes, else the account's latest 20
        statuses whose content or card links ``post.article_url``."""
        note = self._notes.get(idempotency_key)
        if note.get("statuses"):
            return _result(note)
        statuses = self._request(
            "GET",
            f"/api/v1/accounts/{self._account_id()}/statuses",
            params={"limit": "20", "exclude_reblogs": "true"},
        ).json()
        for status in statuses if isinstance(statuses, list) else []:
            if isinstance(status, dict) and status.get("id") and links_to(status, post):
                url = status.get("url") or status.get("uri")
                done = len(post.parts) == 1
                note = self._notes.put(
                    idempotency_key, statuses=[str(status["id"])], url=url, done=done
                )
                return _result(note)
        return None

    # ---- steps -------------------------------------------------------------------------

    def _check_length(self, post: Post, limits: dict[str, int]) -> None:
        limit = limits["max_characters"]
        for number, part in enumerate(post.parts, start=1):
            length = status_length(part.text, limits["characters_reserved_per_url"])
            if length > limit:
                raise Rejected(
                    f"part {number} of the post is {length} characters, {self.instance} allows "
                    f"{limit}; set max_chars = {limit} on channel {self.name} so posts fit",
                    channel=self.name,
                )

    def _post_status(
        self,
        part: PostPart,
        lang: str | None,
        media_ids: list[str],
        reply_to: str | None,
        key: str,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"status": part.text, "visibility": self._visibility}
        if media_ids:
            payload["media_ids"] = media_ids
        if reply_to:
            payload["in_reply_to_id"] = reply_to
        language = _language(lang)
        if language:
            payload["language"] = language
        return self._json(
            "POST", "/api/v1/statuses", json=payload, headers={"Idempotency-Key": key}
        )

    # ---- HTTP --------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        what = f"{method} {path} on {self.instance}"
        response = self._edge.send(method, self._base + path, what=what, headers=headers, **kwargs)
        if response.is_error:  # Mastodon says what is wrong in ``error``
            message = str(json_object(response).get("error") or "")
            raise self._edge.error(response, what, message=message)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._request(method, path, **kwargs).json()
        if not isinstance(body, dict):
            raise Transient(f"{method} {path}: unexpected answer {body!r:.100}", channel=self.name)
        return body

    def _limits_or_none(self) -> dict[str, int] | None:
        try:
            return self.instance_limits()
        except (Transient, RateLimited, Rejected) as exc:
            # Posting must not wait on a read: the server still enforces its own limit.
            log.warning("mastodon limits unknown channel=%s: %s", self.name, exc)
            return None

    def _account_id(self) -> str:
        account_id = self._ctx.state.channel_state(self.name).get("account_id")
        if not account_id:
            self.check()
            account_id = self._ctx.state.channel_state(self.name).get("account_id")
        return str(account_id)

    def _remember(self, **values: Any) -> None:
        state = self._ctx.state.channel_state(self.name)
        self._ctx.state.set_channel_state(self.name, {**state, **values})


def _table(instance: str) -> StatusTable:
    """Mastodon's statuses: 422 validation and 404 are Rejected by default."""
    token_hint = (
        f"create a new access token on {instance} under Preferences > Development (scopes "
        f"{SCOPES}) and put it in the environment variable named in credentials.access_token"
    )
    return StatusTable(
        "Mastodon",
        default_wait=300.0,  # Mastodon's windows are 5 minutes
        kinds={410: AuthError},
        hints={
            AuthError: token_hint,
            410: "the account is suspended or gone",
            Transient: "will retry",
        },
    )


def parse_limits(instance: dict[str, Any]) -> dict[str, int]:
    """The limits syndbot uses from a ``GET /api/v2/instance`` answer (defaults fill gaps)."""
    config = instance.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    found = {
        "max_characters": statuses.get("max_characters"),
        "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
        "max_media_attachments": statuses.get("max_media_attachments"),
        "description_limit": media.get("description_limit"),
        "image_size_limit": media.get("image_size_limit"),
    }
    return {k: int(v) if isinstance(v, int) else DEFAULT_LIMITS[k] for k, v in found.items()}


def status_length(text: str, per_url: int = 23) -> int:
    """Characters as the instance counts them: graphemes, each http(s) URL ``per_url``."""
    total, cursor = 0, 0
    for url in extract_urls(text):
        if url.url.lower().startswith(("http://", "https://")):
            total += grapheme_count(text[cursor : url.start]) + per_url
            cursor = url.end
    return total + grapheme_count(text[cursor:])


def links_to(status: dict[str, Any], post: Post) -> bool:
    """Whether a status (its HTML content or link card) carries the post's article URL."""
    card = status.get("card") or {}
    content = html.unescape(str(status.get("content") or ""))
    return post.article_url in content or card.get("url") == post.article_url


def _limits_of(cached: dict[str, Any]) -> dict[str, int]:
    return {k: int(cached.get(k, v)) for k, v in DEFAULT_LIMITS.items()}


def _fresh(cached: dict[str, Any], now: datetime) -> bool:
    try:
        return now - datetime.fromisoformat(str(cached["fetched"])) < LIMITS_MAX_AGE
    except (KeyError, ValueError):
        return False


def _key_expired(note: dict[str, Any], now: datetime) -> bool:
    """True when an earlier attempt is older than the server remembers its key."""
    try:
        return now - datetime.fromisoformat(str(note["first"])) > KEY_LIFETIME
    except (KeyError, ValueError):
        return False


def _language(lang: str | None) -> str | None:
    """ISO 639 code Mastodon accepts: "hi-IN" -> "hi"."""
    code = (lang or "").split("-")[0].split("_")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _result(note: dict[str, Any]) -> PublishResult:
    return PublishResult(remote_id=str(note["statuses"][0]), url=note.get("url"))


def build(channel: ChannelConfig, ctx: PublisherContext) -> MastodonPublisher:
    """The publisher for a ``platform = "mastodon"`` channel."""
    return MastodonPublisher(channel, ctx)


PLATFORM = Platform(
    name="mastodon",
    credentials=("access_token",),
    required_options=("instance",),
    profile=Profile(
        "mastodon",
        "graphemes",
        counting.mastodon_length,
        500,
        default_template=BLOCK_TEMPLATE,
        max_hashtags=3,
        alt_limit=1500,
        limit_overridable=True,
        supports_thread=True,
    ),
    build=build,
    abilities=(Reconciles, InstanceLimits),
)
