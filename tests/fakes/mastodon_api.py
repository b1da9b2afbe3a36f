"""A fake Mastodon instance on 127.0.0.1: the endpoints syndbot calls, answering like
Mastodon 4.x does.

    with FakeMastodon() as masto:
        masto.fail("statuses", Fault(status=429, body={"error": "Too many requests"}, ...))
        ...publish with api_base=masto.base...
        masto.statuses[0]["content"], masto.calls_to("statuses")[0].json()

Endpoints: ``POST /api/v2/media`` (multipart ``file`` + ``description``; 200, or 202 while
``processing_polls`` reads of ``GET /api/v1/media/:id`` answer 206 without a url),
``POST /api/v1/statuses`` (JSON or form; text counted in graphemes with every URL as 23
against ``max_characters``, 422 beyond; a repeated ``Idempotency-Key`` within
``key_ttl`` seconds returns the status it already made), ``GET /api/v2/instance``,
``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id/statuses``.
Every call but the instance one needs ``Authorization: Bearer <token>`` (else 401
``The access token is invalid``). Faults as in ``tests.fakes.webhooks``.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import parse_qs

from bot.textfit import grapheme_count
from tests.fakes.loopback import Answer, Fault, LoopbackServer, Request

TOKEN = "mAsToDoN-fake-access-token-0123456789abcdef"
ACCOUNT_ID = "109876543210"
__all__ = ["ACCOUNT_ID", "TOKEN", "FakeMastodon", "Fault"]
NOT_PROCESSED = "Cannot attach files that have not finished processing. Try again in a moment!"

_URL = re.compile(r"https?://[^\s<>\"]+")
_ROUTES = (
    ("POST", re.compile(r"/api/v2/media"), "media"),
    ("GET", re.compile(r"/api/v1/media/[^/]+"), "media_get"),
    ("POST", re.compile(r"/api/v1/statuses"), "statuses"),
    ("GET", re.compile(r"/api/v2/instance"), "instance"),
    ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), "verify"),
    ("GET", re.compile(r"/api/v1/accounts/[^/]+/statuses"), "account_statuses"),
)

# The scope each route needs from a token (Mastodon's controllers; statuses of an account
# are ``authorize_if_got_token! :read, :'read:statuses'``: a token must carry it).
_SCOPES = {
    "verify": "read:accounts",
    "account_statuses": "read:statuses",
    "statuses": "write:statuses",
    "media": "write:media",
}


class FakeMastodon(LoopbackServer):
    """See the module docstring."""

    def __init__(self, *, token: str = TOKEN, max_characters: int = 500) -> None:
        super().__init__()
        self.token = token
        self.scopes = {"write:statuses", "write:media", "read:accounts", "read:statuses"}
        self.max_characters = max_characters
        self.processing_polls = 0  # 206 answers before an uploaded image is ready
        self.key_ttl = 3600.0
        self.statuses: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[dict[str, Any], float]] = {}

    def route_of(self, method: str, path: str) -> str:
        for route_method, pattern, name in _ROUTES:
            if method == route_method and pattern.fullmatch(path):
                return name
        return "unknown"

    def authorise(self, request: Request) -> Answer | None:
        if request.route == "instance":
            return None
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(401, {"error": "The access token is invalid"})
        needed = _SCOPES.get(request.route)
        if needed and needed not in self.scopes:  # Doorkeeper: a token without the scope
            return Answer(403, {"error": "This action is outside the authorized scopes"})
        return None

    def handle(self, request: Request) -> Answer:
        handlers = {
            "media": self._upload,
            "media_get": self._media_get,
            "statuses": self._create,
            "instance": lambda _: Answer(200, self.instance()),
            "verify": lambda _: Answer(200, self.account()),
            "account_statuses": self._timeline,
        }
        handler = handlers.get(request.route)
        if handler is None:
            return Answer(404, {"error": "Record not found"})
        return handler(request)

    # -- objects ---------------------------------------------------------------------

    def account(self) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "username": "voltlane",
            "acct": "voltlane",
            "display_name": "Volt Lane",
            "url": f"{self.base}/@voltlane",
        }

    def instance(self) -> dict[str, Any]:
        return {
            "domain": "masto.example",
            "title": "Fake Mastodon",
            "version": "4.3.0",
            "configuration": {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/webp"],
                    "description_limit": 1500,
                    "image_size_limit": 16777216,
                    "image_matrix_limit": 33177600,
                },
            },
        }

    # -- endpoints -------------------------------------------------------------------

    def _upload(self, request: Request) -> Answer:
        form = request.form()
        if "file" not in form or not form["file"][0]:
            return Answer(422, {"error": "Validation failed: File can't be blank"})
        data, kind = form["file"]
        if kind not in ("image/jpeg", "image/png", "image/webp", "image/gif"):
            return Answer(422, {"error": "Validation failed: File content type is invalid"})
        media_id = str(110_000_000_000 + self.next_id())
        description = form.get("description", (b"", None))[0].decode("utf-8")
        ready = self.processing_polls == 0
        self.media[media_id] = {
            "id": media_id,
            "type": "image",
            "url": f"{self.base}/system/media/{media_id}.jpg" if ready else None,
            "preview_url": f"{self.base}/system/media/{media_id}_small.jpg",
            "description": description or None,
            "size": len(data),
            "polls_left": self.processing_polls,
            "attached": False,
        }
        return Answer(200 if ready else 202, self._public_media(media_id))

    def _media_get(self, request: Request) -> Answer:
        media_id = request.path.rsplit("/", 1)[-1]
        entry = self.media.get(media_id)
        if entry is None:
            return Answer(404, {"error": "Record not found"})
        if entry["polls_left"] > 0:
            entry["polls_left"] -= 1
            return Answer(206, self._public_media(media_id))
        entry["url"] = f"{self.base}/system/media/{media_id}.jpg"
        return Answer(200, self._public_media(media_id))

    def _public_media(self, media_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.media[media_id].items() if k not in ("polls_left", "size")}

    def _create(self, request: Request) -> Answer:  # noqa: PLR0911 - Mastodon's checks in order
        key = request.headers.get("idempotency-key")
        if key and key in self.keys and time.monotonic() - self.keys[key][1] < self.key_ttl:
            return Answer(200, self.keys[key][0])
        params = _status_params(request)
        text = str(params.get("status") or "")
        media_ids = [str(m) for m in params.get("media_ids") or []]
        if not text and not media_ids:
            return Answer(422, {"error": "Validation failed: Text can't be blank"})
        if _length(text) > self.max_characters:
            error = f"Validation failed: Text character limit of {self.max_characters} exceeded"
            return Answer(422, {"error": error})
        if params.get("visibility", "public") not in ("public", "unlisted", "private", "direct"):
            return Answer(422, {"error": "Validation failed: Visibility is not included"})
        for media_id in media_ids:
            entry = self.media.get(media_id)
            if entry is None or entry["attached"]:
                return Answer(422, {"error": "Validation failed: Media attachments are invalid"})
            if entry["url"] is None:
                return Answer(422, {"error": NOT_PROCESSED})
        reply_to = params.get("in_reply_to_id")
        if reply_to and not any(s["id"] == reply_to for s in self.statuses):
            return Answer(404, {"error": "Record not found"})
        for media_id in media_ids:
            self.media[media_id]["attached"] = True
        status = self._status(text, params, media_ids)
        self.statuses.append(status)
        if key:
            self.keys[key] = (status, time.monotonic())
        return Answer(200, status)

    def _status(self, text: str, params: dict[str, Any], media_ids: list[str]) -> dict[str, Any]:
        status_id = str(113_000_000_000_000_000 + self.next_id())
        return {
            "id": status_id,
            "created_at": "2025-06-01T08:00:00.000Z",
            "in_reply_to_id": params.get("in_reply_to_id"),
            "visibility": params.get("visibility", "public"),
            "language": params.get("language"),
            "uri": f"{self.base}/users/voltlane/statuses/{status_id}",
            "url": f"{self.base}/@voltlane/{status_id}",
            "content": _html(text),
            "text": text,  # what Mastodon returns only to its author: the source text
            "media_attachments": [self._public_media(m) for m in media_ids],
            "account": self.account(),
            "card": None,
        }

    def _timeline(self, request: Request) -> Answer:
        if request.path.split("/")[4] != ACCOUNT_ID:
            return Answer(404, {"error": "Record not found"})
        limit = min(int(request.query.get("limit", ["20"])[0]), 40)
        newest_first = list(reversed(self.statuses))[:limit]
        return Answer(200, [{k: v for k, v in s.items() if k != "text"} for s in newest_first])


def _status_params(request: Request) -> dict[str, Any]:
    """JSON body, or a form with ``media_ids[]`` like Mastodon's Rails parser reads it."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = request.json()
        return body if isinstance(body, dict) else {}
    form = parse_qs(request.body.decode("utf-8"))
    params: dict[str, Any] = {k: v[0] for k, v in form.items() if not k.endswith("[]")}
    params["media_ids"] = form.get("media_ids[]", [])
    return params


def _length(text: str) -> int:
    """Mastodon's count: graphemes, every URL 23."""
    urls = _URL.findall(text)
    return grapheme_count(_URL.sub("", text)) + 23 * len(urls)


def _html(text: str) -> str:
    """Status text as Mastodon renders it: paragraphs, escaped, links as anchors."""

    def para(block: str) -> str:
        out, cursor = [], 0
        for match in _URL.finditer(block):
            out.append(html.escape(block[cursor : match.start()]))
            url = match.group(0)
            out.append(f'<a href="{html.escape(url)}" rel="nofollow noopener" target="_blank">')
            out.append(f"{html.escape(url)}</a>")
            cursor = match.end()
        out.append(html.escape(block[cursor:]))
        return "<p>" + "".join(out).replace("\n", "<br />") + "</p>"

    return "".join(para(b) for b in text.split("\n\n") if b)
