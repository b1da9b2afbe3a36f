"""The store: contract tests for every ``Store`` backend, then SQLite-specific behaviour.

Contract tests take the ``open_store`` fixture (tests/stores.py), parametrized over
``BACKENDS``; a new backend joins by adding one factory there.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.errors import StoreError
from bot.models import Article, Delivery, Media
from bot.protocols import DeliveryCounts, Store
from bot.store import MIGRATIONS, Migration, SQLiteStore, normalise_url
from bot.store import migrations as migrations_module
from bot.store import postgres as postgres_module
from bot.store.codec import to_text
from bot.store.ledger import LedgerStore
from bot.store.migrations import split_statements
from tests.stores import ContractStore, Opener

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
IST = timezone(timedelta(hours=5, minutes=30))

HINDI_TITLE = "टाटा नेक्सॉन ईवी की बिक्री में 40% की बढ़ोतरी"
TAMIL_TITLE = "சென்னையில் புதிய மின்சார பேருந்துகள் அறிமுகம்"
TELUGU_TITLE = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు"
OLD_URL = "https://ev.example/feed_old.xml"
NEW_URL = "https://ev.example/feed.xml"


# ContractStore, BACKENDS and the open_store/store fixtures live in tests/stores.py, shared
# with test_store_contract.py.


def article(item_id: str = "1", *, url: str | None = None, **kw: Any) -> Article:
    fields: dict[str, Any] = {"title": f"Story {item_id}", "content_html": "<p>Body</p>"}
    fields.update(kw)
    return Article(
        feed=fields.pop("feed", "en"),
        item_id=item_id,
        url=url or f"https://ev.example/news/{item_id}",
        **fields,
    )


def one(store: ContractStore, **filters: str) -> Delivery:
    found = store.deliveries(**filters)
    assert len(found) == 1, found
    return found[0]


# -- feeds -----------------------------------------------------------------------------


def test_unknown_feed_was_never_polled(store: ContractStore) -> None:
    """A feed the store has not seen has no validators and is not initialised."""
    state = store.feed_state("en")
    assert (state.feed, state.etag, state.consecutive_errors) == ("en", None, 0)
    assert not state.initialised
    assert store.feed_states() == []


def test_poll_ok_stores_validators_and_resets_errors(store: ContractStore) -> None:
    """A successful poll keeps the validators and clears a previous error streak."""
    store.record_poll_error("en", now=T0, error="timeout")
    store.record_poll_ok("en", now=T0 + timedelta(minutes=5), etag='"v2"', last_modified="Sat")
    state = store.feed_state("en")
    assert (state.etag, state.last_modified) == ('"v2"', "Sat")
    assert state.last_poll == state.last_success == T0 + timedelta(minutes=5)
    assert (state.consecutive_errors, state.last_error) == (0, None)
    assert state.initialised


def test_poll_error_counts_and_keeps_validators(store: ContractStore) -> None:
    """Each failed poll adds one to the streak, keeps validators and last success."""
    store.record_poll_ok("en", now=T0, etag='"v1"', last_modified=None)
    first = store.record_poll_error("en", now=T0 + timedelta(minutes=10), error="HTTP 503")
    second = store.record_poll_error("en", now=T0 + timedelta(minutes=20), error="HTTP 502")
    assert (first.consecutive_errors, second.consecutive_errors) == (1, 2)
    assert second == store.feed_state("en")
    assert (second.etag, second.last_success, second.last_error) == ('"v1"', T0, "HTTP 502")
    assert second.last_poll == T0 + timedelta(minutes=20)


def test_validators_remember_the_url_that_issued_them(open_store: Opener) -> None:
    """A successful poll stores the feed URL with its validators; a later poll of another
    URL replaces both, a failed poll keeps both, and they survive a restart."""
    store = open_store()
    assert store.feed_state("en").validators_url is None
    store.record_poll_ok("en", now=T0, etag='"old"', last_modified="Sat", url=OLD_URL)
    state = store.feed_state("en")
    assert (state.etag, state.last_modified, state.validators_url) == ('"old"', "Sat", OLD_URL)
    store.record_poll_ok(
        "en", now=T0 + timedelta(minutes=5), etag='"new"', last_modified=None, url=NEW_URL
    )
    failed = store.record_poll_error("en", now=T0 + timedelta(minutes=10), error="HTTP 503")
    assert (failed.etag, failed.last_modified, failed.validators_url) == ('"new"', None, NEW_URL)
    store.close()
    again = open_store().feed_state("en")
    assert (again.etag, again.validators_url) == ('"new"', NEW_URL)
    assert [s.validators_url for s in open_store().feed_states()] == [NEW_URL]


def test_validators_are_offered_only_to_the_url_that_issued_them(store: ContractStore) -> None:
    """``validators_for`` gives the stored ETag/Last-Modified for the same URL only; for
    another URL, or an unknown one (a row from before the URL was stored), none."""
    assert store.feed_state("en").validators_for(OLD_URL) == (None, None)
    store.record_poll_ok("en", now=T0, etag='"e"', last_modified="Sat", url=OLD_URL)
    state = store.feed_state("en")
    assert state.validators_for(OLD_URL) == ('"e"', "Sat")
    assert state.validators_for(NEW_URL) == (None, None)
    store.record_poll_ok("en", now=T0, etag='"e"', last_modified="Sat")  # URL unknown
    assert store.feed_state("en").validators_for(OLD_URL) == (None, None)


def test_a_feed_polled_before_the_validators_url_migration_keeps_working(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written before migration ``feed_validators_url`` keeps its feed's
    validators, success and items after the upgrade. Their URL is unknown, so they are not
    offered to the next poll (a full GET); that poll stores its URL, and from then on its
    validators are offered again."""
    before = [m for m in MIGRATIONS if m.name != "feed_validators_url"]
    monkeypatch.setattr(migrations_module, "MIGRATIONS", before)
    monkeypatch.setattr(postgres_module, "MIGRATIONS", before)
    old = open_store()
    assert isinstance(old, LedgerStore)
    with old._tx(write=True) as conn:  # the row an earlier syndbot's record_poll_ok wrote
        conn.execute(
            "INSERT INTO feeds (name, etag, last_modified, last_poll, last_success,"
            " consecutive_errors, last_error) VALUES (?, ?, ?, ?, ?, 0, NULL)",
            ("en", '"e"', "Sat", to_text(T0), to_text(T0)),
        )
    old.add_item(article("a1"), now=T0, channels=["x-en"])
    old.close()
    monkeypatch.undo()
    store = open_store()
    state = store.feed_state("en")
    assert (state.etag, state.last_modified, state.last_success) == ('"e"', "Sat", T0)
    assert state.initialised
    assert state.validators_url is None
    assert state.validators_for(NEW_URL) == (None, None)
    assert store.find_item("en", "a1") is not None
    assert len(store.deliveries(status="pending")) == 1
    store.record_poll_ok(
        "en", now=T0 + timedelta(hours=1), etag='"f"', last_modified=None, url=NEW_URL
    )
    assert store.feed_state("en").validators_for(NEW_URL) == ('"f"', None)


