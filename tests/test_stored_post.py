"""The post composed for a delivery is stored with it: retries and recovery publish and look
for that text, not what a later config would compose; stored JSON carries a version.

Platforms are the fake Mastodon and X servers on loopback, driven by the real pipeline on
a real SQLite file; the old-schema database is built with the migrations of the release
before stored posts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline
from bot.cli import main
from bot.compose import PROFILES, compose
from bot.config import load_config
from bot.engine.retry import RetryPolicy
from bot.errors import PublishError, StoreError
from bot.models import Article, ChannelStyle, Media, Post, PublishResult
from bot.pipeline import Pipeline
from bot.protocols import Publisher
from bot.store import MIGRATIONS, SQLiteStore, codec, normalise_url
from bot.store.migrations import migrate
from bot.summarise import ExtractiveSummariser
from tests.builders import Item, rss, write_config
from tests.fakes import mastodon_api, x_api
from tests.fakes.loopback import Fault
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX
from tests.fakes.x_api import Fault as XFault

ENV = {
    "SP_MASTODON_TOKEN": mastodon_api.TOKEN,
    "SP_X_KEY": x_api.CONSUMER_KEY,
    "SP_X_SECRET": x_api.CONSUMER_SECRET,
    "SP_X_TOKEN": x_api.ACCESS_TOKEN,
    "SP_X_TOKEN_SECRET": x_api.ACCESS_TOKEN_SECRET,
}
BODY = (
    "<p>Tata Motors opened forty fast chargers along the Mumbai-Pune expressway this week. "
    "Each charger delivers up to 120 kW. Drivers can pay with UPI at every site. The company "
    "plans two hundred more chargers across Maharashtra by the end of next year.</p>"
)
UTM = '[channels.utm]\nutm_source = "syndbot"'


class Clock:
    """The pipeline's now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


class ProcessKilled(BaseException):
    """The process dies (SIGKILL) inside ``publish``: nothing after it runs."""


@dataclasses.dataclass
class DiesAfterSending:
    """Wraps a real publisher: the platform gets the post, the answer is lost on the way
    back (connection dropped) and the process dies before it records anything."""

    inner: Publisher

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def platform(self) -> str:
        return self.inner.platform

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        with contextlib.suppress(PublishError):  # the dropped answer
            self.inner.publish(post, idempotency_key=idempotency_key)
        raise ProcessKilled

    def check(self) -> str:
        return self.inner.check()


def _write_feed(tmp_path: Path) -> None:
    item = Item(
        guid="charge-1",
        title="Fast chargers open on the Mumbai-Pune expressway",
        link="https://voltlane.example/2026/chargers/",
        body=BODY,
        tags=("EV", "Charging"),
    )
    (tmp_path / "feed.xml").write_text(rss([item]), encoding="utf-8")


def _config(tmp_path: Path, channel: str) -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f"""
[service]
database = "{tmp_path / "state.db"}"
poll_interval = "1m"
jitter = "0s"
timeout = "2s"

[[feeds]]
name = "volt"
url = "{tmp_path / "feed.xml"}"
catch_up = "all"
full_text = "never"
{channel}
""",
        encoding="utf-8",
    )
    return path


def _mastodon(base: str, settings: str) -> str:
    return f"""
[[channels]]
name = "mastodon-main"
platform = "mastodon"
api_base = "{base}"
{settings}
[channels.credentials]
access_token = "SP_MASTODON_TOKEN"
[channels.options]
instance = "{base}"
"""


def _x(base: str, utm: str = "") -> str:
    return f"""
[[channels]]
name = "x-main"
platform = "x"
api_base = "{base}"
[channels.credentials]
api_key = "SP_X_KEY"
api_secret = "SP_X_SECRET"
access_token = "SP_X_TOKEN"
access_token_secret = "SP_X_TOKEN_SECRET"
[channels.options]
timeout = "2"
{utm}
"""


@contextmanager
def _pipeline(config_path: Path, clock: Clock) -> Iterator[Pipeline]:
    """The real pipeline on the config file as it is now, on the test's clock."""
    with open_pipeline(load_config(config_path, env=ENV)) as pipe:
        yield dataclasses.replace(pipe, clock=clock)


