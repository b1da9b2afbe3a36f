"""`syndbot status`: failed, skipped and waiting deliveries with their reasons; filters."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.store import SQLiteStore
from tests.builders import Item, rss, write_config

TITLES = [f"Solar plant {n} opens" for n in range(1, 5)]


@dataclass
class Site:
    config: Path
    database: Path

    def status(self, *args: str) -> Result:
        argv = ["-c", str(self.config), "--env-file", os.devnull, "status", *args]
        return CliRunner().invoke(main, argv)

    def deliveries(self, channel: str) -> list[int]:
        with SQLiteStore.open(self.database) as store:
            return [d.id for d in store.deliveries(channel=channel)]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """Four articles queued (not sent) for the x-out and bluesky-out outbox channels."""
    feed = tmp_path / "feed.xml"
    items = [
        Item(
            guid=f"s-{n}",
            title=title,
            link=f"https://volt.example/2026/11/solar-{n}/",
            body="<p>The plant feeds the grid from today.</p>",
        )
        for n, title in enumerate(TITLES, start=1)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    config = write_config(tmp_path, feeds={"volt": str(feed)}, catch_up="all")
    polled = CliRunner().invoke(
        main, ["-c", str(config), "--env-file", os.devnull, "poll", "--no-deliver"]
    )
    assert polled.exit_code == 0, polled.output
    return Site(config, tmp_path / "state.db")


def _at(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def test_failed_and_skipped_deliveries_show_their_reasons(site: Site) -> None:
    """Each failed and skipped delivery is listed with its title and recorded reason."""
    x = site.deliveries("x-out")
    with SQLiteStore.open(site.database) as store:
        store.mark_failed(x[0], now=_at(5), error="X refused the post (HTTP 403) [code 187]")
        store.mark_skipped(x[1], now=_at(4), reason="no usable image for Instagram")

    result = site.status()

    assert result.exit_code == 0, result.output
    assert "Failed deliveries (1)" in result.output
    assert "X refused the post (HTTP 403) [code 187]" in result.output
    assert "Skipped deliveries (1)" in result.output
    assert "no usable image for Instagram" in result.output
    assert TITLES[0] in result.output
    assert TITLES[1] in result.output
    assert "syndbot retry" in result.output


def test_waiting_delivery_shows_next_try_and_last_error(site: Site) -> None:
    """A delivery rescheduled after an error is listed as waiting, with when and why."""
    x = site.deliveries("x-out")
    with SQLiteStore.open(site.database) as store:
        store.reschedule(
            x[2], now=_at(1), next_attempt=datetime.now(UTC) + timedelta(hours=2), error="HTTP 503"
        )

    result = site.status()

    assert result.exit_code == 0, result.output
    assert "Waiting deliveries (1)" in result.output
    assert "HTTP 503" in result.output
    assert "in 1h" in result.output  # "in 1h59m..." however long the test took
    assert "Failed deliveries" not in result.output


def test_channel_option_shows_only_that_channel(site: Site) -> None:
    """--channel limits the channels table and the delivery sections to one channel."""
    x, bluesky = site.deliveries("x-out"), site.deliveries("bluesky-out")
    with SQLiteStore.open(site.database) as store:
        store.mark_skipped(x[0], now=_at(3), reason="reason on x")
        store.mark_skipped(bluesky[0], now=_at(3), reason="reason on bluesky")

    result = site.status("--channel", "bluesky-out")

    assert result.exit_code == 0, result.output
    assert "reason on bluesky" in result.output
    assert "reason on x" not in result.output
    assert "x-out" not in result.output


def test_unknown_channel_is_a_clear_error(site: Site) -> None:
    """--channel with a name not in the config names the real channels; exit 2."""
    result = site.status("--channel", "x-hi")

    assert result.exit_code == 2
    assert 'no channel named "x-hi"' in result.output
    assert "x-out" in result.output


def test_limit_shows_the_newest_and_says_how_many_are_hidden(site: Site) -> None:
    """--limit 1 lists the newest skipped delivery and says how to see the other three."""
    x = site.deliveries("x-out")
    with SQLiteStore.open(site.database) as store:
        for age, delivery in enumerate(x):
            store.mark_skipped(delivery, now=_at(10 - age), reason=f"reason {delivery}")

    result = site.status("--limit", "1")

    assert result.exit_code == 0, result.output
    assert "Skipped deliveries (4)" in result.output
    assert f"reason {x[-1]}" in result.output
    assert f"reason {x[0]}" not in result.output
    assert "3 older ones not shown; use --limit 4" in result.output


def test_negative_limit_is_refused(site: Site) -> None:
    """--limit -1 is a usage error, not an empty or reversed list."""
    result = site.status("--limit", "-1")

    assert result.exit_code == 2
    assert "--limit" in result.output


def test_nothing_to_report_says_so(site: Site) -> None:
    """With only fresh queued deliveries, status says there is nothing failed or waiting."""
    result = site.status()

    assert result.exit_code == 0, result.output
    assert "No failed, skipped or waiting deliveries." in result.output


def test_status_says_when_the_database_does_not_exist(tmp_path: Path) -> None:
    """status on a config whose database file is not there (nothing polled yet, or a
    mistyped service.database) says so on stderr, and creates nothing."""
    cfg = write_config(tmp_path, feeds={"demo": "builtin:demo"})
    result = CliRunner().invoke(main, ["-c", str(cfg), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'state.db'} does not exist yet" in result.stderr
    assert json.loads(result.stdout)["deliveries"] == []
    assert not (tmp_path / "state.db").exists()


def test_retry_without_a_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """retry on a config whose database file is not there reports nothing to retry and
    leaves no empty database behind (a mistyped service.database stays visible)."""
    cfg = write_config(tmp_path, feeds={"demo": "builtin:demo"})
    result = CliRunner().invoke(main, ["-c", str(cfg), "retry"])
    assert result.exit_code == 0, result.output
    assert "Nothing to retry" in result.output
    assert "does not exist yet" in result.output
    assert not (tmp_path / "state.db").exists()