def test_feed_states_lists_every_feed(store: ContractStore) -> None:
    """``feed_states`` returns one state per recorded feed, by name."""
    store.record_poll_ok("ta", now=T0, etag=None, last_modified=None)
    store.record_poll_error("hi", now=T0, error="DNS")
    assert [s.feed for s in store.feed_states()] == ["hi", "ta"]


# -- items -----------------------------------------------------------------------------


def test_find_item_by_id(store: ContractStore) -> None:
    """A recorded item is found by its id with its hash and first-seen time."""
    store.add_item(article("a1"), now=T0)
    found = store.find_item("en", "a1")
    assert found is not None
    assert (found.item_id, found.first_seen) == ("a1", T0)
    assert found.content_hash == article("a1").content_hash
    assert store.find_item("en", "other") is None
    assert store.find_item("hi", "a1") is None


def test_find_item_by_normalised_url_when_guid_changes(store: ContractStore) -> None:
    """An item whose guid changed is recognised by its normalised link, in the same feed."""
    store.add_item(article("old-guid", url="https://EV.example/news/tata/"), now=T0)
    again = "HTTPS://ev.example/news/tata?utm_source=rss&utm_medium=feed#comments"
    found = store.find_item("en", "new-guid", again)
    assert found is not None
    assert found.item_id == "old-guid"
    assert store.find_item("hi", "new-guid", again) is None
    assert store.find_item("en", "new-guid", "https://ev.example/news/other") is None


