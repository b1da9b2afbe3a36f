"""The running service with a hold, a manual, a filtered and a slotted channel, through two
restarts: every post is sent exactly once or recorded as skipped/waiting, none twice or lost.

A real scheduler, a real SQLite file and real outbox files; only the clock is ours, so the
veto window and the slots pass without waiting for them."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_pipeline
from bot.config import Config, load_config
from bot.engine.queue import approve, edit, skip
from bot.store import SQLiteStore
from tests.builders import Item, rss
from tests.servicethread import service_running

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
TITLES = ("Battery story 0", "Cricket: India win", "Battery story 2")
CHANNELS = {
    "hold": ("x", 'approval = "hold:10m"'),
    "manual": ("bluesky", 'approval = "manual"'),
    "filtered": ("mastodon", 'exclude = ["cricket"]'),
    "slotted": ("telegram", 'slots = ["08:30", "18:00"]'),
}


def _config(tmp_path: Path) -> Config:
    feed = tmp_path / "feed.xml"
    items = [
        Item(f"g{i}", title, f"https://site.example/{i}/", published=T0 - timedelta(hours=3 - i))
        for i, title in enumerate(TITLES)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    lines = [
        "[service]",
        f'database = "{tmp_path / "state.db"}"',
        f'outbox = "{tmp_path / "outbox.jsonl"}"',
        'deliver_interval = "1s"',
        'jitter = "0s"',
        "[[feeds]]",
        'name = "f"',
        f'url = "{feed}"',
        'catch_up = "all"',
        'full_text = "never"',
    ]
    for name, (platform, rule) in CHANNELS.items():
        lines += ["[[channels]]", f'name = "{name}"', f'platform = "{platform}"']
        lines += ['publisher = "outbox"', rule]
    path = tmp_path / "syndbot.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path, env={})


def _sent(tmp_path: Path) -> Counter[tuple[str, str]]:
    out = tmp_path / "outbox.jsonl"
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    return Counter((json.loads(x)["channel"], json.loads(x)["item_id"]) for x in lines)


def _statuses(config: Config) -> Counter[tuple[str, str]]:
    with SQLiteStore.open(config.service.database, read_only=True) as store:
        return Counter(
            (d.channel, d.review or d.status) for d in store.deliveries() if d.status == "pending"
        ) + Counter((d.channel, d.status) for d in store.deliveries() if d.status != "pending")


def _run(config: Config, now: datetime, until: Callable[[], bool]) -> None:
    """Run the service with the clock at ``now`` until ``until()`` holds, then two more
    delivery rounds (so a duplicate would show), then stop it: one service lifetime."""
    with open_pipeline(config) as pipe:
        pipe.clock = lambda: now
        with service_running(pipe, join=20) as worker:
            deadline = time.monotonic() + 30
            while not until() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2.5)
        assert not worker.is_alive()


def test_hold_manual_filtered_and_slotted_channels_through_restarts(tmp_path: Path) -> None:
    """08:00: held, awaiting, filtered and before-slot posts send nothing but the filtered
    channel's two; a person skips, approves and edits while the service is down; 08:31 and
    18:01 restarts send each remaining post once; every delivery ends sent, skipped or
    waiting, with nothing duplicated or lost."""
    config = _config(tmp_path)

    def entered() -> bool:
        counts = _statuses(config)
        return counts[("hold", "held")] == 3 and counts[("manual", "awaiting")] == 3

    _run(config, T0, entered)
    assert _sent(tmp_path) == Counter({("filtered", "g0"): 1, ("filtered", "g2"): 1})
    statuses = _statuses(config)
    assert statuses[("filtered", "skipped")] == 1
    assert statuses[("slotted", "pending")] == 3

    # The service is down; a person decides (as `syndbot queue` would).
    with SQLiteStore.open(config.service.database) as store:
        hold_ids = [d.id for d in store.deliveries(channel="hold")]
        manual_ids = [d.id for d in store.deliveries(channel="manual")]
        skip(store, hold_ids[1], T0, reason="not for X")
        approve(store, manual_ids[0], T0)
        edit(store, manual_ids[2], "Edited: batteries https://site.example/2/ #EV", T0)

    at_0831 = T0 + timedelta(minutes=31)
    _run(config, at_0831, lambda: sum(_sent(tmp_path).values()) >= 7)
    sent = _sent(tmp_path)
    assert sent[("hold", "g0")] == sent[("hold", "g2")] == 1
    assert sent[("manual", "g0")] == sent[("manual", "g2")] == 1
    assert sent[("slotted", "g0")] == 1
    assert sum(sent.values()) == 7

    at_1801 = T0 + timedelta(hours=10, minutes=1)
    _run(config, at_1801, lambda: sum(_sent(tmp_path).values()) >= 8)
    sent = _sent(tmp_path)
    assert set(sent.values()) == {1}, f"a post went out twice: {sent}"
    assert sorted(sent) == sorted(
        [
            ("filtered", "g0"),
            ("filtered", "g2"),
            ("hold", "g0"),
            ("hold", "g2"),
            ("manual", "g0"),
            ("manual", "g2"),
            ("slotted", "g0"),
            ("slotted", "g1"),
        ]
    )
    assert _statuses(config) == Counter(
        {
            ("filtered", "sent"): 2,
            ("filtered", "skipped"): 1,
            ("hold", "sent"): 2,
            ("hold", "skipped"): 1,
            ("manual", "sent"): 2,
            ("manual", "awaiting"): 1,
            ("slotted", "sent"): 2,
            ("slotted", "pending"): 1,
        }
    )
    edited = [
        json.loads(x)
        for x in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(x)["channel"] == "manual" and json.loads(x)["item_id"] == "g2"
    ]
    assert edited[0]["parts"][0]["text"] == "Edited: batteries https://site.example/2/ #EV"
