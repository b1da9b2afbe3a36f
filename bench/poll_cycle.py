"""Poll cycle over 200 local feeds: first run, steady state with 304s, and the baseline of
the same steady state without conditional GET (every feed downloaded and parsed again).

Run: python bench/poll_cycle.py [--feeds 200] [--items 20]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import open_pipeline
from bot.config import load_config
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
    conditional = True

    def do_GET(self) -> None:
        body = self.feeds.get(self.path)
        if body is None:
            self.send_error(404)
            return
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.conditional and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        if self.conditional:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def cycle(pipe: Pipeline, names: list[str]) -> float:
    start = time.perf_counter()
    for name in names:
        report = pipe.poll(name)
        if report.error:
            raise SystemExit(f"poll failed: {report.error}")
    return time.perf_counter() - start


def run(n_feeds: int, n_items: int) -> None:
    Handler.feeds = {f"/feed/{i}.xml": make_feed(i, n_items) for i in range(n_feeds)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        lines = [
            "[service]",
            f'database = "{tmp}/bench.db"',
            f'outbox = "{tmp}/outbox.jsonl"',
            "allow_private_addresses = true",
        ]
        for i in range(n_feeds):
            lines += [
                "[[feeds]]",
                f'name = "f{i}"',
                f'url = "http://127.0.0.1:{port}/feed/{i}.xml"',
                'full_text = "never"',
            ]
        lines += ["[[channels]]", 'name = "x-out"', 'platform = "x"', 'publisher = "outbox"']
        cfg.write_text("\n".join(lines) + "\n")
        config = load_config(cfg, env={})
        names = [f.name for f in config.feeds]
        with open_pipeline(config) as pipe:
            first = cycle(pipe, names)
            steady = cycle(pipe, names)
            Handler.conditional = False  # baseline: a server/client without validators
            no_cond = cycle(pipe, names)
    server.shutdown()
    print(f"poll cycle over {n_feeds} local feeds x {n_items} items (one run)")
    print(f"{'run':<42}{'seconds':>10}{'per feed ms':>14}")
    for label, secs in (
        ("first run (record all items)", first),
        ("steady state, conditional GET (304s)", steady),
        ("baseline: steady state, no conditional GET", no_cond),
    ):
        print(f"{label:<42}{secs:>10.3f}{secs / n_feeds * 1000:>14.2f}")
    print(f"steady state with 304s is {no_cond / steady:.1f}x faster than refetching")
    print(f"first run costs {first / steady:.1f}x the steady-state cycle")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    run(args.feeds, args.items)
