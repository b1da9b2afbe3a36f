"""One service per database; one-off commands work beside it and never double-send.

``syndbot run`` (and ``poll``) hold an advisory lock on ``<database>.lock`` for their
lifetime: a second one refuses at start with one sentence and exit code 1. ``status`` and
``post`` do not take the lock; a delivery is claimed in one SQLite write transaction, so a
``post`` racing the service sends each article once and neither side logs a traceback, and
start-up recovery never takes a live ``post``'s claim for a crash's leftover.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline, recover_interrupted
from bot.cli import main
from bot.config import load_config
from bot.lock import ServiceLocked, lock_path, nobody_sending, sending, service_lock
from bot.models import Post, PublishResult
from bot.publishers.outbox import OutboxPublisher
from tests.builders import Item, rss, write_config
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
PAGE = """<!doctype html><html lang="en"><head><title>{title}</title>
<meta property="og:title" content="{title}"></head><body><article><h1>{title}</h1>
<p>The city will open {n} new fast chargers on the coast road next spring, officials said.
Each site has four chargers and a shaded waiting area for drivers.</p>
<p>Prices stay at eighteen rupees a unit for the first year of operation.</p>
</article></body></html>"""


def _config(tmp_path: Path, *, deliver: str = "1s") -> Path:
    feed = tmp_path / "feed.xml"
    feed.write_text(rss([Item(guid="g0", title="Chargers", link="https://volt.example/0/")]))
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, catch_up="all")
    text = cfg.read_text(encoding="utf-8").replace('"1s"', f'"{deliver}"')
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _start(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "-c", str(cfg), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock(db: Path, proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """Until the lock file names ``proc`` (it holds the lock) or ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        path = lock_path(db)
        if path.exists() and path.read_text().strip() == str(proc.pid):
            time.sleep(0.3)  # past the lock, into the service loop
            return
        time.sleep(0.05)
    raise AssertionError(f"service did not take the lock: {proc.poll()=}")


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    cfg = _config(tmp_path)
    proc = _start(cfg)
    try:
        _wait_for_lock(tmp_path / "state.db", proc)
        yield cfg, proc
    finally:
        err = _stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_second_run_on_the_same_database_refuses_in_one_sentence(
    service: tuple[Path, subprocess.Popen[str]], tmp_path: Path
) -> None:
    """A second `syndbot run` exits 1 at once, naming the database and the running pid."""
    cfg, first = service
    second = subprocess.run(
        [sys.executable, "-m", "bot", "-c", str(cfg), "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode == 1, second.stderr
    lines = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: another syndbot service is already running on {tmp_path / 'state.db'} "
        f"(pid {first.pid}); stop it first or point this one at another database"
    ]
    assert "Traceback" not in second.stderr
    assert first.poll() is None, "the running service must be left alone"


def test_status_works_beside_a_running_service(
    service: tuple[Path, subprocess.Popen[str]],
) -> None:
    """`syndbot status` reads the database while the service holds the lock."""
    cfg, _ = service
    result = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert result.exit_code == 0, result.output
    assert "volt" in result.output


def test_a_killed_service_leaves_no_stale_lock(tmp_path: Path) -> None:
    """After kill -9 the kernel drops the lock: the next `run` starts and takes it."""
    cfg = _config(tmp_path)
    first = _start(cfg)
    _wait_for_lock(tmp_path / "state.db", first)
    first.kill()
    first.communicate(timeout=30)
    second = _start(cfg)
    try:
        _wait_for_lock(tmp_path / "state.db", second)
        assert second.poll() is None
    finally:
        err = _stop(second)
    assert second.returncode == 0, err


def test_run_and_poll_refuse_while_the_lock_is_held(tmp_path: Path) -> None:
    """`run` and `poll` exit 1 with the sentence while another process holds the lock."""
    cfg = _config(tmp_path)
    db = tmp_path / "state.db"
    with service_lock(db):
        for command in ("run", "poll"):
            result = CliRunner().invoke(main, ["-c", str(cfg), command])
            assert result.exit_code == 1, result.output
            assert f"another syndbot service is already running on {db}" in result.output
            assert f"(pid {os.getpid()})" in result.output
    assert not (tmp_path / "outbox.jsonl").exists()
    done = CliRunner().invoke(main, ["-c", str(cfg), "poll"])
    assert done.exit_code == 0, done.output  # released with the block


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    """A second holder gets ServiceLocked; after release the lock can be taken again."""
    db = tmp_path / "state.db"
    with (
        service_lock(db),
        pytest.raises(ServiceLocked, match=rf"\(pid {os.getpid()}\)"),
        service_lock(db),
    ):
        pass
    with service_lock(db) as path:
        assert path == tmp_path / "state.db.lock"
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_two_processes_racing_for_one_delivery_send_it_once(tmp_path: Path) -> None:
    """Two store connections claim the same due delivery: one sends, the other stands back."""
    config = load_config(_config(tmp_path), env={})
    with open_pipeline(config) as first, open_pipeline(config) as second:
        first.poll("volt")
        due_a = first.store.due_deliveries(first.clock(), channel="x-out")
        due_b = second.store.due_deliveries(second.clock(), channel="x-out")
        assert due_a
        assert [d.id for d in due_a] == [d.id for d in due_b]
        won = first.deliver_one(due_a[0])
        lost = second.deliver_one(due_b[0])
    assert (won.outcome, lost.outcome) == ("sent", "taken")
    assert "another syndbot process" in lost.detail
    lines = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["channel"] for line in lines] == ["x-out"]


