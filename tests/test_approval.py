"""Approval per channel: a held post waits its veto window, a manual one waits for a person;
either is composed once, survives a restart, and is sent exactly once or never."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.engine.approval import Approval
from bot.errors import ConfigError
from bot.pipeline import Pipeline
from tests.builders import Item, rss, write_config

T0 = datetime(2026, 12, 2, 6, tzinfo=UTC)


def test_approval_modes_parse_and_enter_the_queue() -> None:
    """ "hold:15m" holds until now + 15 min, "manual" until approved, "auto" is the default."""
    assert Approval() == Approval.parse("auto") == Approval(mode="auto")
    hold = Approval.parse("hold:15m")
    assert (hold.mode, hold.hold, str(hold)) == ("hold", 900.0, "hold:15m")
    assert hold.entry(T0) == ("held", T0 + timedelta(minutes=15))
    assert Approval.parse("manual").entry(T0) == ("awaiting", None)


@pytest.mark.parametrize("text", ["hold", "hold:", "hold:0m", "hold:soon", "review", "manual:1h"])
def test_bad_approval_modes_are_refused(text: str) -> None:
    """Anything but auto, manual or hold:<positive duration> is a ValueError naming the forms."""
    with pytest.raises(ValueError, match="hold:15m"):
        Approval.parse(text)


def _setup(tmp_path: Path, lines: str, *, items: int = 1) -> Path:
    feed = tmp_path / "feed.xml"
    entries = [
        Item(f"g{i}", f"Story {i}", f"https://site.example/{i}/", published=T0)
        for i in range(items)
    ]
    feed.write_text(rss(entries), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, platforms=("x",), catch_up="all")
    path.write_text(path.read_text(encoding="utf-8") + lines + "\n", encoding="utf-8")
    return path


def _sent(tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "outbox.jsonl"
    if not out.exists():
        return []
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]


def _clocked(pipe: Pipeline, start: datetime) -> Callable[[datetime], None]:
    now = [start]
    pipe.clock = lambda: now[0]

    def set_now(moment: datetime) -> None:
        now[0] = moment

    return set_now


def test_config_refuses_a_bad_approval(tmp_path: Path) -> None:
    """approval = "hold" (no window) is a ConfigError naming the key."""
    with pytest.raises(ConfigError) as caught:
        load_config(_setup(tmp_path, 'approval = "hold"'), env={})
    assert caught.value.key == "channels[0].approval"


def test_held_post_goes_after_its_window_exactly_once(tmp_path: Path) -> None:
    """hold:15m: nothing at once or after 14 min; sent at 15 min; never again."""
    config = load_config(_setup(tmp_path, 'approval = "hold:15m"'), env={})
    with open_pipeline(config) as pipe:
        set_now = _clocked(pipe, T0)
        pipe.poll("f")
        reports = pipe.deliver()
        assert [r.outcome for r in reports] == ["held"]
        [held] = pipe.store.deliveries(status="pending")
        assert held.review == "held"
        assert held.post is not None
        assert held.next_attempt == T0 + timedelta(minutes=15)
        set_now(T0 + timedelta(minutes=14))
        assert pipe.deliver() == []
        set_now(T0 + timedelta(minutes=15))
        assert [r.outcome for r in pipe.deliver()] == ["sent"]
        set_now(T0 + timedelta(hours=5))
        assert pipe.deliver() == []
    assert [line["item_id"] for line in _sent(tmp_path)] == ["g0"]


def test_held_post_skipped_in_its_window_is_never_sent(tmp_path: Path) -> None:
    """A held post skipped by a person during the window stays skipped, with the reason."""
    config = load_config(_setup(tmp_path, 'approval = "hold:15m"'), env={})
    with open_pipeline(config) as pipe:
        set_now = _clocked(pipe, T0)
        pipe.poll("f")
        pipe.deliver()
        [held] = pipe.store.deliveries(status="pending")
        pipe.store.mark_skipped(held.id, now=T0, reason="wrong photo")
        set_now(T0 + timedelta(days=1))
        assert pipe.deliver() == []
        [skipped] = pipe.store.deliveries(status="skipped")
        assert skipped.last_error == "wrong photo"
    assert _sent(tmp_path) == []


def test_manual_post_waits_until_approved_then_goes_once(tmp_path: Path) -> None:
    """manual: a week passes and nothing goes; once approved it is sent on the next run."""
    config = load_config(_setup(tmp_path, 'approval = "manual"'), env={})
    with open_pipeline(config) as pipe:
        set_now = _clocked(pipe, T0)
        pipe.poll("f")
        assert [r.outcome for r in pipe.deliver()] == ["held"]
        set_now(T0 + timedelta(days=7))
        assert pipe.deliver() == []
        [waiting] = pipe.store.deliveries(status="pending")
        assert (waiting.review, waiting.next_attempt) == ("awaiting", None)
        pipe.store.approve_delivery(waiting.id, now=T0 + timedelta(days=7))
        assert [r.outcome for r in pipe.deliver()] == ["sent"]
        assert pipe.deliver() == []
    assert len(_sent(tmp_path)) == 1


def test_held_post_survives_a_restart_with_the_text_composed_when_held(tmp_path: Path) -> None:
    """The post is composed once, on entering the queue: a template changed before the
    window ends does not change what is sent, and the restart sends it once."""
    path = _setup(tmp_path, 'approval = "hold:15m"\ntemplate = "OLD {title} {url}"')
    with open_pipeline(load_config(path, env={})) as pipe:
        _clocked(pipe, T0)
        pipe.poll("f")
        pipe.deliver()
    path.write_text(path.read_text(encoding="utf-8").replace("OLD", "NEW"), encoding="utf-8")
    with open_pipeline(load_config(path, env={})) as pipe:  # a restart
        set_now = _clocked(pipe, T0 + timedelta(minutes=5))
        assert pipe.deliver() == []
        set_now(T0 + timedelta(minutes=16))
        assert [r.outcome for r in pipe.deliver()] == ["sent"]
    [line] = _sent(tmp_path)
    assert str(line["parts"][0]["text"]).startswith("OLD Story 0")  # type: ignore[index]


def test_held_post_whose_window_ends_in_quiet_hours_waits_for_them(tmp_path: Path) -> None:
    """Review and budgets combine: a window ending at 06:15 inside 06:00-07:00 quiet hours
    sends the post at 07:00, not before."""
    path = _setup(tmp_path, 'approval = "hold:15m"\nquiet_hours = "06:10-07:00"')
    with open_pipeline(load_config(path, env={})) as pipe:
        set_now = _clocked(pipe, T0)
        pipe.poll("f")
        pipe.deliver()
        set_now(T0 + timedelta(minutes=59))
        assert pipe.deliver() == []
        set_now(T0 + timedelta(hours=1))
        assert [r.outcome for r in pipe.deliver()] == ["sent"]


def test_filtered_article_on_a_manual_channel_is_skipped_not_held(tmp_path: Path) -> None:
    """Filters come first: a refused article never enters the review queue."""
    path = _setup(tmp_path, 'approval = "manual"\nexclude = ["story"]')
    with open_pipeline(load_config(path, env={})) as pipe:
        _clocked(pipe, T0)
        pipe.poll("f")
        assert [r.outcome for r in pipe.deliver()] == ["skipped"]
        assert pipe.store.deliveries(status="pending") == []


def test_status_lists_a_post_awaiting_approval(tmp_path: Path) -> None:
    """`syndbot status` shows a manual channel's waiting post as going "when approved"."""
    from click.testing import CliRunner

    from bot.cli import main

    path = _setup(tmp_path, 'approval = "manual"')
    with open_pipeline(load_config(path, env={})) as pipe:
        pipe.poll("f")
        pipe.deliver()
    result = CliRunner().invoke(main, ["-c", str(path), "status"])
    assert result.exit_code == 0, result.output
    assert "Waiting deliveries (1)" in result.output
    assert "when approved" in result.output


def test_status_json_carries_the_review_state(tmp_path: Path) -> None:
    """`status --format json` gives each waiting delivery its review state."""
    from click.testing import CliRunner

    from bot.cli import main

    path = _setup(tmp_path, 'approval = "hold:15m"')
    with open_pipeline(load_config(path, env={})) as pipe:
        pipe.poll("f")
        pipe.deliver()
    result = CliRunner().invoke(main, ["-c", str(path), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    [delivery] = json.loads(result.output)["deliveries"]
    assert (delivery["status"], delivery["review"]) == ("pending", "held")
