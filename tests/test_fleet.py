"""Several instances on one PostgreSQL database (``service.fleet``): leases per feed and per
channel, the shared service lock, and leftovers of a dead instance resolved under the lease.

Real PostgreSQL (tests/pg.py), real pipeline, outbox channels; the many-process fleet test
with kills is tests/test_fleet_kills.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import ConfigError
from bot.fleet import Leases, deliver_if_held, poll_if_held, sending_grace
from bot.lock import ServiceLocked, service_lock
from bot.pipeline import Pipeline
from bot.store import DatabaseURL
from tests.builders import Item, rss, write_config

pytestmark = pytest.mark.postgresql


@contextmanager
def _leases(url: DatabaseURL) -> Iterator[Leases]:
    leases = Leases(url)
    try:
        yield leases
    finally:
        leases.close()


def test_a_lease_is_held_by_one_instance_until_it_goes(pg_url: DatabaseURL) -> None:
    """The first instance takes a lease and keeps it; a second gets it once the first closes."""
    with _leases(pg_url) as first, _leases(pg_url) as second:
        assert first.hold("channel:x") == (True, True)
        assert first.hold("channel:x") == (True, False)
        assert second.hold("channel:x") == (False, False)
        assert second.hold("feed:volt") == (True, True)  # leases are per key
        first.close()
        assert second.hold("channel:x") == (True, True)
        assert second.held() == {"channel:x", "feed:volt"}


def test_a_lost_session_loses_every_lease_and_takes_them_again(pg_url: DatabaseURL) -> None:
    """When the server ends our session, the next hold says not held (and warns); leases are
    then taken afresh, unless another instance took them meanwhile."""
    with _leases(pg_url) as mine, _leases(pg_url) as other:
        assert mine.hold("feed:a") == (True, True)
        assert mine.hold("feed:b") == (True, True)
        with psycopg.connect(pg_url.secret_url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (mine.name,),
            )
            # pg_terminate_backend only signals: the session (and its locks) ends a moment
            # later, as when a server really drops a connection.
            deadline = time.monotonic() + 10
            while (
                time.monotonic() < deadline
                and admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = %s", (mine.name,)
                ).fetchone()
            ):
                time.sleep(0.02)
        assert other.hold("feed:b") == (True, True)
        assert mine.hold("feed:a") == (False, False)
        assert mine.held() == set()
        assert mine.hold("feed:a") == (True, True)
        assert mine.hold("feed:b") == (False, False)


def test_fleet_instances_share_the_service_lock_but_never_with_a_single_service(
    pg_url: DatabaseURL,
) -> None:
    """Two fleet instances run together; a single service is refused beside them, and a
    fleet instance is refused beside a single service."""
    with (
        service_lock(pg_url, shared=True),
        service_lock(pg_url, shared=True),
        pytest.raises(ServiceLocked, match="already running"),
        service_lock(pg_url),
    ):
        pass
    with (
        service_lock(pg_url),
        pytest.raises(ServiceLocked, match="a service without it runs alone"),
        service_lock(pg_url, shared=True),
    ):
        pass


def test_fleet_needs_a_postgresql_database(tmp_path: Path) -> None:
    """fleet = true on a SQLite file is a config error naming service.fleet."""
    cfg = write_config(
        tmp_path, feeds={"volt": str(tmp_path / "f.xml")}, extra_service="fleet = true"
    )
    with pytest.raises(ConfigError, match=r"service\.fleet.*shared PostgreSQL database"):
        load_config(cfg, env={})
    env = {"SYNDBOT_DATABASE": "postgresql://bot@db/site"}
    assert load_config(cfg, env=env).service.fleet is True


def _pipeline(tmp_path: Path, url: DatabaseURL, items: int) -> Iterator[Pipeline]:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        rss(
            [
                Item(guid=f"g{n}", title=f"Story {n}", link=f"https://v.example/{n}")
                for n in range(items)
            ]
        ),
        encoding="utf-8",
    )
    cfg = write_config(
        tmp_path,
        feeds={"volt": str(feed)},
        platforms=("x",),
        catch_up="all",
        extra_service='fleet = true\ntimeout = "2s"',
    )
    config = load_config(cfg, env={"SYNDBOT_DATABASE": url.secret_url()})
    with open_pipeline(config) as pipe:
        yield pipe


def test_only_the_lease_holder_polls_and_delivers(tmp_path: Path, pg_url: DatabaseURL) -> None:
    """Of two instances, the one without the leases neither polls nor delivers."""
    pipes = _pipeline(tmp_path, pg_url, items=2)
    pipe = next(pipes)
    try:
        with _leases(pg_url) as holder, _leases(pg_url) as idle:
            assert poll_if_held(pipe, holder, "volt") is not None
            assert poll_if_held(pipe, idle, "volt") is None
            assert holder.hold("channel:x-out") == (True, True)
            assert deliver_if_held(pipe, idle, "x-out") == []
            assert len(deliver_if_held(pipe, holder, "x-out")) == 2
        assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 2
    finally:
        pipes.close()


def test_a_new_holder_skips_a_poll_the_last_holder_just_made(
    tmp_path: Path, pg_url: DatabaseURL
) -> None:
    """Right after a handover the feed is not polled again within half an interval."""
    pipes = _pipeline(tmp_path, pg_url, items=1)
    pipe = next(pipes)
    try:
        with _leases(pg_url) as first:
            assert poll_if_held(pipe, first, "volt") is not None
        with _leases(pg_url) as second:
            assert poll_if_held(pipe, second, "volt") is None  # taken now: polled just now
            assert poll_if_held(pipe, second, "volt") is not None  # its own schedule after
    finally:
        pipes.close()


def test_a_dead_instances_sending_delivery_is_reconciled_after_the_grace(
    tmp_path: Path, pg_url: DatabaseURL
) -> None:
    """A delivery another instance left 'sending' blocks the channel until it is older than
    the grace, then is looked for (found in the outbox: sent, not posted again)."""
    pipes = _pipeline(tmp_path, pg_url, items=2)
    pipe = next(pipes)
    try:
        with _leases(pg_url) as leases:
            poll_if_held(pipe, leases, "volt")
            first, second = pipe.store.due_deliveries(pipe.clock())
            # The dead instance claimed and published `first`, then died before recording it.
            pipe.store.mark_sending(first.id, now=pipe.clock())
            publisher = pipe.publishers["x-out"]
            post = pipe.compose_for(first.article, pipe.config.channel("x-out"))
            publisher.publish(post, idempotency_key=_key(first))
            assert deliver_if_held(pipe, leases, "x-out") == []  # may still be in flight
            start = pipe.clock()
            grace = timedelta(seconds=sending_grace(pipe.config.service.timeout) + 1)
            pipe.clock = lambda: start + grace
            assert deliver_if_held(pipe, leases, "x-out") == []  # resolved this round
            assert [d.status for d in pipe.store.deliveries()] == ["sent", "pending"]
            assert [r.outcome for r in deliver_if_held(pipe, leases, "x-out")] == ["sent"]
        assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 2
        assert second.id != first.id
    finally:
        pipes.close()


def _key(delivery: object) -> str:
    from bot.engine.delivery import idempotency_key

    return idempotency_key(delivery.feed, delivery.item_id, delivery.channel)  # type: ignore[attr-defined]


def test_status_names_the_instance_holding_each_lease(tmp_path: Path, pg_url: DatabaseURL) -> None:
    """`syndbot status` (text and JSON) shows which instance holds each feed and channel."""
    import json

    from click.testing import CliRunner

    from bot.cli import main
    from bot.store import open_store

    open_store(pg_url).close()
    cfg = write_config(
        tmp_path,
        feeds={"volt": str(tmp_path / "f.xml")},
        platforms=("x",),
        extra_service="fleet = true",
    )
    env = {"SYNDBOT_DATABASE": pg_url.secret_url()}
    with _leases(pg_url) as first, _leases(pg_url) as second:
        first.hold("feed:volt")
        second.hold("channel:x-out")
        text = CliRunner().invoke(main, ["-c", str(cfg), "status"], env=env)
        raw = CliRunner().invoke(main, ["-c", str(cfg), "status", "--format", "json"], env=env)
    assert text.exit_code == 0, text.output
    assert f"feed:volt: {first.name}" in text.output
    assert f"channel:x-out: {second.name}" in text.output
    assert raw.exit_code == 0, raw.output
    assert json.loads(raw.output)["leases"] == {
        "feed:volt": first.name,
        "channel:x-out": second.name,
    }
    idle = CliRunner().invoke(main, ["-c", str(cfg), "status", "--format", "json"], env=env)
    assert json.loads(idle.output)["leases"] == {"feed:volt": None, "channel:x-out": None}


def test_metrics_show_the_leases_this_instance_holds(tmp_path: Path, pg_url: DatabaseURL) -> None:
    """/metrics has syndbot_lease_held{lease} per feed and channel: 1 for those held here."""
    from prometheus_client.parser import text_string_to_metric_families

    from bot.web.metrics import Metrics

    pipes = _pipeline(tmp_path, pg_url, items=1)
    pipe = next(pipes)
    try:
        with _leases(pg_url) as leases, _leases(pg_url) as other:
            leases.hold("feed:volt")
            other.hold("channel:x-out")
            metrics = Metrics(pipe.config, pipe.store, leases_held=leases.held)
            text = metrics.render().decode()
            plain = Metrics(pipe.config, pipe.store).render().decode()
    finally:
        pipes.close()
    samples = {
        s.labels["lease"]: s.value
        for family in text_string_to_metric_families(text)
        if family.name == "syndbot_lease_held"
        for s in family.samples
    }
    assert samples == {"feed:volt": 1.0, "channel:x-out": 0.0}
    assert "syndbot_lease_held" not in plain  # not in a fleet: no such family
