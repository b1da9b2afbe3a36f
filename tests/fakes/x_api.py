"""A fake X API v2 on 127.0.0.1: the endpoints syndbot calls, answering like X does.

    with FakeX() as x:
        x.script("POST", "/2/tweets", Fault(status=429, headers={"x-rate-limit-reset": "..."}))
        ...publish against x.base...
        x.tweets[0]["text"], x.requests[-1].json()

Every /2 call must carry a valid OAuth 1.0a HMAC-SHA1 signature over the URL it reached
(so a client that signs one address and sends to another is caught). Tweets, media and
alt texts are kept in memory; a repeated text gets X's 403 "duplicate content" answer; a
reply to an unknown tweet gets X's 403. Each ``script``ed ``Fault`` answers one request
of its route: a status with body and headers, a delay before answering, or the request
processed and the connection dropped without an answer. Images are served under /img/.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from twitter_text import parse_tweet

from tests.fakes.loopback import Loopback, LoopbackHandler, multipart_fields

# post.fields of GET /2/users/:id/tweets in X's OpenAPI (v2.167; sent as tweet.fields).
POST_FIELDS = frozenset(
    {
        "article", "article_title", "attachments", "card_uri", "community_id",
        "context_annotations", "conversation_id", "created_at", "display_text_range",
        "edit_controls", "entities", "geo", "id", "lang", "matched_media_notes",
        "media_metadata", "non_public_metrics", "note_post", "note_request_suggestions",
        "organic_metrics", "paid_partnership", "possibly_sensitive", "promoted_metrics",
        "public_metrics", "reply_settings", "scopes", "source", "suggested_source_links",
        "suggested_source_links_with_counts", "text", "withheld",
    }
)  # fmt: skip

CONSUMER_KEY = "ck-FAKE-consumer-key-7731"
CONSUMER_SECRET = "cs-FAKE-consumer-secret-0c9e41"
ACCESS_TOKEN = "1500000000000000001-FAKEaccesstoken5521"
ACCESS_TOKEN_SECRET = "ats-FAKE-access-token-secret-88d2"
USER_ID = "1500000000000000001"
USERNAME = "ev_news_in"

DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
READ_ONLY_APP = {
    "title": "Forbidden",
    "type": "https://api.twitter.com/2/problems/oauth1-permissions",
    "status": 403,
    "detail": "Your client app is not configured with the appropriate oauth1 app permissions "
    "for this endpoint.",
}
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
SERVER_ERROR = {
    "title": "Internal Server Error",
    "detail": "Something went wrong. Please try again later.",
    "type": "https://api.twitter.com/2/problems/internal-error",
    "status": 500,
}
_URL = re.compile(r"https?://[^\s]+")


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, Any]:
    """X's problem-details error body."""
    return {"title": title, "detail": detail, "type": kind, "status": status}


