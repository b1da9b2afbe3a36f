"""Hostile feeds through the real pipeline: each fails fast, small and named, or is read safely.

Every case serves a hostile feed and a healthy one from a real loopback server, polls both
with ``bot.app.open_pipeline`` and checks: the error (class and message naming the URL), the
wall time and the peak Python memory of the hostile poll, the feed's error count, and that
the healthy feed's post still reached the outbox. Measurements are test properties: see
them with ``--junitxml=out.xml -o junit_family=legacy``.
"""

from __future__ import annotations

import json
import sqlite3
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import brotli  # type: ignore[import-untyped]
import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import FeedError, FetchError, ParseError
from bot.feeds.sources import HttpFeedSource
from bot.pipeline import Pipeline, PollReport
from tests.feedserver import FeedServer

MAX_FEED_BYTES = 1_000_000
DEADLINE = 2.0
TIME_LIMIT = 10.0  # seconds for one hostile poll: generous, the limits above are small
MEMORY_LIMIT = 50_000_000  # bytes of peak Python allocation during one hostile poll
HEALTHY_URL = "https://ev.example/te/ather-450"


def rss(
    items: str, *, head: str = '<?xml version="1.0" encoding="UTF-8"?>', doctype: str = ""
) -> str:
    """An RSS 2.0 document around ``items``."""
    return (
        f'{head}{doctype}<rss version="2.0"><channel><title>EV Wire</title>'
        f"<link>https://ev.example/</link><language>en</language>{items}</channel></rss>"
    )


def item(number: int, *, title: str = "", guid: str | None = None) -> str:
    """One RSS item whose link is https://ev.example/s/NUMBER."""
    text = title or f"Charging story {number}"
    return (
        f"<item><title>{escape(text)}</title><link>https://ev.example/s/{number}</link>"
        f"<guid>{guid or f'story-{number}'}</guid>"
        f"<description>{escape(text)}: battery prices keep falling.</description></item>"
    )


HEALTHY = rss(
    "<item><title>ఏథర్ 450 కొత్త వెర్షన్ విడుదల</title>"
    f"<link>{HEALTHY_URL}</link><guid>te-1</guid>"
    "<description>బ్యాటరీ సామర్థ్యం పెరిగింది. புதிய மின்சார ஸ்கூட்டர்.</description></item>"
).encode()


@dataclass
class Run:
    """One hostile poll and what it cost."""

    report: PollReport
    error: FeedError | None
    seconds: float
    peak_bytes: int
    pipeline: Pipeline
    outbox: Path

    def items(self, feed: str = "hostile") -> list[tuple[str, str]]:
        db = self.pipeline.config.service.database
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT item_id, title FROM items WHERE feed = ?", (feed,))
            return [(str(a), str(b)) for a, b in rows]

    def outbox_text(self) -> str:
        return self.outbox.read_text(encoding="utf-8") if self.outbox.exists() else ""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        running.route("/healthy.xml", body=HEALTHY)
        yield running


@pytest.fixture
def run_poll(
    tmp_path: Path, server: FeedServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Run]]:
    """Poll the hostile feed at a path (measured), then the healthy feed, then deliver."""
    stack: list[Any] = []

    def run(path: str, *, full_text: str = "never", max_feed_bytes: int = MAX_FEED_BYTES) -> Run:
        written = _write_config(tmp_path, server, path, full_text, max_feed_bytes)
        config = load_config(written)
        context = open_pipeline(config)
        pipeline = context.__enter__()
        stack.append(context)
        source = pipeline.sources["hostile"]
        assert isinstance(source, HttpFeedSource)
        source.deadline = DEADLINE  # not a config key: see the report
        source.page_deadline = 1.0
        source.pages_budget = 3.0
        errors: list[FeedError] = []
        fetch = source.fetch

        def recording_fetch(**kwargs: Any) -> Any:
            try:
                return fetch(**kwargs)
            except FeedError as exc:
                errors.append(exc)
                raise

        source.fetch = recording_fetch  # type: ignore[method-assign]
        tracemalloc.start()
        started = time.monotonic()
        report = pipeline.poll("hostile")
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        request.node.user_properties.append(("seconds", round(seconds, 2)))
        request.node.user_properties.append(("peak_mb", round(peak / 1e6, 1)))
        pipeline.poll("healthy")
        pipeline.deliver()
        return Run(
            report,
            errors[-1] if errors else None,
            seconds,
            peak,
            pipeline,
            tmp_path / "outbox.jsonl",
        )

    yield run
    for context in stack:
        context.__exit__(None, None, None)


