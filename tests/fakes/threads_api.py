"""A fake Threads Graph API (graph.threads.net) on 127.0.0.1, for the Threads publisher.

    with FakeThreads() as threads:
        threads.add_image("/img/car.jpg", jpeg_bytes)
        ...publish against api_base=threads.base...
        [create] = threads.calls_to("create")

It reuses ``FakeGraph``'s server (token check answering Graph error 190, scripted
``Fault``s per route, request recording, image serving) and answers the Threads endpoints
under ``/v1.0/``: ``me``, ``{uid}/threads_publishing_limit`` (route ``quota``),
``POST {uid}/threads`` (``create``: validates media_type, text length as Threads counts it,
the 5-link rule, reply_to_id), ``GET {container}?fields=status,error_message``
(``status``, following ``container_steps``), ``POST {uid}/threads_publish`` (``publish``,
enforcing the 250/24 h quota), ``GET {uid}/threads`` and ``{uid}/replies`` (``read_threads``,
``read_replies``) and media permalinks. Published posts are in ``posts``.
"""

from __future__ import annotations

import re
from typing import Any

import regex

from bot.config import ChannelConfig
from tests.fakes.graph_api import Call, FakeGraph, Fault, nonexisting_field, top_fields
from tests.publisher_helpers import api_channel

__all__ = ["TOKEN", "USER_ID", "Call", "FakeThreads", "Fault", "channel", "threads_error"]

TOKEN = "THfakeThreadsToken5c1d9e77secret"
USER_ID = "27000000001"
_URL = re.compile(r"https?://[^\s]+")
_GRAPHEME = regex.compile(r"\X")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")

# Threads Media fields (Threads API reference, "Media"); any other name is refused.
THREADS_MEDIA_FIELDS = frozenset(
    {
        "id", "text", "permalink", "media_type", "media_url", "media_product_type",
        "timestamp", "username", "owner", "shortcode", "thumbnail_url", "children",
        "is_quote_post", "quoted_post", "reposted_post", "alt_text",
        "link_attachment_url", "gif_url", "topic_tag",
    }
)  # fmt: skip