def test_adding_a_known_item_keeps_the_first_record(store: ContractStore) -> None:
    """Adding an item id twice does not replace the stored title or first-seen time."""
    store.add_item(article("a1", title="First"), now=T0)
    store.add_item(article("a1", title="Second"), now=T0 + timedelta(hours=1))
    found = store.find_item("en", "a1")
    assert found is not None
    assert (found.title, found.first_seen) == ("First", T0)


def test_add_item_queues_pending_deliveries_due_now(store: ContractStore) -> None:
    """``add_item`` queues one pending delivery per channel, due immediately."""
    store.add_item(article("a1"), now=T0, channels=["x-en", "mastodon"])
    due = store.due_deliveries(T0)
    assert sorted(d.channel for d in due) == ["mastodon", "x-en"]
    assert all(d.status == "pending" and d.attempts == 0 for d in due)
    assert all(d.next_attempt == T0 and d.article == article("a1") for d in due)


def test_add_item_without_channels_records_only(store: ContractStore) -> None:
    """A first poll records items without queueing anything (no flood)."""
    store.add_item(article("a1"), now=T0)
    assert store.find_item("en", "a1") is not None
    assert store.deliveries() == []


def test_add_item_is_atomic(store: ContractStore) -> None:
    """If queueing one delivery fails, neither the item nor any delivery is recorded."""
    bad_channels: list[Any] = ["x-en", None]  # NULL channel violates the schema
    with pytest.raises(StoreError):
        store.add_item(article("a1"), now=T0, channels=bad_channels)
    assert store.find_item("en", "a1") is None
    assert store.deliveries() == []


def test_find_items_answers_each_key_in_order(store: ContractStore) -> None:
    """``find_items`` is ``find_item`` for every (id, URL) of a poll: by id, by normalised
    link when the guid changed, None for an unseen item, in the order asked."""
    store.add_item(article("a1"), now=T0)
    store.add_item(article("old-guid", url="https://EV.example/news/tata/"), now=T0)
    keys = [
        ("new", "https://ev.example/news/unseen"),
        ("a1", None),
        ("new-guid", "HTTPS://ev.example/news/tata?utm_source=rss"),
    ]
    found = store.find_items("en", keys)
    assert [f.item_id if f else None for f in found] == [None, "a1", "old-guid"]
    assert found == [store.find_item("en", item_id, url) for item_id, url in keys]
    assert store.find_items("en", []) == []


def test_recorded_article_is_found_by_its_link_in_the_named_feeds(store: ContractStore) -> None:
    """``recorded_article`` gives back the article a feed recorded, whole, by its
    normalised link; another feed's or an unknown link gives None."""
    recorded = article("g1", url="https://EV.example/hi/tata/", title=HINDI_TITLE)
    store.add_item(recorded, now=T0)
    again = "https://ev.example/hi/tata?utm_source=rss"
    assert store.recorded_article(["other", "en"], again) == recorded
    assert store.recorded_article(["hi"], again) is None
    assert store.recorded_article(["en"], "https://ev.example/hi/other/") is None


def test_add_items_records_and_queues_a_polls_items(store: ContractStore) -> None:
    """``add_items`` records every item of a poll and queues each its own channels,
    Hindi, Tamil and Telugu titles intact."""
    batch = [
        (article("hi1", title=HINDI_TITLE), ["x-hi"]),
        (article("ta1", title=TAMIL_TITLE), ["x-ta", "facebook-ta"]),
        (article("te1", title=TELUGU_TITLE), []),
    ]
    store.add_items(batch, now=T0)
    assert [store.find_item("en", i).title for i in ("hi1", "ta1", "te1")] == [  # type: ignore[union-attr]
        HINDI_TITLE,
        TAMIL_TITLE,
        TELUGU_TITLE,
    ]
    queued = sorted((d.item_id, d.channel) for d in store.deliveries())
    assert queued == [("hi1", "x-hi"), ("ta1", "facebook-ta"), ("ta1", "x-ta")]


