"""Threads publisher (the Threads Graph API at graph.threads.net, over plain httpx).

A post takes two calls: create a media container (``POST /{uid}/threads``), then publish
it (``POST /{uid}/threads_publish?creation_id=``); in between, the container's ``status``
is polled until ``FINISHED``. Each container id is saved in the channel state the moment
it exists, so a retry (after a timeout, a dropped connection or a crash) resumes from it:
a container that is already ``PUBLISHED`` is reported, never published twice.

A post with several parts becomes a reply chain, each part replying (``reply_to_id``) to
the one before; the published ids are saved part by part, so a retry continues the chain.

Threads counts each emoji as its UTF-8 byte length and refuses more than 5 links. compose
fits posts to both rules; a post that breaks one anyway is refused here before any call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.compose.counting import threads_length
from bot.compose.profiles import Profile
from bot.compose.xlength import extract_urls
from bot.config import ChannelConfig
from bot.errors import PublishError, Rejected, Transient
from bot.models import Post, PostPart, PublishResult
from bot.platform import Platform, Reconciles
from bot.publishers.base import DeliveryNotes, PublisherContext
from bot.publishers.containers import ContainerSteps
from bot.publishers.graph import GraphClient, require
from bot.textfit import fit_text

DEFAULT_BASE = "https://graph.threads.net"
DEFAULT_VERSION = "v1.0"
PERMISSION = "threads_content_publish"
POLL_TRIES = 10
PROFILE = Profile(
    "threads",
    "characters",
    threads_length,
    500,
    link_attachment=True,
    max_hashtags=1,
    hashtag_cap=1,
    alt_limit=1000,
    supports_thread=True,
    max_links=5,
)
_FIND_FIELDS = "id,text,permalink"

Form = dict[str, str]


class ThreadsPublisher:
    """One Threads profile."""

    platform = "threads"

    def __init__(
        self,
        channel: ChannelConfig,
        ctx: PublisherContext,
        *,
        sleep: Callable[[float], None] = time.sleep,
        poll_tries: int = POLL_TRIES,
    ) -> None:
        self.name = channel.name
        self._user = require(channel, option="user_id")
        token = require(channel, credential="access_token")
        self._graph = GraphClient(
            ctx.http,
            channel,
            token=token,
            permission=PERMISSION,
            default_base=DEFAULT_BASE,
            default_version=DEFAULT_VERSION,
        )
        self._ctx = ctx
        self._notes = DeliveryNotes(ctx, channel.name)
        self._steps = ContainerSteps(
            self._graph,
            self._user,
            label="Threads",
            status_fields=("status", "error_message"),
            sleep=sleep,
            tries=poll_tries,
            max_pause=30.0,
        )

    def __repr__(self) -> str:
        return f"ThreadsPublisher(name={self.name!r}, user_id={self._user!r})"

    def check(self) -> str:
        """The profile's @username (``GET /me?fields=username``)."""
        body = self._graph.get("me", params={"fields": "username"})
        username = body.get("username")
        return f"@{username}" if username else self._user

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        forms = self._forms(post)  # Rejected before any call when a part breaks a rule
        key = idempotency_key
        note = self._notes.get(key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        ids: list[str] = [str(i) for i in note.get("ids") or []]
        self._check_quota(root=not ids, replies=len(forms) - max(len(ids), 1) > 0)
        for index in range(len(ids), len(forms)):
            form = dict(forms[index])
            if ids:
                form["reply_to_id"] = ids[-1]
            ids.append(self._publish_part(key, index, form, post))
            if index == 0:
                self._notes.put(key, ids=ids, published=self._ctx.clock().isoformat())
            else:
                self._notes.put(key, ids=ids)
        url = self._steps.permalink(ids[0])
        self._notes.put(key, id=ids[0], url=url)
        return PublishResult(remote_id=ids[0], url=url)

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The published post for this delivery: from the notes, the stored container's
        status, or the profile's last 25 posts linking the article. A reply chain that is
        only partly out is None: ``publish`` then finishes it without repeating a part."""
        note = self._notes.get(idempotency_key)
        if note.get("id"):
            return PublishResult(remote_id=note["id"], url=note.get("url"))
        if note.get("ids") or note.get("containers"):
            if len(post.parts) > 1:
                return None
            container = (note.get("containers") or {}).get("0")
            if note.get("ids"):
                root = str(note["ids"][0])
            elif container and self._steps.status(container)[0] == "PUBLISHED":
                root = self._published_id(post, 0, container)
            else:
                return None
            url = self._steps.permalink(root)
            self._notes.put(idempotency_key, ids=[root], id=root, url=url)
            return PublishResult(remote_id=root, url=url)
        found = self._find(post, 0, "threads")
        if found is not None:
            self._notes.put(idempotency_key, id=found.remote_id, url=found.url)
        return found

    # -- one part: container, status, publish -----------------------------------------

    def _publish_part(self, key: str, index: int, form: Form, post: Post) -> str:
        container = (self._notes.get(key).get("containers") or {}).get(str(index))
        if container:  # an earlier attempt got this far: resume, never publish twice
            status = self._wait(key, index, container)
            if status == "PUBLISHED":
                return self._published_id(post, index, container)
            if status == "FINISHED":
                return self._publish_container(container)
        # No container yet, or it expired (24 h): make one.
        container = self._create(key, index, form)
        status = self._wait(key, index, container)
        if status == "PUBLISHED":
            return self._published_id(post, index, container)
        if status != "FINISHED":
            raise Transient(
                f"Threads container {container} is {status} right after creation; "
                "the next attempt makes a new one",
                channel=self.name,
            )
        return self._publish_container(container)

    def _create(self, key: str, index: int, form: Form) -> str:
        container = self._steps.create("threads", form)
        containers = dict(self._notes.get(key).get("containers") or {})
        containers[str(index)] = container
        self._notes.put(key, containers=containers)  # before anything else can fail
        return container

    def _wait(self, key: str, index: int, container: str) -> str:
        """Poll until FINISHED/EXPIRED/PUBLISHED; ERROR -> Rejected; too long -> Transient."""

        def error(message: str) -> Rejected:
            self._drop_container(key, index)  # a manual retry builds a fresh one
            return Rejected(
                f"Threads could not process container {container} (part {index + 1}): "
                f"{message or 'ERROR'}; check that the image URL serves a JPEG or PNG "
                "to the public",
                channel=self.name,
            )

        return self._steps.wait(container, error)

    def _drop_container(self, key: str, index: int) -> None:
        containers = dict(self._notes.get(key).get("containers") or {})
        containers.pop(str(index), None)
        self._notes.put(key, containers=containers)

    def _publish_container(self, container: str) -> str:
        media = self._steps.publish("threads_publish", container)
        if not media:  # the container is noted: the retry sees it PUBLISHED and finds the id
            raise Transient(
                f"Threads answered threads_publish for {container} without an id",
                channel=self.name,
            )
        return media

    def _published_id(self, post: Post, index: int, container: str) -> str:
        """The media id of a container published earlier whose answer was lost. The
        container id is no media id: when the post cannot be found yet, try again later
        (the container stays noted as published, so nothing is posted twice)."""
        found = self._find_quietly(post, index, "threads" if index == 0 else "replies")
        if found is None or not found.remote_id:
            raise Transient(
                f"Threads published container {container} (part {index + 1}) but does not "
                "list the post yet; the next attempt looks for it again",
                channel=self.name,
            )
        return found.remote_id

    def _find(self, post: Post, index: int, edge: str) -> PublishResult | None:
        """Part ``index`` among the profile's last 25 posts (``threads``) or replies."""
        body = self._graph.get(self._user, edge, params={"fields": _FIND_FIELDS, "limit": "25"})
        entries = body.get("data")
        want = post.parts[index].text.strip()
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            text = str(entry.get("text") or "").strip()
            if text == want or (index == 0 and post.article_url in text):
                link = entry.get("permalink")
                return PublishResult(remote_id=str(entry["id"]), url=str(link) if link else None)
        return None

    def _find_quietly(self, post: Post, index: int, edge: str) -> PublishResult | None:
        try:
            return self._find(post, index, edge)
        except PublishError:
            return None

    # -- quota -----------------------------------------------------------------------

    def _check_quota(self, *, root: bool, replies: bool) -> None:
        """Posts (250 / 24 h) and replies (1,000 / 24 h) left, read before creating."""
        quotas = ([("quota_usage", "config", "posts")] if root else []) + (
            [("reply_quota_usage", "reply_config", "replies")] if replies else []
        )
        self._steps.check_quota(
            "threads_publishing_limit", quotas, notes=self._notes, now=self._ctx.clock()
        )

    # -- what to send ------------------------------------------------------------------

    def _forms(self, post: Post) -> list[Form]:
        """The container parameters of each part, or Rejected saying what to change."""
        if not post.parts:
            raise Rejected("the post has no parts", channel=self.name)
        forms = [self._first_form(post, post.parts[0])]
        forms += [{"media_type": "TEXT", "text": part.text} for part in post.parts[1:]]
        for number, (part, form) in enumerate(zip(post.parts, forms, strict=True), start=1):
            self._check_part(number, _text_links(post, part.text), form)
        return forms

    def _first_form(self, post: Post, part: PostPart) -> Form:
        """IMAGE with the text when the text carries the link (or there is none to carry);
        else TEXT with a link attachment, because Threads takes links only on TEXT posts
        and the link to the article is the point of the post."""
        text_urls = _text_links(post, part.text)
        link = part.link or ("" if text_urls else post.article_url)
        image = part.media[0] if part.media else None
        if image is not None and (text_urls or not link):
            form = {"media_type": "IMAGE", "image_url": image.url, "text": part.text}
            if image.alt:
                form["alt_text"] = fit_text(image.alt, PROFILE.alt_limit)
            return form
        form = {"media_type": "TEXT", "text": part.text}
        if link:
            form["link_attachment"] = link
        return form

    def _check_part(self, number: int, links: set[str], form: Form) -> None:
        where, text = f"Threads part {number}", form["text"]
        if not text.strip() and "image_url" not in form:
            raise Rejected(f"{where} has no text and no image", channel=self.name)
        length = threads_length(text)
        if length > PROFILE.limit:
            raise Rejected(
                f"{where} is {length} characters as Threads counts them (each emoji counts "
                f"its UTF-8 bytes); Threads allows {PROFILE.limit}: shorten the template "
                "or the summary",
                channel=self.name,
            )
        links |= {form["link_attachment"]} if form.get("link_attachment") else set()
        if PROFILE.max_links is not None and len(links) > PROFILE.max_links:
            raise Rejected(
                f"{where} has {len(links)} links; Threads refuses more than {PROFILE.max_links}",
                channel=self.name,
            )


def _text_links(post: Post, text: str) -> set[str]:
    """The links in ``text``: what twitter-text's rules find, plus the article URL when it
    is there (its host may be on a domain those rules do not know)."""
    links = {u.url for u in extract_urls(text)}
    return links | {post.article_url} if post.article_url in text else links


def build(channel: ChannelConfig, ctx: PublisherContext) -> ThreadsPublisher:
    """The publisher for a ``platform = "threads"`` channel."""
    return ThreadsPublisher(channel, ctx)


PLATFORM = Platform(
    name="threads",
    credentials=("access_token",),
    required_options=("user_id",),
    profile=PROFILE,
    build=build,
    abilities=(Reconciles,),
)
