"""The pipeline end to end on a real SQLite file and real outbox files: no flood, no repeats."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import Config, load_config
from bot.errors import AlreadyPosted, AuthError, RateLimited, Rejected, Transient
from bot.feeds.parse import parse_feed
from bot.models import Post, PublishResult
from bot.pipeline import Pipeline, idempotency_key
from bot.store import MIGRATIONS, SQLiteStore
from bot.store import migrations as migrations_module
from bot.store.codec import to_text
from tests.builders import Item, rss, write_config
from tests.feedserver import FeedServer

T0 = datetime(2026, 11, 26, 8, tzinfo=UTC)


def _items(n: int) -> list[Item]:
    return [
        Item(
            guid=f"volt-{i}",
            title=f"Battery story number {i}",
            link=f"https://volt.example/2026/11/story-{i}/",
            published=T0 - timedelta(hours=n - i),
            tags=("EV", "Batteries"),
            image=f"https://volt.example/img/{i}.jpg",
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_text(rss(_items(3)), encoding="utf-8")
    return path


@pytest.fixture
def pipe(tmp_path: Path, feed_file: Path) -> Iterator[Pipeline]:
    config = load_config(write_config(tmp_path, feeds={"volt": str(feed_file)}), env={})
    with open_pipeline(config) as p:
        yield p


def _outbox(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_first_poll_queues_only_the_newest_item(pipe: Pipeline, tmp_path: Path) -> None:
    """A new feed with 3 items queues 1 item x 2 channels; the rest are recorded as seen."""
    report = pipe.poll("volt")
    assert (report.new, report.queued) == (3, 2)
    pipe.deliver()
    lines = _outbox(tmp_path)
    assert sorted(str(line["channel"]) for line in lines) == ["bluesky-out", "x-out"]
    assert {line["item_id"] for line in lines} == {"volt-3"}


def test_repoll_and_restart_queue_nothing_new(tmp_path: Path, feed_file: Path) -> None:
    """Polling again, and again after a restart on the same database, posts nothing twice."""
    config = load_config(write_config(tmp_path, feeds={"volt": str(feed_file)}), env={})
    with open_pipeline(config) as p:
        p.poll("volt")
        p.deliver()
        assert p.poll("volt").queued == 0
    with open_pipeline(config) as p:  # a restart
        assert p.poll("volt").queued == 0
        assert p.deliver() == []
    assert len(_outbox(tmp_path)) == 2


def test_new_item_is_delivered_once_per_channel(
    pipe: Pipeline, feed_file: Path, tmp_path: Path
) -> None:
    """An item that appears after the first poll goes to every channel exactly once."""
    pipe.poll("volt")
    pipe.deliver()
    feed_file.write_text(rss(_items(4)), encoding="utf-8")
    assert pipe.poll("volt").queued == 2
    sent = pipe.deliver()
    assert [r.outcome for r in sent] == ["sent", "sent"]
    assert pipe.deliver() == []
    assert [line["item_id"] for line in _outbox(tmp_path)].count("volt-4") == 2


def test_edited_article_is_not_posted_again(pipe: Pipeline, feed_file: Path) -> None:
    """Changing an article's text after it was seen records the edit and queues nothing."""
    pipe.poll("volt")
    items = _items(3)
    items[2].body = "<p>Updated: battery prices fell even further this week.</p>"
    feed_file.write_text(rss(items), encoding="utf-8")
    report = pipe.poll("volt")
    assert (report.edited, report.queued) == (1, 0)


def test_changed_guid_for_the_same_link_is_not_reposted(pipe: Pipeline, feed_file: Path) -> None:
    """A feed that rewrites its guids but keeps the links does not re-post."""
    pipe.poll("volt")
    items = _items(3)
    for it in items:
        it.guid = "new-scheme-" + it.guid
    feed_file.write_text(rss(items), encoding="utf-8")
    assert pipe.poll("volt").queued == 0


def test_broken_feed_is_recorded_and_others_go_on(tmp_path: Path, feed_file: Path) -> None:
    """A missing feed file is an error on that feed only; the healthy feed still posts."""
    path = write_config(
        tmp_path, feeds={"volt": str(feed_file), "gone": str(tmp_path / "nope.xml")}
    )
    config = load_config(path, env={})
    with open_pipeline(config) as p:
        bad = p.poll("gone")
        good = p.poll("volt")
        assert bad.error
        assert "nope.xml" in bad.error
        assert good.queued == 2
        state = p.store.feed_state("gone")
        assert state.consecutive_errors == 1
        # Backing off: the next due-check skips the failing feed instead of hammering it.
        assert p.poll_due("gone").skipped