def test_add_items_is_all_or_nothing(store: ContractStore) -> None:
    """One bad delivery in a poll's batch records none of its items or deliveries."""
    bad_channels: list[Any] = ["x-en", None]  # NULL channel violates the schema
    with pytest.raises(StoreError):
        store.add_items([(article("a1"), ["x-en"]), (article("a2"), bad_channels)], now=T0)
    assert store.find_items("en", [("a1", None), ("a2", None)]) == [None, None]
    assert store.deliveries() == []


def test_update_item_stores_new_content_without_queueing(store: ContractStore) -> None:
    """An edit updates title, hash and the delivered article, keeping first-seen."""
    store.add_item(article("a1", title="Draft"), now=T0, channels=["x-en"])
    edited = article("a1", title="Corrected", content_html="<p>New body</p>")
    store.update_item(edited, now=T0 + timedelta(hours=2))
    found = store.find_item("en", "a1")
    assert found is not None
    assert (found.title, found.content_hash, found.first_seen) == (
        "Corrected",
        edited.content_hash,
        T0,
    )
    assert one(store).article == edited


# -- queue -----------------------------------------------------------------------------


def test_queue_is_idempotent(store: ContractStore) -> None:
    """Queueing a pair twice keeps one delivery with the same id and its state."""
    store.add_item(article("a1"), now=T0)
    first = store.queue(article("a1"), now=T0, channels=["x-en", "bsky", "x-en"])
    delivery = one(store, channel="x-en")
    store.mark_sending(delivery.id, now=T0)
    store.mark_sent(delivery.id, now=T0, remote_id="1", remote_url=None)
    again = store.queue(article("a1"), now=T0 + timedelta(hours=1), channels=["bsky", "x-en"])
    assert len(first) == 2
    assert again == first[::-1]
    assert len(store.deliveries()) == 2
    assert one(store, channel="x-en").status == "sent"


def test_queue_records_an_unseen_article(store: ContractStore) -> None:
    """Queueing an article the store never saw records it too (e.g. ``syndbot post``)."""
    [delivery_id] = store.queue(article("manual"), now=T0, channels=["telegram"])
    assert store.find_item("en", "manual") is not None
    assert one(store).id == delivery_id


# -- deliveries --------------------------------------------------------------------------


def test_due_deliveries_ordered_by_next_attempt_then_id(store: ContractStore) -> None:
    """Due work comes oldest first; not-yet-due and over-limit entries wait."""
    ids = [store.queue(article(str(n)), now=T0, channels=["x-en"])[0] for n in range(4)]
    store.reschedule(ids[0], now=T0, next_attempt=T0 + timedelta(minutes=5), error="503")
    store.reschedule(ids[1], now=T0, next_attempt=T0 + timedelta(hours=1), error="503")
    later = T0 + timedelta(minutes=10)
    assert [d.id for d in store.due_deliveries(later)] == [ids[2], ids[3], ids[0]]
    assert [d.id for d in store.due_deliveries(later, limit=2)] == [ids[2], ids[3]]
    assert store.due_deliveries(T0 - timedelta(seconds=1)) == []


def test_delivery_state_machine_to_sent(store: ContractStore) -> None:
    """pending -> sending -> sent records the remote id and URL; sent is final."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    store.mark_sending(delivery_id, now=T0)
    assert one(store).status == "sending"
    assert store.due_deliveries(T0 + timedelta(days=1)) == []
    store.mark_sent(delivery_id, now=T0, remote_id="176", remote_url="https://x.com/i/176")
    sent = one(store)
    assert (sent.status, sent.remote_id, sent.remote_url, sent.next_attempt) == (
        "sent",
        "176",
        "https://x.com/i/176",
        None,
    )
    with pytest.raises(StoreError, match="is sent"):
        store.mark_sending(delivery_id, now=T0)


def test_mark_sending_twice_is_refused(store: ContractStore) -> None:
    """A second claim of the same delivery fails, so two workers cannot both post it."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    store.mark_sending(delivery_id, now=T0)
    with pytest.raises(StoreError, match="is sending"):
        store.mark_sending(delivery_id, now=T0)
    with pytest.raises(StoreError, match="no delivery"):
        store.mark_sending(delivery_id + 100, now=T0)


