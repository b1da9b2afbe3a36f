"""LinkedIn organization page publisher (LinkedIn's versioned REST API over plain httpx).

One ``POST /rest/posts`` makes an article post: compose's commentary (already escaped as
LinkedIn "little text", so a title with ``(`` or ``#`` is not silently cut there) and an
article card we describe ourselves (LinkedIn does not scrape links for the API): source,
title, description and a thumbnail uploaded through the Images API. A failed thumbnail
never costs the post: it goes out without one.

Every call carries ``LinkedIn-Version`` (option ``linkedin_version``, default below; LinkedIn
retires versions about a year after release, so an upgrade is a deliberate config change)
and ``X-Restli-Protocol-Version: 2.0.0``. The post id comes back in ``x-restli-id``.

LinkedIn has no idempotency key. Each attempt is noted in the channel state first; a
retry of a noted attempt looks for the article among the page's last 20 posts before
posting again (the earlier attempt may have gone through before its answer was lost).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.compose.counting import utf16_units
from bot.compose.profiles import BLOCK_TEMPLATE, Profile, escape_little
from bot.compose.validate import validate_post
from bot.config import ChannelConfig
from bot.errors import (
    AuthError,
    ConfigError,
    RateLimited,
    Rejected,
    Transient,
)
from bot.models import Post, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.edge import Edge, StatusTable, json_object
from bot.publishers.graph import require

if TYPE_CHECKING:
    import httpx

DEFAULT_BASE = "https://api.linkedin.com"
DEFAULT_VERSION = "202510"
PERMISSION = "w_organization_social"
READ_PERMISSION = "r_organization_social"  # GET /rest/posts?q=author (the read-back)
THUMB_MAX_BYTES = 5_000_000
THUMB_MAX_SIDE = 4096
THUMB_FORMATS = ("image/jpeg", "image/png", "image/gif")
FIND_COUNT = "20"
log = logging.getLogger(__name__)
_VERSION = re.compile(r"20\d{4}(?:\.\d{2})?")
_ORG = re.compile(r"(?:urn:li:organization:)?(\d+)")


def post_url(post_id: str) -> str:
    return f"https://www.linkedin.com/feed/update/{post_id}"


class LinkedInPublisher:
    """One LinkedIn organization (company or showcase) page."""

    platform = "linkedin"

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._org_id = _organization_id(channel)
        self._author = f"urn:li:organization:{self._org_id}"
        self._token = require(channel, credential="access_token")
        self._version = _version(channel)
        self._base = (channel.api_base or DEFAULT_BASE).rstrip("/")
        self._ctx = ctx
        self._edge = Edge(
            ctx.http,
            _table(self._org_id, self._version),
            channel=self.name,
            secrets=[self._token],
            clock=ctx.clock,
        )
        self._notes = DeliveryNotes(ctx, channel.name)

    def __repr__(self) -> str:
        return f"LinkedInPublisher(name={self.name!r}, organization={self._org_id!r})"

    def check(self) -> str:
        """The page's name (``GET /rest/organizations/{id}`` -> ``localizedName``)."""
        body = self._call("GET", f"/rest/organizations/{self._org_id}").json()
        return str(body.get("localizedName") or self._author)

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        problems = validate_post(post)
        if problems:
            raise Rejected("; ".join(problems), channel=self.name)
        note = self._notes.get(idempotency_key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        if note.get("attempted"):  # an earlier answer was lost: look before posting again
            found = self.reconcile(post, idempotency_key=idempotency_key)
            if found is not None:
                return found
        body = self._post_body(post, self._thumbnail(post))
        self._notes.put(idempotency_key, attempted=True)
        response = self._call("POST", "/rest/posts", json_body=body)
        post_id = response.headers.get("x-restli-id", "")
        if not post_id:  # the retry looks on the page first, so it cannot double-post
            raise Transient(
                "LinkedIn answered POST /rest/posts without x-restli-id", channel=self.name
            )
        result = PublishResult(remote_id=post_id, url=post_url(post_id))
        self._notes.put(idempotency_key, id=result.remote_id, url=result.url)
        return result

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The page's recent post whose article card links ``post.article_url``, if any."""
        note = self._notes.get(idempotency_key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        params = {"author": self._author, "q": "author", "count": FIND_COUNT}
        body = self._call("GET", "/rest/posts", params=params).json()
        elements = body.get("elements")
        for element in elements if isinstance(elements, list) else []:
            if isinstance(element, dict) and _article_source(element) in _sources(post):
                result = PublishResult(remote_id=str(element["id"]), url=post_url(element["id"]))
                self._notes.put(idempotency_key, id=result.remote_id, url=result.url)
                return result
        return None

    # -- the post ----------------------------------------------------------------------

    def _post_body(self, post: Post, thumbnail: str | None) -> dict[str, Any]:
        part = post.parts[0]
        article: dict[str, Any] = {"source": part.link or post.article_url, "title": post.title}
        description = post.description or post.summary
        if description:
            article["description"] = description
        if thumbnail:
            article["thumbnail"] = thumbnail
        return {
            "author": self._author,
            "commentary": part.text,  # little text, escaped by compose (see the docstring)
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": article},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def _thumbnail(self, post: Post) -> str | None:
        """The image urn of the uploaded article image, or None when there is none or the
        upload failed (the post is worth more than its picture)."""
        from bot.images import fetch_image, fit_image  # Pillow loads with the first image

        media = post.parts[0].media
        if not media:
            return None
        try:
            image = fetch_image(
                self._ctx.http, media[0].url, allow_private=self._ctx.allow_private_media
            )
            image = fit_image(
                image, max_bytes=THUMB_MAX_BYTES, formats=THUMB_FORMATS, max_side=THUMB_MAX_SIDE
            )
            request = {"initializeUploadRequest": {"owner": self._author}}
            answer = self._call(
                "POST", "/rest/images", params={"action": "initializeUpload"}, json_body=request
            ).json()
            value = answer.get("value") or {}
            upload_url, urn = str(value.get("uploadUrl", "")), str(value.get("image", ""))
            if not (upload_url and urn):
                raise Transient("initializeUpload answered without uploadUrl/image")
            self._upload(upload_url, image.data, image.mime)
        except (AuthError, RateLimited):
            raise  # the post itself would fail the same way: retry later, with the picture
        except (Rejected, Transient) as exc:
            log.warning(
                "channel %s: posting without a thumbnail, image %s failed: %s",
                self.name,
                media[0].url,
                exc,
                extra={"channel": self.name},
            )
            return None
        return urn

    def _upload(self, url: str, data: bytes, mime: str) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": mime}
        response = self._edge.send("PUT", url, what="image upload", content=data, headers=headers)
        if response.is_error:
            raise Transient(f"image upload: HTTP {response.status_code}", channel=self.name)

    # -- HTTP --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        what = f"{method} {path}"
        response = self._edge.send(
            method, self._base + path, what=what, params=params, json=json_body, headers=headers
        )
        if response.is_error:
            raise self._edge.error(response, what, message=_message(response))
        return response


def _table(org_id: str, version: str) -> StatusTable:
    """LinkedIn's statuses; its 429 says neither how long nor which limit."""
    return StatusTable(
        "LinkedIn",
        default_wait=3600.0,
        kinds={426: Rejected},
        hints={
            401: "the access token expired or was revoked (LinkedIn tokens last 60 days): "
            "create a new one for the page admin and put it in the environment variable "
            "named in credentials",
            403: f"the token lacks {PERMISSION} (to post) or {READ_PERMISSION} (to look for "
            f"a post whose answer was lost), or its member is not an admin of organization "
            f"{org_id}: add the Community Management API product, grant both and create a "
            "new token",
            426: f"LinkedIn-Version {version} is no longer served: set "
            "options.linkedin_version to a current YYYYMM version",
        },
    )


def _message(response: httpx.Response) -> str:
    """LinkedIn's own words: ``message`` of the JSON error body, else the reason phrase."""
    body = json_object(response)
    if not body.get("message"):
        return response.reason_phrase or "no message"
    detail = str(body["message"])
    service = body.get("serviceErrorCode") or body.get("code")
    return f"{detail} ({service})" if service else detail


def _article_source(element: Mapping[str, Any]) -> str:
    content = element.get("content")
    article = content.get("article") if isinstance(content, dict) else None
    return str(article.get("source") or "") if isinstance(article, dict) else ""


def _sources(post: Post) -> set[str]:
    return {post.article_url, post.parts[0].link or post.article_url}


def _organization_id(channel: ChannelConfig) -> str:
    raw = require(channel, option="organization")
    match = _ORG.fullmatch(raw)
    if match is None:
        raise ConfigError(
            f'"{raw}" is not an organization id; use the number from the page admin URL '
            "(linkedin.com/company/<id>/admin) or urn:li:organization:<id>",
            key=f"channels.{channel.name}.options.organization",
        )
    return match.group(1)


def _version(channel: ChannelConfig) -> str:
    version = channel.options.get("linkedin_version", DEFAULT_VERSION).strip()
    if not _VERSION.fullmatch(version):
        raise ConfigError(
            f'"{version}" is not a LinkedIn API version; use YYYYMM, e.g. "{DEFAULT_VERSION}"',
            key=f"channels.{channel.name}.options.linkedin_version",
        )
    return version


def build(channel: ChannelConfig, ctx: PublisherContext) -> LinkedInPublisher:
    """The publisher for a ``platform = "linkedin"`` channel."""
    return LinkedInPublisher(channel, ctx)


PLATFORM = Platform(
    name="linkedin",
    credentials=("access_token",),
    required_options=("organization",),
    profile=Profile(
        "linkedin",
        "characters",
        utf16_units,
        3000,
        default_template=BLOCK_TEMPLATE,
        link_style="escaped",
        link_attachment=True,
        tag_style="little",
        max_hashtags=3,
        max_images=9,
        alt_limit=4086,
        escape=escape_little,
        markup="little",
    ),
    build=build,
    abilities=(Reconciles,),
)
