"""The ledger's state moves, the same on every store: SQLite (a tmp file) and PostgreSQL
(a throwaway database, see tests/pg.py).

``tests/test_store.py`` holds the rest of the contract on the same ``open_store`` fixture
(tests/stores.py);
these cases add every move of a delivery, the stored post across claims, ``sent_times``,
and two real processes racing for the same deliveries.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from bot.compose import compose
from bot.errors import StoreError
from bot.models import ChannelStyle, Post
from bot.store import DeliveryTaken, SQLiteStore
from bot.store.ledger import LedgerStore
from bot.summarise import ExtractiveSummariser
from tests.stores import ContractStore, Opener
from tests.test_store import T0, article, one


def _post(item_id: str = "a1", **changes: str) -> Post:
    post = compose(
        article(item_id), ChannelStyle(platform="x"), summariser=ExtractiveSummariser(), now=T0
    )
    return dataclasses.replace(post, **changes)


def test_every_move_out_of_sending(store: ContractStore) -> None:
    """From sending a delivery may go to sent, failed, skipped or back to pending."""
    ids = store.queue(article("a1"), now=T0, channels=["a", "b", "c", "d"])
    for delivery_id in ids:
        store.mark_sending(delivery_id, now=T0)
    store.mark_sent(ids[0], now=T0, remote_id=None, remote_url=None, note="no id returned")
    store.mark_failed(ids[1], now=T0, error="400 rejected")
    store.mark_skipped(ids[2], now=T0, reason="no image")
    store.reschedule(ids[3], now=T0, next_attempt=T0 + timedelta(minutes=1), error="503")
    got = {d.channel: (d.status, d.attempts, d.last_error) for d in store.deliveries()}
    assert got == {
        "a": ("sent", 0, "no id returned"),
        "b": ("failed", 1, "400 rejected"),
        "c": ("skipped", 0, "no image"),
        "d": ("pending", 1, "503"),
    }


def test_final_states_refuse_the_moves_they_do_not_allow(store: ContractStore) -> None:
    """sent is final; failed may only be skipped (or retried); skipped is final."""
    sent, failed, skipped = store.queue(article("a1"), now=T0, channels=["a", "b", "c"])
    store.mark_sent(sent, now=T0, remote_id="1", remote_url=None)
    store.mark_failed(failed, now=T0, error="boom")
    store.mark_skipped(skipped, now=T0, reason="off")
    later = T0 + timedelta(minutes=1)
    for delivery_id in (sent, failed, skipped):
        with pytest.raises(DeliveryTaken):
            store.reschedule(delivery_id, now=T0, next_attempt=later, error="x")
        with pytest.raises(DeliveryTaken):
            store.mark_sending(delivery_id, now=T0)
    with pytest.raises(DeliveryTaken, match="is sent"):
        store.mark_skipped(sent, now=T0, reason="late")
    store.mark_skipped(failed, now=T0, reason="given up by hand")
    assert one(store, channel="b").status == "skipped"


def test_a_double_claim_raises_delivery_taken_and_keeps_the_first(store: ContractStore) -> None:
    """The second claim of one delivery is DeliveryTaken; the first claim's post stays."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    first = _post()
    store.mark_sending(delivery_id, now=T0, post=first)
    with pytest.raises(DeliveryTaken, match="is sending"):
        store.mark_sending(delivery_id, now=T0, post=_post(title="Other"))
    assert one(store).post == first


def test_the_stored_post_is_kept_on_a_later_claim(store: ContractStore) -> None:
    """After a reschedule, a new claim with another post keeps the first one stored."""
    [delivery_id] = store.queue(article("a1"), now=T0, channels=["x-en"])
    first, other = _post(), _post(title="Recomposed", summary="Later text")
    store.mark_sending(delivery_id, now=T0, post=first)
    store.reschedule(delivery_id, now=T0, next_attempt=T0, error="transient")
    store.mark_sending(delivery_id, now=T0, post=other)
    assert one(store).post == first
    store.reschedule(delivery_id, now=T0, next_attempt=T0, error="transient")
    store.mark_sending(delivery_id, now=T0)
    assert one(store).post == first


def test_mark_failed_forget_post_drops_it_and_plain_failure_keeps_it(
    store: ContractStore,
) -> None:
    """forget_post=True clears the stored post (a retry composes afresh); otherwise kept."""
    kept, forgotten = store.queue(article("a1"), now=T0, channels=["keep", "forget"])
    for delivery_id in (kept, forgotten):
        store.mark_sending(delivery_id, now=T0, post=_post())
    store.mark_failed(kept, now=T0, error="timeout")
    store.mark_failed(forgotten, now=T0, error="rejected", forget_post=True)
    assert one(store, channel="keep").post == _post()
    assert one(store, channel="forget").post is None
    assert store.retry_failed(now=T0) == 2
    store.mark_sending(forgotten, now=T0, post=_post(title="Fixed"))
    assert one(store, channel="forget").post == _post(title="Fixed")


