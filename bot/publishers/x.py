"""X (Twitter) publisher: tweepy ``Client`` with OAuth 1.0a user context.

A post with several parts becomes a reply chain. X has no idempotency key, so the ids of
the parts already posted are kept in the channel state under the delivery's idempotency
key: a retry after a failure mid-thread continues the chain instead of posting part 1
again, and a retry after a crash that followed success returns the same tweet. A text X
has seen before is refused as "duplicate content", reported as ``AlreadyPosted``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.compose.profiles import Profile
from bot.compose.xlength import x_has_invalid_characters, x_weighted_length
from bot.config import ChannelConfig
from bot.errors import AlreadyPosted, ConfigError, PublishError, Rejected, Transient
from bot.models import Media, Post, PostPart, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import PublisherContext
from bot.publishers.edge import hide_in_logs
from bot.publishers.x_media import (
    DEFAULT_API_BASE,
    DEFAULT_TIMEOUT,
    MAX_IMAGES,
    XSession,
    data_id,
    oauth1,
    prepare_image,
    set_alt_text,
    translate_error,
    upload_image,
)

log = logging.getLogger(__name__)

CREDENTIAL_KEYS = ("api_key", "api_secret", "access_token", "access_token_secret")
PROGRESS_KEY = "threads"  # channel state: {idempotency_key: {"ids": [...], "at": iso time}}
KEEP_PROGRESS = timedelta(days=2)
OAUTH_LOGGERS = ("oauthlib.oauth1.rfc5849", "requests_oauthlib.oauth1_auth")
_T = TypeVar("_T")


def build(channel: ChannelConfig, ctx: PublisherContext) -> XPublisher:
    """The X publisher for ``channel``. Options: ``username`` (for post URLs without a
    lookup) and ``timeout`` (seconds per HTTP call, default 30)."""
    values: dict[str, str] = {}
    for key in CREDENTIAL_KEYS:
        values[key] = channel.secret(key)
    try:
        timeout = float(channel.options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError as exc:
        raise ConfigError(
            "must be a number of seconds, e.g. 30", key=f"channels.{channel.name}.options.timeout"
        ) from exc
    import tweepy  # with requests: loaded when an X channel is built, not when declared

    client = tweepy.Client(
        consumer_key=values["api_key"],
        consumer_secret=values["api_secret"],
        access_token=values["access_token"],
        access_token_secret=values["access_token_secret"],
        return_type=dict,
        wait_on_rate_limit=False,  # a service reschedules; it must never sleep in a worker
    )
    client.session = XSession(channel.api_base or DEFAULT_API_BASE, timeout=timeout)
    # oauthlib and requests-oauthlib log the consumer key and access token at DEBUG. The
    # CLI quiets them, but an application embedding syndbot may log everything.
    hide_in_logs(*values.values(), loggers=OAUTH_LOGGERS)
    return XPublisher(
        name=channel.name, client=client, ctx=ctx, username=channel.options.get("username")
    )


class XPublisher:
    """One X account. ``client`` is a ``tweepy.Client`` whose session is an ``XSession``."""

    platform = "x"

    def __init__(
        self, *, name: str, client: Any, ctx: PublisherContext, username: str | None = None
    ) -> None:
        self.name = name
        self._client = client
        self._session: XSession = client.session
        self._ctx = ctx
        self._username = username
        self._user_id: str | None = None

    def __repr__(self) -> str:
        return f"XPublisher(name={self.name!r}, api_base={self._session.api_base!r})"

    def check(self) -> str:
        """``GET /2/users/me``: proves the credentials work; returns ``@username``."""
        self._lookup_me()
        return f"@{self._username}"

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        """Post every part not yet posted for ``idempotency_key``, each replying to the last."""
        if not post.parts or not post.parts[0].text.strip():
            raise Rejected(f"X post for {post.article_url} has no text", channel=self.name)
        posted = self._load_progress(idempotency_key)
        for index in range(len(posted), len(post.parts)):
            reply_to = posted[-1] if posted else None
            try:
                tweet_id = self._post_part(post.parts[index], reply_to)
            except AlreadyPosted as exc:
                tweet_id = self._posted_before(post, posted, exc)
            posted.append(tweet_id)
            self._save_progress(idempotency_key, posted)
            log.info(
                "channel %s: part %d/%d is tweet %s",
                self.name,
                index + 1,
                len(post.parts),
                tweet_id,
                extra={"channel": self.name, "item": post.item_id},
            )
        return self._result(posted[0])

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The tweet already carrying this post, from saved progress or the recent timeline.

        A thread only partly posted is "not there": ``publish`` continues it.
        """
        posted = self._load_progress(idempotency_key)
        if posted:
            return self._result(posted[0]) if len(posted) >= len(post.parts) else None
        return self._find_on_timeline(post.article_url)

    # -- posting ---------------------------------------------------------------------------

    def _post_part(self, part: PostPart, reply_to: str | None) -> str:
        media_ids = self._upload_media(part.media[:MAX_IMAGES])
        call = functools.partial(
            self._client.create_tweet,
            text=part.text,
            media_ids=media_ids or None,
            in_reply_to_tweet_id=reply_to,
            user_auth=True,
        )
        answer = self._call("POST /2/tweets", call)
        return data_id(answer, action="POST /2/tweets", channel=self.name)

    def _upload_media(self, media: Sequence[Media]) -> list[str]:
        """Media ids for the images that could be had; a refused image only warns."""
        ids: list[str] = []
        auth = oauth1(self._client)
        for item in media:
            image = prepare_image(
                self._ctx.http, item, allow_private=self._ctx.allow_private_media, channel=self.name
            )
            if image is None:
                continue
            upload = functools.partial(upload_image, self._session, auth, image, channel=self.name)
            try:
                media_id = self._call("POST /2/media/upload", upload)
            except Rejected as exc:
                self._warn(f"X refused the image {item.url}; posting without it: {exc}")
                continue
            if item.alt.strip():
                describe = functools.partial(set_alt_text, self._session, auth, media_id, item.alt)
                try:
                    self._call("POST /2/media/metadata", describe)
                except Rejected as exc:
                    self._warn(f"X refused the alt text of {item.url}; image kept: {exc}")
            ids.append(media_id)
        return ids

    def _posted_before(self, post: Post, posted: list[str], exc: AlreadyPosted) -> str:
        """The id of a part X calls a duplicate, when it is the reply we lost the answer to.

        A dropped connection after X accepted part N leaves no id in our progress; the
        retry then hears "duplicate". Finding our own reply to part N-1 continues the chain.
        Otherwise the post as a whole is reported as already there.
        """
        found: PublishResult | None = self._result(posted[0]) if posted else None
        try:
            if posted:
                reply = self._find_next_part(posted)
                if reply is not None:
                    return reply
            else:
                found = self._find_on_timeline(post.article_url)
        except PublishError as lookup_error:
            self._warn(f"could not look up the duplicate tweet: {lookup_error}")
        raise AlreadyPosted(
            str(exc),
            channel=self.name,
            remote_id=found.remote_id if found else None,
            url=found.url if found else None,
        ) from exc

    # -- reading ---------------------------------------------------------------------------

    def _lookup_me(self) -> str:
        """The account's user id (``GET /2/users/me``), remembered with its username."""
        if self._user_id is None:
            answer = self._call(
                "GET /2/users/me", functools.partial(self._client.get_me, user_auth=True)
            )
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict) or not data.get("id") or not data.get("username"):
                raise Transient("X GET /2/users/me: answer has no id/username", channel=self.name)
            self._user_id, self._username = str(data["id"]), str(data["username"])
        return self._user_id

    def _recent_tweets(self, *, since_id: str | None = None) -> list[dict[str, Any]]:
        """The account's last 20 tweets (retweets excluded) with links and thread ids."""
        call = functools.partial(
            self._client.get_users_tweets,
            self._lookup_me(),
            max_results=20,
            since_id=since_id,
            tweet_fields=["entities", "conversation_id"],
            exclude=["retweets"],
            user_auth=True,
        )
        answer = self._call("GET /2/users/:id/tweets", call)
        tweets = answer.get("data") if isinstance(answer, dict) else None
        return [t for t in tweets or [] if isinstance(t, dict) and t.get("id")]

    def _find_on_timeline(self, article_url: str) -> PublishResult | None:
        """The newest recent tweet linking ``article_url`` (X wraps links in t.co, so the
        ``expanded_url`` of each link entity is compared)."""
        for tweet in self._recent_tweets():
            urls = (tweet.get("entities") or {}).get("urls") or []
            if any(_same_url(u.get("expanded_url"), article_url) for u in urls):
                # A thread is known by its first tweet, which is the conversation's id.
                return self._result(str(tweet.get("conversation_id") or tweet["id"]))
        return None

    def _find_next_part(self, posted: list[str]) -> str | None:
        """Our first tweet after ``posted[-1]`` in the thread started by ``posted[0]``.

        Parts are posted one after another, so that is the reply whose answer was lost.
        (Only ``conversation_id`` is used: X's OpenAPI lists no field naming the replied-to
        tweet that its documentation agrees on.)
        """
        later = [
            t["id"]
            for t in self._recent_tweets(since_id=posted[-1])
            if str(t.get("conversation_id")) == posted[0] and str(t["id"]).isdigit()
        ]
        return str(min(later, key=int)) if later else None

    # -- plumbing --------------------------------------------------------------------------

    def _call(self, action: str, call: Callable[[], _T]) -> _T:
        """Run one X call, translating tweepy and requests errors into ours."""
        import requests
        import tweepy

        try:
            return call()
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise translate_error(
                exc,
                channel=self.name,
                action=action,
                now=self._ctx.clock(),
                timeout=self._session.timeout,
            ) from exc

    def _result(self, tweet_id: str) -> PublishResult:
        # x.com/i/web/status/<id> resolves for any account when the username is unknown.
        return PublishResult(
            remote_id=tweet_id, url=f"https://x.com/{self._username or 'i/web'}/status/{tweet_id}"
        )

    def _load_progress(self, key: str) -> list[str]:
        entry = self._ctx.state.channel_state(self.name).get(PROGRESS_KEY, {}).get(key)
        return [str(i) for i in entry.get("ids", [])] if isinstance(entry, dict) else []

    def _save_progress(self, key: str, ids: list[str]) -> None:
        state = self._ctx.state.channel_state(self.name)
        now = self._ctx.clock()
        threads = {
            k: v
            for k, v in dict(state.get(PROGRESS_KEY, {})).items()
            if isinstance(v, dict) and _fresh(v.get("at"), now)
        }
        threads[key] = {"ids": list(ids), "at": now.isoformat(timespec="seconds")}
        state[PROGRESS_KEY] = threads
        self._ctx.state.set_channel_state(self.name, state)

    def _warn(self, message: str) -> None:
        log.warning("channel %s: %s", self.name, message, extra={"channel": self.name})


def _fresh(at: object, now: datetime) -> bool:
    try:
        return isinstance(at, str) and now - datetime.fromisoformat(at) < KEEP_PROGRESS
    except (ValueError, TypeError):
        return False


def _same_url(expanded: object, article_url: str) -> bool:
    return isinstance(expanded, str) and expanded.rstrip("/") == article_url.rstrip("/")


def _invalid_characters(text: str) -> list[str]:
    if x_has_invalid_characters(text):
        return ["contains U+FFFE, U+FEFF or U+FFFF, which X rejects"]
    return []


PLATFORM = Platform(
    name="x",
    aliases=("twitter",),
    credentials=CREDENTIAL_KEYS,
    profile=Profile(
        "x",
        "weighted",
        x_weighted_length,
        280,
        supports_thread=True,
        text_checks=(_invalid_characters,),
    ),
    build=build,
    abilities=(Reconciles,),
)
