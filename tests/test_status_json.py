"""`syndbot status --format json` and `--log-format json`: machine-readable state and logs."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.logfmt import JsonFormatter
from bot.publishers.edge import hide_in_logs
from bot.store import SQLiteStore
from tests.builders import Item, rss

SECRET = "tg-9f8e7d6c5b4a39281706"


def _config(tmp_path: Path, feed: Path) -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f"""
[service]
database = "{tmp_path / "state.db"}"
outbox = "{tmp_path / "outbox.jsonl"}"
[[feeds]]
name = "volt"
url = "{feed}"
catch_up = "all"
full_text = "never"
[[channels]]
name = "x-en"
platform = "x"
publisher = "outbox"
max_posts_per_hour = 2
[[channels]]
name = "masto"
platform = "mastodon"
publisher = "outbox"
""",
        encoding="utf-8",
    )
    return path


def test_status_json_has_feeds_channels_budgets_and_reasons(tmp_path: Path) -> None:
    """The document reports polls, per-channel counts, budget use, a pause and each failed
    or waiting delivery with its reason, as recorded in the database."""
    feed = tmp_path / "feed.xml"
    items = [
        Item(guid=f"g{i}", title=f"Story {i}", link=f"https://volt.example/{i}/") for i in range(4)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    cfg = _config(tmp_path, feed)
    runner = CliRunner()
    assert runner.invoke(main, ["-c", str(cfg), "poll"]).exit_code == 0
    now = datetime.now(UTC)
    with SQLiteStore.open(load_config(cfg, env={}).service.database) as store:
        pending = store.deliveries(status="pending", channel="x-en")
        store.mark_failed(pending[0].id, now=now, error="rejected: duplicate content")
        store.pause_channel("masto", reason="token revoked; run channels check", now=now)

    result = runner.invoke(main, ["-c", str(cfg), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [f["name"] for f in doc["feeds"]] == ["volt"]
    assert doc["feeds"][0]["last_success"] is not None
    assert doc["feeds"][0]["consecutive_errors"] == 0
    channels = {c["name"]: c for c in doc["channels"]}
    x, masto = channels["x-en"], channels["masto"]
    assert x["deliveries"] == {"pending": 1, "sending": 0, "sent": 2, "failed": 1, "skipped": 0}
    assert x["budget"]["posts_last_hour"] == 2
    assert x["budget"]["max_posts_per_hour"] == 2
    assert x["budget"]["next_post_at"] is not None  # the hourly budget is used up
    assert x["paused"] is None
    assert masto["paused"].startswith("token revoked")
    assert masto["deliveries"]["sent"] == 4
    failed = [d for d in doc["deliveries"] if d["status"] == "failed"]
    assert [(d["channel"], d["error"]) for d in failed] == [("x-en", "rejected: duplicate content")]
    waiting = [d for d in doc["deliveries"] if d["status"] == "pending"]
    assert [(d["channel"], d["title"]) for d in waiting] == [("x-en", "Story 3")]


def test_json_log_lines_are_objects_with_fields(tmp_path: Path) -> None:
    """`--log-format json` (or SYNDBOT_LOG_FORMAT=json) makes every stderr line one JSON
    object with level, logger, message and the feed named in the message."""
    cfg = _config(tmp_path, tmp_path / "missing.xml")
    for args, env in (
        (["--log-format", "json"], {}),
        ([], {"SYNDBOT_LOG_FORMAT": "json"}),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args, "-c", str(cfg), "poll", "--no-deliver"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, **env},
        )
        assert result.returncode == 1  # the feed failed
        lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
        failures = [r for r in lines if r["message"].startswith("feed failed")]
        assert failures, result.stderr
        assert failures[0]["level"] == "warning"
        assert failures[0]["logger"] == "syndbot"
        assert failures[0]["feed"] == "volt"
        assert failures[0]["time"].endswith("+00:00")


def test_json_logs_keep_secrets_out(tmp_path: Path) -> None:
    """A registered secret is redacted from JSON log lines: in a message, in a library's
    message and in a traceback."""
    hide_in_logs(SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("syndbot.test-json"), logging.getLogger("httpx")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        loggers[0].warning("sending with token=%s", SECRET)
        loggers[1].warning("HTTP Request: POST https://api.telegram.org/bot%s/send", SECRET)
        try:
            raise RuntimeError(f"connect failed for /bot{SECRET}/sendMessage")
        except RuntimeError:
            loggers[0].exception("publisher crashed channel=tg")
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert SECRET not in text
    assert "***" in lines[0]["message"]
    assert "***" in lines[1]["message"]
    assert "***" in lines[2]["exception"]
    assert lines[2]["channel"] == "tg"


def test_json_log_fields_leave_out_the_sentence_punctuation_after_a_name() -> None:
    """A message "polled feed=demo: 3 new items" gives feed "demo", not "demo:"; an item id with
    colons inside it (a tag: URI) is kept whole."""
    record = logging.LogRecord(
        "syndbot", logging.INFO, __file__, 1, "polled feed=%s: %d new items", ("demo", 3), None
    )
    doc = json.loads(JsonFormatter().format(record))
    assert doc["feed"] == "demo"
    record = logging.LogRecord(
        "syndbot",
        logging.ERROR,
        __file__,
        1,
        "cannot check interrupted delivery channel=%s item=%s: %s",
        ("x-en", "tag:voltlane.example.com,2026:post/77", "timeout"),
        None,
    )
    doc = json.loads(JsonFormatter().format(record))
    assert doc["channel"] == "x-en"
    assert doc["item"] == "tag:voltlane.example.com,2026:post/77"
