"""Many feeds are polled concurrently, never more than the limit at once on one host."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError
from bot.polling import HostLimits, poll_many
from tests.builders import Item, rss
from tests.feedserver import FeedServer

BODY = rss([Item(guid="g1", title="Battery swap", link="https://volt.example/1/")]).encode()


def _config(tmp_path: Path, urls: list[str], service: str = "") -> Path:
    lines = [
        "[service]",
        f'database = "{tmp_path / "state.db"}"',
        f'outbox = "{tmp_path / "outbox.jsonl"}"',
        "allow_private_addresses = true",
        service,
    ]
    for n, url in enumerate(urls):
        lines += ["[[feeds]]", f'name = "f{n}"', f'url = "{url}"', 'full_text = "never"']
    lines += ["[[channels]]", 'name = "x-out"', 'platform = "x"', 'publisher = "outbox"']
    path = tmp_path / "syndbot.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_poll_many_runs_in_parallel_within_the_host_limit() -> None:
    """12 slow feeds on one host: 3 at a time (the per-host limit), reports in order."""
    with FeedServer() as server, httpx.Client(timeout=10, trust_env=False) as client:
        for n in range(12):
            server.route(f"/{n}.xml", body=BODY, delay=0.3)
        names = [f"/{n}.xml" for n in range(12)]
        started = time.monotonic()
        reports = poll_many(
            names,
            lambda path: (path, client.get(server.url(path)).status_code),
            urls=server.url,
            in_flight=8,
            limits=HostLimits(3),
        )
        elapsed = time.monotonic() - started
    assert reports == [(name, 200) for name in names]
    assert server.max_in_flight == 3
    assert elapsed < 12 * 0.3 * 0.6  # one after the other would take 3.6 s


def test_host_limits_are_per_host() -> None:
    """A host at its limit does not hold up another host."""
    limits = HostLimits(1)
    entered = threading.Event()
    release = threading.Event()

    def hold_a() -> None:
        with limits.hold("http://a.example/feed"):
            entered.set()
            release.wait(5)

    holder = threading.Thread(target=hold_a)
    holder.start()
    assert entered.wait(5)
    got_b = threading.Event()
    other = threading.Thread(target=lambda: _hold_then_set(limits, "https://b.example/x", got_b))
    other.start()
    assert got_b.wait(2)  # b is free while a is held
    got_a = threading.Event()
    second_a = threading.Thread(target=lambda: _hold_then_set(limits, "http://a.example/2", got_a))
    second_a.start()
    assert not got_a.wait(0.3)  # a's one slot is taken
    release.set()
    assert got_a.wait(5)
    for thread in (holder, other, second_a):
        thread.join(5)


def _hold_then_set(limits: HostLimits, url: str, event: threading.Event) -> None:
    with limits.hold(url):
        event.set()


def test_syndbot_poll_polls_feeds_concurrently(tmp_path: Path) -> None:
    """`syndbot poll` fetches several feeds at once, at most poll_per_host per host."""
    with FeedServer() as server:
        for n in range(6):
            server.route(f"/{n}.xml", body=BODY, delay=0.3)
        cfg = _config(tmp_path, [server.url(f"/{n}.xml") for n in range(6)], "poll_per_host = 2")
        result = CliRunner().invoke(main, ["-c", str(cfg), "poll", "--no-deliver"])
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 6
    assert server.max_in_flight == 2


def test_concurrency_settings_are_checked(tmp_path: Path) -> None:
    """poll_concurrency and poll_per_host are positive integers; defaults 64 and 4."""
    config = load_config(_config(tmp_path, ["https://a.example/f.xml"]), env={})
    assert (config.service.poll_concurrency, config.service.poll_per_host) == (64, 4)
    with pytest.raises(ConfigError, match="at least 1"):
        load_config(_config(tmp_path, ["https://a.example/f.xml"], "poll_per_host = 0"), env={})
