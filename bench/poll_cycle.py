"""Poll cycle over local feeds: first run, steady state with 304s, and the baseline of
the same steady state without conditional GET (every feed downloaded and parsed again),
beside a naive poller (one feed after the other, GET + feedparser every time).

``--latency`` delays every answer like a real network; ours polls
``service.poll_concurrency`` feeds at once (at most ``poll_per_host`` per host: raised
here, since every local feed is on one host).

Ours and the naive poller each run in a fresh child process (the feed server stays in
this one), so the peak resident memory printed for each (``VmHWM``, else ``ru_maxrss``)
is the poller's own: its interpreter, config, store and HTTP client, not the server's
copy of the feeds.

``--real``: the cold first poll only, of feeds made from real WordPress/news RSS and Atom
files of the shared corpus (read at run time, never copied here), each served feed made
distinct (its guids, ids and links rewritten per feed), so the first poll records every
item anew; the naive poller gets every feed too (``--naive-sample`` to shorten).

Run: python bench/poll_cycle.py [--feeds 200] [--items 20] [--latency 0.1]
     python bench/poll_cycle.py --real [--feeds 1000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser
import requests

from bot.app import open_pipeline
from bot.config import load_config
from bot.engine.polling import HostLimits, poll_many
from bot.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "feeds"
# Typical real feeds with full content, 55-390 KB: WordPress, news sites and blogs, RSS and
# Atom, UTF-8 and ISO-8859-1, two with whitespace before the XML declaration.
REAL_FEEDS = (
    "wp-rss2_dcrainmaker.xml",
    "wp-rss2_natasha.xml",
    "wp-rss2_allthis.xml",
    "wp-rss2_techcrunch_LEADING-WS.xml",
    "wp-rss2_tenderlovemaking_LEADING-WS.xml",
    "wp-atom_onefoottsunami.atom",
    "news-rss2_google-cloudblog.xml",
    "news-rss2_washingtonpost-wellness.xml",
    "news-rss2_golem-de_ISO-8859-1.xml",
    "blog-rss2_dustri-large.xml",
    "blog-atom_daringfireball.xml",
    "atom_tpm-empty-xml-base.atom",
)
_IDENTITY = re.compile(rb"(<(guid|id)\b[^>]*>)(.*?)(</\2>)", re.DOTALL)
_RSS_LINK = re.compile(rb"(<link>\s*(?:<!\[CDATA\[)?\s*[a-z]*://)")
_ATOM_HREF = re.compile(rb"(<link\b[^>]*?\bhref=[\"'][a-z]*://)")


def distinct(body: bytes, index: int) -> bytes:
    """``body`` with its guids/ids suffixed and its links on another host, per ``index``."""
    mark = f"f{index}".encode()

    def identity(m: re.Match[bytes]) -> bytes:
        text = m.group(3)
        if text.rstrip().endswith(b"]]>"):  # CDATA
            text = text.rstrip()[:-3].rstrip() + b"-" + mark + b"]]>"
        else:
            text = text.strip() + b"-" + mark
        return m.group(1) + text + m.group(4)

    body = _IDENTITY.sub(identity, body)
    host = b"\\1" + mark + b"."
    return _ATOM_HREF.sub(host, _RSS_LINK.sub(host, body))


def real_feeds(corpus: Path, n_feeds: int) -> dict[str, bytes] | None:
    """``n_feeds`` distinct feeds made from ``REAL_FEEDS`` in turn; None without a corpus."""
    paths = [corpus / name for name in REAL_FEEDS]
    if not all(path.is_file() for path in paths):
        return None
    sources = [path.read_bytes() for path in paths]
    return {f"/feed/{i}.xml": distinct(sources[i % len(sources)], i) for i in range(n_feeds)}


def make_feed(index: int, items: int) -> bytes:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    entries = []
    for j in range(items):
        stamp = format_datetime(now - timedelta(hours=j))
        entries.append(
            f"<item><title>Feed {index} story {j}: charging news</title>"
            f"<link>https://site{index}.example/{j}/</link><guid>s{index}-{j}</guid>"
            f"<pubDate>{stamp}</pubDate><description>Short excerpt {j}.</description>"
            f"<content:encoded><![CDATA[<p>{'Battery prices fell again. ' * 30}</p>]]>"
            "</content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Feed {index}</title><link>https://site{index}.example/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    feeds: ClassVar[dict[str, bytes]] = {}
    no_validators: ClassVar[Any] = None  # an Event: set, the server sends no ETag, no 304
    latency = 0.0
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers offer
    # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms
    # to every 200 answer (every one the naive poller gets), which no real server does.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        if self.latency:
            time.sleep(self.latency)
        body = self.feeds.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        conditional = not self.no_validators.is_set()
        if conditional and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        if conditional:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def cycle(pipe: Pipeline, names: list[str]) -> tuple[float, int]:
    """Seconds for one poll of every feed, and how many of the polls failed."""
    service = pipe.config.service
    start = time.perf_counter()
    reports = poll_many(
        names,
        pipe.poll,
        urls=lambda name: pipe.config.feed(name).url,
        in_flight=service.poll_concurrency,
        limits=HostLimits(service.poll_per_host),
    )
    elapsed = time.perf_counter() - start
    failed = [r for r in reports if r.error]
    for report in failed[:3]:
        print(f"poll failed: {report.error}", file=sys.stderr)
    return elapsed, len(failed)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    On Linux ``ru_maxrss`` keeps, across the exec that starts a spawned child, the size
    of the forked copy of its parent (here the feed server holding every feed), so the
    memory's own high-water mark since the exec, ``VmHWM``, is read there instead.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ours_first(cfg: str) -> tuple[float, int, int, float, float]:
    """The cold first poll only: seconds, failed polls, items recorded, CPU seconds (this
    process's and its parse workers'), and the peak resident memory (MB) of the largest
    parse worker (``ru_maxrss``: at most; 0 without any)."""
    config = load_config(Path(cfg), env={})
    names = [f.name for f in config.feeds]
    with open_pipeline(config) as pipe:
        cpu = time.process_time()
        secs, failed = cycle(pipe, names)
        cpu = time.process_time() - cpu
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # they have ended, waited for
    with contextlib.closing(sqlite3.connect(config.service.database)) as db:
        (items,) = db.execute("SELECT count(*) FROM items").fetchone()
    cpu += workers.ru_utime + workers.ru_stime
    return secs, failed, items, cpu, workers.ru_maxrss / 1024


def ours(cfg: str, no_validators: Any) -> list[tuple[float, int]]:
    """First run, steady state, then steady state once the server drops its validators."""
    config = load_config(Path(cfg), env={})
    names = [f.name for f in config.feeds]
    with open_pipeline(config) as pipe:
        first = cycle(pipe, names)
        steady = cycle(pipe, names)
        no_validators.set()  # baseline: a server/client without validators
        no_cond = cycle(pipe, names)
    return [first, steady, no_cond]


def _child(job: Any, args: tuple[Any, ...], out: Any) -> None:
    out.put((job(*args), peak_rss_mb()))


def in_child(job: Any, *args: Any) -> tuple[Any, float]:
    """``job(*args)`` in a fresh interpreter: its result and that process's peak RSS (MB)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_child, args=(job, args, out))
    process.start()
    result, rss = out.get()
    process.join()
    return result, rss


