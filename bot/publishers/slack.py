"""Slack channel publisher: an incoming webhook (a Slack app with Incoming Webhooks).

One ``POST`` per post with a ``text`` fallback (notifications, old clients) and blocks: a
``section`` with the composed mrkdwn text (<= 3,000 characters), an ``image`` block with
alt text, and a ``context`` line linking the article's site. Compose has escaped ``& < >``,
so text from a feed cannot form ``<!channel>`` or ``<@U123>`` mentions; ``link_names`` is
never set, so a bare "@channel" stays text.

Slack answers ``200 ok`` or a short plain-text error (``invalid_payload``, ``no_service``,
``channel_is_archived``...). It returns no message id and webhooks cannot read the
channel, so a post whose answer was lost cannot be looked up (no ``reconcile``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.compose.counting import utf16_units
from bot.compose.profiles import Profile, escape_mrkdwn, slack_url
from bot.config import ChannelConfig
from bot.errors import AuthError, PublishError, Rejected
from bot.models import Post, PublishResult
from bot.platform import Platform
from bot.publishers.base import PublisherContext
from bot.publishers.edge import StatusTable
from bot.publishers.webhook import WebhookPublisher

if TYPE_CHECKING:
    import httpx

HOSTS = ("hooks.slack.com",)
PATH_PREFIX = "/services/"
SECTION_LIMIT = 3000
ALT_LIMIT = 2000
NO_ID = "Slack incoming webhooks answer 'ok' without a message id or link"
# Errors a person must fix in Slack (the app, the channel); posting again cannot help.
_NO_ACCESS = frozenset(
    {
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "invalid_token",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "user_not_found",
    }
)
HINT = (
    "re-install the Slack app's Incoming Webhook for an active channel (api.slack.com/apps > "
    "your app > Incoming Webhooks) and put the new URL in the environment variable named in "
    "credentials.webhook_url"
)
# invalid_payload, invalid_blocks, ... (400) are Rejected; a gone webhook is AuthError.
TABLE = StatusTable(
    "Slack", default_wait=30.0, kinds={404: AuthError, 410: AuthError}, hints={AuthError: HINT}
)


class SlackPublisher(WebhookPublisher):
    """One Slack channel, through one incoming webhook."""

    platform = "slack"
    hosts = HOSTS
    path_prefix = PATH_PREFIX
    table = TABLE

    def check(self) -> str:
        """Incoming webhooks have no read call: check the URL's shape, post nothing."""
        self._url()
        return "incoming webhook"

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        body = payload(post)
        section = body["blocks"][0]["text"]["text"]
        length = PLATFORM.profile.measure(section)  # as compose counted it
        if length > SECTION_LIMIT:
            raise Rejected(
                f"the text is {length} characters, a Slack section holds "
                f"{SECTION_LIMIT}; lower the channel's max_chars",
                channel=self.name,
            )
        self._request("POST", "POST incoming webhook", json=body)
        return PublishResult(remote_id=None, note=NO_ID)

    def _error(self, response: httpx.Response, what: str) -> PublishError:
        """Slack answers a short plain-text reason; some mean the webhook is unusable."""
        reason = self._edge.detail(response)
        kind = AuthError if reason in _NO_ACCESS else None
        return self._edge.error(response, what, message=reason, kind=kind)


def payload(post: Post) -> dict[str, Any]:
    """The webhook body: text fallback, section, image (with alt text), context link."""
    part = post.parts[0]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part.text}}
    ]
    if part.media:
        image = part.media[0]
        alt = (image.alt or post.title or "Article image")[:ALT_LIMIT]
        blocks.append({"type": "image", "image_url": image.url, "alt_text": alt})
    link = part.link or post.article_url
    site = urlsplit(link).hostname or link
    context = f"<{slack_url(link)}|{escape_mrkdwn(site)}>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": part.text, "blocks": blocks}


def build(channel: ChannelConfig, ctx: PublisherContext) -> SlackPublisher:
    """The publisher for a ``platform = "slack"`` channel."""
    return SlackPublisher(channel, ctx)


PLATFORM = Platform(
    name="slack",
    credentials=("webhook_url",),
    profile=Profile(
        "slack",
        "characters",
        utf16_units,
        SECTION_LIMIT,
        default_template="{title}\n\n{summary}\n\n{url}",
        link_style="mrkdwn",
        link_attachment=True,
        max_hashtags=0,
        max_images=1,
        alt_limit=ALT_LIMIT,
        escape=escape_mrkdwn,
        markup="mrkdwn",
    ),
    build=build,
)