# -- retries and recovery use the stored post --------------------------------------------


def test_retry_after_a_config_change_publishes_the_text_first_attempted(tmp_path: Path) -> None:
    """A send that failed with a 503 is retried after the channel's template and max_chars
    changed: Mastodon receives the original text, not a recomposed one."""
    _write_feed(tmp_path)
    clock = Clock()
    with FakeMastodon() as masto:
        before = _mastodon(masto.base, 'template = "{title}\\n\\n{summary}\\n\\n{url}"')
        masto.fail("statuses", Fault(status=503, body={"error": "Service Unavailable"}))
        with _pipeline(_config(tmp_path, before), clock) as pipe:
            pipe.poll("volt")
            assert [r.outcome for r in pipe.deliver()] == ["retry"]
        after = _mastodon(masto.base, 'template = "New: {title} {url}"\nmax_chars = 120')
        clock.now += timedelta(hours=2)
        with _pipeline(_config(tmp_path, after), clock) as pipe:
            [delivery] = pipe.store.deliveries()
            recomposed = pipe.compose_for(delivery.article, pipe.config.channel("mastodon-main"))
            assert [r.outcome for r in pipe.deliver()] == ["sent"]
        sent = [call.json()["status"] for call in masto.calls_to("statuses")]
        published = [status["text"] for status in masto.statuses]
    assert len(sent) == 2
    assert sent[1] == sent[0]
    assert published == [sent[0]]
    assert "\n\n" in sent[0]  # the first template's layout
    assert recomposed.parts[0].text != sent[0]  # today's config would have said otherwise


def test_syndbot_retry_after_a_config_change_sends_the_stored_text(tmp_path: Path) -> None:
    """A delivery that gave up on 503s, re-queued by ``syndbot retry`` after the template
    changed, is sent with the text of its first attempt."""
    _write_feed(tmp_path)
    clock = Clock()
    with FakeMastodon() as masto:
        masto.fail("statuses", Fault(status=503, body={"error": "Service Unavailable"}))
        config = _config(tmp_path, _mastodon(masto.base, 'template = "{title} {url}"'))
        with _pipeline(config, clock) as pipe:
            giving_up = dataclasses.replace(pipe, policy=RetryPolicy(max_attempts=1))
            giving_up.poll("volt")
            assert [r.outcome for r in giving_up.deliver()] == ["failed"]
        config = _config(tmp_path, _mastodon(masto.base, 'template = "Changed: {url} {title}"'))
        retried = CliRunner(env=ENV).invoke(main, ["-c", str(config), "retry"])
        assert retried.exit_code == 0, retried.output
        assert "Re-queued 1" in retried.output
        clock.now += timedelta(minutes=1)  # the CLI queued it at the real time
        with _pipeline(config, clock) as pipe:
            assert [r.outcome for r in pipe.deliver()] == ["sent"]
        sent = [call.json()["status"] for call in masto.calls_to("statuses")]
    assert len(sent) == 2
    assert sent[1] == sent[0]
    assert not sent[0].startswith("Changed:")


def test_crash_recovery_finds_the_post_by_its_stored_link_after_utm_changed(
    tmp_path: Path,
) -> None:
    """X took the tweet, the answer was lost and the process died in ``sending``; then UTM
    parameters were added to the channel. Recovery looks for the stored link, finds the
    tweet and records it: X holds one tweet, not a second with the new link."""
    _write_feed(tmp_path)
    clock = Clock()
    with FakeX() as x:
        with _pipeline(_config(tmp_path, _x(x.base)), clock) as pipe:
            pipe.poll("volt")
            x.script("POST", "/2/tweets", XFault(drop=True))
            dying = DiesAfterSending(pipe.publishers["x-main"])
            crashing = dataclasses.replace(pipe, publishers={"x-main": dying})
            with pytest.raises(ProcessKilled):
                crashing.deliver()
            [left] = pipe.store.deliveries()
        assert left.status == "sending"
        assert left.post is not None
        assert len(x.tweets) == 1
        with _pipeline(_config(tmp_path, _x(x.base, UTM)), clock) as pipe:
            recomposed = pipe.compose_for(left.article, pipe.config.channel("x-main"))
            assert pipe.recover_interrupted() == 1
            [recovered] = pipe.store.deliveries()
            clock.now += timedelta(hours=2)
            assert pipe.deliver() == []
        tweets = [t["id"] for t in x.tweets]
    assert "utm_source=syndbot" in recomposed.article_url  # recomposing would not match
    assert recovered.status == "sent"
    assert [recovered.remote_id] == tweets