def test_reschedule_sets_backoff_fields(store: ContractStore) -> None:
    """``reschedule`` returns to pending with attempts + 1, the error and the new due time."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    store.mark_sending(delivery_id, now=T0)
    retry_at = T0 + timedelta(minutes=2)
    store.reschedule(delivery_id, now=T0, next_attempt=retry_at, error="429 rate limited")
    store.reschedule(delivery_id, now=T0, next_attempt=retry_at, error="429 again")
    d = one(store)
    assert (d.status, d.attempts, d.next_attempt, d.last_error) == (
        "pending",
        2,
        retry_at,
        "429 again",
    )
    assert store.due_deliveries(retry_at - timedelta(microseconds=1)) == []
    assert [x.id for x in store.due_deliveries(retry_at)] == [delivery_id]


def test_retry_failed_requeues_per_channel(store: ContractStore) -> None:
    """``retry_failed`` makes failed deliveries due now with attempts reset, per channel."""
    ids = store.queue(article("a1"), now=T0, channels=["x-en", "bsky", "slack"])
    for delivery_id in ids[:2]:
        store.mark_failed(delivery_id, now=T0, error="401 unauthorised")
    assert one(store, channel="x-en").attempts == 1
    later = T0 + timedelta(hours=3)
    assert store.retry_failed(channel="bsky", now=later) == 1
    assert one(store, channel="x-en").status == "failed"
    assert store.retry_failed(now=later) == 1
    assert store.retry_failed(now=later) == 0
    due = store.due_deliveries(later)
    retried = [d for d in due if d.channel in ("x-en", "bsky")]
    assert [(d.status, d.attempts, d.next_attempt) for d in retried] == [("pending", 0, later)] * 2


def test_mark_skipped_records_reason(store: ContractStore) -> None:
    """A skipped delivery is final, keeps its reason and is never due."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["instagram"])
    store.mark_skipped(delivery_id, now=T0, reason="no image")
    d = one(store)
    assert (d.status, d.last_error, d.next_attempt) == ("skipped", "no image", None)
    assert store.due_deliveries(T0 + timedelta(days=1)) == []


def test_deliveries_filter_by_status_and_channel(store: ContractStore) -> None:
    """``deliveries`` filters on status and channel; an unknown status is an error."""
    ids = store.queue(article("a1"), now=T0, channels=["x-en", "bsky"])
    store.mark_failed(ids[0], now=T0, error="boom")
    assert [d.id for d in store.deliveries(status="failed")] == [ids[0]]
    assert [d.id for d in store.deliveries(channel="bsky")] == [ids[1]]
    assert store.deliveries(status="failed", channel="bsky") == []
    with pytest.raises(ValueError, match="unknown delivery status"):
        store.deliveries(status="done")


def test_delivery_counts_group_by_channel(store: ContractStore) -> None:
    """``delivery_counts`` totals each status per channel."""
    for n in range(3):
        store.queue(article(str(n)), now=T0, channels=["x-en", "bsky"])
    first, second = (d.id for d in store.deliveries(channel="x-en")[:2])
    store.mark_sending(first, now=T0)
    store.mark_sent(first, now=T0, remote_id="1", remote_url=None)
    store.mark_failed(second, now=T0, error="x")
    assert store.delivery_counts() == [
        DeliveryCounts(channel="bsky", pending=3),
        DeliveryCounts(channel="x-en", pending=1, sent=1, failed=1),
    ]


def test_sending_deliveries_survive_a_restart(open_store: Opener) -> None:
    """A delivery left 'sending' by a crash is listed after reopening, for recovery."""
    store = open_store()
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    store.mark_sending(delivery_id, now=T0)
    store.close()
    assert [d.id for d in open_store().sending_deliveries()] == [delivery_id]