def _write_config(
    tmp_path: Path, server: FeedServer, path: str, full_text: str, max_feed_bytes: int
) -> Path:
    lines = [
        "[service]",
        f'database = "{tmp_path / "state.db"}"',
        f'outbox = "{tmp_path / "outbox.jsonl"}"',
        'poll_interval = "1m"',
        'jitter = "0s"',
        'timeout = "5s"',
        f"max_feed_bytes = {max_feed_bytes}",
        "allow_private_addresses = true",  # the test server is on loopback
        "[[feeds]]",
        'name = "hostile"',
        f'url = "{server.url(path)}"',
        'catch_up = "newest"',  # "all" would queue 500 posts ahead of the healthy one
        f'full_text = "{full_text}"',
        "[[feeds]]",
        'name = "healthy"',
        f'url = "{server.url("/healthy.xml")}"',
        'catch_up = "all"',
        'full_text = "never"',
        "[[channels]]",
        'name = "mastodon-out"',
        'platform = "mastodon"',
        'publisher = "outbox"',
    ]
    config = tmp_path / "syndbot.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def assert_contained(run: Run, *, errors: int) -> None:
    """Fast, small, counted; the healthy feed in the same run still delivered its post."""
    assert run.seconds < TIME_LIMIT, f"hostile poll took {run.seconds:.1f}s"
    assert run.peak_bytes < MEMORY_LIMIT, f"hostile poll peaked at {run.peak_bytes / 1e6:.0f} MB"
    state = run.pipeline.store.feed_state("hostile")
    assert state.consecutive_errors == errors
    if errors:
        assert state.last_error == run.report.error
    delivered = [json.loads(line) for line in run.outbox_text().splitlines()]
    assert any(HEALTHY_URL in record["article_url"] for record in delivered)


def assert_failed(run: Run, kind: type[FeedError], message: str, url: str) -> None:
    """The poll failed with ``kind`` whose text names ``url`` and matches ``message``."""
    assert isinstance(run.error, kind), f"expected {kind.__name__}, got {run.error!r}"
    assert run.error.url == url
    assert str(run.error).startswith(url)
    assert message in str(run.error), str(run.error)
    assert run.report.error == str(run.error)
    assert_contained(run, errors=1)
    assert run.items() == []


# ---- the download -------------------------------------------------------------------------


def test_endless_slow_body_gives_up_at_the_deadline(server: FeedServer, run_poll: Any) -> None:
    """A body dripped forever ends at the feed deadline with 'gave up after 2 s'."""
    server.route("/drip.xml", drip=(b"<rss>", 0.05))
    run = run_poll("/drip.xml")
    assert_failed(run, FetchError, f"gave up after {DEADLINE:g} s", server.url("/drip.xml"))
    assert run.seconds < DEADLINE + 2


def test_endless_slow_headers_give_up_at_the_deadline(server: FeedServer, run_poll: Any) -> None:
    """Header bytes dripped just inside the read timeout still end at the feed deadline."""
    server.route("/slow-head.xml", header_drip=0.05)
    run = run_poll("/slow-head.xml")
    assert_failed(run, FetchError, f"gave up after {DEADLINE:g} s", server.url("/slow-head.xml"))
    assert run.seconds < DEADLINE + 2


