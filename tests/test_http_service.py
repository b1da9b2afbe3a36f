"""`syndbot run` with [http] listen: /healthz and /metrics over real HTTP on loopback.

The service runs as a real process on the shipped demo config, its feed served by a
loopback FeedServer instead of the bundled file, so stopping that server makes the feed
fail and /healthz turn 503 once the last good poll is older than stale_after.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import open_pipeline
from bot.config import Config, load_config
from bot.feeds import open_source
from bot.models import FeedState
from bot.store import SQLiteStore
from bot.web.health import evaluate
from bot.web.metrics import Metrics
from tests.builders import Item, rss, write_config
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "syndbot.toml"
DEMO_FEED = ROOT / "bot" / "demo" / "feed.xml"
STALE = 4.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demo_config(tmp_path: Path, feed_url: str, port: int) -> Path:
    """The shipped demo config, its feed on loopback, polled every second, [http] on."""
    text = DEMO.read_text(encoding="utf-8")
    swaps = {
        r'^url = "builtin:demo"': f'url = "{feed_url}"',
        r'^poll_interval = "1m"': 'poll_interval = "1s"',
        r'^jitter = "5s"': 'jitter = "0s"',
        r"^\[service\]": "[service]\nallow_private_addresses = true",
    }
    for pattern, replacement in swaps.items():
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
        assert count == 1, f"the demo config no longer has {pattern}"
    text += f'\n[http]\nlisten = "127.0.0.1:{port}"\nstale_after = "{STALE:.0f}s"\n'
    path = tmp_path / "syndbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _wait(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5, trust_env=False)
    except httpx.TransportError:
        return None


def _health_cli(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "-c", str(config), "health"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[FeedServer, Path, str]]:
    feeds = FeedServer().start()
    feeds.route("/feed.xml", body=DEMO_FEED.read_bytes(), etag='"demo-1"')
    port = _free_port()
    config = _demo_config(tmp_path, feeds.url("/feed.xml"), port)
    log = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "-c", str(config), "run"],
        cwd=tmp_path,  # the demo's relative var/ paths land here
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        yield feeds, config, f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        feeds.close()
        log.close()
    assert code == 0, (tmp_path / "stderr.log").read_text()


def test_healthz_metrics_and_staleness(service: tuple[FeedServer, Path, str]) -> None:
    """/healthz answers 200 and /metrics has every family with live values; with the feed
    server gone /healthz and `syndbot health` turn unhealthy after stale_after."""
    feeds, config, base = service
    cwd = config.parent

    def metrics() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        response = _get(f"{base}/metrics")
        assert response is not None
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(response.text):
            samples.setdefault(family.name, {})  # the family, by its name without _total
            for s in family.samples:
                samples.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return samples

    def sent() -> float:
        if _get(f"{base}/healthz") is None:
            return 0  # not listening yet
        deliveries = metrics().get("syndbot_deliveries_total", {})
        return sum(v for k, v in deliveries.items() if ("outcome", "sent") in k)

    channels = [c.name for c in load_config(config, env={}).channels]
    _wait("every demo post sent", lambda: sent() >= 6 * len(channels), timeout=60)
    _wait("a 304 answer", lambda: any(r.headers.get("if-none-match") for r in feeds.requests))

    health = _get(f"{base}/healthz")
    assert health is not None
    assert health.status_code == 200, health.text
    assert health.json()["checks"] == {
        "database_writable": True,
        "scheduler_running": True,
        "feeds_fresh": True,
    }
    assert _health_cli(config, cwd).returncode == 0

    families = metrics()
    expected = {
        "syndbot_feed_polls",
        "syndbot_feed_fetch_seconds",
        "syndbot_feed_not_modified_ratio",
        "syndbot_feed_items_new",
        "syndbot_feed_last_success_timestamp_seconds",
        "syndbot_feed_consecutive_errors",
        "syndbot_deliveries",
        "syndbot_delivery_retries",
        "syndbot_budget_waits",
        "syndbot_queue_depth",
        "syndbot_queue_oldest_pending_age_seconds",
        "syndbot_channel_paused",
        "syndbot_scheduler_running",
        "syndbot_feed_poll_interval_seconds",
    }
    assert expected <= set(families)
    assert families["syndbot_feed_poll_interval_seconds"][(("feed", "demo"),)] == 1.0
    demo = (("feed", "demo"),)
    assert families["syndbot_feed_items_new_total"][demo] == 6
    assert (
        families["syndbot_feed_polls_total"][(("feed", "demo"), ("outcome", "not_modified"))] >= 1
    )
    assert 0 < families["syndbot_feed_not_modified_ratio"][demo] < 1
    assert families["syndbot_scheduler_running"][()] == 1
    assert set(families["syndbot_channel_paused"].values()) == {0}
    assert {dict(k)["channel"] for k in families["syndbot_queue_depth"]} == set(channels)

    feeds.close()  # the feed now fails: its last good poll ages past stale_after
    stopped = time.monotonic()
    _wait(
        "/healthz 503", lambda: (r := _get(f"{base}/healthz")) is not None and r.status_code == 503
    )
    assert time.monotonic() - stopped >= STALE - 1.5  # not before it is actually stale
    body = httpx.get(f"{base}/healthz", timeout=5, trust_env=False).json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["feeds_fresh"] is False
    assert any(r.startswith("feed demo: last successful poll") for r in body["reasons"])
    errors = metrics()["syndbot_feed_polls_total"][(("feed", "demo"), ("outcome", "error"))]
    assert errors >= 1
    result = _health_cli(config, cwd)
    assert result.returncode == 1
    assert "unhealthy: feed demo" in result.stdout


def test_health_cli_without_service(tmp_path: Path) -> None:
    """With [http] set but nothing listening, `syndbot health` exits 1 saying so."""
    config = write_config(tmp_path, feeds={"f": "builtin:demo"})
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f'[http]\nlisten = "127.0.0.1:{_free_port()}"\n')
    result = _health_cli(config, tmp_path)
    assert result.returncode == 1
    assert "does not answer" in result.stdout


def test_health_cli_checks_the_database_without_http(tmp_path: Path) -> None:
    """Without [http], `syndbot health` judges the stored polls: fresh is 0, stale is 1."""
    config = write_config(tmp_path, feeds={"f": "builtin:demo"})
    assert _health_cli(config, tmp_path).returncode == 1  # no database yet
    loaded = load_config(config, env={})
    with SQLiteStore.open(loaded.service.database) as store:
        store.record_poll_ok("f", now=datetime.now(UTC), etag=None, last_modified=None)
    assert _health_cli(config, tmp_path).returncode == 0
    with SQLiteStore.open(loaded.service.database) as store:
        old = datetime.now(UTC) - timedelta(hours=4)  # poll_interval 1m: stale after 3m
        store.record_poll_ok("f", now=old, etag=None, last_modified=None)
    result = _health_cli(config, tmp_path)
    assert result.returncode == 1
    assert "feed f: last successful poll" in result.stdout


def test_a_restart_gets_a_full_period_before_feeds_count_as_stale(tmp_path: Path) -> None:
    """A feed last polled long ago is fresh for stale_after after the service started."""
    config = load_config(write_config(tmp_path, feeds={"f": "builtin:demo"}), env={})
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    states = [FeedState(feed="f", last_success=now - timedelta(days=3))]

    def verdict(started: timedelta) -> bool:
        return evaluate(
            config,
            states,
            now=now,
            started_at=now - started,
            scheduler_running=True,
            database_problem=None,
        ).ok

    assert verdict(timedelta(minutes=2))  # 3 intervals of 1m: still within
    assert not verdict(timedelta(minutes=4))


@pytest.mark.parametrize(
    ("extra", "fresh_until"),
    [
        ("", timedelta(minutes=3)),  # poll_interval 1m: three intervals
        ('max_poll_interval = "10m"', timedelta(minutes=30)),  # a quiet feed: three of 10m
    ],
)
def test_a_feed_polled_less_often_on_purpose_is_not_stale(
    tmp_path: Path, extra: str, fresh_until: timedelta
) -> None:
    """A feed slowed while quiet (max_poll_interval) counts as stale only after three of
    its longest intervals, not three of its shortest, and a service that may be pushed
    (WebSub, [http] public_url) allows four times that."""
    path = write_config(tmp_path, feeds={"f": "builtin:demo"}, extra_service=extra)
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def fresh(config: Config, age: timedelta) -> bool:
        states = [FeedState(feed="f", last_success=now - age)]
        verdict = evaluate(
            config, states, now=now, started_at=None, scheduler_running=True,
            database_problem=None,
        )  # fmt: skip
        return verdict.ok

    config = load_config(path, env={})
    assert fresh(config, fresh_until - timedelta(seconds=1))
    assert not fresh(config, fresh_until + timedelta(seconds=1))
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f'[http]\nlisten = "127.0.0.1:{_free_port()}"\n')
        fh.write('public_url = "https://syndbot.example"\n')
    pushed = load_config(path, env={})
    assert fresh(pushed, 4 * fresh_until - timedelta(seconds=1))
    assert not fresh(pushed, 4 * fresh_until + timedelta(seconds=1))


def test_queue_gauges_read_the_store(tmp_path: Path) -> None:
    """Queue depth, oldest pending age and paused channels come from the stored state."""
    feed = tmp_path / "feed.xml"
    feed.write_text(
        rss(
            [Item(guid=f"g{i}", title=f"T{i}", link=f"https://volt.example/{i}/") for i in range(3)]
        ),
        encoding="utf-8",
    )
    config = load_config(write_config(tmp_path, feeds={"f": str(feed)}), env={})
    created = datetime(2026, 1, 1, 12, tzinfo=UTC)
    with SQLiteStore.open(config.service.database) as store, httpx.Client() as client:
        source = open_source("f", str(feed), client=client, full_text="never")
        for article in source.fetch(etag=None, last_modified=None).articles:
            store.add_item(article, now=created, channels=["x-out"])
        store.pause_channel("bluesky-out", reason="token revoked", now=created)
        metrics = Metrics(config, store, clock=lambda: created + timedelta(minutes=5))
        metrics.delivered("x-out", outcome="retry")
        families: dict[str, dict[tuple[str, ...], float]] = {}
        for family in text_string_to_metric_families(metrics.render().decode()):
            for s in family.samples:
                families.setdefault(s.name, {})[tuple(s.labels.values())] = s.value
    assert families["syndbot_queue_depth"] == {("bluesky-out",): 0, ("x-out",): 3}
    assert families["syndbot_queue_oldest_pending_age_seconds"][("x-out",)] == 300
    assert families["syndbot_channel_paused"] == {("bluesky-out",): 1, ("x-out",): 0}
    assert families["syndbot_delivery_retries_total"][("x-out",)] == 1
    assert families["syndbot_deliveries_total"][("x-out", "retry")] == 1


def test_a_busy_port_stops_start_up_with_a_clear_error(tmp_path: Path) -> None:
    """`syndbot run` whose [http] port is taken exits 2 naming the address, polling nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, feeds={"f": "builtin:demo"}, catch_up="all")
        with config.open("a", encoding="utf-8") as fh:
            fh.write(f'[http]\nlisten = "127.0.0.1:{port}"\n')
        result = subprocess.run(
            [sys.executable, "-m", "bot", "-c", str(config), "run"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "outbox.jsonl").exists()


def test_pipeline_reports_polls_sends_and_budget_waits(tmp_path: Path) -> None:
    """Polling and delivering through a pipeline whose observer is Metrics counts the poll,
    the new items, the one send the hourly budget allows and the wait for the rest."""
    feed = tmp_path / "feed.xml"
    items = [Item(guid=f"g{i}", title=f"T{i}", link=f"https://volt.example/{i}/") for i in range(3)]
    feed.write_text(rss(items), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, platforms=("x",), catch_up="all")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("max_posts_per_hour = 1\n")  # appended to the last [[channels]] table
    config = load_config(path, env={})
    with open_pipeline(config) as pipe:
        metrics = Metrics(config, pipe.store)
        pipe.observer = metrics
        pipe.poll("f")
        pipe.poll("f")  # a file source: unchanged, still a successful poll
        pipe.deliver("x-out")
        samples: dict[str, dict[tuple[str, ...], float]] = {}
        for family in text_string_to_metric_families(metrics.render().decode()):
            for s in family.samples:
                samples.setdefault(s.name, {})[tuple(s.labels.values())] = s.value
    assert samples["syndbot_feed_polls_total"][("f", "ok")] == 2
    assert samples["syndbot_feed_items_new_total"][("f",)] == 3
    assert samples["syndbot_feed_fetch_seconds_count"][("f",)] == 2
    assert samples["syndbot_deliveries_total"][("x-out", "sent")] == 1
    assert samples["syndbot_budget_waits_total"][("x-out",)] == 1
    assert samples["syndbot_queue_depth"][("x-out",)] == 2