def test_state_survives_close_and_reopen(open_store: Opener) -> None:
    """Feeds, items, deliveries and channel flags are all there after a restart."""
    store = open_store()
    store.record_poll_ok("en", now=T0, etag='"e"', last_modified=None)
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    store.reschedule(delivery_id, now=T0, next_attempt=T0 + timedelta(minutes=1), error="5xx")
    store.pause_channel("bsky", reason="token revoked", now=T0)
    store.close()
    again = open_store()
    assert again.feed_state("en").etag == '"e"'
    assert again.find_item("en", "a1") is not None
    assert (one(again).attempts, one(again).last_error) == (1, "5xx")
    assert again.channel_paused("bsky") == "token revoked"


def test_indic_text_round_trips(store: ContractStore) -> None:
    """Hindi, Tamil and Telugu text comes back exactly as stored."""
    original = article(
        "हिंदी-1",
        feed="hi",
        url="https://ev.example/hi/टाटा-नेक्सॉन",
        title=HINDI_TITLE,
        content_html=f"<p>{TAMIL_TITLE}</p><p>{TELUGU_TITLE}</p>",
        lang="hi",
        tags=("इलेक्ट्रिक", "மின்சாரம்", "విద్యుత్"),
        image=Media(url="https://ev.example/i.jpg", alt=TAMIL_TITLE, mime="image/jpeg"),
        author="ప్రియా",
        published=datetime(2025, 3, 1, 14, 30, tzinfo=IST),
    )
    store.add_item(original, now=T0, channels=["telegram-hi"])
    [due] = store.due_deliveries(T0)
    assert due.article == original
    assert due.article.content_hash == original.content_hash
    # The same link as a feed may write it: percent-encoded instead of raw Devanagari.
    encoded = quote("https://ev.example/hi/टाटा-नेक्सॉन", safe=":/")
    found = store.find_item("hi", "other", encoded)
    assert found is not None
    assert found.title == HINDI_TITLE


def test_datetimes_come_back_as_aware_utc(store: ContractStore) -> None:
    """Times given in any zone are returned in UTC, as the same instant."""
    local = datetime(2025, 3, 1, 14, 30, tzinfo=IST)
    store.record_poll_ok("en", now=local, etag=None, last_modified=None)
    last_poll = store.feed_state("en").last_poll
    assert last_poll == local
    assert last_poll is not None
    assert last_poll.tzinfo == UTC


def test_naive_datetimes_are_refused(store: ContractStore) -> None:
    """A naive datetime is a bug (local or UTC?), so it is refused."""
    with pytest.raises(ValueError, match="no timezone"):
        store.record_poll_ok("en", now=datetime(2025, 3, 1), etag=None, last_modified=None)


def test_long_errors_are_clipped(store: ContractStore) -> None:
    """A huge error body (an HTML page) is stored bounded."""
    state = store.record_poll_error("en", now=T0, error="<html>" + "x" * 100_000)
    assert state.last_error is not None
    assert len(state.last_error) <= 2000


# -- channels --------------------------------------------------------------------------


def test_paused_channel_is_left_out_of_due_work(store: ContractStore) -> None:
    """A paused channel's deliveries are not due until it is resumed."""
    store.queue(article("a1"), now=T0, channels=["x-en", "bsky"])
    assert store.channel_paused("bsky") is None
    store.pause_channel("bsky", reason="app password revoked", now=T0)
    assert store.channel_paused("bsky") == "app password revoked"
    assert [d.channel for d in store.due_deliveries(T0)] == ["x-en"]
    store.resume_channel("bsky")
    assert store.channel_paused("bsky") is None
    assert len(store.due_deliveries(T0)) == 2


def test_channel_state_round_trips(store: ContractStore) -> None:
    """Channel state is saved as JSON and replaced whole, Indic text included."""
    assert store.channel_state("x-en") == {}
    store.set_channel_state("x-en", {"posted_today": 3, "note": TAMIL_TITLE})
    store.pause_channel("x-en", reason="quota", now=T0)
    assert store.channel_state("x-en") == {"posted_today": 3, "note": TAMIL_TITLE}
    store.set_channel_state("x-en", {"posted_today": 0})
    assert store.channel_state("x-en") == {"posted_today": 0}
    assert store.channel_paused("x-en") == "quota"


@pytest.mark.parametrize(
    "state", [{"access_token": "t"}, {"session": {"refreshJwt": "j"}}, {"a": [{"API_KEY": 1}]}]
)
def test_channel_state_refuses_credentials(store: ContractStore, state: dict[str, Any]) -> None:
    """Keys that name credentials are refused: secrets live in the environment only."""
    with pytest.raises(ValueError, match="looks like a credential"):
        store.set_channel_state("x-en", state)
    assert store.channel_state("x-en") == {}