def _zeros(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"\0" * chunk
    for _ in range(total // chunk):
        yield block


def test_hundred_megabyte_body_stops_at_max_feed_bytes(server: FeedServer, run_poll: Any) -> None:
    """100 MB streamed without a length is cut off at max_feed_bytes, in little memory."""
    server.route("/huge.xml", stream=lambda: _zeros(100_000_000, 65_536))
    run = run_poll("/huge.xml")
    assert_failed(run, FetchError, f"larger than {MAX_FEED_BYTES:,} bytes", server.url("/huge.xml"))


def _gzip_bomb() -> Iterator[bytes]:
    """10 GB of zeros, gzip-compressed as it is sent (about 10 MB on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for block in _zeros(10 * 1024**3):
        yield compressor.compress(block)
    yield compressor.flush()


def _brotli_bomb() -> Iterator[bytes]:
    compressor = brotli.Compressor(quality=1)
    for block in _zeros(10 * 1024**3):
        yield compressor.process(block)
    yield compressor.finish()


@pytest.mark.parametrize(("encoding", "bomb"), [("gzip", _gzip_bomb), ("br", _brotli_bomb)])
def test_compression_bomb_stops_after_max_feed_bytes_decoded(
    server: FeedServer, run_poll: Any, encoding: str, bomb: Callable[[], Iterator[bytes]]
) -> None:
    """Content-Encoding: gzip/br of 10 GB of zeros stops at max_feed_bytes of decoded data."""
    server.route("/bomb.xml", stream=bomb, headers={"Content-Encoding": encoding})
    run = run_poll("/bomb.xml")
    assert_failed(run, FetchError, "(after decompression)", server.url("/bomb.xml"))


def test_redirect_loop_is_named(server: FeedServer, run_poll: Any) -> None:
    """/a -> /b -> /a ... fails as a redirect loop after five hops."""
    server.redirect("/loop-a.xml", "/loop-b.xml")
    server.redirect("/loop-b.xml", "/loop-a.xml")
    run = run_poll("/loop-a.xml")
    assert_failed(run, FetchError, "redirect loop", server.url("/loop-a.xml"))


def test_thousand_redirects_stop_after_five(server: FeedServer, run_poll: Any) -> None:
    """A chain of 1,000 redirects costs six requests, not a thousand."""
    for hop in range(1000):
        server.redirect(f"/hop/{hop}", f"/hop/{hop + 1}")
    run = run_poll("/hop/0")
    assert_failed(run, FetchError, "more than 5 redirects", server.url("/hop/0"))
    assert len([r for r in server.requests if r.path.startswith("/hop/")]) == 6


def test_connection_closed_mid_body_is_named(server: FeedServer, run_poll: Any) -> None:
    """A body shorter than its Content-Length is a fetch error, not a truncated feed."""
    body = rss(item(1) + item(2)).encode()
    headers = {"Content-Length": str(len(body) + 500), "Connection": "close"}
    server.route("/short.xml", body=body, headers=headers)
    run = run_poll("/short.xml")
    assert_failed(run, FetchError, "closed before the whole body arrived", server.url("/short.xml"))


# ---- the document -------------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


def test_billion_laughs_is_refused_at_once(server: FeedServer, run_poll: Any) -> None:
    """Nested entity declarations are refused before any expansion."""
    body = rss(
        "<item><title>&lol9;</title><link>https://ev.example/x</link>"
        "<description>&lol9;</description></item>",
        doctype=LAUGHS,
    )
    server.route("/laughs.xml", body=body.encode())
    run = run_poll("/laughs.xml")
    assert_failed(run, ParseError, "entity-expansion", server.url("/laughs.xml"))
    assert run.seconds < 1


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
        '<!-- a comment first --><!DOCTYPE rss [<!ENTITY xxe PUBLIC "x" "file:///etc/passwd">]>',
    ],
)
def test_external_entity_never_reads_local_files(
    server: FeedServer, run_poll: Any, doctype: str
) -> None:
    """An XXE reference to /etc/passwd is refused; the file never shows up anywhere."""
    body = rss(
        "<item><title>Leak &xxe;</title><link>https://ev.example/x</link>"
        "<description>Leak: &xxe;</description></item>",
        doctype=doctype,
    )
    server.route("/xxe.xml", body=body.encode())
    run = run_poll("/xxe.xml")
    assert_failed(run, ParseError, "XXE", server.url("/xxe.xml"))
    assert "root:" not in run.outbox_text()


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"<!doctype html><html><head><title>Volt</title></head><body>Hi</body></html>",
            "text/html; charset=utf-8",
            "HTML page",
        ),
        (
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 40,
            "image/png",
            "the server sent image/png",
        ),
        (b"", "application/rss+xml", "the document is empty"),
        (b"   \r\n\t ", "application/rss+xml", "the document is empty"),
    ],
    ids=["html", "png", "empty", "blank"],
)
def test_non_feed_content_is_a_named_parse_error(
    server: FeedServer, run_poll: Any, body: bytes, content_type: str, message: str
) -> None:
    """HTML, an image or an empty 200 is a ParseError saying what arrived instead."""
    server.route("/not-a-feed", body=body, content_type=content_type)
    run = run_poll("/not-a-feed")
    assert_failed(run, ParseError, message, server.url("/not-a-feed"))


# ---- documents that are broken but still readable -----------------------------------------


def test_utf8_bytes_declared_as_windows_1252_are_read_as_utf8(
    server: FeedServer, run_poll: Any
) -> None:
    """Hindi UTF-8 text claiming windows-1252 is read correctly, with a warning."""
    body = rss(
        item(1, title="टाटा की नई इलेक्ट्रिक कार"),
        head='<?xml version="1.0" encoding="windows-1252"?>',
    )
    server.route("/enc.xml", body=body.encode(), content_type="text/xml; charset=windows-1252")
    run = run_poll("/enc.xml")
    assert run.report.error is None
    assert run.items() == [("story-1", "टाटा की नई इलेक्ट्रिक कार")]
    assert any("bytes are UTF-8" in w for w in run.report.warnings)
    assert_contained(run, errors=0)


def test_illegal_control_characters_are_removed(server: FeedServer, run_poll: Any) -> None:
    """Control characters XML forbids (raw or as &#1;) never reach a stored title."""
    body = rss(
        item(1, title="Ola\x01 S1\x0b Pro") + item(2).replace("Charging", "Fast&#1; charging")
    )
    server.route("/ctrl.xml", body=body.encode())
    run = run_poll("/ctrl.xml")
    assert sorted(run.items()) == [("story-1", "Ola S1 Pro"), ("story-2", "Fast charging story 2")]
    assert any("control characters" in w for w in run.report.warnings)
    assert_contained(run, errors=0)


def test_truncated_document_keeps_complete_items_only(server: FeedServer, run_poll: Any) -> None:
    """A document cut inside item 3 records items 1-2; the half item is not posted."""
    whole = rss(item(1) + item(2) + item(3)).encode()
    cut = whole[: whole.index(b"https://ev.example/s/3") + len(b"https://ev.example/s")]
    server.route("/truncated.xml", body=cut)
    run = run_poll("/truncated.xml")
    assert sorted(run.items()) == [("story-1", "Charging story 1"), ("story-2", "Charging story 2")]
    assert any("truncated" in w for w in run.report.warnings)
    assert_contained(run, errors=0)


def test_twenty_thousand_items_are_capped_quickly(server: FeedServer, run_poll: Any) -> None:
    """20,000 items: the first 500 are read, with a warning, in bounded time."""
    body = rss("".join(item(n) for n in range(20_000))).encode()
    server.route("/many.xml", body=body)
    run = run_poll("/many.xml", max_feed_bytes=len(body) + 1)
    assert len(run.items()) == 500
    assert any("more than 500 items" in w for w in run.report.warnings)
    assert_contained(run, errors=0)


def test_guids_changing_between_polls_do_not_repost(server: FeedServer, run_poll: Any) -> None:
    """Same links under new guids on the next poll: nothing new, nothing queued again."""
    route = server.route("/guids.xml", body=rss(item(1, guid="a-1") + item(2, guid="a-2")).encode())
    original = route.body

    def swap_guids() -> None:
        route.body = original.replace(b"<guid>a-", b"<guid>b-")

    run = run_poll("/guids.xml")
    swap_guids()
    second = run.pipeline.poll("hostile")
    assert second.error is None
    assert (second.new, second.queued) == (0, 0)
    assert sorted(i for i, _ in run.items()) == ["a-1", "a-2"]
    posted = [json.loads(line)["article_url"] for line in run.outbox_text().splitlines()]
    run.pipeline.deliver()
    assert len(run.outbox_text().splitlines()) == len(posted)
    assert_contained(run, errors=0)


# ---- hostile article pages (full_text = "auto") -------------------------------------------


@pytest.mark.parametrize("page", ["drip", "bomb", "png", "loop"])
def test_hostile_article_page_only_warns(server: FeedServer, run_poll: Any, page: str) -> None:
    """An excerpt-only item whose page is hostile is recorded with its excerpt and a warning."""
    if page == "drip":
        server.route("/page", drip=(b"<p>", 0.05), content_type="text/html")
    elif page == "bomb":
        server.route(
            "/page",
            stream=_gzip_bomb,
            headers={"Content-Encoding": "gzip"},
            content_type="text/html",
        )
    elif page == "png":
        server.route("/page", body=b"\x89PNG\r\n\x1a\n" + bytes(300), content_type="image/png")
    else:
        server.redirect("/page", "/page")
    feed = rss(
        f"<item><title>Ather Rizta review</title><link>{server.url('/page')}</link>"
        "<guid>rizta</guid><description>Short teaser.</description></item>"
    )
    server.route("/teasers.xml", body=feed.encode())
    run = run_poll("/teasers.xml", full_text="auto")
    assert run.report.error is None
    assert run.items() == [("rizta", "Ather Rizta review")]
    assert any("full text unavailable, using the excerpt" in w for w in run.report.warnings)
    stored = run.pipeline.store.deliveries(channel="mastodon-out")
    rizta = [d for d in stored if d.item_id == "rizta"]
    assert rizta
    assert "Short teaser" in rizta[0].article.excerpt_html
    assert_contained(run, errors=0)


def test_many_slow_pages_share_one_time_budget(server: FeedServer, run_poll: Any) -> None:
    """Ten dripping article pages cost the poll's page budget, not ten page deadlines."""
    server.route("/slow-page", drip=(b"<p>", 0.05), content_type="text/html")
    items = "".join(
        f"<item><title>Teaser {n}</title><link>{server.url('/slow-page')}?n={n}</link>"
        f"<guid>t-{n}</guid><description>Short.</description></item>"
        for n in range(10)
    )
    server.route("/slow-pages.xml", body=rss(items).encode())
    run = run_poll("/slow-pages.xml", full_text="auto")
    assert len(run.items()) == 10
    assert run.seconds < 3.0 + 1.0 + 2.0  # pages budget + one page deadline + slack
    assert any("not fetched yet" in w for w in run.report.warnings)
    assert_contained(run, errors=0)