class Scripted:
    """A publisher whose answers are scripted per call; records every post it accepts."""

    def __init__(self, name: str, answers: list[Exception | None]) -> None:
        self.name = name
        self.platform = "x"
        self.answers = answers
        self.accepted: list[tuple[Post, str]] = []

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.accepted.append((post, idempotency_key))
        return PublishResult(remote_id=f"id-{len(self.accepted)}", url="https://x.example/s/1")

    def check(self) -> str:
        return "scripted"


def _with(pipe: Pipeline, publisher: Scripted, clock: list[datetime]) -> Pipeline:
    return dataclasses.replace(pipe, publishers={"x-out": publisher}, clock=lambda: clock[0])


def test_rate_limit_reschedules_at_the_platform_reset(pipe: Pipeline) -> None:
    """A 429 with a reset in 900 s is retried after the reset, then sent once."""
    clock = [T0]
    pub = Scripted("x-out", [RateLimited("429 Too Many Requests", retry_after=900)])
    p = _with(pipe, pub, clock)
    p.poll("volt")
    assert [r.outcome for r in p.deliver("x-out")] == ["retry"]
    (waiting,) = p.store.deliveries(channel="x-out", status="pending")
    assert waiting.next_attempt is not None
    assert waiting.next_attempt >= T0 + timedelta(seconds=900)
    clock[0] = T0 + timedelta(seconds=300)
    assert p.deliver("x-out") == []  # not before the reset
    clock[0] = T0 + timedelta(seconds=1000)
    assert [r.outcome for r in p.deliver("x-out")] == ["sent"]
    assert len(pub.accepted) == 1


def test_transient_errors_give_up_after_the_cap_with_the_reason(pipe: Pipeline) -> None:
    """Repeated 5xx answers end as failed with the last error, not retried forever."""
    clock = [T0]
    pub = Scripted("x-out", [Transient(f"HTTP 503 attempt {i}") for i in range(20)])
    p = _with(pipe, pub, clock)
    p.poll("volt")
    for _ in range(p.policy.max_attempts):
        p.deliver("x-out")
        clock[0] += timedelta(hours=2)
    (failed,) = p.store.deliveries(channel="x-out", status="failed")
    assert failed.last_error is not None
    assert "HTTP 503" in failed.last_error
    assert failed.attempts >= 1


def test_rejected_post_fails_without_retry(pipe: Pipeline) -> None:
    """A post the platform rejects is failed at once with the reason."""
    pub = Scripted("x-out", [Rejected("text too long")])
    p = _with(pipe, pub, [T0])
    p.poll("volt")
    assert [r.outcome for r in p.deliver("x-out")] == ["failed"]
    assert "text too long" in (p.store.deliveries(status="failed")[0].last_error or "")


def test_auth_error_pauses_the_channel_and_keeps_the_post(pipe: Pipeline) -> None:
    """An expired token pauses the channel; the delivery stays pending, nothing is lost."""
    pub = Scripted("x-out", [AuthError("token expired (code 89)")])
    p = _with(pipe, pub, [T0])
    p.poll("volt")
    assert [r.outcome for r in p.deliver("x-out")] == ["paused"]
    assert "expired" in (p.store.channel_paused("x-out") or "")
    assert p.deliver("x-out") == []  # paused: not retried blindly
    assert len(p.store.deliveries(channel="x-out", status="pending")) == 1


def test_duplicate_content_answer_counts_as_sent(pipe: Pipeline) -> None:
    """X's 'duplicate content' means the post already exists: sent, not retried."""
    pub = Scripted("x-out", [AlreadyPosted("duplicate content")])
    p = _with(pipe, pub, [T0])
    p.poll("volt")
    assert [r.outcome for r in p.deliver("x-out")] == ["sent"]
    assert p.deliver("x-out") == []


