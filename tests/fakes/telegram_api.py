"""A fake Telegram Bot API on 127.0.0.1: ``/bot<token>/<method>`` answering like Telegram.

    with FakeTelegram() as tg:
        tg.fail("sendMessage", Fault(status=429, body=telegram_error(429, "...", 7)))
        ...publish with api_base=tg.base...
        tg.messages[0]["text"]

Methods: ``getMe``, ``getChat``, ``sendMessage`` and ``sendPhoto`` (JSON or form bodies).
Answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code",
"description"[, "parameters"]}``: a wrong token gets 401 ``Unauthorized``, an unknown chat
400 ``chat not found``, a bot removed from the channel (``kicked``) 403; ``parse_mode=HTML``
text is parsed like Telegram does (only its tags, entities must be well formed); text
longer than 4,096 or captions longer than 1,024 UTF-16 units after parsing are refused;
``sendPhoto`` only accepts photo URLs this server serves (else ``wrong file
identifier/HTTP URL specified``). Routes are the method names.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import Answer, Fault, LoopbackServer, Request

TOKEN = "7712345678:AAFakeTelegramBotToken_0123456789abcd"
CHAT_ID = "@voltlane_ev"
NUMERIC_CHAT_ID = -1001234567890
__all__ = ["CHAT_ID", "NUMERIC_CHAT_ID", "TOKEN", "FakeTelegram", "Fault", "telegram_error"]

_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+=\"[^\"]*\")*)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def telegram_error(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


class FakeTelegram(LoopbackServer):
    """See the module docstring."""

    def __init__(self, *, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.kicked = False
        self.messages: list[dict[str, Any]] = []
        self.chat = {
            "id": NUMERIC_CHAT_ID,
            "title": "Volt Lane EV News",
            "username": CHAT_ID.lstrip("@"),
            "type": "channel",
        }

    def route_of(self, method: str, path: str) -> str:
        return path.rsplit("/", 1)[-1] if path.startswith("/bot") else "unknown"

    def authorise(self, request: Request) -> Answer | None:
        token = request.path.removeprefix("/bot").rsplit("/", 1)[0]
        if token != self.token:
            return Answer(401, telegram_error(401, "Unauthorized"))
        return None

    def handle(self, request: Request) -> Answer:  # noqa: PLR0911 - method table
        params = _params(request)
        if request.route == "getMe":
            me = {"id": 7712345678, "is_bot": True, "first_name": "Volt", "username": "VoltBot"}
            return _ok(me)
        if request.route not in ("getChat", "sendMessage", "sendPhoto"):
            return Answer(404, telegram_error(404, "Not Found"))
        if str(params.get("chat_id")) not in (CHAT_ID, str(NUMERIC_CHAT_ID)):
            return Answer(400, telegram_error(400, "Bad Request: chat not found"))
        if request.route == "getChat":
            return _ok(self.chat)
        if self.kicked:
            return Answer(
                403, telegram_error(403, "Forbidden: bot was kicked from the channel chat")
            )
        if request.route == "sendPhoto":
            return self._send(params, "caption", 1024, photo=str(params.get("photo", "")))
        return self._send(params, "text", 4096)

    def _send(self, params: dict[str, Any], field: str, limit: int, photo: str = "") -> Answer:
        text = str(params.get(field) or "")
        if params.get("parse_mode") == "HTML":
            problem = _html_problem(text)
            if problem:
                return Answer(
                    400, telegram_error(400, f"Bad Request: can't parse entities: {problem}")
                )
            text = html.unescape(re.sub(r"<[^>]*>", "", text))
        if field == "text" and not text.strip():
            return Answer(400, telegram_error(400, "Bad Request: message text is empty"))
        if len(text.encode("utf-16-le")) // 2 > limit:
            what = "message caption is too long" if field == "caption" else "message is too long"
            return Answer(400, telegram_error(400, f"Bad Request: {what}"))
        if field == "caption" and urlsplit(photo).path not in self.images:
            error = "Bad Request: wrong file identifier/HTTP URL specified"
            return Answer(400, telegram_error(400, error))
        message: dict[str, Any] = {
            "message_id": 100 + self.next_id(),
            "chat": self.chat,
            "date": 1748764800,
            field: text,
            "sent": params,
        }
        if photo:
            message["photo"] = [{"file_id": "AgACAgFake", "width": 800, "height": 450}]
        self.messages.append(message)
        return _ok({k: v for k, v in message.items() if k != "sent"})


def _ok(result: Any) -> Answer:
    return Answer(200, {"ok": True, "result": result})


def _params(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = request.json()
        return body if isinstance(body, dict) else {}
    if request.method == "GET":
        return {k: v[0] for k, v in request.query.items()}
    return dict(parse_qsl(request.body.decode("utf-8")))


def _html_problem(text: str) -> str:
    """What Telegram's HTML parser would object to in ``text``, or ""."""
    open_tags: list[str] = []
    for match in re.finditer(r"<[^>]*>|&[^;\s]*;?|[<>&]", text):
        piece = match.group(0)
        offset = len(text[: match.start()].encode("utf-8"))
        if piece.startswith("&"):
            if not _ENTITY.fullmatch(piece):
                return f"Can't find end of the entity starting at byte offset {offset}"
            continue
        tag = _TAG.fullmatch(piece)
        if tag is None or tag.group(2).lower() not in _TAGS:
            return f'Unsupported start tag "{piece[1:8]}" at byte offset {offset}'
        closing, name = tag.group(1), tag.group(2).lower()
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            return f'Unmatched end tag at byte offset {offset}, expected "</{name}>"'
    return "Can't find end tag" if open_tags else ""
