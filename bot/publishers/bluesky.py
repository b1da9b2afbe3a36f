"""Bluesky publisher: XRPC over plain httpx to the account's PDS.

A post is an ``app.bsky.feed.post`` record: the composed text, its facets (links are only
clickable through facets), ``langs``, and one embed: a link card
(``app.bsky.embed.external``, with the article image uploaded as its thumb; Bluesky does
not unfurl links itself) or, with the channel option ``embed = "image"``, the image itself
(``app.bsky.embed.images`` with alt text). ``embed = "none"`` sends text only.

Retry safety: before the first attempt the record keys (TIDs, one per thread part) are
chosen and noted in the channel state under the idempotency key. A retry creates at the
same keys, so the PDS cannot hold two copies: a part that already exists is read back with
``getRecord`` instead of being posted again.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from bot.compose import counting
from bot.compose.profiles import Profile
from bot.config import ChannelConfig
from bot.errors import ConfigError, PublishError, Rejected, Transient
from bot.models import Media, Post, PostPart, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.bluesky_session import DEFAULT_PDS, Xrpc, error_code

log = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
MAX_BLOB_BYTES = 1_000_000
MAX_IMAGES = 4
EMBEDS = ("card", "image", "none")
_BLOB_FORMATS = ("image/jpeg", "image/png")
_MAX_SIDE = 2000
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_RECENT_POSTS = "30"  # how far back reconcile looks when no record key was noted


def new_tid(moment: datetime, clock_id: int) -> str:
    """An atproto TID: 53 bits of microseconds since 1970, 10 bits of clock id, base32."""
    micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    value = (micros << 10) | (clock_id & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def rkey_of(uri: str) -> str:
    """``at://did/collection/rkey`` -> ``rkey``."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