@dataclass
class Fault:
    """One scripted answer: ``status`` with ``body``; or ``delay`` then normal handling;
    or ``drop``: handle the request normally, then close without answering."""

    status: int = 0
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class XRequest:
    """A request the fake received. Header names are lowercase; ``path`` has no query."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, tuple[bytes, str | None]]:
        """Multipart fields: name -> (bytes, content type of the part or None)."""
        return multipart_fields(self.headers["content-type"], self.body)


class FakeX(Loopback):
    """The server. ``tweets`` newest last; ``media`` by id; ``requests`` in arrival order."""

    poll_interval = 0.05
    hangups = (ConnectionError, TimeoutError)  # a client that timed out and hung up
    record_errors = True  # anything else is a bug in the fake: the fixture fails the test

    def __init__(self, *, username: str = USERNAME, user_id: str = USER_ID) -> None:
        super().__init__(_Handler)
        self.username = username
        self.user_id = user_id
        self.tweets: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.images: dict[str, tuple[bytes, str]] = {}
        self.requests: list[XRequest] = []
        self.responses: list[tuple[XRequest, int, dict[str, Any]]] = []  # API answers sent
        self.rate_headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "99"}
        self._faults: dict[tuple[str, str], list[Fault]] = defaultdict(list)
        self._ids = itertools.count(1800000000000000001)
        self._lock = threading.Lock()

    def script(self, method: str, route: str, *faults: Fault) -> None:
        """Answer the next requests of ``route`` (e.g. "/2/tweets") with ``faults``, in order."""
        self._faults[(method, route)].extend(faults)

    def api_requests(self) -> list[XRequest]:
        """The calls to the X API (images excluded)."""
        return [r for r in self.requests if r.path.startswith("/2/")]

    def add_tweet(self, text: str, *, reply_to: str | None = None) -> dict[str, Any]:
        """Store a tweet as X would (URLs wrapped in t.co, ``entities.urls`` filled in)."""
        with self._lock:
            tweet_id = str(next(self._ids))
        urls = []
        for n, match in enumerate(_URL.finditer(text)):
            urls.append(
                {
                    "start": match.start(),
                    "end": match.end(),
                    "url": f"https://t.co/fake{tweet_id[-6:]}{n}",
                    "expanded_url": match.group(),
                    "display_url": match.group().split("://", 1)[1][:24],
                }
            )
        parent = next((t for t in self.tweets if t["id"] == reply_to), None)
        tweet = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "conversation_id": parent["conversation_id"] if parent else tweet_id,
            "entities": {"urls": urls} if urls else {},
            "author_id": self.user_id,
        }
        if reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        self.tweets.append(tweet)
        return tweet

    def next_fault(self, method: str, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get((method, route))
            return queue.pop(0) if queue else None

    def new_id(self) -> str:
        with self._lock:
            return str(next(self._ids))


class _Handler(LoopbackHandler):
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        x: FakeX = self.owner
        parts = urlsplit(self.path)
        body = self.read_body()
        if body is None:
            return
        request = XRequest(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=self.lower_headers(),
            body=body,
        )
        x.requests.append(request)
        if parts.path.startswith("/img/"):
            self._image(x, parts.path[len("/img/") :])
            return
        route = re.sub(r"^/2/users/\d+/tweets$", "/2/users/:id/tweets", parts.path)
        fault = x.next_fault(method, route)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            x.responses.append((request, fault.status, fault.body or {}))
            self._send(fault.status, fault.body or {}, fault.headers)
            return
        status, body = self._answer(x, request, route, parts.query)
        if fault is not None and fault.drop:
            self.close_connection = True  # processed, but the client never hears of it
            return
        x.responses.append((request, status, body))
        self._send(status, body, {})

    def _answer(
        self, x: FakeX, request: XRequest, route: str, query: str
    ) -> tuple[int, dict[str, Any]]:
        if not _signed(request, self.headers.get("Host", ""), query):
            return 401, UNAUTHORIZED
        handlers = {
            ("POST", "/2/tweets"): _create_tweet,
            ("POST", "/2/media/upload"): _upload,
            ("POST", "/2/media/metadata"): _metadata,
            ("GET", "/2/users/me"): _me,
            ("GET", "/2/users/:id/tweets"): _timeline,
        }
        handler = handlers.get((request.method, route))
        if handler is None:
            return 404, problem(404, "Not Found", f"no route {request.method} {request.path}")
        return handler(x, request)

    def _image(self, x: FakeX, name: str) -> None:
        data, mime = x.images.get(name, (b"", ""))
        if not data:
            self.send_bytes(404, b"not found", {"Content-Type": "text/plain"})
            return
        self.send_bytes(200, data, {"Content-Type": mime})

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        kind = "application/problem+json" if status >= 400 else "application/json"
        self.send_json(status, body, {**self.owner.rate_headers, **headers}, content_type=kind)


def _signed(request: XRequest, host: str, query: str) -> bool:
    """True for an OAuth 1.0a HMAC-SHA1 header signed over the URL this server received."""
    header = request.headers.get("authorization", "")
    if not header.startswith("OAuth "):
        return False
    params = dict(oauth_utils.parse_authorization_header(header))
    expected = {
        "oauth_consumer_key": CONSUMER_KEY,
        "oauth_token": ACCESS_TOKEN,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_version": "1.0",
    }
    if any(params.get(k) != v for k, v in expected.items()):
        return False
    if not params.get("oauth_nonce") or not params.get("oauth_timestamp", "").isdigit():
        return False
    collected = oauth_signature.collect_parameters(
        uri_query=query, headers={"Authorization": header}, exclude_oauth_signature=True
    )
    base = oauth_signature.signature_base_string(
        request.method,
        oauth_signature.base_string_uri(f"http://{host}{request.path}"),
        oauth_signature.normalize_parameters(collected),
    )
    # RFC 5849 3.4.2: HMAC-SHA1 keyed by both secrets, percent-encoded and joined by "&".
    key = f"{oauth_utils.escape(CONSUMER_SECRET)}&{oauth_utils.escape(ACCESS_TOKEN_SECRET)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    wanted = base64.b64encode(digest).decode()
    return hmac.compare_digest(wanted, unquote(params["oauth_signature"]))


def _invalid(detail: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "errors": [{"message": detail}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _create_tweet(x: FakeX, request: XRequest) -> tuple[int, dict[str, Any]]:  # noqa: PLR0911
    try:
        body = request.json()
    except ValueError:
        return _invalid("the body is not JSON")
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return _invalid("text is required")
    if not parse_tweet(text).valid:  # twitter-text v3: weighted length <= 280, no U+FFFE...
        weighted = parse_tweet(text).weightedLength
        return _invalid(f"text: the post is {weighted} weighted characters, X allows 280")
    media_ids = (body.get("media") or {}).get("media_ids", [])
    if any(m not in x.media for m in media_ids):
        return _invalid("media_ids: unknown media id")
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    if reply_to and all(t["id"] != reply_to for t in x.tweets):
        return 403, problem(
            403,
            "Forbidden",
            "You attempted to reply to a Tweet that is deleted or not visible to you.",
        )
    if any(t["text"] == text for t in x.tweets):
        return 403, DUPLICATE
    tweet = x.add_tweet(text, reply_to=reply_to)
    tweet["media_ids"] = list(media_ids)
    return 201, {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}}


def _upload(x: FakeX, request: XRequest) -> tuple[int, dict[str, Any]]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _invalid("media upload must be multipart/form-data")
    form = request.form()
    data, mime = form.get("media", (b"", None))
    category = form.get("media_category", (b"", None))[0].decode()
    if not data or category != "tweet_image":
        return _invalid("media and media_category=tweet_image are required")
    if len(data) > 5_000_000:
        return _invalid("media: images must be at most 5 MB")
    media_id = x.new_id()
    x.media[media_id] = {"data": data, "mime": mime, "alt": None}
    return 200, {
        "data": {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(data),
            "expires_after_secs": 86400,
            "image": {"image_type": mime or "image/jpeg", "w": 0, "h": 0},
        }
    }


def _metadata(x: FakeX, request: XRequest) -> tuple[int, dict[str, Any]]:
    body = request.json()
    media_id = body.get("id")
    alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if media_id not in x.media:
        return _invalid("id: unknown media id")
    if not isinstance(alt, str) or len(alt) > 1000:
        return _invalid("metadata.alt_text.text must be at most 1000 characters")
    x.media[media_id]["alt"] = alt
    return 200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}


def _me(x: FakeX, request: XRequest) -> tuple[int, dict[str, Any]]:
    return 200, {"data": {"id": x.user_id, "name": "EV News", "username": x.username}}


def _timeline(x: FakeX, request: XRequest) -> tuple[int, dict[str, Any]]:
    if request.path != f"/2/users/{x.user_id}/tweets":
        return 404, problem(404, "Not Found Error", "Could not find user.")
    limit = int(request.query.get("max_results", ["10"])[0])
    if not 5 <= limit <= 100:
        return _invalid("max_results must be between 5 and 100")
    fields = [f for f in ",".join(request.query.get("tweet.fields", [])).split(",") if f]
    unknown = [f for f in fields if f not in POST_FIELDS]
    if unknown:
        return _invalid(f"The `tweet.fields` query parameter value [{unknown[0]}] is not valid")
    excluded = [e for e in ",".join(request.query.get("exclude", [])).split(",") if e]
    if any(e not in ("replies", "retweets") for e in excluded):
        return _invalid("The `exclude` query parameter takes only replies, retweets")
    keep = {"id", "text", "edit_history_tweet_ids", *fields}
    since = int(request.query.get("since_id", ["0"])[0])
    newest = [t for t in reversed(x.tweets) if int(t["id"]) > since][:limit]
    data = [{k: v for k, v in t.items() if k in keep} for t in newest]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
    return 200, ({"data": data, "meta": meta} if data else {"meta": meta})
