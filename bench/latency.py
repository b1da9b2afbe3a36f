"""Latency from an article appearing in a feed to its post leaving for an outbox channel,
with a push (a WordPress-style ``weblogUpdates.extendedPing`` to ``/ping``) and with polling
alone, side by side from one run.

Two ``syndbot run`` services run in this process, each on its own loopback feed and
outbox: one with ``[http] push = true``, one without. The same articles appear in both
feeds at the same instant (a new item, a new ETag); the push service is pinged at once, as
WordPress does on publish. The latency of an article is the time until its line is in the
service's outbox file. Both services poll every ``--interval`` seconds plus up to
``--jitter`` (the push service keeps polling too).

Run: python bench/latency.py [--articles 24] [--interval 10] [--jitter 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import open_pipeline, run_service
from bot.config import load_config

DELIVER_INTERVAL = 15.0  # the default: a poll that queues a post starts its delivery at once


class Feeds(BaseHTTPRequestHandler):
    """Serves /push.xml and /poll.xml from ``items`` (newest first), with ETags."""

    items: ClassVar[dict[str, list[int]]] = {"/push.xml": [], "/poll.xml": []}
    lock = threading.Lock()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.lock:
            if path not in self.items:
                self.send_error(404)
                return
            numbers = list(self.items[path])
        etag = f'"{len(numbers)}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        body = _rss(numbers).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _link(number: int) -> str:
    return f"https://volt.example/news/{number}"


def _rss(numbers: list[int]) -> str:
    items = "".join(
        f"<item><guid>n{n}</guid><title>Charging network news number {n}</title>"
        f"<link>{_link(n)}</link><description>Article {n} about new chargers on the "
        f"highway.</description><pubDate>{formatdate(1_700_000_000 + n, usegmt=True)}"
        "</pubDate></item>"
        for n in reversed(numbers)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Volt Lane</title><link>https://volt.example/</link>{items}</channel></rss>"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, name: str, feed: str, *, push: bool, args: argparse.Namespace) -> Path:
    port = _free_port()
    text = f"""[service]
database = "{root / name}.db"
outbox = "{root / name}.jsonl"
poll_interval = "{args.interval}s"
jitter = "{args.jitter}s"
deliver_interval = "{DELIVER_INTERVAL}s"
allow_private_addresses = true

[http]
listen = "127.0.0.1:{port}"
push = {"true" if push else "false"}

[[feeds]]
name = "{name}"
url = "{feed}"
catch_up = "none"
full_text = "never"

[[channels]]
name = "{name}-out"
platform = "mastodon"
publisher = "outbox"
"""
    path = root / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def _service(path: Path) -> Iterator[str]:
    """A running service for the config at ``path``; yields its base URL."""
    config = load_config(path, env={})
    assert config.http is not None
    stop = threading.Event()
    with open_pipeline(config) as pipeline:
        thread = threading.Thread(
            target=run_service,
            args=(pipeline,),
            kwargs={"stop": stop, "install_signals": False},
            daemon=True,
        )
        thread.start()
        try:
            yield config.http.url()
        finally:
            stop.set()
            thread.join(30)


def _posted(outbox: Path) -> set[str]:
    if not outbox.exists():
        return set()
    lines = outbox.read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["article_url"] for line in lines if line.strip()}


def _ping(base: str, feed: str) -> None:
    body = xmlrpc.client.dumps(
        ("Volt Lane", "http://volt.invalid/", feed), "weblogUpdates.extendedPing"
    )
    answer = httpx.post(f"{base}/ping", content=body, timeout=5, trust_env=False)
    (result,), _ = xmlrpc.client.loads(answer.content)
    if result["flerror"]:
        raise SystemExit(f"the ping was refused: {result['message']}")


def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    latencies: dict[str, list[float]] = {"push": [], "polling": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        push_cfg = _config(root, "push", f"{origin}/push.xml", push=True, args=args)
        poll_cfg = _config(root, "polling", f"{origin}/poll.xml", push=False, args=args)
        outboxes = {"push": root / "push.jsonl", "polling": root / "polling.jsonl"}
        with _service(push_cfg) as push_base, _service(poll_cfg):
            time.sleep(3.0)  # both first polls done: the feeds are known (and empty)
            appeared: dict[int, float] = {}
            done: dict[tuple[str, int], float] = {}
            for number in range(1, args.articles + 1):
                with Feeds.lock:
                    for items in Feeds.items.values():
                        items.append(number)
                appeared[number] = time.monotonic()
                _ping(push_base, f"{origin}/push.xml")
                # Articles a few seconds apart, as a newsroom publishes them.
                pause_until = time.monotonic() + random.uniform(args.gap, args.gap * 2)
                while time.monotonic() < pause_until:
                    _collect(outboxes, appeared, done)
                    time.sleep(0.01)
            deadline = time.monotonic() + args.interval + args.jitter + 30
            while len(done) < 2 * args.articles and time.monotonic() < deadline:
                _collect(outboxes, appeared, done)
                time.sleep(0.01)
    server.shutdown()
    for (kind, _), seconds in sorted(done.items()):
        latencies[kind].append(seconds)
    return latencies


def _collect(
    outboxes: dict[str, Path], appeared: dict[int, float], done: dict[tuple[str, int], float]
) -> None:
    now = time.monotonic()
    for kind, outbox in outboxes.items():
        posted = _posted(outbox)
        for number, started in appeared.items():
            if (kind, number) not in done and _link(number) in posted:
                done[(kind, number)] = now - started


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=24)
    parser.add_argument("--interval", type=int, default=10, help="poll interval, seconds")
    parser.add_argument("--jitter", type=int, default=2, help="poll jitter, seconds")
    parser.add_argument("--gap", type=float, default=3.0, help="least seconds between articles")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    random.seed(12)
    latencies = measure(args)
    print(
        f"latency, article in the feed -> post in the outbox ({args.articles} articles; "
        f"poll_interval {args.interval} s + jitter {args.jitter} s; "
        f"deliver_interval {DELIVER_INTERVAL:.0f} s)"
    )
    print(f"{'':10}{'push':>10}{'polling':>10}")
    for label, pick in (
        ("posted", lambda v: f"{len(v)}/{args.articles}"),
        ("p50", lambda v: f"{statistics.median(v):.2f} s" if v else "-"),
        ("p95", lambda v: f"{_percentile(v, 95):.2f} s" if len(v) > 1 else "-"),
        ("max", lambda v: f"{max(v):.2f} s" if v else "-"),
    ):
        print(f"{label:10}{pick(latencies['push']):>10}{pick(latencies['polling']):>10}")
    push, polling = latencies["push"], latencies["polling"]
    complete = len(push) == len(polling) == args.articles
    push_ok = complete and _percentile(push, 95) <= 5.0
    poll_ok = complete and _percentile(polling, 95) <= args.interval + 2.0
    print(f"push p95 <= 5 s: {'yes' if push_ok else 'NO'}")
    print(f"polling p95 <= interval + 2 s: {'yes' if poll_ok else 'NO'}")
    return 0 if push_ok and poll_ok else 1


if __name__ == "__main__":
    sys.exit(main())
