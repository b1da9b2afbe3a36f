"""``syndbot db migrate --to postgresql://...``: a site moves from SQLite to PostgreSQL with
every row of its ledger, and the next poll on PostgreSQL posts nothing already posted.

Real SQLite file, real PostgreSQL (a throwaway schema, tests/pg.py), a file feed and outbox
channels, all through the CLI.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.lock import service_lock
from bot.store import DatabaseURL, SQLiteStore, open_store
from bot.store.ledger import LedgerStore
from bot.store.websub import StoredSubscription
from tests.builders import Item, rss, write_config

SECRET = "pw-not-for-output"
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _items(count: int) -> list[Item]:
    return [
        Item(guid=f"g{n}", title=f"Story {n}", link=f"https://volt.example/2026/{n}/")
        for n in range(1, count + 1)
    ]


def _site(tmp_path: Path, items: int = 3) -> tuple[Path, Path, Path]:
    """A config on a SQLite file, a feed file with ``items`` stories, and the outbox path."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(_items(items)), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, catch_up="all")
    return cfg, feed, tmp_path / "outbox.jsonl"


def _cli(cfg: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["-c", str(cfg), *args], env=env or {})


def _ledger(store: LedgerStore) -> dict[str, object]:
    """Everything a store holds that decides what is posted next, comparable across engines."""
    return {
        "deliveries": [dataclasses.astuple(d) for d in store.deliveries()],
        "feeds": store.feed_states(),
        "items": [store.find_item("volt", f"g{n}") for n in range(1, 5)],
        "paused": store.paused_channels(),
        "state": {n: store.channel_state(n) for n in ("x-out", "bluesky-out")},
        "counts": store.delivery_counts(),
        "websub": store.websub_subscriptions(),
    }


def _with_password(url: DatabaseURL) -> str:
    scheme, rest = url.secret_url().split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{SECRET}@{host}"


@pytest.mark.postgresql
def test_migrate_round_trip_then_a_poll_posts_nothing_twice(
    tmp_path: Path, pg_url: DatabaseURL
) -> None:
    """Every delivery (status, attempts, stored post), feed and channel state, and WebSub
    subscription arrives in PostgreSQL; polling there posts only the story that is new,
    once per channel."""
    cfg, feed, outbox = _site(tmp_path)
    assert _cli(cfg, "poll").exit_code == 0
    with SQLiteStore.open(tmp_path / "state.db") as store:
        # Some ledger variety beyond 'sent': a failure with its stored post, a pause, state.
        [story] = store.queue(
            dataclasses.replace(store.deliveries()[0].article, item_id="g9"),
            now=NOW,
            channels=["x-out"],
        )
        store.mark_sending(story, now=NOW, post=store.deliveries()[0].post)
        store.mark_failed(story, now=NOW, error="400 rejected")
        store.pause_channel("bluesky-out", reason="token revoked", now=NOW)
        store.set_channel_state("x-out", {"cursor": 7})
        store.save_websub_subscription(
            StoredSubscription(
                "tok", "volt", "https://volt.example/feed/", "https://hub.example/", 60, NOW
            )
        )
        before = _ledger(store)
    posted = outbox.read_text().splitlines()
    assert len(posted) == 6

    url = _with_password(pg_url)
    moved = _cli(cfg, "db", "migrate", "--to", url)
    assert moved.exit_code == 0, moved.output
    assert SECRET not in moved.output
    assert "7 deliveries (1 failed, 6 sent)" in moved.output
    with open_store(pg_url) as store:
        assert _ledger(store) == before

    feed.write_text(rss(_items(4)), encoding="utf-8")
    again = _cli(cfg, "poll", env={"SYNDBOT_DATABASE": url})
    assert again.exit_code == 0, again.output
    assert SECRET not in again.output
    lines = outbox.read_text().splitlines()
    assert lines[:6] == posted  # nothing already posted went out again
    assert len(lines) == 7  # the new story, on x-out only (bluesky-out is paused)
    assert "Story 4" in lines[6]


@pytest.mark.postgresql
def test_a_non_empty_target_is_refused_and_left_alone(tmp_path: Path, pg_url: DatabaseURL) -> None:
    """A second migrate into the same database refuses with a sentence; nothing changes."""
    cfg, _, _ = _site(tmp_path, items=2)
    assert _cli(cfg, "poll").exit_code == 0
    assert _cli(cfg, "db", "migrate", "--to", pg_url.secret_url()).exit_code == 0
    with open_store(pg_url) as store:
        before = _ledger(store)
    second = _cli(cfg, "db", "migrate", "--to", pg_url.secret_url())
    assert second.exit_code != 0
    assert "already holds syndbot data (1 feeds, 2 items, 4 deliveries)" in second.output
    assert "merging two ledgers could post a story twice" in second.output
    with open_store(pg_url) as store:
        assert _ledger(store) == before


@pytest.mark.postgresql
def test_migrate_refuses_while_the_service_runs_on_the_file(
    tmp_path: Path, pg_url: DatabaseURL
) -> None:
    """With a service holding the SQLite file's lock, nothing is copied: stop it first."""
    cfg, _, _ = _site(tmp_path, items=1)
    assert _cli(cfg, "poll").exit_code == 0
    with service_lock(tmp_path / "state.db"):
        refused = _cli(cfg, "db", "migrate", "--to", pg_url.secret_url())
    assert refused.exit_code != 0
    assert "stop the service before `db migrate`" in refused.output
    with open_store(pg_url) as store:
        assert store.deliveries() == []


def test_migrate_needs_a_postgresql_url(tmp_path: Path) -> None:
    """--to must be a postgresql:// URL; a file path is refused before anything happens."""
    cfg, _, _ = _site(tmp_path, items=1)
    result = _cli(cfg, "db", "migrate", "--to", str(tmp_path / "other.db"))
    assert result.exit_code != 0
    assert "is not a postgresql:// URL" in result.output
