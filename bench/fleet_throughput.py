"""Deliveries per second with one and with three `syndbot run` instances (service.fleet) on
one PostgreSQL database, in the same run: one feed file of N stories, C outbox channels
(each its own file, so each append is the channel's own fsync).

The rate is taken from the ledger: sent deliveries over the time from the first to the
last `sent`, so start-up is not counted. Each run gets a throwaway database on the server
named by $SYNDBOT_TEST_POSTGRES (else postgresql://postgres@127.0.0.1:5432/postgres).

Run: python bench/fleet_throughput.py [--items 100] [--channels 6]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from bot.store import DatabaseURL, open_store
from tests.builders import Item, rss
from tests.pg import DEFAULT_SERVER, with_database


def _config(root: Path, items: int, channels: int) -> Path:
    feed = root / "feed.xml"
    feed.write_text(
        rss(
            [
                Item(guid=f"g{n}", title=f"Story {n}", link=f"https://v.example/{n}")
                for n in range(items)
            ]
        ),
        encoding="utf-8",
    )
    lines = [
        "[service]",
        "fleet = true",
        'jitter = "0s"',
        "deliver_interval = 0.2",
        "[[feeds]]",
        'name = "volt"',
        f'url = "{feed}"',
        'catch_up = "all"',
        'full_text = "never"',
    ]
    for n in range(channels):
        platform = ("x", "bluesky", "mastodon")[n % 3]
        lines += [
            "[[channels]]",
            f'name = "out-{n}"',
            f'platform = "{platform}"',
            'publisher = "outbox"',
            f'outbox = "{root / f"outbox-{n}.jsonl"}"',
        ]
    path = root / "bench.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(admin: str, instances: int, items: int, channels: int) -> tuple[float, int]:
    """(deliveries per second, deliveries sent) for ``instances`` on a fresh database."""
    name = f"syndbot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    url = DatabaseURL(with_database(admin, name))
    try:
        open_store(url).close()  # migrate before the instances start
        with tempfile.TemporaryDirectory() as tmp:
            config = _config(Path(tmp), items, channels)
            env = {**os.environ, "SYNDBOT_DATABASE": url.secret_url()}
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "-c", str(config), "run"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(instances)
            ]
            expected = items * channels
            deadline = time.monotonic() + 600
            try:
                while time.monotonic() < deadline:
                    with open_store(url, read_only=True) as store:
                        sent = store.deliveries(status="sent")
                    if len(sent) >= expected:
                        break
                    time.sleep(0.5)
            finally:
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    proc.wait(60)
        times = sorted(d.updated for d in sent if d.updated is not None)
        span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
        return ((len(times) - 1) / span if span else 0.0), len(times)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--channels", type=int, default=6)
    args = parser.parse_args()
    admin = os.environ.get("SYNDBOT_TEST_POSTGRES") or DEFAULT_SERVER
    print(f"fleet throughput: {args.items} stories x {args.channels} outbox channels (one run)")
    print(f"{'instances':<12}{'sent':>8}{'deliveries/s':>14}")
    rates = {}
    for instances in (1, 3):
        rate, sent = run(admin, instances, args.items, args.channels)
        rates[instances] = rate
        print(f"{instances:<12}{sent:>8}{rate:>14.1f}")
    if rates[1]:
        print(f"three instances deliver {rates[3] / rates[1]:.2f}x the rate of one")


if __name__ == "__main__":
    main()
