"""A fake LinkedIn REST API on 127.0.0.1, for the LinkedIn organization page publisher.

    with FakeLinkedIn() as linkedin:
        linkedin.add_image("/img/car.jpg", jpeg_bytes)
        ...publish against api_base=linkedin.base...
        [create] = linkedin.calls_to("create")

Routes: ``GET /rest/organizations/{id}`` (``organization``), ``POST
/rest/images?action=initializeUpload`` (``init_upload``), ``PUT /upload/{n}`` (``upload``,
the returned uploadUrl), ``POST /rest/posts`` (``create``: checks the version and Rest.li
headers, the author, the body's shape and the thumbnail urn; answers 201 with the id in
``x-restli-id``), ``GET /rest/posts?q=author`` (``find``). Errors have LinkedIn's shape
``{"status", "serviceErrorCode", "code", "message"}``; a wrong token answers 401.

Like LinkedIn, the fake shows commentary cut at the first unescaped little-text reserved
character: ``posts[i]["shown"]`` is what readers would see. ``fail(route, Fault(...))``
scripts an error answer, a delay, or a dropped connection before/after acting.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.config import ChannelConfig
from tests.fakes.loopback import Loopback, LoopbackHandler
from tests.publisher_helpers import api_channel

TOKEN = "AQVfakeLinkedInToken_7f3e9d21secret"
ORG_ID = "104857"
VERSIONS = ("202410", "202501", "202504", "202507", "202510", "202601")
RESERVED = "\\|{}@[]()<>#*_~"


@dataclass
class Fault:
    """A scripted answer for one request to a route."""

    status: int | None = None  # None: answer normally (after ``delay``)
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close without acting or answering
    drop_after: bool = False  # act (create the post), then close without answering


@dataclass(frozen=True)
class Call:
    route: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, or raw bytes for uploads


def li_error(status: int, code: str, message: str, service: int = 100) -> dict[str, Any]:
    """An error body in LinkedIn's shape."""
    return {"status": status, "serviceErrorCode": service, "code": code, "message": message}


