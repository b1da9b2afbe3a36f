"""``POST /ping`` (XML-RPC ``weblogUpdates``) and ``POST /websub`` (``hub.mode=publish``).

What WordPress sends when a post is published: core pings each "Update Services" URL with
``weblogUpdates.extendedPing(name, home, feed)`` (``weblogUpdates.ping(name, home)`` if
that fails), and the WebSub plugin posts ``hub.mode=publish&hub.url=<feed>`` to its hubs.
Both only name URLs; ``bot.push.Nudger`` decides which configured feed to poll early.

Bodies are capped at ``MAX_BODY`` bytes. XML with a DOCTYPE (entity tricks) is refused
before ``xmlrpc.client`` sees it; anything unparsable gets an XML-RPC fault, never a 500.
"""

from __future__ import annotations

import logging
import xmlrpc.client
from typing import Any
from urllib.parse import parse_qs
from xml.parsers import expat

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.push import Nudger, Verdict
from bot.websub import CALLBACK_PATH, Subscriber

log = logging.getLogger("syndbot.push")
MAX_BODY = 64 * 1024
MAX_NOTICE = 10 * 1024 * 1024  # a WebSub notice carries the whole feed
XML = "text/xml; charset=utf-8"
# Fault codes from the XML-RPC "specification for fault code interoperability".
PARSE_ERROR, NO_METHOD, BAD_PARAMS = -32700, -32601, -32602
PING_METHODS = ("weblogUpdates.ping", "weblogUpdates.extendedPing")


class _TooLarge(Exception):
    pass


def push_routes(nudger: Nudger) -> list[Route]:
    """The two push endpoints, answering through ``nudger``."""

    async def ping(request: Request) -> Response:
        try:
            body = await _body(request)
        except _TooLarge:
            return _fault(PARSE_ERROR, f"request larger than {MAX_BODY} bytes")
        try:
            params, method = _parse_call(body)
        except Exception as exc:  # expat, xmlrpc and type errors alike: the sender's fault
            return _fault(PARSE_ERROR, f"not an XML-RPC call: {type(exc).__name__}")
        if method not in PING_METHODS:
            return _fault(NO_METHOD, f"unknown method {str(method)[:80]!r}; use {PING_METHODS}")
        if len(params) < 2 or not all(isinstance(p, str) for p in params[:2]):
            return _fault(BAD_PARAMS, f"{method} takes (name, url, ...) as strings")
        # ping(name, url); extendedPing(name, url, changes_url, feed_url[, tags]).
        urls = [p for p in params[1:4] if isinstance(p, str)]
        verdict = nudger.nudge(urls, source=_source(request))
        _log(verdict, method, urls, request)
        return _ping_answer(verdict)

    async def websub(request: Request) -> Response:
        try:
            body = await _body(request)
        except _TooLarge:
            return PlainTextResponse(f"request larger than {MAX_BODY} bytes", status_code=413)
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=64)
        if form.get("hub.mode", [""])[0] != "publish":
            return PlainTextResponse(
                "hub.mode must be publish: syndbot takes publish notifications only",
                status_code=400,
            )
        urls = [u for key in ("hub.url", "hub.url[]", "hub.topic") for u in form.get(key, [])]
        if not urls:
            return PlainTextResponse("hub.url or hub.topic is required", status_code=400)
        verdict = nudger.nudge(urls, source=_source(request))
        _log(verdict, "websub publish", urls, request)
        if verdict.limited:
            wait = str(max(1, round(verdict.retry_after)))
            return PlainTextResponse(
                "too many requests", status_code=429, headers={"Retry-After": wait}
            )
        if not verdict.matched:
            return PlainTextResponse("no feed syndbot polls is at that URL", status_code=400)
        return Response(status_code=204)

    return [
        Route("/ping", ping, methods=["POST"]),
        Route("/websub", websub, methods=["POST"]),
    ]


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused beyond ``limit`` bytes without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _no_dtd(*args: Any) -> None:
    raise ValueError("a DOCTYPE or entity declaration is not allowed")


def _parse_call(body: bytes) -> tuple[tuple[Any, ...], str | None]:
    """(params, method) of an XML-RPC call; raises on malformed XML or any DOCTYPE."""
    # A first pass refuses DTDs, so no entity is ever declared, let alone expanded.
    guard = expat.ParserCreate()
    guard.StartDoctypeDeclHandler = _no_dtd
    guard.EntityDeclHandler = _no_dtd
    guard.Parse(body, True)
    params, method = xmlrpc.client.loads(body)
    return params, method


def _fault(code: int, message: str) -> Response:
    fault = xmlrpc.client.Fault(code, message)
    return Response(xmlrpc.client.dumps(fault, methodresponse=True), media_type=XML)


def _ping_answer(verdict: Verdict) -> Response:
    """The documented ``weblogUpdates`` answer: a struct of ``flerror`` and ``message``."""
    if verdict.limited:
        error, message = True, f"too many pings; try again in {verdict.retry_after:.0f} s"
    elif not verdict.matched:
        error, message = True, "no feed syndbot polls is at that URL"
    else:
        error, message = False, "Thanks for the ping."
    answer = ({"flerror": error, "message": message},)
    return Response(xmlrpc.client.dumps(answer, methodresponse=True), media_type=XML)


def _source(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _log(verdict: Verdict, what: str, urls: list[str], request: Request) -> None:
    named = ", ".join(repr(u[:200]) for u in urls[:4])
    if verdict.limited:
        log.info("push %s from %s refused: too many", what, _source(request))
    elif verdict.matched:
        log.info(
            "push %s from %s: polling %s soon", what, _source(request), ", ".join(verdict.feeds)
        )
    else:
        log.info("push %s from %s ignored: %s is no configured feed", what, _source(request), named)


def websub_callback_routes(subscriber: Subscriber) -> list[Route]:
    """``/websub/callback/{token}``: a hub's intent verification (GET) and notices (POST)."""

    def verify(request: Request) -> Response:
        token = request.path_params["token"]
        challenge = subscriber.verify(token, dict(request.query_params))
        if challenge is None:
            return PlainTextResponse("no such subscription", status_code=404)
        return PlainTextResponse(challenge)

    async def notice(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            body = await _body(request, limit=MAX_NOTICE)
        except _TooLarge:
            body = b""  # still answered 2xx below; an empty body never matches a signature
        accepted = subscriber.notified(token, body, request.headers.get("x-hub-signature"))
        if accepted is None:
            return PlainTextResponse("gone", status_code=410)  # tells the hub to drop it
        return Response(status_code=202)  # a bad signature is dropped, but still 2xx

    return [
        Route(CALLBACK_PATH + "{token}", verify, methods=["GET"]),
        Route(CALLBACK_PATH + "{token}", notice, methods=["POST"]),
    ]