# -- SQLite specifics --------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "syndbot.db"


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_sqlite_store_satisfies_the_protocol(db_path: Path) -> None:
    """SQLiteStore has every Store method (mypy checks the signatures)."""
    with SQLiteStore.open(db_path) as opened:
        store: Store = opened
        names = [n for n in vars(Store) if not n.startswith("_")]
        assert all(callable(getattr(store, n)) for n in names)


def test_migrations_are_recorded(db_path: Path) -> None:
    """Each migration is applied once and recorded with its number, name and time."""
    with SQLiteStore.open(db_path):
        pass
    rows = raw(db_path).execute("SELECT version, name, applied_at FROM schema_migrations")
    recorded = rows.fetchall()
    assert [(v, n) for v, n, _ in recorded] == [(m.number, m.name) for m in MIGRATIONS]
    tables = {r[0] for r in raw(db_path).execute("SELECT name FROM sqlite_master")}
    assert {"feeds", "items", "deliveries", "channels", "items_feed_norm_url"} <= tables


def test_reopening_does_not_reapply_migrations(db_path: Path) -> None:
    """Opening an up-to-date database changes nothing in ``schema_migrations``."""
    SQLiteStore.open(db_path).close()
    before = raw(db_path).execute("SELECT * FROM schema_migrations").fetchall()
    SQLiteStore.open(db_path).close()
    assert raw(db_path).execute("SELECT * FROM schema_migrations").fetchall() == before


def test_newer_schema_is_refused(db_path: Path) -> None:
    """A database written by a newer syndbot is refused with advice to upgrade."""
    SQLiteStore.open(db_path).close()
    raw(db_path).execute(
        "INSERT INTO schema_migrations VALUES (?, 'future', '2099-01-01')", (len(MIGRATIONS) + 1,)
    )
    with pytest.raises(StoreError, match="upgrade syndbot") as caught:
        SQLiteStore.open(db_path)
    assert str(db_path) in str(caught.value)


