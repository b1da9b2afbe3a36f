"""Facebook Page publisher (Graph API over plain httpx).

A post with an image becomes a photo post (``POST /{page-id}/photos`` with the image's
public ``url``; Facebook fetches it) whose message carries the article link; without an
image, or with the channel option ``photo = "false"``, it is a link post
(``POST /{page-id}/feed`` with ``message`` and ``link``, Facebook draws the card).

The Graph API has no idempotency key, so each attempt is noted in the channel state
first; a retry of a noted attempt looks for the article on the Page's feed before posting
again (the earlier attempt may have gone through before the connection dropped).
"""

from __future__ import annotations

from typing import Any

from bot.compose.counting import utf16_units
from bot.compose.profiles import BLOCK_TEMPLATE, Profile
from bot.config import ChannelConfig
from bot.errors import AlreadyPosted, PublishError, Transient
from bot.models import Post, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.graph import GraphClient, require

PERMISSION = "pages_manage_posts"
# Graph refuses ``link`` on Page posts since v3.3 (error #12): a link post's URL is its
# attachment's ``unshimmed_url``; a photo post carries the link in its message.
_FEED_FIELDS = "id,message,permalink_url,attachments{unshimmed_url}"
MESSAGE_LIMIT = 63206  # characters (UTF-16 units) in a Page post's message


def post_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


class FacebookPublisher:
    """One Facebook Page."""

    platform = "facebook"

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._page_id = require(channel, option="page_id")
        token = require(channel, credential="page_token")
        self._graph = GraphClient(ctx.http, channel, token=token, permission=PERMISSION)
        self._photos = channel.options.get("photo", "true").strip().lower() != "false"
        self._notes = DeliveryNotes(ctx, channel.name)

    def __repr__(self) -> str:
        return f"FacebookPublisher(name={self.name!r}, page_id={self._page_id!r})"

    def check(self) -> str:
        """The Page's name, read with the Page token (``GET /me``)."""
        body = self._graph.get("me", params={"fields": "id,name"})
        return str(body.get("name") or body.get("id") or self._page_id)

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        note = self._notes.get(idempotency_key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        if note.get("attempted"):
            found = self.reconcile(post, idempotency_key=idempotency_key)
            if found is not None:
                return found
        self._notes.put(idempotency_key, attempted=True)
        try:
            body = self._send(post)
        except AlreadyPosted as exc:
            found = self._find_quietly(post)
            if found is not None:
                exc.remote_id, exc.url = found.remote_id, found.url
            raise
        post_id = str(body.get("post_id") or body.get("id") or "")
        if not post_id:  # the retry looks on the Page first, so it cannot double-post
            raise Transient(f"Facebook answered without a post id: {body}", channel=self.name)
        result = PublishResult(remote_id=post_id, url=post_url(post_id))
        self._notes.put(idempotency_key, id=result.remote_id, url=result.url)
        return result

    def _send(self, post: Post) -> dict[str, Any]:
        part = post.parts[0]
        image = part.media[0] if part.media and self._photos else None
        with_link = part.text
        if post.article_url not in with_link:
            # A photo post has no link card: the link must be in the text to be clickable.
            with_link = f"{with_link}\n\n{post.article_url}".strip()
        if utf16_units(with_link) > MESSAGE_LIMIT:
            image = None  # no room for the link in a photo post: a link post shows its card
        if image is None:
            link = part.link or post.article_url
            return self._graph.post(
                self._page_id, "feed", data={"message": part.text, "link": link}
            )
        data = {"url": image.url, "message": with_link}
        if image.alt:
            data["alt_text_custom"] = image.alt
        return self._graph.post(self._page_id, "photos", data=data)

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The Page's recent post linking ``post.article_url``, if any (last 25 posts)."""
        note = self._notes.get(idempotency_key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        found = self._find(post)
        if found is not None:
            self._notes.put(idempotency_key, id=found.remote_id, url=found.url)
        return found

    def _find(self, post: Post) -> PublishResult | None:
        body = self._graph.get(
            self._page_id, "feed", params={"fields": _FEED_FIELDS, "limit": "25"}
        )
        entries = body.get("data")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            message = str(entry.get("message") or "")
            if post.article_url in _attachment_urls(entry) or post.article_url in message:
                post_id = str(entry["id"])
                return PublishResult(
                    remote_id=post_id, url=str(entry.get("permalink_url") or post_url(post_id))
                )
        return None

    def _find_quietly(self, post: Post) -> PublishResult | None:
        try:
            return self._find(post)
        except PublishError:  # a failed look-up must not hide the "duplicate" answer
            return None


def _attachment_urls(entry: dict[str, Any]) -> set[str]:
    """The ``unshimmed_url`` of each of a Page post's attachments."""
    attachments = entry.get("attachments")
    data = attachments.get("data") if isinstance(attachments, dict) else None
    items = data if isinstance(data, list) else []
    return {
        str(item["unshimmed_url"])
        for item in items
        if isinstance(item, dict) and item.get("unshimmed_url")
    }


def build(channel: ChannelConfig, ctx: PublisherContext) -> FacebookPublisher:
    """The publisher for a ``platform = "facebook"`` channel."""
    return FacebookPublisher(channel, ctx)


PLATFORM = Platform(
    name="facebook",
    aliases=("fb",),
    credentials=("page_token",),
    required_options=("page_id",),
    profile=Profile(
        "facebook",
        "characters",
        utf16_units,
        63206,
        default_template=BLOCK_TEMPLATE,
        link_attachment=True,
        soft_limit=1500,
        max_images=10,
    ),
    build=build,
    abilities=(Reconciles,),
)
