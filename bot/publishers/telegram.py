"""Telegram channel publisher (Bot API over httpx).

A post with an image whose caption fits (<= 1,024 characters after entity parsing) is one
``sendPhoto`` with the image URL (Telegram fetches it) and an HTML caption; otherwise, or
when Telegram cannot fetch the image, it is a ``sendMessage`` (<= 4,096) whose link
preview shows the article. Compose has already escaped the text for ``parse_mode=HTML``.

The bot token sits in every request path (``/bot<token>/...``), so it is scrubbed from
every error, exception chain and HTTP-library log line (``bot.publishers.edge``).

Retry safety: the Bot API has no idempotency key and a bot cannot read a channel's
history, so a post whose answer was lost cannot be looked up (no ``reconcile``); a retry
after such a loss may post twice. Failures before sending (refused connection, 5xx) are
safe to retry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.compose.counting import telegram_html_length
from bot.compose.profiles import BLOCK_TEMPLATE, Profile, escape_html
from bot.config import ChannelConfig
from bot.errors import AuthError, ConfigError, PublishError, Rejected, Transient
from bot.models import Post, PublishResult
from bot.platform import Platform
from bot.publishers.base import PublisherContext
from bot.publishers.edge import Edge, StatusTable, json_object

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.telegram.org"
CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
ADMIN_HINT = (
    "add the bot to the channel as an administrator allowed to post messages, and check "
    "options.chat_id (@channelname, or the -100... id of a private channel)"
)
REVOKED_HINT = (
    "the bot token was refused (revoked or mistyped): get it from @BotFather (/token) and "
    "put it in the environment variable named in credentials.bot_token"
)
# 403/404 and the descriptions below: the bot cannot post there, a person must fix it.
TABLE = StatusTable(
    "Telegram",
    default_wait=60.0,  # about 20 messages a minute per channel
    kinds={404: AuthError},
    hints={401: REVOKED_HINT, AuthError: ADMIN_HINT, Transient: "will retry"},
)
# Bad Request descriptions that no edit of the post can fix: the bot cannot post there.
_NO_ACCESS = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "not enough rights",
    "need administrator rights",
    "have no rights to send",
    "chat_write_forbidden",
    "chat_admin_required",
)
# Bad Request descriptions meaning Telegram could not use the photo URL.
_BAD_PHOTO = (
    "wrong file identifier/http url specified",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "wrong remote file identifier",
)


class TelegramPublisher:
    """One Telegram channel (or group) posted to by one bot."""

    platform = "telegram"

    def __init__(self, channel: ChannelConfig, ctx: PublisherContext) -> None:
        self.name = channel.name
        self._token = channel.secret("bot_token")
        self._edge = Edge(
            ctx.http, TABLE, channel=self.name, secrets=[self._token], clock=ctx.clock
        )
        self._chat_id = channel.options.get("chat_id", "").strip()
        if not self._chat_id:
            raise ConfigError(
                "missing; set it to @channelname or the channel's -100... id",
                key=f"channels.{channel.name}.options.chat_id",
            )
        self._base = (channel.api_base or DEFAULT_BASE).rstrip("/")

    def __repr__(self) -> str:
        return f"TelegramPublisher(name={self.name!r}, chat_id={self._chat_id!r})"

    def check(self) -> str:
        """``@bot in <chat title>`` from ``getMe`` and ``getChat``."""
        me = self._call("getMe", {})
        chat = self._call("getChat", {"chat_id": self._chat_id})
        title = chat.get("title") or chat.get("username") or self._chat_id
        return f"@{me.get('username')} in {title}"

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        part = post.parts[0]
        message: dict[str, Any] | None = None
        if part.media and telegram_html_length(part.text) <= CAPTION_LIMIT:
            try:
                message = self._send_photo(part.text, part.media[0].url)
            except Rejected as exc:
                if not any(p in str(exc).lower() for p in _BAD_PHOTO):
                    raise
                # Losing the image beats losing the post: send the text with a preview.
                log.warning("telegram photo refused, sending text channel=%s: %s", self.name, exc)
        if message is None:
            message = self._send_message(part.text, post.article_url)
        number = message.get("message_id")
        if number is None:  # sent all the same: a retry would post it again
            return PublishResult(remote_id=None, note=f"Telegram answered {method_of(message)}")
        return PublishResult(remote_id=str(number), url=message_url(message))

    def _send_photo(self, caption: str, photo: str) -> dict[str, Any]:
        payload = {"chat_id": self._chat_id, "photo": photo, "caption": caption}
        return self._call("sendPhoto", {**payload, "parse_mode": "HTML"})

    def _send_message(self, text: str, link: str) -> dict[str, Any]:
        length = telegram_html_length(text)
        if length > MESSAGE_LIMIT:
            raise Rejected(
                f"sendMessage: the text is {length} characters, Telegram allows "
                f"{MESSAGE_LIMIT}; lower the channel's max_chars",
                channel=self.name,
            )
        preview = {"url": link, "prefer_large_media": True}
        payload = {"chat_id": self._chat_id, "text": text, "link_preview_options": preview}
        return self._call("sendMessage", {**payload, "parse_mode": "HTML"})

    def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``method`` with a JSON body; the ``result`` object or a ``PublishError``."""
        url = f"{self._base}/bot{self._token}/{method}"
        response = self._edge.send("POST", url, json=payload, what=method)
        body = json_object(response)
        if response.is_success and body.get("ok") is True:
            result = body.get("result")
            return result if isinstance(result, dict) else {}
        raise self._error(method, response, body)

    def _error(self, method: str, response: httpx.Response, body: dict[str, Any]) -> PublishError:
        """Bot API errors: ``{"ok": false, "error_code", "description", "parameters"}``."""
        raw_code = body.get("error_code")
        code = raw_code if isinstance(raw_code, int) else response.status_code
        description = str(body.get("description") or "")
        raw_params = body.get("parameters")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        kind: type[PublishError] | None = None
        hint: str | None = None
        if code == 429:
            pass  # the table's RateLimited, waiting ``parameters.retry_after``
        elif params.get("migrate_to_chat_id"):
            new_id = params["migrate_to_chat_id"]
            kind = AuthError
            hint = f'the group became a supergroup: set options.chat_id = "{new_id}"'
        elif any(p in description.lower() for p in _NO_ACCESS):
            kind = AuthError
        elif not body:
            kind = Transient  # not the Bot API answering (a proxy's error page)
        return self._edge.error(
            response,
            method,
            message=description,
            kind=kind,
            hint=hint,
            wait=params.get("retry_after"),
            status=code,
        )


def method_of(message: dict[str, Any]) -> str:
    """How an answer without a message id is described in the delivery's note."""
    return "ok without a message_id" if not message else "a message without its message_id"


def message_url(message: dict[str, Any]) -> str | None:
    """The public link of a channel message: t.me/<name>/<id> or t.me/c/<id>/<id>."""
    raw_chat = message.get("chat")
    chat: dict[str, Any] = raw_chat if isinstance(raw_chat, dict) else {}
    number = message.get("message_id")
    if not chat or number is None:
        return None
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{number}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{number}"
    return None


def build(channel: ChannelConfig, ctx: PublisherContext) -> TelegramPublisher:
    """The publisher for a ``platform = "telegram"`` channel."""
    return TelegramPublisher(channel, ctx)


PLATFORM = Platform(
    name="telegram",
    credentials=("bot_token",),
    required_options=("chat_id",),
    profile=Profile(
        "telegram",
        "utf16",
        telegram_html_length,
        MESSAGE_LIMIT,
        default_template=BLOCK_TEMPLATE,
        link_style="html",
        max_images=1,
        caption_limit=CAPTION_LIMIT,
        escape=escape_html,
        markup="html",
    ),
    build=build,
)
