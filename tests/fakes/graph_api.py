"""A fake Meta Graph API on 127.0.0.1 for the Facebook Page and Instagram publisher tests.

    with FakeGraph() as graph:
        graph.add_image("/img/car.jpg", jpeg_bytes)
        ...publish against api_base=graph.base...
        [call] = graph.calls_to("feed")

It implements the endpoints the publishers use, under ``/{version}/``: Page ``feed`` and
``photos`` (create and read), ``me``, the Instagram user, ``content_publishing_limit``,
``media`` containers whose ``status_code`` follows ``container_steps``, ``media_publish``,
media permalinks. Tokens are checked like Graph does (form ``access_token`` or a Bearer
header; a wrong one answers error 190). ``fail(route, Fault(...))`` scripts the next answer
of a route: an error status/body/headers, a delay, or a dropped connection before or after
the call takes effect. Every request is recorded as a ``Call``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from bot.config import ChannelConfig
from bot.models import Length, Media, Post, PostPart
from tests.fakes.loopback import Loopback, LoopbackHandler
from tests.publisher_helpers import api_channel

TOKEN = "EAAGfakePageToken0123456789secret"
ARTICLE = "https://volt.example/2025/ev-battery-prices?utm_source=meta"

PAGE_MESSAGE_LIMIT = 63206  # a Page post's message
# Page post fields Graph refuses since v3.3 ("deprecate_post_aggregated_fields_for_
# attachement"): their values moved to ``attachments`` (link -> attachments{unshimmed_url}).
DEPRECATED_POST_FIELDS = frozenset(
    {"caption", "description", "link", "name", "object_id", "source", "type"}
)
POST_FIELDS = frozenset(
    {"id", "message", "permalink_url", "attachments", "created_time", "full_picture", "story"}
)
# IG Media fields (Instagram Graph API reference, "IG Media").
IG_MEDIA_FIELDS = frozenset(
    {
        "id", "caption", "permalink", "media_type", "media_url", "media_product_type",
        "timestamp", "username", "shortcode", "thumbnail_url", "like_count",
        "comments_count", "is_comment_enabled", "owner", "children", "alt_text",
    }
)  # fmt: skip
CAPTION_LIMIT = 2200  # an Instagram caption


@dataclass
class Fault:
    """A scripted answer for one request to a route."""

    status: int | None = None  # None: answer normally (after ``delay``)
    error: dict[str, Any] | None = None  # the Graph ``error`` object
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # sleep first
    drop: bool = False  # close the connection without acting or answering
    drop_after: bool = False  # act (create/publish), then close without answering


@dataclass(frozen=True)
class Call:
    """One request the fake received. ``path`` is without the version prefix."""

    route: str
    method: str
    path: str
    version: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class Image:
    data: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    delay: float = 0.0
    drip: float = 0.0  # seconds between 1 KiB chunks (a slow server)


class FakeGraph(Loopback):
    """The fake server; see the module docstring."""

    def __init__(
        self, *, token: str = TOKEN, page_id: str = "1001", ig_user_id: str = "17841400001"
    ) -> None:
        super().__init__(_Handler)
        self.token = token
        self.page_id = page_id
        self.ig_user_id = ig_user_id
        self.page_name = "Volt Lane EV News"
        self.username = "voltlane"
        self.quota_usage = 0
        self.quota_total = 50
        self.container_steps: list[str] = ["FINISHED"]  # status_code per status read
        self.calls: list[Call] = []
        self.page_posts: list[dict[str, str]] = []
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: list[dict[str, str]] = []
        self.images: dict[str, Image] = {}
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.lock = threading.Lock()
        self._ids = itertools.count(1)

    # -- test API --------------------------------------------------------------------

    def add_image(self, path: str, data: bytes, content_type: str = "image/jpeg", **kw: Any) -> str:
        self.images[path] = Image(data, content_type, **kw)
        return self.url(path)

    def fail(self, route: str, *faults: Fault) -> None:
        """Answer the next requests to ``route`` with ``faults``, in order."""
        self.faults[route].extend(faults)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    def next_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids)}"

    # -- routing ---------------------------------------------------------------------

    def route_of(self, method: str, parts: list[str]) -> str:  # noqa: PLR0911 - route table
        """A name for the endpoint ``parts`` (path segments after the version)."""
        if method == "GET" and parts == ["me"]:
            return "me"
        if len(parts) == 2 and parts[0] == self.page_id:
            return {"POST": parts[1], "GET": "read_" + parts[1]}.get(method, "unknown")
        if len(parts) == 2 and parts[0] == self.ig_user_id:
            names = {"content_publishing_limit": "quota", "media_publish": "publish"}
            name = names.get(parts[1], parts[1])
            return "create" if (method, name) == ("POST", "media") else name
        if method == "GET" and parts == [self.ig_user_id]:
            return "account"
        if method == "GET" and len(parts) == 1 and parts[0] in self.containers:
            return "status"
        if method == "GET" and len(parts) == 1 and any(m["id"] == parts[0] for m in self.media):
            return "permalink"
        return "unknown"

    def handle(self, call: Call) -> tuple[int, dict[str, Any]]:  # noqa: PLR0911 - route table
        """Act on an authorised API call; (status, JSON body)."""
        route, form = call.route, {**call.query, **call.form}
        if route == "me":
            return 200, {"id": self.page_id, "name": self.page_name}
        if route in ("feed", "photos"):
            return self._page_post(route, form)
        if route == "read_feed":
            return self._read_feed(form)
        if route == "account":
            return 200, {"id": self.ig_user_id, "username": self.username}
        if route == "quota":
            config = {"quota_total": self.quota_total, "quota_duration": 86400}
            return 200, {"data": [{"quota_usage": self.quota_usage, "config": config}]}
        if route == "create":
            return self._create(form)
        if route == "status":
            return 200, self._status(call.path.strip("/"))
        if route == "publish":
            return self._publish(form.get("creation_id", ""))
        if route == "permalink":
            media = next(m for m in self.media if m["id"] == call.path.strip("/"))
            return 200, {"id": media["id"], "permalink": media["permalink"]}
        if route == "media":
            return self._read_media(form)
        return 400, _error(100, f"Unsupported {call.method} request.", "GraphMethodException")

    def _page_post(self, route: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if route == "feed" and not (form.get("message") or form.get("link")):
            return 400, _error(100, "(#100) Missing message or attachment", "OAuthException")
        if route == "photos" and not form.get("url"):
            return 400, _error(324, "(#324) Requires upload file", "OAuthException")
        if _utf16(form.get("message", "")) > PAGE_MESSAGE_LIMIT:
            text = f"(#100) Param message must be at most {PAGE_MESSAGE_LIMIT} characters long"
            return 400, _error(100, text, "OAuthException")
        post_id = f"{self.page_id}_{self.next_id('9')}"
        entry = {"id": post_id, "message": form.get("message", "")}
        entry["permalink_url"] = f"https://www.facebook.com/{post_id}"
        if route == "feed" and form.get("link"):
            entry["link"] = form["link"]  # kept for tests; read back as attachments only
        if route == "photos":
            entry["photo"] = form["url"]
        self.page_posts.append(entry)
        if route == "photos":
            return 200, {"id": self.next_id("5"), "post_id": post_id}
        return 200, {"id": post_id}

    def _read_feed(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /{page}/feed?fields=``: only the fields asked for, refusing those Graph
        refuses on Page posts since v3.3 (error #12) and ones it does not know (#100)."""
        fields = top_fields(form.get("fields", "id"))
        deprecated = [f for f in fields if f in DEPRECATED_POST_FIELDS]
        if deprecated:
            text = f"(#12) {deprecated[0]} field is deprecated for versions v3.3 and higher"
            return 400, _error(12, text, "OAuthException")
        unknown = [f for f in fields if f not in POST_FIELDS]
        if unknown:
            return 400, nonexisting_field(unknown[0], "PagePost")
        newest = list(reversed(self.page_posts))[: int(form.get("limit", 25))]
        return 200, {"data": [_page_post_fields(p, fields) for p in newest]}

    def _read_media(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``GET /{ig-user}/media?fields=``: the IG Media fields asked for; others: #100."""
        fields = top_fields(form.get("fields", "id"))
        unknown = [f for f in fields if f not in IG_MEDIA_FIELDS]
        if unknown:
            return 400, nonexisting_field(unknown[0], "IGMedia")
        rows = [{k: m[k] for k in fields if k in m} for m in reversed(self.media)]
        return 200, {"data": rows[: int(form.get("limit", 25))]}

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not form.get("image_url"):
            return 400, _error(100, "The parameter image_url is required.", "OAuthException")
        if _utf16(form.get("caption", "")) > CAPTION_LIMIT:
            text = f"(#100) The caption is longer than {CAPTION_LIMIT} characters"
            return 400, _error(100, text, "OAuthException")
        container = self.next_id("1790000")
        self.containers[container] = {**form, "steps": list(self.container_steps), "read": 0}
        self.containers[container].pop("access_token", None)
        return 200, {"id": container}

    def _status(self, container: str) -> dict[str, Any]:
        entry = self.containers[container]
        if entry.get("published"):
            code = "PUBLISHED"
        else:
            steps = entry["steps"]
            code = steps[min(entry["read"], len(steps) - 1)]
            entry["read"] += 1
        entry["status_code"] = code
        status = "Error: image could not be fetched (2207052)" if code == "ERROR" else code
        return {"id": container, "status_code": code, "status": status}

    def _publish(self, container: str) -> tuple[int, dict[str, Any]]:
        entry = self.containers.get(container)
        if entry is None:
            return 400, _error(100, "Invalid creation_id", "OAuthException")
        if entry.get("published") or entry.get("status_code") != "FINISHED":
            err = _error(9007, "Media ID is not available", "OAuthException")
            err["error"]["error_subcode"] = 2207027
            return 400, err
        entry["published"] = True
        media_id = self.next_id("1800000")
        permalink = f"https://www.instagram.com/p/FAKE{media_id}/"
        caption = entry.get("caption", "")
        self.media.append({"id": media_id, "caption": caption, "permalink": permalink})
        self.quota_usage += 1
        return 200, {"id": media_id}


def nonexisting_field(name: str, node: str) -> dict[str, Any]:
    """Graph's answer to a field the node type does not have."""
    text = f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})"
    return _error(100, text, "OAuthException")