def test_new_migration_is_applied_on_reopen(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration added in a later release runs once on the existing database."""
    SQLiteStore.open(db_path).close()
    step = Migration(len(MIGRATIONS) + 1, "feed_notes", "ALTER TABLE feeds ADD COLUMN note TEXT;")
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*MIGRATIONS, step])
    SQLiteStore.open(db_path).close()
    SQLiteStore.open(db_path).close()
    names = [r[0] for r in raw(db_path).execute("SELECT name FROM schema_migrations")]
    assert names[-1] == "feed_notes"
    assert names.count("feed_notes") == 1
    raw(db_path).execute("SELECT note FROM feeds")


def test_failed_migration_is_rolled_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails half-way leaves no trace and is reported with its name."""
    with SQLiteStore.open(db_path) as store:
        store.add_item(article("a1"), now=T0)
    broken = Migration(
        len(MIGRATIONS) + 1,
        "broken",
        "CREATE TABLE extra (x TEXT); INSERT INTO nowhere VALUES (1);",
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(StoreError, match="broken"):
        SQLiteStore.open(db_path)
    tables = {r[0] for r in raw(db_path).execute("SELECT name FROM sqlite_master")}
    assert "extra" not in tables
    assert raw(db_path).execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (
        len(MIGRATIONS),
    )
    monkeypatch.undo()
    with SQLiteStore.open(db_path) as store:
        assert store.find_item("en", "a1") is not None


def test_file_is_user_only(db_path: Path) -> None:
    """The database and its WAL file are created readable by the owner only."""
    with SQLiteStore.open(db_path) as store:
        store.add_item(article("a1"), now=T0, channels=["x-en"])
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        wal = db_path.with_name(db_path.name + "-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_existing_loose_file_is_tightened(db_path: Path) -> None:
    """An existing database readable by others is chmod-ed to 0600 on open."""
    SQLiteStore.open(db_path).close()
    os.chmod(db_path, 0o644)
    SQLiteStore.open(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_wal_mode_and_foreign_keys(db_path: Path) -> None:
    """The file is in WAL mode and deliveries must belong to a known item."""
    with SQLiteStore.open(db_path):
        assert raw(db_path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn = raw(db_path)
        conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO deliveries (feed, item_id, channel, status, created, updated)"
                " VALUES ('en', 'ghost', 'x', 'pending', 't', 't')"
            )


def test_status_check_constraint(db_path: Path) -> None:
    """The schema refuses a delivery status outside the five known ones."""
    with SQLiteStore.open(db_path) as store:
        store.queue(article("a1"), now=T0, channels=["x-en"])
    with pytest.raises(sqlite3.IntegrityError):
        raw(db_path).execute("UPDATE deliveries SET status = 'done'")


def test_writer_is_not_blocked_by_a_reader(db_path: Path) -> None:
    """Under WAL a second connection can read mid-transaction while the store commits."""
    writer = SQLiteStore.open(db_path, busy_timeout=0.5)
    reader = SQLiteStore.open(db_path, busy_timeout=0.5)
    snapshot = raw(db_path)
    snapshot.execute("BEGIN")
    assert snapshot.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)
    writer.add_item(article("a1"), now=T0, channels=["x-en"])  # would time out without WAL
    assert snapshot.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)  # its snapshot
    snapshot.execute("COMMIT")
    assert reader.find_item("en", "a1") is not None
    reader.record_poll_ok("en", now=T0, etag='"r"', last_modified=None)
    assert writer.feed_state("en").etag == '"r"'
    writer.close()
    reader.close()


def test_store_is_safe_to_share_between_threads(db_path: Path) -> None:
    """Scheduler threads can use one store at once without errors or lost writes."""
    errors: list[BaseException] = []

    def work(store: SQLiteStore, worker: int) -> None:
        try:
            for n in range(25):
                store.add_item(article(f"{worker}-{n}"), now=T0, channels=["x-en"])
                store.due_deliveries(T0, limit=5)
        except BaseException as exc:  # collected and re-checked in the main thread
            errors.append(exc)

    with SQLiteStore.open(db_path) as store:
        threads = [threading.Thread(target=work, args=(store, w)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store.deliveries()) == 100


def test_not_a_database_is_reported(db_path: Path) -> None:
    """A file that is not SQLite gives a StoreError naming the file and the fix."""
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(StoreError, match=r"service\.database") as caught:
        SQLiteStore.open(db_path)
    assert str(db_path) in str(caught.value)


def test_split_statements_keeps_semicolons_in_strings_and_triggers() -> None:
    """Migration scripts split on statement ends only."""
    script = """
        CREATE TABLE t (x TEXT DEFAULT 'a;b');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 'c;d'; END;
        INSERT INTO t VALUES ('e')
    """
    statements = list(split_statements(script))
    assert len(statements) == 3
    assert statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://EV.Example/News/", "https://ev.example/News"),
        ("https://ev.example/a?utm_source=x&id=3&UTM_Medium=y#c", "https://ev.example/a?id=3"),
        ("http://ev.example:80/a", "http://ev.example/a"),
        ("https://ev.example:8443/a/", "https://ev.example:8443/a"),
        (
            "https://ev.example/हिंदी",
            "https://ev.example/%E0%A4%B9%E0%A4%BF%E0%A4%82%E0%A4%A6%E0%A5%80",
        ),
        ("https://ev.example/%e0%a4%b9", "https://ev.example/%E0%A4%B9"),
        ("https://ev.example/a?q=a%20b&utm_campaign=z", "https://ev.example/a?q=a%20b"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    """URL identity ignores case of scheme/host, tracking params, fragments, trailing '/'."""
    assert normalise_url(url) == expected


def test_due_deliveries_can_be_asked_for_one_channel(store: ContractStore) -> None:
    """A channel's delivery job gets only its own due deliveries, from the store."""
    store.add_item(article("one-channel"), now=T0, channels=["x-en", "fb-en"])
    due = store.due_deliveries(T0, channel="fb-en")
    assert [d.channel for d in due] == ["fb-en"]
    assert {d.channel for d in store.due_deliveries(T0)} == {"x-en", "fb-en"}