def test_retry_after_a_lost_answer_reconciles_with_the_stored_post(tmp_path: Path) -> None:
    """X took the tweet but the connection dropped; before the retry UTM parameters were
    added. The retry asks X for the stored post's link, finds it, and posts nothing new."""
    _write_feed(tmp_path)
    clock = Clock()
    with FakeX() as x:
        with _pipeline(_config(tmp_path, _x(x.base)), clock) as pipe:
            pipe.poll("volt")
            x.script("POST", "/2/tweets", XFault(drop=True))
            assert [r.outcome for r in pipe.deliver()] == ["retry"]
        clock.now += timedelta(hours=2)
        with _pipeline(_config(tmp_path, _x(x.base, UTM)), clock) as pipe:
            assert [r.outcome for r in pipe.deliver()] == ["sent"]
            [delivery] = pipe.store.deliveries()
        tweets = [t["id"] for t in x.tweets]
    assert [delivery.remote_id] == tweets


# -- the stored formats ---------------------------------------------------------------


def _article(item_id: str = "1") -> Article:
    return Article(
        feed="volt",
        item_id=item_id,
        url=f"https://voltlane.example/2026/{item_id}/",
        title="दिल्ली में 50 नए ईवी चार्जिंग स्टेशन शुरू",
        content_html=BODY,
        excerpt_html="<p>Forty fast chargers.</p>",
        lang="hi",
        published=datetime(2026, 11, 1, 8, tzinfo=UTC),
        tags=("EV", "Charging"),
        image=Media(url="https://voltlane.example/img/1.jpg", alt="A charger", mime="image/jpeg"),
        author="Asha",
    )


@pytest.mark.parametrize("platform", sorted(PROFILES))
def test_every_platforms_post_reads_back_equal(platform: str) -> None:
    """A composed post (threads, media, facets, link cards) survives the stored JSON."""
    style = ChannelStyle(platform=platform, name=f"{platform}-out", thread=True)
    post = compose(_article(), style, summariser=ExtractiveSummariser(), now=datetime.now(UTC))
    stored = codec.post_json(post)
    assert json.loads(stored)["v"] == codec.POST_VERSION
    assert codec.post_from_json(stored, where="test") == post


def _v1_post(platform: str, extra: dict[str, str], media: list[dict[str, str | None]]) -> str:
    """A post as syndbot wrote it in post_json v1: flags as strings in ``extra``."""
    return json.dumps(
        {
            "v": 1,
            "platform": platform,
            "channel": f"{platform}-out",
            "item_id": "g1",
            "article_url": "https://evnews.example/a/",
            "title": "Chargers",
            "lang": "en",
            "summary": "Forty fast chargers.",
            "hashtags": ["EV"],
            "parts": [
                {
                    "text": "Chargers\n\nForty fast chargers.\n\nevnews.example/a #EV",
                    "media": media,
                    "facets": [
                        {
                            "start": 32,
                            "end": 47,
                            "kind": "link",
                            "value": "https://evnews.example/a/",
                        }
                    ],
                    "link": "https://evnews.example/a/",
                }
            ],
            "length": {"unit": "graphemes", "value": 52, "limit": 300},
            "extra": extra,
        }
    )


def test_a_v1_post_reads_back_with_typed_fields() -> None:
    """A post stored by the syndbot before typed posts (v1, "extra" strings) reads as the
    same typed Post: description, composed_at, the facet flag from its platform."""
    when = "2026-11-20T09:30:00+00:00"
    text = _v1_post("bluesky", {"composed_at": when, "description": "Longer."}, [])
    post = codec.post_from_json(text, where="row 1")
    assert post.description == "Longer."
    assert post.composed_at == datetime.fromisoformat(when)
    assert post.with_facets is True
    assert post.image_missing is False
    assert post.parts[0].facets[0].value == "https://evnews.example/a/"
    again = codec.post_from_json(codec.post_json(post), where="row 1")
    assert again == post
    assert json.loads(codec.post_json(post))["v"] == 2