def threads_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    """A Graph-style error object as Threads sends it."""
    error: dict[str, Any] = {
        "message": message,
        "type": "THApiException",
        "code": code,
        "fbtrace_id": "AthFake01",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return error


def counted_length(text: str) -> int:
    """Threads' documented count, independently of bot.compose: code points, except a
    grapheme holding an emoji counts its UTF-8 bytes."""
    total = 0
    for cluster in _GRAPHEME.findall(text):
        has_emoji = _PICTOGRAPHIC.search(cluster)
        total += len(cluster.encode("utf-8")) if has_emoji else len(cluster)
    return total


class FakeThreads(FakeGraph):
    """The fake server; see the module docstring."""

    def __init__(self, *, token: str = TOKEN, user_id: str = USER_ID) -> None:
        super().__init__(token=token)
        self.user_id = user_id
        self.username = "evnews.hi"
        self.quota_total = 250
        self.reply_quota_usage = 0
        self.reply_quota_total = 1000
        self.posts: list[dict[str, str]] = []

    @property
    def roots(self) -> list[dict[str, str]]:
        return [p for p in self.posts if not p.get("reply_to_id")]

    def route_of(self, method: str, parts: list[str]) -> str:
        if method == "GET" and parts == ["me"]:
            return "me"
        if len(parts) == 2 and parts[0] == self.user_id:
            names = {"threads_publishing_limit": "quota", "threads_publish": "publish"}
            name = names.get(parts[1], parts[1])
            if (method, name) == ("POST", "threads"):
                return "create"
            return name if name in ("quota", "publish") else f"read_{name}"
        if method == "GET" and len(parts) == 1 and parts[0] in self.containers:
            return "status"
        if method == "GET" and len(parts) == 1 and any(p["id"] == parts[0] for p in self.posts):
            return "permalink"
        return "unknown"

    def handle(self, call: Call) -> tuple[int, dict[str, Any]]:  # noqa: PLR0911 - route table
        route, form = call.route, {**call.query, **call.form}
        if route == "me":
            return 200, {"id": self.user_id, "username": self.username}
        if route == "quota":
            return 200, {"data": [self._quota(form.get("fields", ""))]}
        if route == "create":
            return self._create(form)
        if route == "status":
            return 200, self._container_status(call.path.strip("/"))
        if route == "publish":
            return self._publish(form.get("creation_id", ""))
        if route == "permalink":
            post = next(p for p in self.posts if p["id"] == call.path.strip("/"))
            return 200, {"id": post["id"], "permalink": post["permalink"]}
        if route in ("read_threads", "read_replies"):
            replies = route == "read_replies"
            fields = top_fields(form.get("fields", "id"))
            unknown = [f for f in fields if f not in THREADS_MEDIA_FIELDS]
            if unknown:
                return 400, nonexisting_field(unknown[0], "ThreadsMedia")
            found = [p for p in self.posts if bool(p.get("reply_to_id")) == replies]
            rows = [{k: p[k] for k in fields if k in p} for p in reversed(found)]
            return 200, {"data": rows[: int(form.get("limit", 25))]}
        error = threads_error(100, f"Unsupported {call.method} request.")
        return 400, {"error": error}

    def _quota(self, fields: str) -> dict[str, Any]:
        row: dict[str, Any] = {}
        if "quota_usage" in fields.split(","):
            row["quota_usage"] = self.quota_usage
            row["config"] = {"quota_total": self.quota_total, "quota_duration": 86400}
        if "reply_quota_usage" in fields:
            row["reply_quota_usage"] = self.reply_quota_usage
            row["reply_config"] = {"quota_total": self.reply_quota_total, "quota_duration": 86400}
        return row

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self._create_problem(form)
        if problem is not None:
            return 400, {"error": problem}
        container = self.next_id("1790000")
        entry: dict[str, Any] = {k: v for k, v in form.items() if k != "access_token"}
        self.containers[container] = {**entry, "steps": list(self.container_steps), "read": 0}
        return 200, {"id": container}

    def _create_problem(self, form: dict[str, str]) -> dict[str, Any] | None:  # noqa: PLR0911
        kind, text = form.get("media_type"), form.get("text", "")
        if kind not in ("TEXT", "IMAGE"):
            return threads_error(100, "Param media_type must be one of {TEXT, IMAGE, VIDEO}")
        if kind == "TEXT" and not text:
            return threads_error(100, "The parameter text is required for TEXT posts.")
        if kind == "IMAGE" and not form.get("image_url"):
            return threads_error(100, "The parameter image_url is required for IMAGE posts.")
        if kind == "IMAGE" and form.get("link_attachment"):
            return threads_error(100, "link_attachment is only available for TEXT posts.")
        if counted_length(text) > 500:
            return threads_error(100, "Param text must be at most 500 characters long.")
        links = set(_URL.findall(text)) | (
            {form["link_attachment"]} if form.get("link_attachment") else set()
        )
        if len(links) > 5:
            return threads_error(100, "THREADS_API__LINK_LIMIT_EXCEEDED", 4279031)
        reply_to = form.get("reply_to_id")
        if reply_to and not any(p["id"] == reply_to for p in self.posts):
            return threads_error(100, "Invalid parameter reply_to_id", 4279009)
        return None

    def _container_status(self, container: str) -> dict[str, Any]:
        entry = self.containers[container]
        if entry.get("published"):
            status = "PUBLISHED"
        else:
            steps = entry["steps"]
            status = steps[min(entry["read"], len(steps) - 1)]
            entry["read"] += 1
        entry["status"] = status
        answer = {"id": container, "status": status}
        if status == "ERROR":
            answer["error_message"] = "FAILED_DOWNLOADING_IMAGE"
        return answer

    def _publish(self, container: str) -> tuple[int, dict[str, Any]]:
        entry = self.containers.get(container)
        if entry is None:
            return 400, {"error": threads_error(100, "Invalid parameter creation_id")}
        if entry.get("published") or entry.get("status") != "FINISHED":
            return 400, {
                "error": threads_error(24, "The requested resource does not exist", 4279009)
            }
        reply = bool(entry.get("reply_to_id"))
        if not reply and self.quota_usage >= self.quota_total:
            return 400, {"error": threads_error(4, "Application request limit reached")}
        entry["published"] = True
        media = self.next_id("1800000")
        post = {k: str(v) for k, v in entry.items() if k not in ("steps", "read", "published")}
        post.update(
            id=media,
            container=container,
            permalink=f"https://www.threads.net/@{self.username}/post/FAKE{media}",
        )
        self.posts.append(post)
        if reply:
            self.reply_quota_usage += 1
        else:
            self.quota_usage += 1
        return 200, {"id": media}


def channel(threads: FakeThreads, *, token: str = TOKEN, **options: str) -> ChannelConfig:
    """A Threads API channel pointed at the fake."""
    options = {"user_id": threads.user_id, **options}
    credentials = {"access_token": token}
    return api_channel("threads", "threads-hi", credentials, options=options, api_base=threads.base)
