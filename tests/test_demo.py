"""The shipped demo (what `make run` starts): every demo article reaches every outbox
channel once, a second run adds nothing, and the output is one line per post."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "syndbot.toml"
SENT = re.compile(r"INFO\s+sent channel=(\S+) item=(\S+) \"(.+)\" (\S+) \((\d+)/(\d+) (\w+)")


def _run_until(
    cwd: Path, outbox: Path, lines: int, *, at_least: float, verbose: bool = False
) -> tuple[str, str]:
    """`syndbot run` until the outbox has ``lines`` lines; (stdout, stderr) after SIGTERM.

    Its output goes to files, not pipes: with -v it prints more than a pipe holds, and a
    pipe nobody reads would stop the service mid-write."""
    stdout_path, stderr_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "-c", str(CONFIG), *(["-v"] if verbose else []), "run"],
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        started = time.monotonic()
        try:
            while time.monotonic() - started < 60:
                text = outbox.read_text(encoding="utf-8") if outbox.exists() else ""
                if len(text.splitlines()) >= lines and time.monotonic() - started >= at_least:
                    break
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    out = stdout_path.read_text(encoding="utf-8")
    err = stderr_path.read_text(encoding="utf-8")
    assert proc.returncode == 0, err
    return out, err


def test_demo_posts_every_article_to_every_channel_once(tmp_path: Path) -> None:
    """A fresh run writes one outbox line per (demo article, channel) and prints one line
    per post (channel, title, link, length used) and a summary per poll; running it again
    adds no post and no post line."""
    config = load_config(CONFIG, env={})
    channels = {c.name for c in config.channels}
    outbox = tmp_path / "var" / "outbox.jsonl"  # relative paths resolve from the CWD
    out, err = _run_until(tmp_path, outbox, 6 * len(channels), at_least=0)
    records = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    pairs = {(r["item_id"], r["channel"]) for r in records}
    assert len(records) == len(pairs) == 6 * len(channels)
    assert {r["channel"] for r in records} == channels
    assert {r["lang"] for r in records} >= {"en", "hi", "ta", "te"}

    assert out == ""  # the posts' full text only with -v
    printed = [m.groups() for m in map(SENT.search, err.splitlines()) if m]
    assert {(item, channel) for channel, item, *_ in printed} == pairs
    assert len(printed) == len(pairs)  # one line per post
    by_pair = {(r["item_id"], r["channel"]): r for r in records}
    for channel, item, title, link, used, limit, _unit in printed:
        record = by_pair[(item, channel)]
        assert record["article_url"] == link
        assert record["title"].startswith(title.rstrip("…"))
        assert (int(used), int(limit)) == (record["length"]["value"], record["length"]["limit"])
    assert "polled feed=demo: 6 new items, 60 posts queued" in err
    # Little besides: start-up lines, poll summaries, the post lines and the stop line.
    assert len(err.splitlines()) <= len(pairs) + 10, err

    out, err = _run_until(tmp_path, outbox, 0, at_least=6)  # a second run: polls, sends none
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == len(records)
    assert not any(SENT.search(line) for line in err.splitlines())
    assert "polled feed=demo: 0 new items, 0 posts queued" in err


def test_demo_verbose_prints_each_post(tmp_path: Path) -> None:
    """With -v the demo also prints every post's full text, as a reader would see it."""
    config = load_config(CONFIG, env={})
    outbox = tmp_path / "var" / "outbox.jsonl"
    out, _ = _run_until(tmp_path, outbox, 6 * len(config.channels), at_least=0, verbose=True)
    records = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert "Kestrel Ridge" in out
    for record in records:
        assert record["parts"][0]["text"] in out