def test_a_v1_post_missing_its_image_stays_marked() -> None:
    """v1's "image_missing": "true" becomes image_missing=True, so it is still skipped."""
    text = _v1_post("instagram", {"image_required": "true", "image_missing": "true"}, [])
    post = codec.post_from_json(text, where="row 2")
    assert post.image_missing is True
    assert post.with_facets is False
    assert post.composed_at is None
    assert post.description == ""


def test_the_first_stored_post_is_kept_when_the_delivery_is_claimed_again(
    tmp_path: Path,
) -> None:
    """Claiming stores the post in the same step; a later claim with another post (a
    retry after a config change) keeps the first, and a claim without one keeps it too."""
    first = compose(
        _article(), ChannelStyle(platform="x"), summariser=ExtractiveSummariser(), now=T_OLD
    )
    other = dataclasses.replace(first, title="Another title", summary="Recomposed later")
    with SQLiteStore.open(tmp_path / "state.db") as store:
        store.add_item(_article(), now=T_OLD, channels=["x-out"])
        [delivery] = store.deliveries()
        assert delivery.post is None
        store.mark_sending(delivery.id, now=T_OLD, post=first)
        assert store.deliveries()[0].post == first
        later = T_OLD + timedelta(minutes=5)
        store.reschedule(delivery.id, now=later, next_attempt=later, error="transient: 503")
        store.mark_sending(delivery.id, now=later, post=other)
        store.reschedule(delivery.id, now=later, next_attempt=later, error="transient: 503")
        store.mark_sending(delivery.id, now=later)
        assert store.deliveries()[0].post == first


def test_a_format_from_a_newer_syndbot_is_refused_naming_the_row(tmp_path: Path) -> None:
    """An article or post with an unknown version fails with the delivery and the fix."""
    with SQLiteStore.open(tmp_path / "state.db") as store:
        store.add_item(_article(), now=datetime.now(UTC), channels=["x-out"])
        [delivery] = store.deliveries()
        post = compose(
            _article(), ChannelStyle(platform="x"), summariser=ExtractiveSummariser(), now=T_OLD
        )
        store.mark_sending(delivery.id, now=T_OLD, post=post)
        conn = sqlite3.connect(tmp_path / "state.db")
        with conn:
            conn.execute("UPDATE deliveries SET post_json = json_set(post_json, '$.v', 7)")
        with pytest.raises(StoreError, match=r"delivery 1 \(volt/1 to x-out\).*post.*version 7"):
            store.deliveries()
        with conn:
            conn.execute("UPDATE deliveries SET post_json = NULL")
            conn.execute("UPDATE items SET article_json = json_set(article_json, '$.v', 2)")
        conn.close()
        with pytest.raises(StoreError, match=r"article has format version 2.*upgrade syndbot"):
            store.deliveries()


# -- migrating a database written before stored posts ----------------------------------

T_OLD = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=150)
DELIVERIES = (  # item, channel, status, attempts, remote id, last error
    ("old-0", "x-out", "sent", 1, "1850", None),
    ("old-1", "x-out", "failed", 8, None, "gave up after 8 attempts: HTTP 503"),
    ("old-2", "x-out", "sending", 0, None, None),
    ("old-1", "bluesky-out", "pending", 2, None, "transient: timeout"),
    ("old-2", "bluesky-out", "skipped", 0, None, "no image"),
)


def _pre_stored_post_json(article: Article) -> str:
    """Exactly what syndbot wrote into items.article_json before format versions."""
    return json.dumps(article.to_dict(), ensure_ascii=False, sort_keys=True)