def naive_cycle(urls: list[str]) -> float:
    """What a simple bot does: each feed in turn, downloaded and parsed every time.
    Seconds per feed (it is timed on a sample: at 100 ms a feed, 10,000 take 20 minutes)."""
    return naive_timed(urls)[0] / len(urls)


def naive_timed(urls: list[str]) -> tuple[float, float]:
    """The naive poller over ``urls``: seconds, and CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    with requests.Session() as session:
        for url in urls:
            feedparser.parse(session.get(url, timeout=30).content)
    return time.perf_counter() - start, time.process_time() - cpu


def serve(feeds: dict[str, bytes], latency: float) -> ThreadingHTTPServer:
    """The loopback feed server, answering in a thread of this process."""
    Handler.feeds = feeds
    Handler.latency = latency
    Handler.no_validators = multiprocessing.get_context("spawn").Event()
    ThreadingHTTPServer.request_queue_size = 1024  # the default 5 drops bursts of connects
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_config(tmp: str, urls: list[str], concurrency: int) -> str:
    """A config polling every URL (no full-text pages), one outbox channel; its path."""
    cfg = Path(tmp) / "bench.toml"
    lines = [
        "[service]",
        f'database = "{tmp}/bench.db"',
        f'outbox = "{tmp}/outbox.jsonl"',
        "allow_private_addresses = true",
        f"poll_concurrency = {concurrency}",
        f"poll_per_host = {concurrency}",
    ]
    for i, url in enumerate(urls):
        lines += ["[[feeds]]", f'name = "f{i}"', f'url = "{url}"', 'full_text = "never"']
    lines += ["[[channels]]", 'name = "x-out"', 'platform = "x"', 'publisher = "outbox"']
    cfg.write_text("\n".join(lines) + "\n")
    return str(cfg)


def feed_urls(server: ThreadingHTTPServer, n_feeds: int) -> list[str]:
    return [f"http://127.0.0.1:{server.server_address[1]}/feed/{i}.xml" for i in range(n_feeds)]


def run_real(n_feeds: int, latency: float, concurrency: int, sample: int, corpus: Path) -> None:
    """The cold first poll of real-sized feeds: ours and the naive poller, one run."""
    feeds = real_feeds(corpus, n_feeds)
    if feeds is None:
        print(f"skipped: the feed corpus is not at {corpus} (--corpus DIR)")
        return
    server = serve(feeds, latency)
    urls = feed_urls(server, n_feeds)
    with tempfile.TemporaryDirectory() as tmp:
        (secs, failed, items, cpu, workers_rss), our_rss = in_child(
            ours_first, write_config(tmp, urls, concurrency)
        )
    timed = min(sample, n_feeds)
    (naive_secs, naive_cpu), naive_rss = in_child(naive_timed, urls[:timed])
    scale = n_feeds / timed
    naive_secs, naive_cpu = naive_secs * scale, naive_cpu * scale
    server.shutdown()
    kb = [len(body) // 1024 for body in feeds.values()]
    print(
        f"cold first poll of {n_feeds} real-sized feeds ({len(REAL_FEEDS)} corpus files in "
        f"turn, {min(kb)}-{max(kb)} KB, mean {sum(kb) // len(kb)}"
        f" KB, each made distinct), {latency * 1000:g} ms latency, {concurrency} in flight"
    )
    print(f"{'run':<44}{'seconds':>9}{'feeds/s':>9}{'CPU s':>8}{'failed':>8}{'peak MB':>9}")
    mine = f"ours: first poll ({items} items recorded)"
    print(f"{mine:<44}{secs:>9.2f}{n_feeds / secs:>9.1f}{cpu:>8.1f}{failed:>8}{our_rss:>9.0f}")
    label = f"naive serial poller ({timed} timed)"
    print(
        f"{label:<44}{naive_secs:>9.2f}{n_feeds / naive_secs:>9.1f}{naive_cpu:>8.1f}"
        f"{0:>8}{naive_rss:>9.0f}"
    )
    print(
        "CPU s: ours counts its parse worker processes too. peak MB: the poller's own "
        f"process (VmHWM); ours' largest parse worker peaked at no more than {workers_rss:.0f} MB"
    )
    print(f"first poll: ours {naive_secs / secs:.2f}x the naive poller (goal: 2x)")


def run(n_feeds: int, n_items: int, latency: float, concurrency: int, sample: int) -> None:
    server = serve({f"/feed/{i}.xml": make_feed(i, n_items) for i in range(n_feeds)}, latency)
    urls = feed_urls(server, n_feeds)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(tmp, urls, concurrency)
        (first, steady, no_cond), our_rss = in_child(ours, cfg, Handler.no_validators)
    Handler.no_validators.clear()  # the naive poller gets every feed whole anyway
    per_feed, naive_rss = in_child(naive_cycle, urls[:sample])
    naive = per_feed * n_feeds
    server.shutdown()
    print(
        f"poll cycle over {n_feeds} local feeds x {n_items} items, {latency * 1000:g} ms "
        f"latency, {concurrency} in flight (one run; shared machine: noisy)"
    )
    print(f"{'run':<46}{'seconds':>10}{'feeds/s':>10}{'failed':>8}{'peak MB':>9}")
    for label, (secs, failed), rss in (
        ("ours: first run (record all items)", first, our_rss),
        ("ours: steady state, conditional GET (304s)", steady, our_rss),
        ("ours: steady state, server without validators", no_cond, our_rss),
        (f"baseline: naive serial poller ({min(sample, n_feeds)} timed)", (naive, 0), naive_rss),
    ):
        print(f"{label:<46}{secs:>10.3f}{n_feeds / secs:>10.0f}{failed:>8}{rss:>9.0f}")
    print(
        "peak MB: peak resident memory of the poller's own process (VmHWM), ours over "
        "its three runs; the naive poller holds one feed at a time"
    )
    print(
        f"steady state: {naive / steady[0]:.1f}x the naive poller's feeds/s; without "
        f"validators {naive / no_cond[0]:.1f}x; first run {naive / first[0]:.1f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real", action="store_true", help="cold first poll of corpus feeds")
    parser.add_argument("--feeds", type=int, help="feeds polled (200; 1,000 with --real)")
    parser.add_argument("--items", type=int, default=20, help="items of a synthetic feed")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--naive-sample", type=int, help="feeds the naive poller gets (300; all with --real)"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the feed corpus (--real)")
    args = parser.parse_args()
    if args.real:
        n_feeds = args.feeds or 1000
        sample = args.naive_sample or n_feeds
        run_real(n_feeds, args.latency, args.concurrency, sample, args.corpus)
    else:
        n_feeds = args.feeds or 200
        run(n_feeds, args.items, args.latency, args.concurrency, args.naive_sample or 300)
