"""Fake Discord and Slack incoming webhooks on 127.0.0.1, and the small loopback server
the Mastodon and Telegram fakes build on.

    with FakeWebhooks() as hooks:
        hooks.fail("discord", Fault(status=429, body={"retry_after": 2.5, ...}))
        ...publish with api_base=hooks.base...
        [call] = hooks.calls_to("discord")

``LoopbackServer`` records every request (method, path, query, headers, body) as a
``Request``, serves images added with ``add_image`` under their path, and plays scripted
``Fault``s per route: an error status with a body and headers, a delay (beyond a client's
timeout), or a dropped connection before (``drop``) or after (``drop_after``) the request
took effect. Subclasses name routes (``route_of``) and answer them (``handle``).

The webhook fake answers like the platforms do: Discord executes a webhook at
``/api/webhooks/{id}/{token}`` (GET returns the webhook object, POST with ``wait=true``
the message; a wrong token answers 401 ``Invalid Webhook Token``, an unknown id 404
``Unknown Webhook``); Slack accepts ``/services/T.../B.../secret`` and answers ``ok`` or
plain-text errors (``invalid_payload``, ``no_service``).
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import itertools
import json
import socket
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, urlsplit

from PIL import Image as PILImage

DISCORD_ID = "112233445566778899"
DISCORD_TOKEN = "dWbHkToKeN-fake_9f8e7d6c5b4a3928171615141312"
DISCORD_URL = f"https://discord.com/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
SLACK_PATH = "/services/T0FAKE001/B0FAKE002/sLaCkSeCrEt0123456789ab"
SLACK_URL = f"https://hooks.slack.com{SLACK_PATH}"


@dataclass
class Fault:
    """A scripted answer for one request to a route."""

    status: int | None = None  # None: answer normally (after ``delay``)
    body: Any = None  # dict/list: JSON; str: plain text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # sleep first (then act and answer, like a slow server)
    drop: bool = False  # close the connection without acting or answering
    drop_after: bool = False  # act, then close without answering


@dataclass(frozen=True)
class Request:
    """One request the fake received."""

    route: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8")

    def form(self) -> dict[str, tuple[bytes, str | None]]:
        """Fields of a form body: name -> (bytes, part content type or None)."""
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            return {k: (v.encode(), None) for k, v in parse_qsl(self.body.decode())}
        if not kind.startswith("multipart/form-data"):
            return {}
        head = f"Content-Type: {kind}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        fields: dict[str, tuple[bytes, str | None]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            has_type = part.get("content-type") is not None
            fields[str(name)] = (payload or b"", part.get_content_type() if has_type else None)
        return fields


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list: JSON; str: plain text; None: empty
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1:0; see the module docstring."""

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.answers: list[tuple[Request, Answer]] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.images: dict[str, tuple[bytes, str]] = {}
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.images[path] = (data, content_type)
        return self.base + path

    def fail(self, route: str, *faults: Fault) -> None:
        """Answer the next requests to ``route`` with ``faults``, in order."""
        self.faults[route].extend(faults)

    def calls_to(self, route: str) -> list[Request]:
        return [c for c in self.calls if c.route == route]

    def next_id(self) -> int:
        return next(self._ids)

    def route_of(self, method: str, path: str) -> str:
        raise NotImplementedError

    def authorise(self, request: Request) -> Answer | None:
        """An error answer when the request lacks valid credentials, else None."""
        return None

    def handle(self, request: Request) -> Answer:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up early (timeouts) are expected: stay quiet."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        image = owner.images.get(split.path)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            # The client died mid-request (e.g. SIGKILL): a real server drops it unprocessed.
            self.close_connection = True
            return
        request = Request(
            route="image" if image else owner.route_of(method, split.path),
            method=method,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=raw,
        )
        with owner.lock:
            owner.calls.append(request)
            queue = owner.faults[request.route]
            fault = queue.pop(0) if queue else None
        if image is not None:
            self._send(Answer(200, image[0], {"Content-Type": image[1]}))
            return
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            self.close_connection = True
            return
        if fault is not None and fault.status is not None:
            answer = Answer(fault.status, fault.body, fault.headers)
        else:
            with owner.lock:
                answer = owner.authorise(request) or owner.handle(request)
        if fault is not None and fault.drop_after:
            self.close_connection = True
            return
        with owner.lock:
            owner.answers.append((request, answer))
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        headers = dict(answer.headers)
        if isinstance(answer.body, bytes):
            data = answer.body
        elif isinstance(answer.body, str):
            data = answer.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif answer.body is None:
            data = b""
        else:
            data = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(answer.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            return  # the client gave up waiting, as it should

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output quiet."""


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