def test_crash_after_outbox_write_is_reconciled_not_rewritten(
    pipe: Pipeline, tmp_path: Path
) -> None:
    """A delivery left 'sending' whose line is already in the outbox becomes sent, no 2nd line."""
    pipe.poll("volt")
    (delivery,) = pipe.store.deliveries(channel="x-out")
    post = pipe.compose_for(delivery.article, pipe.config.channel("x-out"))
    key = idempotency_key(delivery.feed, delivery.item_id, delivery.channel)
    pipe.store.mark_sending(delivery.id, now=T0)
    pipe.publishers["x-out"].publish(post, idempotency_key=key)  # then the process "dies"
    assert pipe.recover_interrupted() == 1
    (after,) = pipe.store.deliveries(channel="x-out")
    assert after.status == "sent"
    pipe.deliver()
    assert [line["channel"] for line in _outbox(tmp_path)].count("x-out") == 1


def test_crash_before_sending_is_sent_exactly_once(pipe: Pipeline, tmp_path: Path) -> None:
    """A delivery left 'sending' that never reached the outbox is sent once after restart."""
    pipe.poll("volt")
    (delivery,) = pipe.store.deliveries(channel="x-out")
    pipe.store.mark_sending(delivery.id, now=T0)
    assert pipe.recover_interrupted() == 1
    pipe.deliver()
    assert [line["channel"] for line in _outbox(tmp_path)].count("x-out") == 1


def test_interrupted_send_without_reconciliation_is_failed_not_resent(pipe: Pipeline) -> None:
    """A platform that cannot confirm a post is never re-sent blindly after a crash."""
    pub = Scripted("x-out", [])
    p = _with(pipe, pub, [T0])
    p.poll("volt")
    (delivery,) = p.store.deliveries(channel="x-out")
    p.store.mark_sending(delivery.id, now=T0)
    p.recover_interrupted()
    (after,) = p.store.deliveries(channel="x-out")
    assert after.status == "failed"
    assert "syndbot retry" in (after.last_error or "")
    assert pub.accepted == []


def test_a_post_that_cannot_be_composed_fails_visibly(tmp_path: Path) -> None:
    """A channel limit too small for the link fails that delivery with the reason, no crash."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(_items(1)), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("mastodon",))
    cfg.write_text(cfg.read_text() + "max_chars = 10\n", encoding="utf-8")
    with open_pipeline(load_config(cfg, env={})) as p:
        p.poll("volt")
        assert [r.outcome for r in p.deliver()] == ["failed"]
        (failed,) = p.store.deliveries(status="failed")
        assert "cannot compose" in (failed.last_error or "")
        assert p.deliver() == []


def test_correction_policy_posts_once_when_the_headline_changes(tmp_path: Path) -> None:
    """on_edit=correction: a changed title after posting queues one 'Correction:' post."""
    feed = tmp_path / "feed.xml"
    items = _items(1)
    feed.write_text(rss(items), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("x",))
    cfg.write_text(
        cfg.read_text().replace(
            'full_text = "never"', 'full_text = "never"\non_edit = "correction"'
        )
    )
    with open_pipeline(load_config(cfg, env={})) as p:
        p.poll("volt")
        p.deliver()
        items[0].body = "<p>Only the body changed.</p>"
        feed.write_text(rss(items), encoding="utf-8")
        assert p.poll("volt").queued == 0  # body edits alone are not re-posted
        items[0].title = "Battery story number 1 (corrected figures)"
        feed.write_text(rss(items), encoding="utf-8")
        assert p.poll("volt").queued == 1
        assert p.poll("volt").queued == 0
        (report,) = p.deliver()
        assert report.post is not None
        assert report.post.title.startswith("Correction: ")
    assert len(_outbox(tmp_path)) == 2


def test_a_sudden_burst_of_unseen_items_is_capped(tmp_path: Path) -> None:
    """After the first poll, 40 unseen items at once (a feed reset) queue only max_new."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(_items(2)), encoding="utf-8")
    cfg = write_config(tmp_path, feeds={"volt": str(feed)}, platforms=("x",))
    cfg.write_text(
        cfg.read_text().replace('full_text = "never"', 'full_text = "never"\nmax_new = 5')
    )
    with open_pipeline(load_config(cfg, env={})) as p:
        p.poll("volt")
        p.deliver()
        burst = [
            Item(
                guid=f"moved-{i}",
                title=f"Archive story {i}",
                link=f"https://new-cms.example/{i}/",
                published=T0 - timedelta(days=40 - i),
            )
            for i in range(40)
        ]
        feed.write_text(rss(burst), encoding="utf-8")
        report = p.poll("volt")
        assert (report.new, report.queued) == (40, 5)
        assert any("max_new = 5" in w for w in report.warnings)
        queued = {d.item_id for d in p.store.deliveries(status="pending")}
        assert queued == {f"moved-{i}" for i in range(35, 40)}