def test_sent_times_lists_one_channels_sends_since_oldest_first(store: ContractStore) -> None:
    """sent_times: only sent deliveries, only that channel, only since the given time."""
    times = [T0 + timedelta(minutes=m) for m in (30, 10, 20)]
    for n, when in enumerate(times):
        [x_id, other] = store.queue(article(str(n)), now=T0, channels=["x-en", "bsky"])
        store.mark_sending(x_id, now=when)
        store.mark_sent(x_id, now=when, remote_id=str(n), remote_url=None)
        store.mark_sending(other, now=when)
        store.mark_sent(other, now=when, remote_id=str(n), remote_url=None)
    [pending] = store.queue(article("p"), now=T0, channels=["x-en"])
    store.mark_failed(pending, now=T0 + timedelta(minutes=25), error="no")
    since = T0 + timedelta(minutes=15)
    assert store.sent_times("x-en", since=since) == sorted(times)[1:]
    assert store.sent_times("x-en", since=T0) == sorted(times)
    assert store.sent_times("nobody", since=T0) == []


def test_the_same_story_under_a_new_url_form_is_found(store: ContractStore) -> None:
    """Seen items dedupe by normalised URL within a feed, not across feeds."""
    store.add_item(article("g1", url="https://EV.example/news/a/?utm_source=rss"), now=T0)
    found = store.find_item("en", "g2", "https://ev.example/news/a")
    assert found is not None
    assert found.item_id == "g1"
    assert store.find_item("hi", "g2", "https://ev.example/news/a") is None


_RACER = textwrap.dedent(
    """
    import json, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from bot.store import DeliveryTaken, open_store
    database, ids, go = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    store = open_store(database)
    while not go.exists():
        time.sleep(0.005)
    won = []
    for delivery_id in ids:
        try:
            store.mark_sending(delivery_id, now=datetime.now(UTC))
            won.append(delivery_id)
        except DeliveryTaken:
            pass
    store.close()
    print(json.dumps(won))
    """
)


def _location(store: LedgerStore) -> str:
    if isinstance(store, SQLiteStore):
        return str(store.path)
    from bot.store.postgres import PostgresStore

    assert isinstance(store, PostgresStore)
    return store.url.secret_url()


def test_two_processes_never_claim_the_same_delivery(open_store: Opener, tmp_path: Path) -> None:
    """Two real processes claim the same 60 deliveries at once: each is won exactly once."""
    store = open_store()
    ids = [i for n in range(30) for i in store.queue(article(str(n)), now=T0, channels=["a", "b"])]
    assert isinstance(store, LedgerStore)
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, _location(store), json.dumps(ids), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go.touch()
    wins = [json.loads(r.communicate(timeout=90)[0]) for r in racers]
    assert all(r.returncode == 0 for r in racers)
    assert sorted(wins[0] + wins[1]) == sorted(ids)  # every one claimed, none twice
    assert {d.status for d in store.deliveries()} == {"sending"}


def test_a_missing_delivery_is_a_store_error_not_taken(store: ContractStore) -> None:
    """Moving an id that does not exist says so (not 'another process has it')."""
    with pytest.raises(StoreError, match="no delivery with id 999") as caught:
        store.mark_sent(999, now=T0, remote_id=None, remote_url=None)
    assert not isinstance(caught.value, DeliveryTaken)


def test_review_moves_hold_approve_edit_and_skip(store: ContractStore) -> None:
    """The review queue's moves behave the same on every store: a held post waits until its
    window, an awaiting one is never due, approval makes it due with an edited post, a
    skip records the reason, and a move on a delivery no longer in review is refused."""
    held, awaiting, skipped = store.queue(article("a1"), now=T0, channels=["a", "b", "c"])
    until = T0 + timedelta(minutes=15)
    store.hold_delivery(held, now=T0, post=_post(), review="held", until=until)
    store.hold_delivery(awaiting, now=T0, post=_post(), review="awaiting", until=None)
    assert {d.channel for d in store.due_deliveries(T0 + timedelta(minutes=1))} == {"c"}
    assert {d.channel for d in store.due_deliveries(until)} == {"a", "c"}
    with pytest.raises(DeliveryTaken):
        store.hold_delivery(held, now=T0, post=_post(), review="held", until=until)
    edited = _post(article_url="https://ev.example/edited")
    store.approve_delivery(awaiting, now=T0, post=edited)
    got = store.delivery(awaiting)
    assert got is not None
    assert got.review == "approved"
    assert got.post is not None
    assert got.post.article_url == "https://ev.example/edited"
    assert awaiting in {d.id for d in store.due_deliveries(T0)}
    store.skip_pending(skipped, now=T0, reason="skipped in review: off topic")
    row = store.delivery(skipped)
    assert row is not None
    assert (row.status, row.last_error) == ("skipped", "skipped in review: off topic")
    with pytest.raises(DeliveryTaken):
        store.skip_pending(skipped, now=T0, reason="again")
    assert store.delivery(10_000) is None