def shown_commentary(text: str) -> str:
    """What LinkedIn displays: escapes resolved, cut at the first unescaped reserved char
    (``{hashtag|\\#|x}`` templates are shown as ``#x``)."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith("{hashtag|\\#|", index) and "}" in text[index:]:
            end = text.index("}", index)
            out.append("#" + text[index + len("{hashtag|\\#|") : end].replace("\\", ""))
            index = end + 1
            continue
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char in RESERVED:
            break
        out.append(char)
        index += 1
    return "".join(out)


class FakeLinkedIn(Loopback):
    """The fake server; see the module docstring."""

    def __init__(self, *, token: str = TOKEN, org_id: str = ORG_ID) -> None:
        super().__init__(_Handler)
        self.token = token
        self.org_id = org_id
        self.org_name = "EV News India"
        # The token's scopes: reading the page's posts needs r_organization_social.
        self.scopes = {"w_organization_social", "r_organization_social"}
        self.calls: list[Call] = []
        self.posts: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}  # upload slot -> bytes PUT there
        self.image_urns: dict[str, str] = {}  # upload slot -> image urn
        self.images: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def author(self) -> str:
        return f"urn:li:organization:{self.org_id}"

    def add_image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.images[path] = (data, content_type)
        return self.base + path

    def fail(self, route: str, *faults: Fault) -> None:
        self.faults[route].extend(faults)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    # -- routing -----------------------------------------------------------------------

    def route_of(self, method: str, path: str, query: dict[str, str]) -> str:
        parts = [p for p in path.split("/") if p]
        if path in self.images:
            return "image"
        if method == "GET" and parts[:2] == ["rest", "organizations"] and len(parts) == 3:
            return "organization"
        if method == "POST" and path == "/rest/images":
            return "init_upload" if query.get("action") == "initializeUpload" else "unknown"
        if method == "PUT" and parts[:1] == ["upload"]:
            return "upload"
        if path == "/rest/posts":
            return {"POST": "create", "GET": "find"}.get(method, "unknown")
        return "unknown"

    def handle(self, call: Call) -> tuple[int, Any, dict[str, str]]:  # noqa: PLR0911
        """(status, JSON body or None, headers) for an authorised call."""
        if call.route == "organization":
            org = call.path.rsplit("/", 1)[1]
            if org != self.org_id:
                return 404, li_error(404, "NOT_FOUND", f"Organization {org} not found"), {}
            return 200, {"id": int(org), "localizedName": self.org_name}, {}
        if call.route == "init_upload":
            return self._init_upload(call.body)
        if call.route == "upload":
            slot = call.path.rsplit("/", 1)[1]
            if slot not in self.image_urns or not call.body:
                return 400, li_error(400, "BAD_UPLOAD", "Upload slot unknown or empty"), {}
            self.uploads[slot] = call.body
            return 201, None, {}
        if call.route == "create":
            return self._create(call.body)
        if call.route == "find":
            return self._find(call.query)
        return 404, li_error(404, "NOT_FOUND", f"No resource {call.method} {call.path}"), {}

    def _init_upload(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        owner = (body or {}).get("initializeUploadRequest", {}).get("owner")
        if owner != self.author:
            return 403, li_error(403, "ACCESS_DENIED", f"Not enough permissions for {owner}"), {}
        slot = str(next(self._ids))
        urn = f"urn:li:image:D4D10AQFake{slot}"
        self.image_urns[slot] = urn
        value = {"uploadUrl": f"{self.base}/upload/{slot}", "image": urn, "uploadUrlExpiresAt": 0}
        return 200, {"value": value}, {}

    def _create(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        problem = _post_problem(body, self.author)
        if problem:
            return 422, li_error(422, "UNPROCESSABLE_ENTITY", problem), {}
        thumb = body["content"]["article"].get("thumbnail")
        if thumb is not None and thumb not in self._uploaded_urns():
            message = f"/content/article/thumbnail :: {thumb} is not an uploaded image"
            return 422, li_error(422, "UNPROCESSABLE_ENTITY", message), {}
        post_id = f"urn:li:share:7{next(self._ids):018d}"
        self.posts.append({**body, "id": post_id, "shown": shown_commentary(body["commentary"])})
        return 201, None, {"x-restli-id": post_id, "x-linkedin-id": post_id}

    def _uploaded_urns(self) -> set[str]:
        return {urn for slot, urn in self.image_urns.items() if slot in self.uploads}

    def _find(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if "r_organization_social" not in self.scopes:
            message = "Not enough permissions to access: partnerApiPostsExternal.FINDER-author"
            return 403, li_error(403, "ACCESS_DENIED", message), {}
        if query.get("q") != "author" or query.get("author") != self.author:
            return 400, li_error(400, "ILLEGAL_ARGUMENT", "q=author and author are required"), {}
        count = int(query.get("count", "10"))
        elements = [{k: v for k, v in p.items() if k != "shown"} for p in reversed(self.posts)][
            :count
        ]
        return 200, {"elements": elements, "paging": {"start": 0, "count": count}}, {}


def _post_problem(body: Any, author: str) -> str:  # noqa: PLR0911 - one check per field
    """Why LinkedIn would refuse ``body`` as an organization article post ('' if fine)."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    if body.get("author") != author:
        return f"/author :: {body.get('author')} is not the authenticated organization"
    if not isinstance(body.get("commentary"), str) or len(body["commentary"]) > 3000:
        return "/commentary :: must be a string of at most 3000 characters"
    if body.get("visibility") != "PUBLIC" or body.get("lifecycleState") != "PUBLISHED":
        return "/visibility and /lifecycleState must be PUBLIC and PUBLISHED"
    dist = body.get("distribution") or {}
    if dist.get("feedDistribution") != "MAIN_FEED":
        return "/distribution/feedDistribution :: required"
    article = (body.get("content") or {}).get("article") or {}
    if not str(article.get("source", "")).startswith(("http://", "https://")):
        return "/content/article/source :: must be an http(s) URL"
    if not article.get("title"):
        return "/content/article/title :: required"
    return ""


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        owner: FakeLinkedIn = self.owner
        split = urlsplit(self.path)
        raw = self.read_body()
        if raw is None:
            return
        headers = self.lower_headers()
        query = dict(parse_qsl(split.query))
        with owner.lock:
            route = owner.route_of(method, split.path, query)
            body: Any = raw
            if route != "upload" and raw:
                body = json.loads(raw)
            call = Call(route, method, split.path, query, headers, body)
            owner.calls.append(call)
            fault = owner.faults[route].pop(0) if owner.faults[route] else None
        if route == "image":
            data, ctype = owner.images[split.path]
            self.send_bytes(200, data, {"Content-Type": ctype})
            return
        if self.dropped_before(fault):
            return
        if fault is not None and fault.status is not None:
            self._json(fault.status, fault.body, fault.headers)
            return
        refusal = self._refusal(call)
        if refusal is not None:
            self._json(*refusal)
            return
        with owner.lock:
            status, answer, extra = owner.handle(call)
        if self.dropped_after(fault):
            return
        self._json(status, answer, extra)

    def _refusal(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """LinkedIn's answers to a bad token or missing/retired version headers."""
        if call.headers.get("authorization") != f"Bearer {self.owner.token}":
            return 401, li_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600), {}
        if call.route == "upload":
            return None
        version = call.headers.get("linkedin-version", "")
        if version not in VERSIONS:
            message = f"Requested version {version} is not active"
            return 426, li_error(426, "NONEXISTENT_VERSION", message), {}
        if call.headers.get("x-restli-protocol-version") != "2.0.0":
            return 400, li_error(400, "BAD_REQUEST", "X-Restli-Protocol-Version 2.0.0"), {}
        return None

    def _json(self, status: int, body: Any, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        extra = {"Content-Type": "application/json", **headers} if data else headers
        self.send_bytes(status, data, extra)


def channel(linkedin: FakeLinkedIn, *, token: str = TOKEN, **options: str) -> ChannelConfig:
    """A LinkedIn API channel pointed at the fake."""
    options = {"organization": linkedin.org_id, **options}
    credentials = {"access_token": token}
    return api_channel(
        "linkedin", "linkedin-en", credentials, options=options, api_base=linkedin.base
    )