def test_correction_label_follows_the_article_language() -> None:
    """Hindi, Tamil and Telugu corrections start with the word in that language."""
    from bot.engine.intake import correction_label

    assert correction_label("hi") == "सुधार"
    assert correction_label("ta-IN") == "திருத்தம்"
    assert correction_label("te") == "సవరణ"
    assert correction_label(None) == "Correction"
    assert correction_label("de") == "Correction"


# -- conditional GET: validators belong to the URL that issued them ----------------------


def _volt_config(tmp_path: Path, url: str) -> Config:
    return load_config(write_config(tmp_path, feeds={"volt": url}), env={})


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_a_changed_feed_url_is_fetched_without_the_old_urls_validators(
    tmp_path: Path, validator: str
) -> None:
    """QA's lost posts: after the operator changes a feed's url (same name), the first poll
    of the new URL sends none of the old URL's validators, so a server that would match
    them (304) answers in full and the new items are recorded and queued; later polls of
    the new URL send its own validators again, a 304 among them."""
    same = {validator: '"v1"' if validator == "etag" else "Sat, 01 Nov 2026 08:00:00 GMT"}
    header = "if-none-match" if validator == "etag" else "if-modified-since"
    with FeedServer() as server:
        server.route("/feed_old.xml", body=rss(_items(3)).encode(), **same)
        server.route("/feed.xml", body=rss(_items(5)).encode(), **same)
        with open_pipeline(_volt_config(tmp_path, server.url("/feed_old.xml"))) as p:
            assert p.poll("volt").new == 3
            p.deliver()
            assert p.poll("volt").not_modified  # the old URL's own validators still work
        new_url = server.url("/feed.xml")
        with open_pipeline(_volt_config(tmp_path, new_url)) as p:  # the url was edited
            report = p.poll("volt")
            assert not report.not_modified
            assert (report.new, report.queued) == (2, 4)
            assert [r.outcome for r in p.deliver()] == ["sent"] * 4
            assert p.store.feed_state("volt").validators_url == new_url
            assert p.poll("volt").not_modified  # its own validators, from the new URL
            assert p.poll("volt").not_modified  # ...still stored with it after a 304
        to_new = [r for r in server.requests if r.path == "/feed.xml"]
    assert [header in r.headers for r in to_new] == [False, True, True]
    sent = [line["item_id"] for line in _outbox(tmp_path)]
    assert sorted(sent) == sorted(["volt-3"] * 2 + ["volt-4"] * 2 + ["volt-5"] * 2)


def test_a_database_from_before_the_validators_url_polls_fine_after_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed polled by a syndbot that did not store the validators' URL keeps its items
    after the upgrade; its first poll is one full GET that queues nothing already seen
    (the URL is unknown, so the stored validators are not trusted), and the next one is
    a conditional GET again."""
    with FeedServer() as server:
        url = server.url("/feed.xml")
        server.route("/feed.xml", body=rss(_items(3)).encode(), etag='"v1"')
        before = [m for m in MIGRATIONS if m.name != "feed_validators_url"]
        monkeypatch.setattr(migrations_module, "MIGRATIONS", before)
        with SQLiteStore.open(tmp_path / "state.db") as old:  # as the earlier syndbot left it
            seen = parse_feed(rss(_items(3)).encode(), feed_name="volt", base_url=url)
            old.add_items([(a, ()) for a in seen.articles], now=T0)
            with old._tx(write=True) as conn:
                conn.execute(
                    "INSERT INTO feeds (name, etag, last_modified, last_poll, last_success,"
                    " consecutive_errors, last_error) VALUES ('volt', '\"v1\"', NULL, ?, ?, 0,"
                    " NULL)",
                    (to_text(T0), to_text(T0)),
                )
        monkeypatch.undo()
        with open_pipeline(_volt_config(tmp_path, url)) as p:
            assert p.store.feed_state("volt").etag == '"v1"'
            first = p.poll("volt")
            assert (first.error, first.not_modified) == (None, False)
            assert (first.new, first.queued) == (0, 0)  # every item was seen before
            assert p.poll("volt").not_modified
            assert p.store.feed_state("volt").validators_url == url
    assert ["if-none-match" in r.headers for r in server.requests] == [False, True]
    assert _outbox(tmp_path) == []
