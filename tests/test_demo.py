"""The shipped demo (what `make run` starts): every demo article reaches every outbox
channel once, and a second run adds nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "syndbot.toml"


def _run_until(cwd: Path, outbox: Path, lines: int, *, at_least: float) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "-c", str(CONFIG), "run"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    try:
        while time.monotonic() - started < 60:
            count = len(outbox.read_text(encoding="utf-8").splitlines()) if outbox.exists() else 0
            if count >= lines and time.monotonic() - started >= at_least:
                break
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out


def test_demo_posts_every_article_to_every_channel_once(tmp_path: Path) -> None:
    """A fresh run writes one outbox line per (demo article, channel) and prints the posts;
    running it again adds none."""
    config = load_config(CONFIG, env={})
    channels = {c.name for c in config.channels}
    outbox = tmp_path / "var" / "outbox.jsonl"  # relative paths resolve from the CWD
    printed = _run_until(tmp_path, outbox, 6 * len(channels), at_least=0)
    records = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    pairs = {(r["item_id"], r["channel"]) for r in records}
    assert len(records) == len(pairs) == 6 * len(channels)
    assert {r["channel"] for r in records} == channels
    assert {r["lang"] for r in records} >= {"en", "hi", "ta", "te"}
    assert "Kestrel Ridge" in printed
    _run_until(tmp_path, outbox, 0, at_least=6)  # a second run, given time to poll and send
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == len(records)
