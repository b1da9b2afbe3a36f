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

Run: python bench/poll_cycle.py [--feeds 200] [--items 20] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
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
    start = time.perf_counter()
    with requests.Session() as session:
        for url in urls:
            feedparser.parse(session.get(url, timeout=30).content)
    return (time.perf_counter() - start) / len(urls)


def run(n_feeds: int, n_items: int, latency: float, concurrency: int, sample: int) -> None:
    Handler.feeds = {f"/feed/{i}.xml": make_feed(i, n_items) for i in range(n_feeds)}
    Handler.latency = latency
    Handler.no_validators = multiprocessing.get_context("spawn").Event()
    ThreadingHTTPServer.request_queue_size = 1024  # the default 5 drops bursts of connects
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    urls = [f"http://127.0.0.1:{port}/feed/{i}.xml" for i in range(n_feeds)]
    with tempfile.TemporaryDirectory() as tmp:
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
        (first, steady, no_cond), our_rss = in_child(ours, str(cfg), Handler.no_validators)
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
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--naive-sample", type=int, default=300, help="feeds the naive poller gets")
    args = parser.parse_args()
    run(args.feeds, args.items, args.latency, args.concurrency, args.naive_sample)
