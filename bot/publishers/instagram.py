"""Instagram business account publisher (Graph API over plain httpx).

Publishing takes three calls: create a media container from a public image URL, wait for
it to be ``FINISHED``, publish it. The container id is saved in the channel state the
moment it exists, so a retry (after a timeout, a dropped connection or a crash) resumes
from it: a container that is already ``PUBLISHED`` is reported, never published twice.

Instagram fetches the image itself and takes only JPEG, <= 8 MB, width:height 4:5..1.91:1.
An article image that does not qualify is converted and cropped only when the channel says
where a public copy can live (options ``media_dir``, a directory the web server publishes,
and ``media_base_url``, its public URL); otherwise the post is refused with a reason
starting with ``skipped:`` (the pipeline can record it as skipped rather than failed).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from bot.compose.counting import utf16_units
from bot.compose.profiles import BLOCK_TEMPLATE, Profile
from bot.config import ChannelConfig
from bot.errors import PublishError, Rejected, Skipped, Transient
from bot.models import Media, Post, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.containers import ContainerSteps
from bot.publishers.graph import GraphClient, require
from bot.textfit import fit_text

if TYPE_CHECKING:
    from bot.images import ImageData

SKIPPED = "skipped:"  # prefix of Skipped messages: the channel cannot take this article
PERMISSION = "instagram_content_publish"
MAX_BYTES = 8_000_000
MIN_RATIO, MAX_RATIO = 4 / 5, 1.91
MAX_WIDTH = 1440
CAPTION_LIMIT = 2200  # UTF-16 units
ALT_LIMIT = 1000
MAX_CAPTION_HASHTAGS = 30
_CAPTION_HASHTAG = regex.compile(r"(?<!\S)#[\p{L}\p{M}\p{Nd}_]+")
POLL_TRIES = 10


class InstagramPublisher:
    """One Instagram business (or creator) account."""

    platform = "instagram"

    def __init__(
        self,
        channel: ChannelConfig,
        ctx: PublisherContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_tries: int = POLL_TRIES,
    ) -> None:
        self.name = channel.name
        self._user = require(channel, option="ig_user_id")
        token = require(channel, credential="access_token")
        self._graph = GraphClient(ctx.http, channel, token=token, permission=PERMISSION)
        self._ctx = ctx
        self._notes = DeliveryNotes(ctx, channel.name)
        self._steps = ContainerSteps(
            self._graph,
            self._user,
            label="Instagram",
            status_fields=("status_code", "status"),
            sleep=sleep,
            tries=poll_tries,
            max_pause=10.0,
        )
        self._last_status = ""  # the container's status text, quoted in ERROR reports
        self._media_dir = channel.options.get("media_dir", "").strip()
        self._media_base = channel.options.get("media_base_url", "").strip().rstrip("/")

    def __repr__(self) -> str:
        return f"InstagramPublisher(name={self.name!r}, ig_user_id={self._user!r})"

    def check(self) -> str:
        """The account's @username (``GET /{ig-user-id}?fields=username``)."""
        body = self._graph.get(self._user, params={"fields": "username"})
        username = body.get("username")
        return f"@{username}" if username else self._user

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        note = self._notes.get(idempotency_key)
        if note.get("media") or note.get("done"):
            return _noted(note)
        container = note.get("container")
        if container:  # an earlier attempt got this far: resume, never publish twice
            status = self._status(container)
            if status == "IN_PROGRESS":
                status = self._wait(idempotency_key, container)
            if status == "PUBLISHED":
                return self._already_published(idempotency_key, post, container)
            if status == "ERROR":
                raise self._container_error(idempotency_key, container)
            if status == "FINISHED":
                self._check_quota()
                return self._publish(idempotency_key, container, post)
        # No container yet, or it expired (24 h): start over.
        caption, image_url, alt = self._prepare(post)
        self._check_quota()
        for _ in range(2):
            container = self._create(idempotency_key, caption, image_url, alt)
            if self._wait(idempotency_key, container) != "EXPIRED":
                return self._publish(idempotency_key, container, post)
        raise Transient(
            f"Instagram container {container} expired twice; retrying later", channel=self.name
        )

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The published media for this delivery, judged by its stored container."""
        note = self._notes.get(idempotency_key)
        if note.get("media") or note.get("done"):
            return _noted(note)
        container = note.get("container")
        if container and self._status(container) == "PUBLISHED":
            return self._already_published(idempotency_key, post, container)
        return None

    # -- the three Graph steps -------------------------------------------------------

    def _create(self, key: str, caption: str, image_url: str, alt: str) -> str:
        data = {"image_url": image_url, "caption": caption}
        if alt:
            data["alt_text"] = alt
        container = self._steps.create("media", data)
        self._notes.put(key, container=container)  # before anything else can fail
        return container

    def _status(self, container: str) -> str:
        status, self._last_status = self._steps.status(container)
        return status

    def _wait(self, key: str, container: str) -> str:
        """Poll until FINISHED/EXPIRED/PUBLISHED; ERROR -> Rejected; too long -> Transient."""

        def error(text: str) -> Rejected:
            self._last_status = text
            return self._container_error(key, container)

        return self._steps.wait(container, error)

    def _container_error(self, key: str, container: str) -> Rejected:
        self._notes.forget(key)  # a manual retry should build a fresh container
        return Rejected(
            f"Instagram could not process the image (container {container}: "
            f"{self._last_status or 'ERROR'}); check that the image URL serves a JPEG to "
            "the public",
            channel=self.name,
        )

    def _publish(self, key: str, container: str, post: Post) -> PublishResult:
        media = self._steps.publish("media_publish", container)
        if not media:  # out, but unnamed: the container id is no media id, look it up
            return self._already_published(key, post, container)
        url = self._steps.permalink(media)
        self._notes.put(key, media=media, url=url, published=self._ctx.clock().isoformat())
        return PublishResult(remote_id=media, url=url)

    def _already_published(self, key: str, post: Post, container: str) -> PublishResult:
        """The container went out earlier (answer lost): find its media id, best effort."""
        found = self._find_media(post)
        result = found or PublishResult(
            remote_id=None,
            note=f"published from container {container}; Instagram did not name its media id",
        )
        self._notes.put(
            key,
            media=result.remote_id,
            url=result.url,
            note=result.note,
            done=True,
            published=self._ctx.clock().isoformat(),
        )
        return result

    def _find_media(self, post: Post) -> PublishResult | None:
        try:
            body = self._graph.get(
                self._user, "media", params={"fields": "id,caption,permalink", "limit": "25"}
            )
        except PublishError:
            return None
        entries = body.get("data")
        caption = post.parts[0].text.strip()
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and str(entry.get("caption", "")).strip() == caption:
                link = entry.get("permalink")
                return PublishResult(remote_id=str(entry["id"]), url=str(link) if link else None)
        return None

    def _check_quota(self) -> None:
        self._steps.check_quota(
            "content_publishing_limit",
            [("quota_usage", "config", "posts")],
            notes=self._notes,
            now=self._ctx.clock(),
        )

    # -- caption and image -----------------------------------------------------------

    def _prepare(self, post: Post) -> tuple[str, str, str]:
        """(caption, public image URL, alt text), or Rejected saying what to change."""
        part = post.parts[0]
        length = PLATFORM.profile.measure(part.text)
        if length > CAPTION_LIMIT:
            raise Rejected(
                f"caption is {length} characters; Instagram allows {CAPTION_LIMIT}",
                channel=self.name,
            )
        if not part.media:
            raise Skipped(
                f"{SKIPPED} Instagram needs an image and this post has none; give the article "
                "an image (og:image or media:content in the feed)",
                channel=self.name,
            )
        media = part.media[0]
        alt = fit_text(media.alt, ALT_LIMIT) if media.alt else ""
        return part.text, self._public_image_url(media), alt

    def _public_image_url(self, media: Media) -> str:
        from bot.images import fetch_image  # Pillow loads with the first image

        http, private = self._ctx.http, self._ctx.allow_private_media
        try:
            image = fetch_image(http, media.url, allow_private=private, max_bytes=15_000_000)
        except Rejected as exc:
            raise Skipped(f"{SKIPPED} {exc}", channel=self.name) from exc
        problems = image_problems(image)
        if not problems:
            return media.url
        if self._media_dir and self._media_base:
            return self._host(image)
        raise Skipped(
            f"{SKIPPED} image {media.url} is {'; '.join(problems)}. Instagram takes only "
            "JPEG images up to 8 MB with width:height between 4:5 and 1.91:1: give the "
            "article such an image, or set options.media_dir and options.media_base_url "
            "so syndbot can publish a converted copy",
            channel=self.name,
        )

    def _host(self, image: ImageData) -> str:
        """Crop/convert ``image`` to Instagram's rules and write it where the web serves it."""
        from bot.images import crop_to_aspect, fit_image

        cropped = crop_to_aspect(image, MIN_RATIO, MAX_RATIO)
        fitted = fit_image(
            cropped, max_bytes=MAX_BYTES, formats=("image/jpeg",), max_side=MAX_WIDTH
        )
        name = hashlib.sha256(fitted.data).hexdigest()[:24] + ".jpg"
        directory = Path(self._media_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            partial = directory / f".{name}.part"
            partial.write_bytes(fitted.data)
            os.replace(partial, directory / name)
        except OSError as exc:
            raise Transient(
                f"cannot write the Instagram copy of {image.url} to {directory}: {exc.strerror}",
                channel=self.name,
            ) from exc
        return f"{self._media_base}/{name}"


def _noted(note: dict[str, Any]) -> PublishResult:
    """The result an earlier attempt recorded in the delivery notes."""
    media = note.get("media")
    return PublishResult(
        remote_id=str(media) if media else None, url=note.get("url"), note=note.get("note", "")
    )


def image_problems(image: ImageData) -> list[str]:
    """Why Instagram would refuse ``image`` (empty when it qualifies)."""
    from bot.images import aspect_ok

    problems = []
    if image.mime != "image/jpeg":
        problems.append(f"{image.mime}, not JPEG")
    if len(image.data) > MAX_BYTES:
        problems.append(f"{len(image.data):,} bytes, more than {MAX_BYTES:,}")
    if not aspect_ok(image, MIN_RATIO, MAX_RATIO):
        problems.append(f"{image.width}x{image.height}, outside 4:5..1.91:1")
    # Width outside 320..1440 is fine: Instagram scales it into range itself.
    return problems


def build(channel: ChannelConfig, ctx: PublisherContext) -> InstagramPublisher:
    """The publisher for a ``platform = "instagram"`` channel."""
    return InstagramPublisher(channel, ctx)


def _caption_hashtags(text: str) -> list[str]:
    count = len(_CAPTION_HASHTAG.findall(text))
    if count > MAX_CAPTION_HASHTAGS:
        return [f"{count} hashtags in the caption, at most {MAX_CAPTION_HASHTAGS}"]
    return []


PLATFORM = Platform(
    name="instagram",
    aliases=("ig",),
    credentials=("access_token",),
    required_options=("ig_user_id",),
    profile=Profile(
        "instagram",
        "characters",
        utf16_units,
        CAPTION_LIMIT,
        default_template=BLOCK_TEMPLATE,
        link_allowed=False,
        link_clickable=False,
        link_style="bio",
        max_hashtags=5,
        hashtag_cap=MAX_CAPTION_HASHTAGS,
        max_images=1,
        alt_limit=ALT_LIMIT,
        image_required=True,
        text_checks=(_caption_hashtags,),
    ),
    build=build,
    abilities=(Reconciles,),
)
