"""Plain value objects passed between feeds, summariser, compose, store and publishers.

None of them do I/O. Everything is immutable so ``compose`` stays a pure function.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


@dataclass(frozen=True)
class Media:
    """An image attached to an article or a post."""

    url: str
    alt: str = ""
    mime: str | None = None


# The feed name `syndbot post ARTICLE_URL` records a page under (no configured feed has it).
PAGE_FEED = "(article)"


@dataclass(frozen=True)
class Article:
    """One feed item, normalised. ``item_id`` is its stable identity inside ``feed``."""

    feed: str
    item_id: str
    url: str
    title: str
    content_html: str = ""  # full body (content:encoded / atom content / extracted page)
    excerpt_html: str = ""  # the feed's own short summary/description
    lang: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    image: Media | None = None
    author: str | None = None

    @functools.cached_property
    def content_hash(self) -> str:
        """Hash of what a reader sees; changes when the article is edited. Worked out
        once per article (the summariser's cache asks for it on every platform)."""
        h = hashlib.sha256()
        for part in (self.title, self.content_html or self.excerpt_html, self.url):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("published", "updated"):
            value = getattr(self, key)
            d[key] = value.isoformat() if value else None
        d["tags"] = list(self.tags)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        image = d.get("image")
        return cls(
            feed=d["feed"],
            item_id=d["item_id"],
            url=d["url"],
            title=d["title"],
            content_html=d.get("content_html", ""),
            excerpt_html=d.get("excerpt_html", ""),
            lang=d.get("lang"),
            published=datetime.fromisoformat(d["published"]) if d.get("published") else None,
            updated=datetime.fromisoformat(d["updated"]) if d.get("updated") else None,
            tags=tuple(d.get("tags", ())),
            image=Media(**image) if image else None,
            author=d.get("author"),
        )


FacetKind = Literal["link", "tag"]


@dataclass(frozen=True)
class Facet:
    """A Bluesky rich-text facet: UTF-8 byte range [byte_start, byte_end) of ``PostPart.text``."""

    byte_start: int
    byte_end: int
    kind: FacetKind
    value: str  # the full URI for links, the tag without '#' for tags

    def to_lexicon(self) -> dict[str, Any]:
        feature: dict[str, Any]
        if self.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": self.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": self.value}
        return {
            "index": {"byteStart": self.byte_start, "byteEnd": self.byte_end},
            "features": [feature],
        }


@dataclass(frozen=True)
class PostPart:
    """One message on the platform; a thread has several."""

    text: str
    media: tuple[Media, ...] = ()
    facets: tuple[Facet, ...] = ()
    link: str | None = None  # link attachment/card target, when the platform takes one

    def to_dict(self, *, with_facets: bool) -> dict[str, Any]:
        d: dict[str, Any] = {
            "text": self.text,
            "media": [{"url": m.url, "alt": m.alt} for m in self.media],
        }
        if with_facets:
            d["facets"] = [f.to_lexicon() for f in self.facets]
        return d


@dataclass(frozen=True)
class Length:
    """How the platform measures the longest part: ``value`` of ``limit`` ``unit``s."""

    unit: str  # "weighted" (X), "graphemes", "characters", "utf16", ...
    value: int
    limit: int


@dataclass(frozen=True)
class Limits:
    """Limits a server announces for its own accounts (a Mastodon instance's), given to
    compose in place of the platform profile's; None where the server says nothing."""

    characters: int | None = None


