"""`syndbot queue`: list what waits, show, approve, skip and edit, through the CLI runner
and the library functions it is a thin layer over, on a real database and outbox."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.app import open_pipeline
from bot.cli import main
from bot.compose.facets import facet_problems
from bot.config import load_config
from bot.engine.budget import Budget, next_allowed
from bot.engine.queue import NotEditable, NotQueued, edit, list_queue
from bot.store import SQLiteStore
from tests.builders import Item, rss, write_config


def _setup(tmp_path: Path, *, items: int = 2, x_lines: str = 'approval = "manual"') -> Path:
    """Feed with ``items`` stories; x-out (manual by default) and bluesky-out (hold:1h)."""
    feed = tmp_path / "feed.xml"
    entries = [
        Item(f"g{i}", f"Battery story {i}", f"https://site.example/2026/{i}/", tags=("EV",))
        for i in range(items)
    ]
    feed.write_text(rss(entries), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, catch_up="all")
    text = path.read_text(encoding="utf-8").replace('name = "x-out"', f'name = "x-out"\n{x_lines}')
    path.write_text(text + 'approval = "hold:1h"\n', encoding="utf-8")
    with open_pipeline(load_config(path, env={})) as pipe:
        pipe.poll("f")
        assert {r.outcome for r in pipe.deliver(limit=100)} <= {"held", "sent"}
    return path


def _cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-c", str(path), "queue", *args])


def _deliveries(path: Path, channel: str) -> list[int]:
    with SQLiteStore.open(load_config(path, env={}).service.database) as store:
        return [d.id for d in store.deliveries(channel=channel)]


def _outbox(tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "outbox.jsonl"
    if not out.exists():
        return []
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]


def _deliver(path: Path) -> None:
    with open_pipeline(load_config(path, env={})) as pipe:
        pipe.deliver(limit=100)


def test_queue_lists_waiting_posts_with_state_and_length(tmp_path: Path) -> None:
    """Each channel shows its posts with id, state and the platform's length / limit."""
    path = _setup(tmp_path)
    result = _cli(path, "--channel", "x-out")
    assert result.exit_code == 0, result.output
    assert "x-out (approval manual)" in result.output
    assert result.output.count("awaiting") == 2
    assert "when approved" in result.output
    assert "/280 weighted" in result.output
    everything = _cli(path)
    assert "bluesky-out (approval hold:1h)" in everything.output
    assert everything.output.count("held") >= 2


def test_channels_with_nothing_waiting_share_one_line(tmp_path: Path) -> None:
    """Channels with nothing waiting are named on one line, not drawn as an empty table
    each; a channel with posts still gets its table."""
    path = _setup(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + (
        '[[channels]]\nname = "quiet-out"\nplatform = "mastodon"\npublisher = "outbox"\n'
    ), encoding="utf-8")  # fmt: skip
    result = _cli(path)
    assert result.exit_code == 0, result.output
    assert "Nothing waits on quiet-out (auto)." in result.output
    assert "quiet-out (approval" not in result.output
    assert "nothing waits" not in result.output
    assert "x-out (approval manual)" in result.output


def test_show_prints_the_text_as_it_will_be_sent(tmp_path: Path) -> None:
    """`queue show ID` prints the stored post's text, its state and its length."""
    path = _setup(tmp_path, items=1)
    [delivery_id] = _deliveries(path, "x-out")
    result = _cli(path, "show", str(delivery_id))
    assert result.exit_code == 0, result.output
    assert "Battery story 0" in result.output
    assert "https://site.example/2026/0/" in result.output
    assert "state awaiting" in result.output


def test_approve_sends_once_and_refuses_unknown_ids(tmp_path: Path) -> None:
    """An approved manual post is sent by the next run, once; an unknown id exits 1 with a
    sentence and the other ids are still approved."""
    path = _setup(tmp_path)
    first, second = _deliveries(path, "x-out")
    result = _cli(path, "approve", str(first), "999")
    assert result.exit_code == 1
    assert f"approved {first} (x-out)" in result.output
    assert "no delivery with id 999" in result.output
    _deliver(path)
    _deliver(path)
    sent = [(line["channel"], line["item_id"]) for line in _outbox(tmp_path)]
    assert sent == [("x-out", "g0")]
    again = _cli(path, "approve", str(first))
    assert again.exit_code == 1
    assert "is sent, not waiting" in again.output
    listed = _cli(path, "--channel", "x-out").output
    assert "awaiting" in listed  # the second still waits
    assert str(second) in listed


def test_skip_records_the_reason_and_never_sends(tmp_path: Path) -> None:
    """A skipped post is shown with its reason by `queue` and `status` and never sent."""
    path = _setup(tmp_path, items=1)
    [delivery_id] = _deliveries(path, "x-out")
    result = _cli(path, "skip", str(delivery_id), "--reason", "wrong photo")
    assert result.exit_code == 0, result.output
    _deliver(path)
    assert _outbox(tmp_path) == []
    assert "skipped in review: wrong photo" in _cli(path, "--channel", "x-out").output
    status = CliRunner().invoke(main, ["-c", str(path), "status"])
    assert "skipped in review: wrong photo" in status.output


