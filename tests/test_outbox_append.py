"""The outbox appends without rereading its file, and still never writes a key twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import Length, Post, PostPart
from bot.publishers import outbox
from bot.publishers.outbox import OutboxPublisher


def _post(n: int) -> Post:
    return Post(
        platform="x",
        channel="x-out",
        item_id=f"g{n}",
        article_url=f"https://volt.example/{n}/",
        title=f"Story {n}",
        lang="en",
        summary="",
        hashtags=(),
        parts=(PostPart(text=f"Story {n} https://volt.example/{n}/"),),
        length=Length(unit="weighted", value=30, limit=280),
    )


def _restart() -> None:
    """Forget what this process learnt about outbox files, as a new process would."""
    vars(outbox).get("_INDEXES", {}).clear()


def _publisher(path: Path) -> OutboxPublisher:
    return OutboxPublisher(name="x-out", platform="x", path=path)


@pytest.fixture
def lines_decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many lines the outbox module parsed as JSON."""
    count = [0]
    real = json.loads

    def counting(raw: str | bytes) -> object:
        count[0] += 1
        return real(raw)

    monkeypatch.setattr(outbox.json, "loads", counting)
    return count


def test_appends_do_not_reread_the_file(tmp_path: Path, lines_decoded: list[int]) -> None:
    """Publishing 60 posts reads the existing file at most once, not once per post."""
    path = tmp_path / "outbox.jsonl"
    _publisher(path).publish(_post(0), idempotency_key="k0")  # a file from before
    _restart()
    publisher = _publisher(path)
    results = [publisher.publish(_post(n), idempotency_key=f"k{n}") for n in range(1, 61)]
    assert lines_decoded[0] <= 2
    assert [r.remote_id for r in results] == [f"outbox.jsonl:{n}" for n in range(2, 62)]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 61


def test_a_key_is_found_after_a_restart(tmp_path: Path) -> None:
    """A key written before a restart is recognised, not written again."""
    path = tmp_path / "outbox.jsonl"
    first = _publisher(path).publish(_post(1), idempotency_key="k1")
    _restart()
    again = _publisher(path)
    assert again.reconcile(_post(1), idempotency_key="k1") == first
    assert again.publish(_post(1), idempotency_key="k1") == first
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_a_file_changed_behind_our_back_is_read_again(tmp_path: Path) -> None:
    """Another writer's line (and a truncation) is seen: the index is not trusted blindly."""
    path = tmp_path / "outbox.jsonl"
    publisher = _publisher(path)
    publisher.publish(_post(1), idempotency_key="k1")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"idempotency_key": "other"}) + "\n")
    assert publisher.reconcile(_post(2), idempotency_key="other") is not None
    path.write_text("", encoding="utf-8")
    assert publisher.reconcile(_post(1), idempotency_key="k1") is None
    assert publisher.publish(_post(1), idempotency_key="k1").remote_id == "outbox.jsonl:1"


def test_a_torn_last_line_does_not_swallow_the_next_post(tmp_path: Path) -> None:
    """After a crash mid-write, the next post starts on its own line and is found."""
    path = tmp_path / "outbox.jsonl"
    path.write_text('{"idempotency_key": "k0"}\n{"idempotency_key": "k1", "ti', encoding="utf-8")
    publisher = _publisher(path)
    result = publisher.publish(_post(2), idempotency_key="k2")
    assert result.remote_id == "outbox.jsonl:3"
    _restart()
    assert publisher.reconcile(_post(2), idempotency_key="k2") == result
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[2])["item_id"] == "g2"


def test_an_outbox_that_is_a_directory_is_named_with_the_fix(tmp_path: Path) -> None:
    """outbox set to a directory: channels check fails it as a config mistake naming a file
    to use instead, and publishing raises a Transient saying the same, not an unexpected
    IsADirectoryError."""
    from bot.errors import ConfigError, Transient

    publisher = _publisher(tmp_path)
    with pytest.raises(ConfigError, match="is a directory; set outbox to a file in it"):
        publisher.check()
    with pytest.raises(Transient, match=r"is a directory; .*outbox\.jsonl"):
        publisher.publish(_post(1), idempotency_key="k1")
