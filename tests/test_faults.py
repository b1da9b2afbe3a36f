"""Platform faults through the real pipeline: waits, retries, give-ups and pauses, one post.

Each test polls a feed and delivers to fake X, Facebook and Mastodon servers on loopback
with the
real ``open_pipeline`` (SQLite store, publishers, compose) and a clock the test moves.
The fake answers one request with a fault (429 with a reset, 500, a held answer that
outlives the client's timeout, a dropped connection after the post was accepted, an
expired token); the test checks when the delivery is tried again and that the platform
ends up with exactly one post per article.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline
from bot.cli import main
from bot.config import Config, load_config
from bot.pipeline import DeliveryReport, Pipeline
from tests.builders import Item, rss
from tests.crashkit import CrashGraph, CrashMastodon, CrashX, HeldAnswer
from tests.fakes import graph_api, mastodon_api, x_api
from tests.fakes.graph_api import Fault as GraphFault
from tests.fakes.mastodon_api import Fault as MastodonFault
from tests.fakes.x_api import Fault as XFault

HEADLINES = (
    "दिल्ली में 50 नए ईवी चार्जिंग स्टेशन शुरू",
    "சென்னையில் மின்சார பேருந்து சேவை விரிவாக்கம்",
    "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం",
    "Fast chargers open on the Mumbai-Pune expressway",
)
CHANNELS = {"x": "x-main", "facebook": "facebook-page", "mastodon": "mastodon-main"}
PLATFORMS = list(CHANNELS)
AnyFault = XFault | GraphFault | MastodonFault
CLIENT_TIMEOUT = 2.0  # seconds; a held answer outlives it
ENV = {
    "FAULT_X_KEY": x_api.CONSUMER_KEY,
    "FAULT_X_SECRET": x_api.CONSUMER_SECRET,
    "FAULT_X_TOKEN": x_api.ACCESS_TOKEN,
    "FAULT_X_TOKEN_SECRET": x_api.ACCESS_TOKEN_SECRET,
    "FAULT_FB_TOKEN": graph_api.TOKEN,
    "FAULT_MASTODON_TOKEN": mastodon_api.TOKEN,
}


class Clock:
    """The pipeline's now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Rig:
    """A pipeline on a feed file, both fakes, and the test's clock."""

    tmp_path: Path
    config_path: Path
    x: CrashX
    graph: CrashGraph
    masto: CrashMastodon
    clock: Clock
    pipe: Pipeline
    items: list[Item]

    def add_articles(self, count: int) -> None:
        start = len(self.items)
        for n in range(start, start + count):
            self.items.append(
                Item(
                    guid=f"fault-{n}",
                    title=f"{HEADLINES[n % len(HEADLINES)]} ({n})",
                    link=f"https://voltlane.example/2026/fault-{n}/",
                    tags=("EV",),
                )
            )
        feed = self.tmp_path / "feed.xml"
        feed.write_text(rss(list(reversed(self.items))), encoding="utf-8")

    def deliver(self, platform: str, *, after: float = 0.0) -> list[DeliveryReport]:
        """Move the clock by ``after`` seconds, poll, and deliver to ``platform``'s channel."""
        self.clock.advance(after)
        self.pipe.poll("volt")
        return self.pipe.deliver(CHANNELS[platform])

    def fake(self, platform: str) -> CrashX | CrashGraph | CrashMastodon:
        if platform == "x":
            return self.x
        return self.graph if platform == "facebook" else self.masto

    def posts(self, platform: str) -> int:
        return len(self.post_ids(platform))

    def post_ids(self, platform: str) -> list[str]:
        """The ids of the posts the platform holds."""
        if platform == "x":
            return [str(t["id"]) for t in self.x.tweets]
        if platform == "facebook":
            return [p["id"] for p in self.graph.page_posts]
        return [str(s["id"]) for s in self.masto.statuses]

    def attempts(self, platform: str) -> int:
        return self.fake(platform).post_attempts()

    def held(self, platform: str) -> HeldAnswer:
        return self.fake(platform).held

    def statuses(self, platform: str) -> list[str]:
        return [d.status for d in self.pipe.store.deliveries(channel=CHANNELS[platform])]

    @contextmanager
    def restart(self, env: dict[str, str]) -> Iterator[None]:
        """Reopen the pipeline on the same database, config read again with ``env``."""
        config = load_config(self.config_path, env=env)
        with open_pipeline(config) as pipe:
            self.pipe = dataclasses.replace(pipe, clock=self.clock)
            yield