class BlueskyPublisher:
    """One Bluesky account."""

    platform = "bluesky"

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._ctx = ctx
        self._pds = (channel.api_base or channel.options.get("pds") or DEFAULT_PDS).rstrip("/")
        self._embed = channel.options.get("embed", "card").strip().lower()
        if self._embed not in EMBEDS:
            raise ConfigError(
                f'"{self._embed}" is not one of {", ".join(EMBEDS)}',
                key=f"channels.{channel.name}.options.embed",
            )
        self._xrpc = Xrpc(
            ctx,
            channel=channel.name,
            base=self._pds,
            identifier=channel.secret("handle"),
            password=channel.secret("app_password"),
        )
        self._notes = DeliveryNotes(ctx, channel.name)

    def __repr__(self) -> str:
        return f"BlueskyPublisher(name={self.name!r}, pds={self._pds!r})"

    def check(self) -> str:
        """The account's handle (``com.atproto.server.getSession``)."""
        body = self._xrpc.get("com.atproto.server.getSession", {})
        return str(body.get("handle") or self._xrpc.session.handle)

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        if not post.parts:
            raise Rejected(f"{self.name}: the post has no text", channel=self.name)
        note = self._notes.get(idempotency_key)
        if len(note.get("rkeys", [])) < len(post.parts):
            note = self._plan(post, idempotency_key, note)
        rkeys = [str(k) for k in note["rkeys"]]
        created_at = str(note["created_at"])
        refs: list[dict[str, str]] = list(note.get("parts", []))
        if refs and len(refs) == len(post.parts) and note.get("url"):
            return PublishResult(remote_id=refs[0]["uri"], url=str(note["url"]))
        resumed = bool(note.get("attempted"))
        for index in range(len(refs), len(post.parts)):
            ref = self._existing(rkeys[index]) if resumed else None
            if ref is None:
                self._notes.put(idempotency_key, attempted=True)
                record = self._record(post, index, created_at, refs)
                ref = self._create(rkeys[index], record)
            refs.append(ref)
            self._notes.put(idempotency_key, parts=refs)
        result = self._result(refs[0]["uri"])
        self._notes.put(idempotency_key, url=result.url)
        return result

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The post if it exists: at the noted record key, else among the latest posts
        linking ``post.article_url``."""
        note = self._notes.get(idempotency_key)
        if note.get("rkeys"):
            # Found only when every part is there: else publish() resumes the thread.
            refs = list(note.get("parts", []))
            for rkey in note["rkeys"][len(refs) : len(post.parts)]:
                ref = self._existing(str(rkey))
                if ref is None:
                    return None
                refs.append(ref)
            self._notes.put(idempotency_key, parts=refs)
            return self._result(refs[0]["uri"])
        body = self._xrpc.get(
            "com.atproto.repo.listRecords",
            {"repo": self._xrpc.session.did, "collection": POST_COLLECTION, "limit": _RECENT_POSTS},
        )
        for entry in body.get("records", []):
            if isinstance(entry, dict) and _links_to(entry.get("value"), post.article_url):
                return self._result(str(entry["uri"]))
        return None

    def _plan(self, post: Post, key: str, note: dict[str, Any]) -> dict[str, Any]:
        """Choose record keys for every part and note them before anything is sent (keys
        already noted stay: an edited article may have grown a thread part)."""
        now = self._ctx.clock()
        clock_id = secrets.randbelow(1024)
        rkeys = list(note.get("rkeys", []))
        rkeys += [
            new_tid(now + timedelta(microseconds=i), clock_id)
            for i in range(len(rkeys), len(post.parts))
        ]
        created_at = note.get("created_at") or now.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )
        return self._notes.put(key, rkeys=rkeys, created_at=created_at)

    def _record(
        self, post: Post, index: int, created_at: str, refs: list[dict[str, str]]
    ) -> dict[str, Any]:
        part = post.parts[index]
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": part.text,
            "createdAt": created_at,
        }
        if part.facets:
            record["facets"] = [facet.to_lexicon() for facet in part.facets]
        if post.lang:
            record["langs"] = [post.lang]
        if refs:
            record["reply"] = {"root": refs[0], "parent": refs[-1]}
        embed = self._embed_for(post, part, first=index == 0)
        if embed is not None:
            record["embed"] = embed
        return record

    def _embed_for(self, post: Post, part: PostPart, *, first: bool) -> dict[str, Any] | None:
        if self._embed == "none":
            return None
        if part.media and (self._embed == "image" or not first):
            return self._images_embed(part.media[:MAX_IMAGES])
        if not first:
            return None
        external: dict[str, Any] = {
            "uri": part.link or post.article_url,
            "title": post.title,
            "description": post.summary or post.description,
        }
        if part.media:
            uploaded = self._upload(part.media[0])
            if uploaded is not None:
                external["thumb"] = uploaded[0]
        return {"$type": "app.bsky.embed.external", "external": external}

    def _images_embed(self, media: tuple[Media, ...]) -> dict[str, Any] | None:
        images = []
        for item in media:
            uploaded = self._upload(item)
            if uploaded is not None:
                blob, (width, height) = uploaded
                images.append(
                    {
                        "image": blob,
                        "alt": item.alt,
                        "aspectRatio": {"width": width, "height": height},
                    }
                )
        return {"$type": "app.bsky.embed.images", "images": images} if images else None

    def _upload(self, media: Media) -> tuple[dict[str, Any], tuple[int, int]] | None:
        """The uploaded blob and its size; None (logged) when the image cannot be used."""
        from bot.images import fetch_image, fit_image  # Pillow loads with the first image

        try:
            image = fetch_image(
                self._ctx.http, media.url, allow_private=self._ctx.allow_private_media
            )
            image = fit_image(
                image, max_bytes=MAX_BLOB_BYTES, formats=_BLOB_FORMATS, max_side=_MAX_SIDE
            )
        except Rejected as exc:  # a post without its picture beats no post
            log.warning("%s: posting without the image: %s", self.name, exc)
            return None
        return self._xrpc.upload(image.data, image.mime), (image.width, image.height)

    def _create(self, rkey: str, record: dict[str, Any]) -> dict[str, str]:
        body = {
            "repo": self._xrpc.session.did,
            "collection": POST_COLLECTION,
            "rkey": rkey,
            "record": record,
        }
        try:
            created = self._xrpc.post("com.atproto.repo.createRecord", body)
        except (Rejected, Transient):
            # The record may already be at this key (a lost answer, a retry racing another
            # process) or have been written before a timeout: then that is our post.
            existing = self._existing_quietly(rkey)
            if existing is None:
                raise
            return existing
        return {"uri": str(created["uri"]), "cid": str(created["cid"])}

    def _existing(self, rkey: str) -> dict[str, str] | None:
        """``{uri, cid}`` of our post at ``rkey``, or None when there is none."""
        params = {"repo": self._xrpc.session.did, "collection": POST_COLLECTION, "rkey": rkey}
        body = self._xrpc.find("com.atproto.repo.getRecord", params)
        if body is None or not body.get("cid"):
            return None
        return {"uri": str(body["uri"]), "cid": str(body["cid"])}

    def _existing_quietly(self, rkey: str) -> dict[str, str] | None:
        try:
            return self._existing(rkey)
        except PublishError:  # a failed look-up must not hide why the create failed
            return None

    def _result(self, uri: str) -> PublishResult:
        handle = self._xrpc.session.handle
        return PublishResult(
            remote_id=uri, url=f"https://bsky.app/profile/{handle}/post/{rkey_of(uri)}"
        )


def _links_to(record: Any, url: str) -> bool:
    if not isinstance(record, dict):
        return False
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("external", {}).get("uri") == url:
        return True
    return any(
        feature.get("uri") == url
        for facet in record.get("facets", [])
        for feature in facet.get("features", [])
    )


def build(channel: ChannelConfig, ctx: PublisherContext) -> BlueskyPublisher:
    """The publisher for a ``platform = "bluesky"`` channel."""
    return BlueskyPublisher(channel, ctx)


PLATFORM = Platform(
    name="bluesky",
    aliases=("bsky",),
    credentials=("handle", "app_password"),
    default_options={"pds": DEFAULT_PDS},
    profile=Profile(
        "bluesky",
        "graphemes",
        counting.bluesky_length,
        counting.BLUESKY_MAX_GRAPHEMES,
        link_style="facet",
        link_attachment=True,
        tag_style="facet",
        max_hashtags=2,
        hashtag_cap=8,
        alt_limit=2000,
        supports_thread=True,
        facets=True,
    ),
    build=build,
    abilities=(Reconciles,),
)


__all__ = ["BlueskyPublisher", "build", "error_code", "new_tid", "rkey_of"]
