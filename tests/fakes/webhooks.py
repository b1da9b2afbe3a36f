"""Fake Discord and Slack incoming webhooks on 127.0.0.1 (a ``LoopbackServer``).

    with FakeWebhooks() as hooks:
        hooks.fail("discord", Fault(status=429, body={"retry_after": 2.5, ...}))
        ...publish with api_base=hooks.base...
        [call] = hooks.calls_to("discord")

The webhook fake answers like the platforms do: Discord executes a webhook at
``/api/webhooks/{id}/{token}`` (GET returns the webhook object, POST with ``wait=true``
the message; a wrong token answers 401 ``Invalid Webhook Token``, an unknown id 404
``Unknown Webhook``); Slack accepts ``/services/T.../B.../secret`` and answers ``ok`` or
plain-text errors (``invalid_payload``, ``no_service``).
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image as PILImage

from tests.fakes.loopback import Answer, Fault, LoopbackServer, Request

# Fault comes from tests.fakes.loopback: tests script webhook failures as webhooks.Fault.
__all__ = [
    "DISCORD_ID",
    "DISCORD_TOKEN",
    "DISCORD_URL",
    "SLACK_PATH",
    "SLACK_URL",
    "FakeWebhooks",
    "Fault",
    "jpeg_bytes",
]

DISCORD_ID = "112233445566778899"
DISCORD_TOKEN = "dWbHkToKeN-fake_9f8e7d6c5b4a3928171615141312"
DISCORD_URL = f"https://discord.com/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
SLACK_PATH = "/services/T0FAKE001/B0FAKE002/sLaCkSeCrEt0123456789ab"
SLACK_URL = f"https://hooks.slack.com{SLACK_PATH}"


def jpeg_bytes(width: int = 800, height: int = 450) -> bytes:
    """A small JPEG of the given size."""
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (20, 120, 200)).save(out, "JPEG", quality=85)
    return out.getvalue()


# -- the webhook fake ----------------------------------------------------------------------


class FakeWebhooks(LoopbackServer):
    """One Discord webhook and one Slack incoming webhook; posts kept in ``discord`` and
    ``slack``. ``slack_error`` set to e.g. "no_service" makes Slack refuse every post."""

    def __init__(self) -> None:
        super().__init__()
        self.discord: list[dict[str, Any]] = []
        self.slack: list[dict[str, Any]] = []
        self.slack_error: str | None = None
        self.guild_id = "998877665544332211"
        self.channel_id = "887766554433221100"

    def route_of(self, method: str, path: str) -> str:
        if path.startswith("/api/webhooks/"):
            return "discord" if method == "POST" else "discord_get"
        if path.startswith("/services/"):
            return "slack"
        return "unknown"

    def handle(self, request: Request) -> Answer:
        if request.route in ("discord", "discord_get"):
            return self._discord(request)
        if request.route == "slack":
            return self._slack(request)
        return Answer(404, "Not Found")

    def _discord(self, request: Request) -> Answer:  # noqa: PLR0911 - Discord's checks
        _, _, rest = request.path.partition("/api/webhooks/")
        hook_id, _, token = rest.partition("/")
        if hook_id != DISCORD_ID:
            return Answer(404, {"message": "Unknown Webhook", "code": 10015})
        if token != DISCORD_TOKEN:
            return Answer(401, {"message": "Invalid Webhook Token", "code": 50027})
        if request.route == "discord_get":
            return Answer(200, self._webhook_object())
        body = request.json()
        if not isinstance(body, dict) or not (body.get("content") or body.get("embeds")):
            return Answer(400, {"message": "Cannot send an empty message", "code": 50006})
        if len(body.get("content", "")) > 2000:
            errors = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
            return Answer(400, {"message": "Invalid Form Body", "code": 50035, "errors": errors})
        message = {
            "id": str(1_300_000_000_000_000_000 + self.next_id()),
            "type": 0,
            "content": body.get("content", ""),
            "channel_id": self.channel_id,
            "embeds": body.get("embeds", []),
            "webhook_id": DISCORD_ID,
        }
        self.discord.append(body)
        if request.query.get("wait") == ["true"]:
            return Answer(200, message)
        return Answer(204)

    def _webhook_object(self) -> dict[str, Any]:
        return {
            "type": 1,
            "id": DISCORD_ID,
            "name": "Volt Lane News",
            "channel_id": self.channel_id,
            "guild_id": self.guild_id,
            "token": DISCORD_TOKEN,
        }

    def _slack(self, request: Request) -> Answer:  # noqa: PLR0911 - Slack's checks
        if request.path != SLACK_PATH:
            return Answer(404, "no_service")
        if self.slack_error is not None:
            return Answer(404 if self.slack_error == "no_service" else 400, self.slack_error)
        try:
            body = request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Answer(400, "invalid_payload")
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return Answer(400, "no_text")
        for block in body.get("blocks", []):
            if block.get("type") == "image" and not block.get("alt_text"):
                return Answer(400, "invalid_blocks")
            text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
            if len(text) > 3000:
                return Answer(400, "invalid_blocks")
        self.slack.append(body)
        return Answer(200, "ok")
