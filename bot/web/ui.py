"""The web page under ``/ui``: overview, review queue, history, failed and skipped posts.

Server-rendered (Jinja2, autoescaped: feed text is hostile input), no script at all; the
Content-Security-Policy forbids scripts, so an escape that slipped would still not run. The
actions call the same library functions as the CLI (``bot.engine.queue``, ``Store.retry_failed``)
and each is logged with who did what: ``ui: approve delivery 12 by admin@127.0.0.1``.

    routes = ui_routes(config, store, clock=clock)  # [Mount("/ui", ...)] or []
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.compose.edit import editable_text
from bot.config import Config
from bot.engine import queue
from bot.protocols import Store
from bot.status import gather_status
from bot.web.ui_auth import COOKIE, SESSION_HOURS, Guard, Refused, csrf_token, session_key, who

log = logging.getLogger("syndbot.http")
TEMPLATES = Path(__file__).parent / "templates"
HISTORY_SHOWN = 50
MAX_FORM_BYTES = 256 * 1024  # an edited thread is a few KiB
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src http: https: data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request], Response]


def safe_url(url: object) -> str:
    """``url`` when it is http(s), else "" (a feed's ``javascript:`` link must not be a link)."""
    text = str(url or "")
    return text if urlsplit(text).scheme.lower() in ("http", "https") else ""


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded body the page's forms send (no multipart: no upload on this page)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Refused(403, f"not a form post ({kind or 'no content type'})")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Refused(413, "form too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def ui_routes(config: Config, store: Store, *, clock: Callable[[], datetime]) -> list[BaseRoute]:
    """``/ui`` mounted when ``[http] ui = true``, else nothing."""
    if config.http is None or not config.http.ui:
        return []
    login = "password login" if config.http.ui_password else "no login: loopback only"
    log.info("http: the web page on /ui (%s)", login)
    return [Mount("/ui", app=build_ui(config, store, clock=clock))]


# One closure per route keeps the page's wiring readable in one place.
def build_ui(  # noqa: PLR0915
    config: Config, store: Store, *, clock: Callable[[], datetime]
) -> Starlette:
    """The page as a Starlette app with its own session cookie (path ``/ui``)."""
    assert config.http is not None
    guard = Guard(config.http)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = _when
    env.globals["editable_text"] = editable_text

    def render(request: Request, name: str, status: int = 200, **values: Any) -> Response:
        page = env.get_template(name).render(
            csrf=csrf_token(request),
            flash=request.session.pop("flash", None),
            login_needed=guard.login_needed,
            page=name.removesuffix(".html"),
            **values,
        )
        return HTMLResponse(page, status_code=status, headers=HEADERS)

    def back(request: Request, to: str, message: str, *, error: bool = False) -> Response:
        request.session["flash"] = {"text": message, "error": error}
        return RedirectResponse(f"/ui{to}", status_code=303, headers=HEADERS)

    def guarded(
        handler: Handler, *, login_page: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                guard.check(request, login_page=login_page)
                if request.method == "POST":
                    form = await _read_form(request)
                    guard.check_form(request, form)
                    request.state.form = form
            except Refused as refused:
                if refused.status == 303:
                    return RedirectResponse("/ui/login", status_code=303, headers=HEADERS)
                log.warning(
                    "ui: refused %s %s from %s: %s",
                    request.method,
                    request.url.path,
                    who(request),
                    refused.reason,
                )
                return PlainTextResponse(
                    f"Refused: {refused.reason}", refused.status, headers=HEADERS
                )
            # The store is synchronous: its calls must not stall the event loop (/healthz).
            return await run_in_threadpool(handler, request)

        return endpoint

    def login_page(request: Request) -> Response:
        return render(request, "login.html", error=None)

    def login(request: Request) -> Response:
        password = str(request.state.form.get("password", ""))
        try:
            ok = guard.log_in(request, password)
        except Refused as refused:
            return render(request, "login.html", refused.status, error=refused.reason.capitalize())
        if ok:
            return RedirectResponse("/ui/", status_code=303, headers=HEADERS)
        return render(request, "login.html", 403, error="Wrong password.")

    def logout(request: Request) -> Response:
        log.info("ui: logout by %s", who(request))
        request.session.clear()
        return RedirectResponse("/ui/login", status_code=303, headers=HEADERS)

    def overview(request: Request) -> Response:
        report = gather_status(config, store, clock())
        queues = {
            q.channel: len(q.entries)
            for q in queue.list_queue(store, config, clock(), skipped_shown=0)
        }
        return render(request, "overview.html", report=report, queues=queues)

    def queue_page(request: Request) -> Response:
        queues = queue.list_queue(store, config, clock())
        return render(request, "queue.html", queues=queues, refused=None)

    def history(request: Request) -> Response:
        sent = store.deliveries(status="sent")
        newest = sorted(sent, key=lambda d: (d.updated or clock(), d.id), reverse=True)
        return render(request, "history.html", sent=newest[:HISTORY_SHOWN], total=len(sent))

    def problems(request: Request) -> Response:
        report = gather_status(config, store, clock(), limit=HISTORY_SHOWN)
        return render(request, "problems.html", report=report)

    def act(request: Request) -> Response:
        """approve / skip / edit one waiting delivery (``/ui/queue/{id}/{action}``)."""
        delivery_id = int(request.path_params["id"])
        action = request.path_params["action"]
        if action not in ("approve", "skip", "edit"):
            return PlainTextResponse("Not Found", 404, headers=HEADERS)
        form = request.state.form
        now = clock()
        try:
            if action == "approve":
                queue.approve(store, delivery_id, now)
            elif action == "skip":
                queue.skip(store, delivery_id, now, reason=str(form.get("reason", "")))
            else:
                queue.edit(store, delivery_id, str(form.get("text", "")), now)
        except queue.EditInvalid as exc:
            log.info("ui: edit of delivery %d refused (%s) by %s", delivery_id, exc, who(request))
            refused = {
                "id": delivery_id,
                "message": str(exc),
                "length": exc.length,
                "text": str(form.get("text", "")),
            }
            queues = queue.list_queue(store, config, now)
            return render(request, "queue.html", 422, queues=queues, refused=refused)
        except queue.QueueError as exc:
            return back(request, "/queue", str(exc), error=True)
        done = {"approve": "approved", "skip": "skipped", "edit": "edited and approved"}[action]
        log.info("ui: %s delivery %d by %s", action, delivery_id, who(request))
        return back(request, "/queue", f"Delivery {delivery_id} {done}.")

    def retry(request: Request) -> Response:
        """Queue failed deliveries again (one channel, or all) and resume paused channels."""
        channel = str(request.state.form.get("channel", "")) or None
        names = [channel] if channel else [c.name for c in config.channels]
        if channel is not None and channel not in {c.name for c in config.channels}:
            return back(request, "/problems", f"No channel named {channel}.", error=True)
        resumed = [n for n in names if store.channel_paused(n)]
        for name in resumed:
            store.resume_channel(name)
        count = store.retry_failed(channel=channel, now=clock())
        log.info(
            "ui: retry %s (%d re-queued%s) by %s",
            channel or "all channels",
            count,
            f", resumed {', '.join(resumed)}" if resumed else "",
            who(request),
        )
        return back(request, "/problems", f"Re-queued {count} failed deliveries.")

    async def stylesheet(request: Request) -> Response:
        css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    return Starlette(
        routes=[
            Route("/style.css", stylesheet, methods=["GET"]),
            Route("/login", guarded(login_page, login_page=True), methods=["GET"]),
            Route("/login", guarded(login, login_page=True), methods=["POST"]),
            Route("/logout", guarded(logout), methods=["POST"]),
            Route("/", guarded(overview), methods=["GET"]),
            Route("/queue", guarded(queue_page), methods=["GET"]),
            Route("/queue/{id:int}/{action:str}", guarded(act), methods=["POST"]),
            Route("/history", guarded(history), methods=["GET"]),
            Route("/problems", guarded(problems), methods=["GET"]),
            Route("/retry", guarded(retry), methods=["POST"]),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_key(),
                session_cookie=COOKIE,
                max_age=SESSION_HOURS * 3600,
                path="/ui",
                same_site="strict",
            )
        ],
    )