def test_edit_too_long_is_refused_with_the_count(tmp_path: Path) -> None:
    """An edit over X's 280 weighted characters is refused with the count; nothing changes."""
    path = _setup(tmp_path, items=1)
    [delivery_id] = _deliveries(path, "x-out")
    text = "हिन्दी " * 60 + "https://site.example/2026/0/"  # 420 characters and a link
    result = _cli(path, "edit", str(delivery_id), "--text", text)
    assert result.exit_code == 2
    assert "over the x limit of 280" in result.output
    assert "awaiting" in _cli(path, "--channel", "x-out").output  # not approved by it


def test_edit_approves_and_sends_the_edited_text_once(tmp_path: Path) -> None:
    """A valid edit is stored, counts as approval, and exactly that text is sent once."""
    path = _setup(tmp_path, items=1)
    [delivery_id] = _deliveries(path, "x-out")
    text = "Cheaper batteries, shorter headline https://site.example/2026/0/ #EV"
    result = _cli(path, "edit", str(delivery_id), "--text", text)
    assert result.exit_code == 0, result.output
    assert "edited and approved" in result.output
    _deliver(path)
    _deliver(path)
    lines = [line for line in _outbox(tmp_path) if line["channel"] == "x-out"]
    assert [line["parts"][0]["text"] for line in lines] == [text]  # type: ignore[index]


def test_edit_from_editor_rebuilds_bluesky_facets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`queue edit ID` opens $EDITOR (a real process here); on Bluesky the link and the
    hashtags of the edited text get fresh facets pointing at the article."""
    path = _setup(tmp_path, items=1)
    [delivery_id] = _deliveries(path, "bluesky-out")
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text('नई बैटरी सस्ती #EV #बैटरी site.example/2026/0 ', encoding='utf-8')\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    result = _cli(path, "edit", str(delivery_id))
    assert result.exit_code == 0, result.output
    with SQLiteStore.open(tmp_path / "state.db") as store:
        post = store.delivery(delivery_id).post  # type: ignore[union-attr]
    assert post is not None
    part = post.parts[0]
    assert part.text == "नई बैटरी सस्ती #EV #बैटरी site.example/2026/0"
    assert facet_problems(part.text, part.facets) == []
    assert sorted((f.kind, f.value) for f in part.facets) == [
        ("link", "https://site.example/2026/0/"),
        ("tag", "EV"),
        ("tag", "बैटरी"),
    ]


def test_edit_refuses_auto_channels_and_claimed_posts(tmp_path: Path) -> None:
    """An auto channel's post is not in review; a post the service claimed meanwhile is not
    changed (NotQueued), so an edit can never race a send."""
    path = _setup(tmp_path, items=2, x_lines="max_posts_per_hour = 1")
    config = load_config(path, env={})
    now = datetime.now(UTC)
    with SQLiteStore.open(config.service.database) as store:
        [auto_id] = [d.id for d in store.deliveries(status="pending", channel="x-out")]
        with pytest.raises(NotEditable, match="posts automatically"):
            edit(store, auto_id, "new", now)
        held = store.deliveries(channel="bluesky-out")[0]
        store.mark_sending(held.id, now=now)
        with pytest.raises(NotQueued, match="is sending"):
            edit(store, held.id, "new https://site.example/2026/0/", now)
        assert store.delivery(held.id).post == held.post  # type: ignore[union-attr]


def test_queue_projects_slot_times_in_order(tmp_path: Path) -> None:
    """On a slotted channel the listed due times are successive free slots, in order."""
    path = _setup(tmp_path, items=3, x_lines='approval = "manual"\nslots = ["08:30", "18:00"]')
    config = load_config(path, env={})
    now = datetime.now(UTC)
    with SQLiteStore.open(config.service.database) as store:
        ids = [d.id for d in store.deliveries(channel="x-out")]
        for delivery_id in ids:
            store.approve_delivery(delivery_id, now=now)
        [queue] = list_queue(store, config, now, channel="x-out")
    budget = Budget(slots=(time(8, 30), time(18)))
    expected: list[datetime] = []
    for _ in ids:
        expected.append(next_allowed(budget, expected, now))
    assert [e.due for e in queue.entries] == expected
    assert [e.id for e in queue.entries] == ids
    assert all(t.time() in (time(8, 30), time(18)) for t in expected[1:])


def test_an_edit_just_before_the_claim_is_the_text_sent(tmp_path: Path) -> None:
    """The service read a due held post, then a person edited it before the service claimed
    it: the edited text is what goes out (never the stale copy), once."""
    path = _setup(tmp_path, items=1, x_lines='approval = "hold:1m"')
    config = load_config(path, env={})
    later = datetime.now(UTC) + timedelta(minutes=5)
    with open_pipeline(config) as pipe:
        pipe.clock = lambda: later
        [stale] = pipe.store.due_deliveries(later, channel="x-out")
        text = "Edited in time https://site.example/2026/0/"
        edit(pipe.store, stale.id, text, later)
        assert pipe.deliver_one(stale).outcome == "sent"
        assert all(r.channel != "x-out" for r in pipe.deliver(limit=100))
    lines = [line for line in _outbox(tmp_path) if line["channel"] == "x-out"]
    assert [line["parts"][0]["text"] for line in lines] == [text]  # type: ignore[index]
