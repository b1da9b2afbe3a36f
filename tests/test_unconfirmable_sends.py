"""Platforms with no idempotency and no read-back: an answer lost after sending is never
resent blindly; the delivery fails with what to check. A refused connection is retried."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.app import open_pipeline
from bot.config import load_config
from tests.builders import Item, rss, write_config
from tests.harnesses.discord import make_harness


def _pipeline_config(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.xml"
    items = [Item(guid="g1", title="Charging news", link="https://volt.example/1/")]
    feed.write_text(rss(items), encoding="utf-8")
    return write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("discord",))


def test_lost_answer_on_discord_fails_visibly_and_posts_once(tmp_path: Path) -> None:
    """Discord accepted the post but the connection dropped: failed with advice, not resent."""
    with (
        make_harness(tmp_path) as harness,
        open_pipeline(load_config(_pipeline_config(tmp_path), env={})) as base,
    ):
        pipe = dataclasses.replace(base, publishers={"discord-out": harness.publisher()})
        pipe.poll("volt")
        harness.fail_next("drop_after_accept")
        (report,) = pipe.deliver()
        assert report.outcome == "failed"
        assert "syndbot retry --channel discord-out" in report.detail
        assert pipe.deliver() == []
        assert harness.posts_received() == 1
        (failed,) = pipe.store.deliveries(status="failed")
        assert "may have published" in (failed.last_error or "")


def test_server_error_on_discord_is_retried(tmp_path: Path) -> None:
    """A 502 means nothing was posted: the delivery waits and is retried, not failed."""
    with (
        make_harness(tmp_path) as harness,
        open_pipeline(load_config(_pipeline_config(tmp_path), env={})) as base,
    ):
        pipe = dataclasses.replace(base, publishers={"discord-out": harness.publisher()})
        pipe.poll("volt")
        harness.fail_next("server_error")
        (report,) = pipe.deliver()
        assert report.outcome == "retry"
        assert harness.posts_received() == 0