def _config(tmp_path: Path, x_base: str, graph_base: str, mastodon_base: str) -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f"""
[service]
database = "{tmp_path / "state.db"}"
poll_interval = "1m"
jitter = "0s"
timeout = "{CLIENT_TIMEOUT}s"

[[feeds]]
name = "volt"
url = "{tmp_path / "feed.xml"}"
catch_up = "all"
full_text = "never"

[[channels]]
name = "x-main"
platform = "x"
api_base = "{x_base}"
[channels.credentials]
api_key = "FAULT_X_KEY"
api_secret = "FAULT_X_SECRET"
access_token = "FAULT_X_TOKEN"
access_token_secret = "FAULT_X_TOKEN_SECRET"
[channels.options]
timeout = "{CLIENT_TIMEOUT}"

[[channels]]
name = "facebook-page"
platform = "facebook"
api_base = "{graph_base}"
[channels.credentials]
page_token = "FAULT_FB_TOKEN"
[channels.options]
page_id = "1001"

[[channels]]
name = "mastodon-main"
platform = "mastodon"
api_base = "{mastodon_base}"
[channels.credentials]
access_token = "FAULT_MASTODON_TOKEN"
[channels.options]
instance = "{mastodon_base}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with CrashX() as x, CrashGraph() as graph, CrashMastodon() as masto:
        config_path = _config(tmp_path, x.base, graph.base, masto.base)
        config: Config = load_config(config_path, env=ENV)
        clock = Clock()
        with open_pipeline(config) as pipe:
            replaced = dataclasses.replace(pipe, clock=clock)
            rig = Rig(tmp_path, config_path, x, graph, masto, clock, replaced, [])
            rig.add_articles(1)
            yield rig
    assert x.errors == []


def _report(capsys: pytest.CaptureFixture[str], rig: Rig, platform: str, case: str) -> None:
    """Counts for the CI log (pytest captures ordinary output)."""
    line = (
        f"fault {case} on {platform}: articles {len(rig.items)}, post requests "
        f"{rig.attempts(platform)}, posts on the platform {rig.posts(platform)}"
    )
    if platform == "x":
        line += f", X duplicate-content refusals {rig.x.duplicate_refusals()}"
    if platform == "mastodon":
        line += f", answered from the Idempotency-Key {rig.masto.replays}"
    with capsys.disabled():
        print(f"\n{line}")


def _rate_limit(platform: str, *, wait: int) -> AnyFault:
    """A 429 (Graph: error 4) telling the client to wait ``wait`` seconds, as each says it."""
    if platform == "x":  # unix time of the window's end
        reset = str(int(time.time() + wait))
        return XFault(status=429, body=x_api.TOO_MANY, headers={"x-rate-limit-reset": reset})
    if platform == "mastodon":  # ISO time of the window's end
        reset = (datetime.now(UTC) + timedelta(seconds=wait)).isoformat(timespec="seconds")
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return MastodonFault(status=429, body={"error": "Too many requests"}, headers=headers)
    regain = {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": wait // 60}
    error = {"message": "(#4) Application request limit reached", "type": "OAuthException"}
    return GraphFault(
        status=400,
        error={**error, "code": 4},
        headers={"x-business-use-case-usage": json.dumps({"1001": [regain]})},
    )


def _server_error(platform: str) -> tuple[AnyFault, int]:
    """A server error answer and its HTTP status."""
    if platform == "x":
        return XFault(status=500, body=x_api.SERVER_ERROR), 500
    if platform == "mastodon":
        return MastodonFault(status=503, body={"error": "Service Unavailable"}), 503
    error = {"message": "An unexpected error has occurred.", "type": "OAuthException", "code": 2}
    return GraphFault(status=500, error={**error, "is_transient": True}), 500


def _dropped_after_accept(platform: str) -> AnyFault:
    if platform == "x":
        return XFault(drop=True)  # the fake X acts, then hangs up
    if platform == "mastodon":
        return MastodonFault(drop_after=True)
    return GraphFault(drop_after=True)


def _script(rig: Rig, platform: str, *faults: AnyFault) -> None:
    """Answer the next post requests on ``platform`` with ``faults``."""
    if platform == "x":
        rig.x.script("POST", "/2/tweets", *(f for f in faults if isinstance(f, XFault)))
    elif platform == "mastodon":
        rig.masto.fail("statuses", *(f for f in faults if isinstance(f, MastodonFault)))
    else:
        rig.graph.fail("feed", *(f for f in faults if isinstance(f, GraphFault)))


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_waits_for_the_reset_then_sends_once(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 429 with a 5-minute reset: nothing is sent before the reset, one post after it."""
    _script(rig, platform, _rate_limit(platform, wait=300))
    [first] = rig.deliver(platform)
    assert first.outcome == "retry"
    assert "rate limited" in first.detail
    assert rig.deliver(platform, after=240) == []  # still inside the window: no request
    assert rig.attempts(platform) == 1
    [second] = rig.deliver(platform, after=100)
    assert second.outcome == "sent"
    assert (rig.attempts(platform), rig.posts(platform)) == (2, 1)
    _report(capsys, rig, platform, "429 with reset")


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_back_off_then_succeed(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two 500s: each retry waits for the backoff (~30 s, ~60 s), then one post."""
    fault, _ = _server_error(platform)
    _script(rig, platform, fault, fault)
    assert [r.outcome for r in rig.deliver(platform)] == ["retry"]
    assert rig.deliver(platform, after=20) == []  # backoff: 30 s +-20 %
    assert [r.outcome for r in rig.deliver(platform, after=20)] == ["retry"]
    assert rig.deliver(platform, after=40) == []  # backoff: 60 s +-20 %
    assert [r.outcome for r in rig.deliver(platform, after=40)] == ["sent"]
    assert (rig.attempts(platform), rig.posts(platform)) == (3, 1)
    _report(capsys, rig, platform, "5xx x2")


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_past_the_cap_fail_with_the_reason_and_retry_resends_once(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Eight 5xx fail the delivery naming the status; `syndbot retry` then posts it once."""
    attempts = rig.pipe.policy.max_attempts
    fault, status = _server_error(platform)
    _script(rig, platform, *[fault] * attempts)
    outcomes = [r.outcome for _ in range(attempts) for r in rig.deliver(platform, after=7200)]
    assert outcomes == ["retry"] * (attempts - 1) + ["failed"]
    [failed] = rig.pipe.store.deliveries(status="failed")
    assert failed.last_error is not None
    assert f"gave up after {attempts} attempts" in failed.last_error
    assert f"HTTP {status}" in failed.last_error
    assert rig.posts(platform) == 0
    _retry(rig, CHANNELS[platform])
    assert [r.outcome for r in rig.deliver(platform)] == ["sent"]
    assert (rig.attempts(platform), rig.posts(platform)) == (attempts + 1, 1)
    _report(capsys, rig, platform, f"{status} x{attempts} (cap), then syndbot retry")


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_timeout_after_the_post_was_accepted_does_not_post_twice(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The platform keeps the post but answers after the client gave up: retried, one post."""
    rig.held(platform).next(CLIENT_TIMEOUT + 1.5)
    [first] = rig.deliver(platform)
    assert first.outcome == "retry"
    assert "transient" in first.detail
    assert rig.posts(platform) == 1  # the platform has it although we heard nothing
    assert rig.held(platform).wait_idle()
    [second] = rig.deliver(platform, after=60)
    assert second.outcome == "sent"
    assert rig.posts(platform) == 1
    [delivery] = rig.pipe.store.deliveries(channel=CHANNELS[platform])
    assert [delivery.remote_id] == rig.post_ids(platform)
    _report(capsys, rig, platform, "timeout after accept")


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_dropped_connection_after_accept_leaves_exactly_one_post(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The connection drops after the platform stored the post: the retry finds it."""
    _script(rig, platform, _dropped_after_accept(platform))
    assert [r.outcome for r in rig.deliver(platform)] == ["retry"]
    assert rig.posts(platform) == 1
    assert [r.outcome for r in rig.deliver(platform, after=60)] == ["sent"]
    assert rig.posts(platform) == 1
    [delivery] = rig.pipe.store.deliveries(channel=CHANNELS[platform])
    assert [delivery.remote_id] == rig.post_ids(platform)
    _report(capsys, rig, platform, "dropped connection after accept")


def _expire_token(rig: Rig, platform: str, *, requests: int) -> dict[str, str]:
    """The platform stops taking the channel's token (for the next ``requests`` X posts);
    the environment a person fixes."""
    env = dict(ENV)
    if platform == "x":  # X answers a revoked token with 401 until it is replaced
        refusal = XFault(status=401, body=x_api.UNAUTHORIZED)
        rig.x.script("POST", "/2/tweets", *[refusal] * requests)
    elif platform == "mastodon":  # 401: the token was revoked; a new one goes into the env
        rig.masto.token = env["FAULT_MASTODON_TOKEN"] = "mAsToDoN-renewed-token-42"
    else:  # Graph error 190: the Page token expired; a new one goes into the env var
        rig.graph.token = env["FAULT_FB_TOKEN"] = "EAAGrenewedPageToken9876"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_expired_token_pauses_the_channel_and_retry_resumes_it(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An expired token pauses the channel; later articles wait; `syndbot retry` sends each once."""
    env = _expire_token(rig, platform, requests=1)
    assert [r.outcome for r in rig.deliver(platform)] == ["paused"]
    assert rig.pipe.store.channel_paused(CHANNELS[platform])
    rig.add_articles(2)
    assert rig.deliver(platform, after=3600) == []  # paused: nothing is tried
    assert rig.attempts(platform) == 1
    assert rig.statuses(platform) == ["pending"] * 3  # nothing lost
    _retry(rig, CHANNELS[platform], env)
    with rig.restart(env):  # the service restarted with the new token
        assert [r.outcome for r in rig.deliver(platform)] == ["sent"] * 3
        assert rig.statuses(platform) == ["sent"] * 3
    assert (rig.attempts(platform), rig.posts(platform)) == (4, 3)
    _report(capsys, rig, platform, "expired token, then syndbot retry")


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_pause_stops_the_rest_of_the_same_delivery_run(
    rig: Rig, platform: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three posts due when the token expires: one request, then the channel waits."""
    rig.add_articles(2)
    _expire_token(rig, platform, requests=3)
    outcomes = [r.outcome for r in rig.deliver(platform)]
    _report(capsys, rig, platform, f"expired token with 3 due: outcomes {outcomes}")
    assert outcomes == ["paused"]
    assert rig.attempts(platform) == 1


def _retry(rig: Rig, channel: str, env: dict[str, str] = ENV) -> None:
    """`syndbot retry --channel <channel>`, as a person would run it."""
    args = ["-c", str(rig.config_path), "--env-file", os.devnull]
    with _logging_restored():
        result = CliRunner().invoke(main, [*args, "retry", "--channel", channel], env=env)
    assert result.exit_code == 0, result.output


@contextmanager
def _logging_restored() -> Iterator[None]:
    """The CLI configures logging for a process; undo that so later tests see their logs."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger_level in named.items():
            logging.getLogger(name).setLevel(logger_level)
        for name in set(logging.Logger.manager.loggerDict) - set(named):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.slow
def test_platform_down_while_recovering_neither_stops_the_service_nor_posts_twice(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash left X and Facebook deliveries 'sending'; X cannot be asked on restart (503).

    Recovery must not raise (`syndbot run` would exit and every channel stay down); the X
    delivery waits and is tried later, and X ends up with exactly one post.
    """
    rig.pipe.poll("volt")
    for delivery in rig.pipe.store.deliveries():
        if delivery.channel != "mastodon-main":
            rig.pipe.store.mark_sending(delivery.id, now=rig.clock())
    # X took the post just before the crash; the process never heard the answer.
    x_delivery = rig.pipe.store.deliveries(channel="x-main")[0]
    post = rig.pipe.compose_for(x_delivery.article, rig.pipe.config.channel("x-main"))
    rig.x.add_tweet(post.parts[0].text)
    rig.x.script("GET", "/2/users/me", XFault(status=503, body=x_api.SERVER_ERROR))
    assert rig.pipe.recover_interrupted() == 2
    assert rig.statuses("x") == ["pending"]
    assert rig.statuses("facebook") == ["pending"]  # not on the Page: sent again at once
    assert [r.outcome for r in rig.pipe.deliver("facebook-page")] == ["sent"]
    assert rig.pipe.deliver("x-main") == []  # X waits for its backoff
    assert [r.outcome for r in rig.deliver("x", after=3600)] == ["sent"]
    assert (rig.posts("x"), rig.posts("facebook")) == (1, 1)
    [delivery] = rig.pipe.store.deliveries(channel="x-main")
    assert [delivery.remote_id] == rig.post_ids("x")
    _report(capsys, rig, "x", "X down (503) while recovering a crash")