@dataclass(frozen=True)
class Post:
    """A composed post for one platform (and channel), ready to publish."""

    platform: str
    channel: str | None
    item_id: str
    article_url: str  # the link as posted (UTM parameters applied)
    title: str
    lang: str | None
    summary: str
    hashtags: tuple[str, ...]
    parts: tuple[PostPart, ...]
    length: Length
    description: str = ""  # for link cards: a longer summary than the text has room for
    composed_at: datetime | None = None
    # The platform needs an image and the article has none: compose decides it, the
    # pipeline skips the delivery, nothing is sent.
    image_missing: bool = False
    with_facets: bool = False  # the platform takes rich-text facets (PostPart.facets)

    def to_dict(self) -> dict[str, Any]:
        """The shape printed by ``syndbot preview --format json``."""
        with_facets = self.with_facets
        return {
            "platform": self.platform,
            "channel": self.channel,
            "item_id": self.item_id,
            "article_url": self.article_url,
            "title": self.title,
            "lang": self.lang,
            "summary": self.summary,
            "hashtags": list(self.hashtags),
            "parts": [p.to_dict(with_facets=with_facets) for p in self.parts],
            "length": {
                "unit": self.length.unit,
                "value": self.length.value,
                "limit": self.length.limit,
            },
        }


@dataclass(frozen=True)
class PublishResult:
    """What a publisher returns: the platform's id and a public URL when known.

    When the platform gives no id (a Slack webhook, an answer without one) ``remote_id``
    is None and ``note`` says why; a made-up id must never pass for a real one."""

    remote_id: str | None
    url: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ChannelStyle:
    """How one channel wants its posts composed. Pure settings, no credentials."""

    platform: str
    name: str | None = None
    template: str | None = None  # None: the platform profile's default template
    max_hashtags: int | None = None  # None: the profile's default
    utm: tuple[tuple[str, str], ...] = ()  # ("utm_source", "x"), ...
    thread: bool = False  # split a long post into a reply chain where supported
    max_chars: int | None = None  # override the profile limit (e.g. a Mastodon instance's 1000)
    link_in_bio: str = "Link in bio"  # Instagram: links are not clickable
    include_image: bool = True
    summary_chars: int | None = None  # cap the summary below what the platform allows


class Outcome(StrEnum):
    """What one delivery attempt came to (the values are what logs, JSON and metrics show)."""

    SENT = "sent"
    RETRY = "retry"  # rescheduled after a transient error or a rate limit
    FAILED = "failed"  # a person must act; `syndbot retry` sends it again
    SKIPPED = "skipped"  # this channel cannot take this article
    PAUSED = "paused"  # the channel's credentials need a person
    TAKEN = "taken"  # another syndbot process is sending it
    HELD = "held"  # composed and waiting for review (approval = "hold:..." or "manual")


FeedStatus = Literal["ok", "error", "never"]


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about a feed between polls."""

    feed: str
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    # The feed URL whose answer gave etag/last_modified; None: not known (a row written
    # before syndbot stored it, see migration 5 in bot.store.migrations).
    validators_url: str | None = None

    @property
    def initialised(self) -> bool:
        """True once one poll succeeded: later polls queue new items, the first does not flood."""
        return self.last_success is not None

    def validators_for(self, url: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) to send when polling ``url``: the stored ones only if
        ``url`` issued them. Another URL (the feed's url was changed in the config) or an
        unknown one gets none, so a validator of another document cannot make this one
        answer 304 and hide its new items."""
        if self.validators_url != url:  # None (unknown) never equals a URL
            return None, None
        return self.etag, self.last_modified


DeliveryStatus = Literal["pending", "sending", "sent", "failed", "skipped"]


@dataclass(frozen=True)
class Delivery:
    """One (article, channel) pair and where it stands. ``post`` is the post as composed
    for its first attempt, stored with it; None until the delivery was first sent."""

    id: int
    feed: str
    item_id: str
    channel: str
    status: DeliveryStatus
    attempts: int
    next_attempt: datetime | None
    article: Article
    remote_id: str | None = None
    remote_url: str | None = None
    last_error: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    post: Post | None = None
    review: str | None = None  # None, "held", "awaiting" or "approved" (see bot.engine.approval)


@dataclass(frozen=True)
class StoredItem:
    """An item the store has seen."""

    feed: str
    item_id: str
    url: str
    title: str
    content_hash: str
    first_seen: datetime
