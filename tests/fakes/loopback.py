"""The threaded HTTP server on 127.0.0.1 every fake platform (and the feed server) runs on.

``Loopback`` owns the server: ``start``/``close`` or ``with``, ``base``/``url``, and what
to do when a handler raises (a client hanging up early is part of the tests; anything else
is printed, or kept in ``errors`` with ``record_errors``). ``LoopbackHandler`` is the
request handler base: quiet logs, ``read_body`` (which drops a request a killed client cut
off, as a real server does) and ``send_bytes``/``send_json``.

``LoopbackServer`` builds a scripted fake on top (the Discord/Slack, Mastodon and Telegram
fakes use it): every request is recorded as a ``Request``, images added with
``add_image`` are served under their path, and ``Fault``s play per route: an error status
with a body and headers, a delay (beyond a client's timeout), or a dropped connection
before (``drop``) or after (``drop_after``) the request took effect. Subclasses name
routes (``route_of``) and answer them (``handle``).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, urlsplit


class Loopback:
    """A threaded HTTP server on 127.0.0.1:0 serving ``handler``; see the module docstring."""

    poll_interval = 0.02  # how soon ``close`` stops the serving thread
    hangups: tuple[type[BaseException], ...] = (OSError,)  # client hang-ups: not errors
    record_errors = False  # keep other handler exceptions in ``errors`` instead of printing

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.errors: list[str] = []
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            daemon=True,
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

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
    owner: Loopback

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up early (size caps, timeouts) are expected: stay quiet. Anything
        else is a bug in the fake: printed, or kept for the test to fail on."""
        error = sys.exc_info()[1]
        if isinstance(error, self.owner.hangups):
            return
        if self.owner.record_errors:
            self.owner.errors.append(repr(error))
            return
        super().handle_error(request, client_address)


class LoopbackHandler(BaseHTTPRequestHandler):
    """Request handler base for the fakes; ``self.owner`` is the ``Loopback``."""

    protocol_version = "HTTP/1.1"
    nodelay = False  # TCP_NODELAY: answers written in two parts arrive without a 40 ms stall
    server: _Server

    @property
    def owner(self) -> Any:
        return self.server.owner

    def setup(self) -> None:
        super().setup()
        if self.nodelay:
            # Headers and body go out in two writes; without this, Nagle + delayed ACK
            # add 40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read_body(self) -> bytes | None:
        """The request body, or None when the client died mid-request (e.g. SIGKILL): the
        connection is closed and the request dropped unprocessed, as a real server would."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            self.close_connection = True
            return None
        return raw

    def dropped_before(self, fault: Any) -> bool:
        """Play a scripted fault's ``delay``; True when it then ``drop``s the request
        unprocessed and unanswered (the connection is closed)."""
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            self.close_connection = True
            return True
        return False

    def dropped_after(self, fault: Any) -> bool:
        """True when a scripted fault (``drop_after``) closes the connection once the
        request took effect, so the client never hears of it."""
        if fault is not None and fault.drop_after:
            self.close_connection = True
            return True
        return False

    def lower_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def send_bytes(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        """One answer: ``headers`` in order, then Content-Length, then ``data``."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(
        self,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str = "application/json; charset=UTF-8",
    ) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_bytes(status, data, {"Content-Type": content_type, **(headers or {})})

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output quiet."""


# -- the scripted fake the Discord/Slack, Mastodon and Telegram fakes build on ------------


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
        return multipart_fields(kind, self.body)


def multipart_fields(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None]]:
    """A multipart/form-data body's fields: name -> (bytes, part content type or None)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
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


class LoopbackServer(Loopback):
    """A scripted fake; see the module docstring."""

    def __init__(self) -> None:
        super().__init__(_ScriptedHandler)
        self.calls: list[Request] = []
        self.answers: list[tuple[Request, Answer]] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.images: dict[str, tuple[bytes, str]] = {}
        self.lock = threading.Lock()
        self._ids = itertools.count(1)

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


class _ScriptedHandler(LoopbackHandler):
    nodelay = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner: LoopbackServer = self.owner
        split = urlsplit(self.path)
        image = owner.images.get(split.path)
        raw = self.read_body()
        if raw is None:
            return
        request = Request(
            route="image" if image else owner.route_of(method, split.path),
            method=method,
            path=split.path,
            query=parse_qs(split.query),
            headers=self.lower_headers(),
            body=raw,
        )
        with owner.lock:
            owner.calls.append(request)
            queue = owner.faults[request.route]
            fault = queue.pop(0) if queue else None
        if image is not None:
            self._send(Answer(200, image[0], {"Content-Type": image[1]}))
            return
        if self.dropped_before(fault):
            return
        if fault is not None and fault.status is not None:
            answer = Answer(fault.status, fault.body, fault.headers)
        else:
            with owner.lock:
                answer = owner.authorise(request) or owner.handle(request)
        if self.dropped_after(fault):
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
        try:
            self.send_bytes(answer.status, data, headers)
        except OSError:
            return  # the client gave up waiting, as it should