def _fill(conn: sqlite3.Connection, article_json: Callable[[Article], str]) -> None:
    """The same feeds, items, deliveries and channel rows, in either schema."""
    stamp = codec.to_text(T_OLD)
    conn.execute(
        "INSERT INTO feeds (name, etag, last_poll, last_success) VALUES ('volt', '\"e1\"', ?, ?)",
        (stamp, stamp),
    )
    for n in range(3):
        a = _article(f"old-{n}")
        conn.execute(
            "INSERT INTO items (feed, item_id, url, norm_url, title, content_hash, first_seen,"
            " updated_at, article_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (a.feed, a.item_id, a.url, normalise_url(a.url), a.title, a.content_hash, stamp,
             stamp, article_json(a)),
        )  # fmt: skip
    for item, channel, status, attempts, remote_id, error in DELIVERIES:
        conn.execute(
            "INSERT INTO deliveries (feed, item_id, channel, status, attempts, next_attempt,"
            " remote_id, last_error, created, updated) VALUES ('volt', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item, channel, status, attempts, stamp, remote_id, error, stamp, stamp),
        )
    conn.execute(
        "INSERT INTO channels (name, paused_reason, paused_at)"
        " VALUES ('bluesky-out', 'token expired', ?)",
        (stamp,),
    )


def _status(directory: Path) -> str:
    feeds = {"volt": "https://voltlane.example/feed.xml"}
    config = write_config(directory, feeds=feeds)
    result = CliRunner().invoke(main, ["-c", str(config), "status"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_database_from_before_stored_posts_migrates_keeping_rows_and_status(
    tmp_path: Path,
) -> None:
    """A database written by the previous schema (no post column, unversioned articles)
    opens: every row is kept, every article reads back equal and is rewritten as v1, and
    ``syndbot status`` shows what it shows for the same data written by this version."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    old_db = old_dir / "state.db"
    conn = sqlite3.connect(old_db, isolation_level=None)
    assert migrate(conn, old_db, MIGRATIONS[:1]) == 1  # the schema before stored posts
    _fill(conn, _pre_stored_post_json)
    tables = ("feeds", "items", "deliveries", "channels")
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    conn.close()

    with SQLiteStore.open(old_db) as store:
        deliveries = store.deliveries()
    conn = sqlite3.connect(old_db)
    after = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    versions = [v for (v,) in conn.execute("SELECT json_extract(article_json, '$.v') FROM items")]
    conn.close()
    assert after == counts == {"feeds": 1, "items": 3, "deliveries": 5, "channels": 1}
    assert versions == [codec.ARTICLE_VERSION] * 3
    expected = [(item, channel, status) for item, channel, status, *_ in DELIVERIES]
    assert [(d.item_id, d.channel, d.status) for d in deliveries] == expected
    assert all(d.article == _article(d.item_id) for d in deliveries)
    assert all(d.post is None for d in deliveries)

    SQLiteStore.open(new_dir / "state.db").close()
    conn = sqlite3.connect(new_dir / "state.db", isolation_level=None)
    _fill(conn, codec.article_json)
    conn.close()
    shown = _status(old_dir)
    assert shown == _status(new_dir)
    assert "gave up after 8 attempts" in shown
    assert "token expired" in shown


def test_retry_after_a_rejection_composes_the_post_again(tmp_path: Path) -> None:
    """Mastodon refused the post (422); the operator shortens the template and runs
    ``syndbot retry``: the refused text never went out, so the retry sends the post the
    new config composes, not the refused one again."""
    _write_feed(tmp_path)
    clock = Clock()
    with FakeMastodon() as masto:
        masto.fail("statuses", Fault(status=422, body={"error": "Validation failed: Text"}))
        config = _config(tmp_path, _mastodon(masto.base, 'template = "{title} {url}"'))
        with _pipeline(config, clock) as pipe:
            pipe.poll("volt")
            assert [r.outcome for r in pipe.deliver()] == ["failed"]
            [failed] = pipe.store.deliveries()
        assert failed.post is None  # the refused post is not kept for a resend
        config = _config(tmp_path, _mastodon(masto.base, 'template = "Changed: {url} {title}"'))
        retried = CliRunner(env=ENV).invoke(main, ["-c", str(config), "retry"])
        assert retried.exit_code == 0, retried.output
        clock.now += timedelta(minutes=1)
        with _pipeline(config, clock) as pipe:
            assert [r.outcome for r in pipe.deliver()] == ["sent"]
        sent = [call.json()["status"] for call in masto.calls_to("statuses")]
    assert len(sent) == 2
    assert not sent[0].startswith("Changed:")
    assert sent[1].startswith("Changed:")