def top_fields(expression: str) -> list[str]:
    """The top-level names of a Graph field expression: ``a,b{c,d},e`` -> a, b, e."""
    names, depth, name = [], 0, ""
    for char in expression + ",":
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(name.strip())
            name = ""
        elif depth == 0:
            name += char
    return [n for n in names if n]


def _page_post_fields(entry: dict[str, str], fields: list[str]) -> dict[str, Any]:
    """A stored Page post as Graph returns it: its link or photo as an attachment."""
    shown: dict[str, Any] = {k: entry[k] for k in fields if k in entry}
    if "attachments" in fields:
        if entry.get("link"):
            shim = "https://l.facebook.com/l.php?u=" + quote(entry["link"], safe="")
            item = {"media_type": "link", "unshimmed_url": entry["link"], "url": shim}
            shown["attachments"] = {"data": [item]}
        elif entry.get("photo"):
            page = f"https://www.facebook.com/photo.php?fbid={entry['id'].split('_')[-1]}"
            item = {"media_type": "photo", "unshimmed_url": page, "url": page}
            shown["attachments"] = {"data": [item]}
    return shown


def _utf16(text: str) -> int:
    """Characters as Meta counts them (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}}


class _Handler(LoopbackHandler):
    nodelay = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner: FakeGraph = self.owner
        split = urlsplit(self.path)
        raw = self.read_body()
        if raw is None:
            return
        body = raw.decode("utf-8")
        version, _, rest = split.path.lstrip("/").partition("/")
        parts = [p for p in rest.split("/") if p]
        headers = self.lower_headers()
        image = owner.images.get(split.path)
        with owner.lock:
            call = Call(
                route="image" if image else owner.route_of(method, parts),
                method=method,
                path="/" + "/".join(parts),
                version=version,
                query=dict(parse_qsl(split.query)),
                form=dict(parse_qsl(body)),
                headers=headers,
            )
            owner.calls.append(call)
            fault = owner.faults[call.route].pop(0) if owner.faults[call.route] else None
        if image is not None:
            self._image(image)
            return
        if self.dropped_before(fault):
            return
        if fault is not None and fault.status is not None:
            answer = {"error": fault.error} if fault.error else {}
            self.send_json(fault.status, answer, fault.headers)
            return
        if not self._authorised(call):
            error = _error(
                190, "Invalid OAuth access token - Cannot parse access token", "OAuthException"
            )
            self.send_json(400, error, {})
            return
        with owner.lock:
            status, answer = owner.handle(call)
        if self.dropped_after(fault):
            return
        self.send_json(status, answer, {})

    def _authorised(self, call: Call) -> bool:
        token = self.owner.token
        given = call.form.get("access_token") or call.query.get("access_token")
        bearer = call.headers.get("authorization", "")
        return given == token or bearer in (f"Bearer {token}", f"OAuth {token}")

    def _image(self, image: Image) -> None:
        if image.delay:
            time.sleep(image.delay)
        self.send_response(image.status)
        self.send_header("Content-Type", image.content_type)
        for name, value in image.headers.items():
            self.send_header(name, value)
        if not (image.chunked or image.drip):
            self.send_header("Content-Length", str(len(image.data)))
            self.end_headers()
            self.wfile.write(image.data)
            return
        self.close_connection = True
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for start in range(0, len(image.data), 1024):
                chunk = image.data[start : start + 1024]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(image.drip)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return  # the client gave up, as it should


# -- fixtures shared by the Meta publisher tests -----------------------------------------


def channel(
    platform: str, graph: FakeGraph, *, token: str = TOKEN, **options: str
) -> ChannelConfig:
    """An API channel for ``platform`` pointed at the fake."""
    if platform == "facebook":
        credentials, defaults = {"page_token": token}, {"page_id": graph.page_id}
    else:
        credentials, defaults = {"access_token": token}, {"ig_user_id": graph.ig_user_id}
    return api_channel(
        platform,
        f"{platform}-main",
        credentials,
        options={**defaults, **options},
        api_base=graph.base,
    )


def meta_post(
    platform: str,
    text: str,
    *,
    url: str = ARTICLE,
    image: str | None = None,
    alt: str = "",
    item_id: str = "item-1",
) -> Post:
    """A composed post as ``bot.compose`` would hand it over."""
    media = (Media(url=image, alt=alt),) if image else ()
    return Post(
        platform=platform,
        channel=f"{platform}-main",
        item_id=item_id,
        article_url=url,
        title="EV battery prices fall",
        lang="en",
        summary=text,
        hashtags=(),
        parts=(PostPart(text=text, media=media, link=url),),
        length=Length(unit="characters", value=len(text), limit=2200),
    )
