"""Mastodon image uploads, for ``bot.publishers.mastodon``.

Images are downloaded (``bot.images``), fitted to the instance's size limit, uploaded with
``POST /api/v2/media`` (the description is the alt text) and, when the server answers 202,
polled with ``GET /api/v1/media/:id`` until processed. The ids are noted per post part,
so a retry attaches what an earlier attempt uploaded instead of uploading it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.errors import Rejected, Transient
from bot.models import Media, PostPart
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.textfit import fit_text, grapheme_count

if TYPE_CHECKING:
    import httpx

# The publisher's logger: an image left out is reported as the Mastodon channel's event.
log = logging.getLogger("bot.publishers.mastodon")

MEDIA_POLL_DELAYS = (1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0, 5.0, 5.0, 10.0, 10.0)

# MastodonPublisher._request: (method, path, **httpx kwargs) -> the answer, or PublishError.
Request = Callable[..., "httpx.Response"]


class MediaUploader:
    """Uploads a post part's images through the publisher's authorised ``request``."""

    def __init__(
        self,
        request: Request,
        ctx: PublisherContext,
        notes: DeliveryNotes,
        *,
        channel: str,
        instance: str,
        sleep: Callable[[float], None],
    ) -> None:
        self._request = request
        self._ctx = ctx
        self._notes = notes
        self._channel = channel
        self._instance = instance
        self._sleep = sleep

    def for_part(self, part: PostPart, index: int, key: str, limits: dict[str, int]) -> list[str]:
        """The media ids to attach to part ``index`` of delivery ``key``."""
        if not part.media:
            return []
        uploaded = self._notes.get(key).get("media", {})
        if str(index) in uploaded:  # uploaded by an earlier attempt: do not upload again
            return [str(m) for m in uploaded[str(index)]]
        ids = [
            media_id
            for media in part.media[: limits["max_media_attachments"]]
            if (media_id := self.upload(media, limits)) is not None
        ]
        self._notes.put(key, media={**uploaded, str(index): ids})
        return ids

    def upload(self, media: Media, limits: dict[str, int]) -> str | None:
        """Upload one image; ``None`` when the image is unusable (the text still goes out)."""
        from bot.images import fetch_image, fit_image  # Pillow loads with the first image

        try:
            image = fetch_image(
                self._ctx.http, media.url, allow_private=self._ctx.allow_private_media
            )
            image = fit_image(image, max_bytes=limits["image_size_limit"])
            alt = fit_text(media.alt, limits["description_limit"], grapheme_count)
            name = urlsplit(media.url).path.rsplit("/", 1)[-1] or "image"
            response = self._request(
                "POST",
                "/api/v2/media",
                files={"file": (name, image.data, image.mime)},
                data={"description": alt} if alt else {},
            )
        except Rejected as exc:  # not an image, too big, refused by the server
            log.warning("mastodon image left out channel=%s: %s", self._channel, exc)
            return None
        body: dict[str, Any] = response.json()
        media_id = str(body["id"])
        if response.status_code == 202 or not body.get("url"):
            self._wait_for_media(media_id)
        return media_id

    def _wait_for_media(self, media_id: str) -> None:
        for delay in MEDIA_POLL_DELAYS:
            self._sleep(delay)
            response = self._request("GET", f"/api/v1/media/{media_id}")
            if response.status_code == 200 and response.json().get("url"):
                return
        raise Transient(
            f"media {media_id} is still processing on {self._instance} after "
            f"{sum(MEDIA_POLL_DELAYS):.0f}s; will retry",
            channel=self._channel,
        )