def test_post_beside_a_running_service_sends_each_article_once(tmp_path: Path) -> None:
    """`syndbot post` while the service delivers every 0.2 s: one line per article and
    channel, both sides exit cleanly, and the service logs no failed job."""
    cfg = _config(tmp_path, deliver="0.2s")
    outbox = tmp_path / "outbox.jsonl"
    with FeedServer() as server:
        urls = []
        for n in range(4):
            path = f"/2026/12/chargers-{n}/"
            page = PAGE.format(title=f"Coast road chargers part {n}", n=10 + n)
            server.route(path, body=page.encode(), content_type="text/html")
            urls.append(server.url(path))
        proc = _start(cfg)
        try:
            _wait_for_lock(tmp_path / "state.db", proc)
            for url in urls:
                result = CliRunner().invoke(main, ["-c", str(cfg), "post", url])
                assert result.exit_code == 0, result.output
            deadline = time.monotonic() + 20
            want = 2 * (len(urls) + 1)  # every article and the feed item, on two channels
            while time.monotonic() < deadline:
                if outbox.exists() and len(outbox.read_text().splitlines()) >= want:
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # a few more delivery rounds: nothing may be sent again
        finally:
            err = _stop(proc)
    records = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    keys = [(r["item_id"], r["channel"]) for r in records]
    assert len(keys) == want, keys
    assert len(set(keys)) == want, keys
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert "failed" not in err, err


def test_start_up_recovery_leaves_a_live_posts_claim_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While a `post` holds the sending lock, recovery waits and then leaves its `sending`
    delivery alone; once the post is gone, the leftover is resolved."""
    config = load_config(_config(tmp_path), env={})
    db = tmp_path / "state.db"
    with open_pipeline(config) as pipe:
        pipe.poll("volt")
        claimed = pipe.store.due_deliveries(pipe.clock(), channel="x-out")[0]
        pipe.store.mark_sending(claimed.id, now=pipe.clock())
        with sending(db):  # a `syndbot post` mid-send
            assert recover_interrupted(pipe, wait=0.3) == 0
        assert [d.id for d in pipe.store.sending_deliveries()] == [claimed.id]
        assert "still sending" in caplog.text
        assert recover_interrupted(pipe, wait=0.3) == 1  # the post died: a crash leftover
        assert pipe.store.sending_deliveries() == []


def test_post_holds_the_sending_lock_while_it_publishes(
    cfg_and_article: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """During `post`'s publish call, recovery could not take the sending lock."""
    cfg, url = cfg_and_article
    db = cfg.parent / "state.db"
    seen: list[bool] = []
    real = OutboxPublisher.publish

    def spy(self: OutboxPublisher, post: Post, *, idempotency_key: str) -> PublishResult:
        with nobody_sending(db, wait=0) as free:
            seen.append(free)
        return real(self, post, idempotency_key=idempotency_key)

    monkeypatch.setattr(OutboxPublisher, "publish", spy)
    result = CliRunner().invoke(main, ["-c", str(cfg), "post", url])
    assert result.exit_code == 0, result.output
    assert seen == [False, False]  # one publish per channel, each under the lock
    with nobody_sending(db, wait=0) as free:
        assert free  # released when post ended


@pytest.fixture
def cfg_and_article(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with FeedServer() as server:
        page = PAGE.format(title="Coast road chargers", n=12)
        server.route("/2026/12/chargers/", body=page.encode(), content_type="text/html")
        yield _config(tmp_path), server.url("/2026/12/chargers/")
