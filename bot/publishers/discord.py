"""Discord channel publisher: an incoming webhook (no bot user, no OAuth).

One ``POST {webhook}?wait=true`` per post: ``content`` is the composed text, one embed
carries the article (title, summary, link, image) and ``allowed_mentions`` is empty, so
an "@everyone" in a headline pings nobody. ``wait=true`` makes Discord answer with the
message, whose id becomes the remote id.

The webhook URL holds its token: it never appears in errors or logs (see
``bot.publishers.webhook``). Webhooks cannot list past messages, so a post whose answer
was lost cannot be looked up (no ``reconcile``); a retry after such a loss may post twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.compose.counting import utf16_units
from bot.compose.profiles import Profile
from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError
from bot.models import Post, PublishResult
from bot.platform import Platform
from bot.publishers.base import PublisherContext
from bot.publishers.edge import StatusTable, json_object
from bot.publishers.webhook import WebhookPublisher
from bot.textfit import fit_text

if TYPE_CHECKING:
    import httpx

HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")
PATH_PREFIX = "/api/webhooks/"
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
HINT = (
    "the webhook was deleted or its URL is wrong: create one under the channel's Settings > "
    "Integrations > Webhooks, copy its URL and put it in the environment variable named in "
    "credentials.webhook_url"
)
# 401/403/404: the webhook is gone or refused; 5xx retried; other 4xx are the post's fault.
TABLE = StatusTable(
    "Discord",
    default_wait=5.0,  # Discord buckets reset within seconds
    kinds={404: AuthError},
    hints={AuthError: HINT},
)


class DiscordPublisher(WebhookPublisher):
    """One Discord channel, through one webhook."""

    platform = "discord"
    hosts = HOSTS
    path_prefix = PATH_PREFIX
    table = TABLE

    def check(self) -> str:
        """The webhook's name (``GET`` on the webhook URL; needs no other credential)."""
        body = json_object(self._request("GET", "GET webhook"))
        return str(body.get("name") or "webhook")

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        response = self._request(
            "POST", "execute webhook", params={"wait": "true"}, json=payload(post)
        )
        message = json_object(response)
        # Never raise after a 2xx: the message exists, and a retry would post it again.
        if not message.get("id"):
            return PublishResult(remote_id=None, note="Discord accepted it without a message id")
        return PublishResult(remote_id=str(message["id"]), url=message_url(message))

    def _error(self, response: httpx.Response, what: str) -> PublishError:
        """Discord errors: ``{"code", "message", "errors"}``; 429 adds ``retry_after``."""
        body = json_object(response)
        message = str(body.get("message") or "")
        if body.get("code"):
            message += f" (Discord code {body['code']})"
        if body.get("errors"):
            message += f" {self._edge.detail(response)}"
        return self._edge.error(response, what, message=message, wait=body.get("retry_after"))


def payload(post: Post) -> dict[str, Any]:
    """The webhook body: the post text, one article embed, no mentions."""
    part = post.parts[0]
    embed: dict[str, Any] = {
        "title": fit_text(post.title, TITLE_LIMIT) or post.title[:TITLE_LIMIT],
        "url": part.link or post.article_url,
    }
    description = post.summary or post.description
    if description:
        embed["description"] = fit_text(description, DESCRIPTION_LIMIT)
    if part.media:
        embed["image"] = {"url": part.media[0].url}  # embeds have no alt text field
    return {"content": part.text, "embeds": [embed], "allowed_mentions": {"parse": []}}


def message_url(message: dict[str, Any]) -> str | None:
    """discord.com/channels/<guild>/<channel>/<message>, when the answer names the guild."""
    parts = [message.get(k) for k in ("guild_id", "channel_id", "id")]
    if not all(parts):
        return None
    return "https://discord.com/channels/" + "/".join(str(p) for p in parts)


def build(channel: ChannelConfig, ctx: PublisherContext) -> DiscordPublisher:
    """The publisher for a ``platform = "discord"`` channel."""
    return DiscordPublisher(channel, ctx)


PLATFORM = Platform(
    name="discord",
    credentials=("webhook_url",),
    profile=Profile(
        "discord",
        "characters",
        utf16_units,
        2000,
        default_template="{title}\n\n{summary}\n\n{url}",
        link_attachment=True,
        max_hashtags=0,
        max_images=10,
    ),
    build=build,
)
