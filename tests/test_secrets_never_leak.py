"""No credential ever shows: not in logs, errors, CLI output, the database or the outbox.

Every channel of config/example-all-platforms.toml gets a distinctive secret value and
points at its local server (the fakes in tests/fakes, the real Bluesky PDS). The servers
are scripted to fail (expired tokens, 429, 5xx, answers slower than the client timeout,
connections dropped) while `syndbot -vv` runs `channels check`, `poll`, `status` and
`retry`, and then the pipeline runs directly with every logger, third-party ones too, at
DEBUG. Afterwards each captured text and the raw bytes of every state file are searched
for each secret, plain and URL-encoded.
"""

from __future__ import annotations

import logging
import re
import stat
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from click.testing import Result

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import PublishError
from bot.models import Post, PublishResult
from bot.protocols import Publisher
from tests.builders import Item, rss
from tests.fakes import graph_api, mastodon_api, telegram_api, webhooks, x_api
from tests.harnesses.bluesky import fresh_account
from tests.harnesses.facebook import graph_fault
from tests.harnesses.linkedin import linkedin_fault
from tests.pds import PdsInfo, pds
from tests.test_all_platforms_e2e import (
    ARTICLE_PATH,
    IMAGE_PATH,
    Tokens,
    World,
    cli,
    credential_env,
    example_data,
    fake_credentials,
    local_config,
    running_world,
)

__all__ = ["pds"]  # the session-scoped fixture from tests/pds.py

TIMEOUT = "2s"  # the API client's timeout in this test's config
SLOW = 3.0  # seconds a scripted "timeout" answer waits: past TIMEOUT
TOKENS = Tokens(
    facebook="SECRET-fb-pagetoken-2c8e4f61a9",
    instagram="SECRET-ig-accesstoken-7a1d3b90c4",
    mastodon="SECRET-masto-accesstoken-5f9c02e8d1",
    threads="SECRET-threads-accesstoken-0b6e7d14f2",
    linkedin="SECRET-linkedin-accesstoken-83c5a2f9e7",
    telegram="7700099911:SECRET-telegram-bottoken-1e4c77",
)
X_KEYS = {
    "CONSUMER_KEY": "SECRET-x-apikey-8c1f0d2e5b",
    "CONSUMER_SECRET": "SECRET-x-apisecret-4b7a91c3d6",
    "ACCESS_TOKEN": "1500000000000000001-SECRET-x-accesstoken-6d2f",
    "ACCESS_TOKEN_SECRET": "SECRET-x-tokensecret-9e03b5a7c2",
}
DISCORD_TOKEN = "SECRET-discord-hooktoken-6a2b90d4e1"
SLACK_SECRET = "SECRET-slack-hook-3d8f51c0aa"
# Wrong values tried by `channels check`: a refused secret must not show either.
WRONG = {
    "FB_EN_PAGE_TOKEN": "SECRET-wrong-fb-pagetoken-55e1c3",
    "MASTODON_EN_ACCESS_TOKEN": "SECRET-wrong-masto-token-19af02",
    "TELEGRAM_EN_BOT_TOKEN": "7700099911:SECRET-wrong-telegram-token-c0ffee",
    "BLUESKY_EN_APP_PASSWORD": "SECRET-wrong-bsky-apppass-7d7d",
}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")  # a Bluesky session token


@dataclass
class Evidence:
    """Everything a person or a log shipper could ever see, gathered during the test."""

    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text)

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def add_result(self, name: str, result: Result) -> None:
        self.add(f"{name} stdout", result.stdout)
        self.add(f"{name} stderr", result.stderr)
        if result.exc_info is not None and not isinstance(result.exception, SystemExit):
            self.add(f"{name} exception", "".join(traceback.format_exception(*result.exc_info)))

    def add_exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where} str", str(exc))
        self.add(f"{where} repr", repr(exc))
        self.add(f"{where} traceback", "".join(traceback.format_exception(exc)))  # with causes

    def add_file(self, path: Path) -> None:
        self.add(str(path.name), path.read_bytes().decode("utf-8", "replace"))


class Recording:
    """A publisher wrapper that keeps every exception its publisher raises."""

    def __init__(self, inner: Publisher, evidence: Evidence) -> None:
        self._inner = inner
        self._evidence = evidence
        self.name, self.platform = inner.name, inner.platform

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        try:
            return self._inner.publish(post, idempotency_key=idempotency_key)
        except PublishError as exc:
            self._evidence.add_exception(f"{self.name} publish", exc)
            raise

    def check(self) -> str:
        return self._inner.check()

    def __getattr__(self, name: str) -> Any:  # reconcile, instance_limits where offered
        return getattr(self._inner, name)


def secret_forms(secrets: list[str]) -> list[str]:
    """Each secret as it could appear: plain, percent-encoded, form-encoded."""
    forms = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s))}
    return sorted(forms, key=len, reverse=True)


def assert_secrets_were_sent(world: World, secrets: list[str]) -> None:
    """Every secret reached its server, so the scan looks for values really in play."""
    wire = repr([world.x.requests, world.facebook.calls, world.instagram.calls])
    wire += repr([world.mastodon.calls, world.threads.calls, world.linkedin.calls])
    wire += repr([world.telegram.calls, world.hooks.calls])
    missing = [s[:14] for s in secrets if s not in wire]
    assert missing == [], missing


def leaks(evidence: Evidence, secrets: list[str]) -> list[str]:
    """Where each secret (or a session token) appears: all of them, not just the first."""
    found = []
    for where, text in evidence.texts:
        for form in secret_forms(secrets):
            if form in text:
                at = text.index(form)
                found.append(f"{where}: ...{text[max(0, at - 60) : at + len(form) + 20]}...")
        if JWT.search(text):
            found.append(f"{where}: a session token (JWT)")
    return found


# --- the world, with distinctive secrets --------------------------------------------------


@pytest.fixture
def secret_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Every fake, each accepting only this test's secret values."""
    for name, value in X_KEYS.items():
        monkeypatch.setattr(x_api, name, value)
    monkeypatch.setattr(webhooks, "DISCORD_TOKEN", DISCORD_TOKEN)
    discord_url = f"https://discord.com/api/webhooks/{webhooks.DISCORD_ID}/{DISCORD_TOKEN}"
    monkeypatch.setattr(webhooks, "DISCORD_URL", discord_url)
    slack_path = f"/services/T0FAKE001/B0FAKE002/{SLACK_SECRET}"
    monkeypatch.setattr(webhooks, "SLACK_PATH", slack_path)
    monkeypatch.setattr(webhooks, "SLACK_URL", f"https://hooks.slack.com{slack_path}")
    with running_world(TOKENS) as world:
        yield world


def serve_feed(world: World, *slugs: str) -> None:
    """The English feed with one article per slug (the article page is the shared one)."""
    items = [
        Item(
            guid=f"en-{slug}",
            title=f"Nexon EV price cut, part {n}",
            link=world.site.url(ARTICLE_PATH) + (f"?p={n}" if n else ""),
            body="<p>Tata Motors has cut the price of the Nexon EV by Rs 1 lakh across India. "
            "The new prices apply from Monday at every dealership.</p>",
            tags=("EV", "Tata"),
            image=world.site.url(IMAGE_PATH),
            lang="en",
        )
        for n, slug in enumerate(slugs)
    ]
    world.site.route("/en/feed/", body=rss(items).encode())


def first_faults(world: World) -> None:
    """Failures for the CLI run: expired tokens, 429s, 5xx and timeouts."""
    world.x.script("POST", "/2/tweets", x_api.Fault(status=401, body=x_api.UNAUTHORIZED))
    world.facebook.fail("photos", graph_fault("rate_limit", wait_minutes=5))
    world.instagram.fail("publish", graph_fault("server_error", wait_minutes=0))
    world.threads.fail("publish", graph_fault("auth", wait_minutes=0))
    world.mastodon.fail("statuses", mastodon_api.Fault(delay=SLOW))
    world.linkedin.fail("create", linkedin_fault("rate_limit"))
    unauthorised = telegram_api.telegram_error(401, "Unauthorized")
    world.telegram.fail("sendPhoto", telegram_api.Fault(status=401, body=unauthorised))
    world.hooks.fail("discord", webhooks.Fault(delay=SLOW))
    world.hooks.fail("slack", webhooks.Fault(status=500, body="internal_error"))


def second_faults(world: World) -> None:
    """Other failures for the direct pipeline run (lost answers included)."""
    reset = {"x-rate-limit-reset": "9999999999", "x-rate-limit-remaining": "0"}
    world.x.script("POST", "/2/tweets", x_api.Fault(status=429, body=x_api.TOO_MANY, headers=reset))
    world.facebook.fail("photos", graph_fault("auth", wait_minutes=0))
    world.instagram.fail("publish", graph_api.Fault(drop=True))
    world.threads.fail("publish", graph_api.Fault(delay=SLOW))
    revoked = {"error": f"The access token {TOKENS.mastodon} was revoked"}  # echoed back
    world.mastodon.fail("statuses", mastodon_api.Fault(status=401, body=revoked))
    world.linkedin.fail("create", linkedin_fault("auth"))
    too_many = telegram_api.telegram_error(429, "Too Many Requests: retry after 30", 30)
    world.telegram.fail("sendPhoto", telegram_api.Fault(status=429, body=too_many))
    world.hooks.fail(
        "discord", webhooks.Fault(status=401, body={"message": "Invalid Webhook Token"})
    )
    world.hooks.fail("slack", webhooks.Fault(drop_after=True))


# --- the test ----------------------------------------------------------------------------


def _write_config(world: World, pds_info: PdsInfo, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The all-platforms example on loopback, plus an outbox channel; its environment."""
    world.bluesky_base = pds_info.pds_url
    data = example_data()
    data["channels"].append(
        {"name": "x-preview", "platform": "x", "publisher": "outbox", "feeds": ["ev-en"]}
    )
    for channel in data["channels"]:
        channel.pop("quiet_hours", None)  # deliveries must be due whatever the time of day
        channel.pop("min_interval", None)
    config = local_config(world, tmp_path, data, timeout=TIMEOUT)
    handle, password = fresh_account(pds_info)
    env = credential_env(data, fake_credentials(world, TOKENS, (handle, password)))
    return config, env


def _run_cli(
    config: Path, env: dict[str, str], evidence: Evidence, monkeypatch: pytest.MonkeyPatch
) -> None:
    """channels check (wrong, then right secrets), poll, status, retry, poll, status at -vv."""
    for name, value in (env | WRONG).items():
        monkeypatch.setenv(name, value)
    refused = cli(config, "-vv", "channels", "check")
    evidence.add_result("channels check (wrong secrets)", refused)
    assert refused.exit_code == 1, refused.output
    assert refused.stdout.count(" OK ") == 11 - len(WRONG)  # 11 channels, 4 refused
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    steps = [("channels", "check"), ("poll",), ("status",), ("retry",), ("poll",), ("status",)]
    outputs: list[str] = []
    for args in steps:
        result = cli(config, "-vv", *args)
        evidence.add_result(" ".join(args), result)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.stdout)
    # The faults did happen, and the CLI showed them (so the scan below saw real errors).
    first_poll, status = outputs[1], outputs[2]
    for outcome in ("paused", "retry", "failed", "sent"):
        assert f" {outcome} " in first_poll, first_poll
    assert status.count("paused:") == 3, status
    assert "resumed x-en, threads-en, telegram-en" in outputs[3]


def _run_pipeline(config_path: Path, env: dict[str, str], evidence: Evidence) -> list[str]:
    """A new article through open_pipeline directly, every publisher's errors recorded."""
    config = load_config(config_path, env=env)
    outcomes = []
    with open_pipeline(config) as pipe:
        pipe.publishers = {n: Recording(p, evidence) for n, p in pipe.publishers.items()}
        pipe.recover_interrupted()
        for feed in config.feeds:
            assert pipe.poll(feed.name).error is None
        for report in pipe.deliver(limit=1000):
            evidence.add(f"{report.channel} report", report.detail)
            outcomes.append(report.outcome)
        # While the store is open its latest writes sit in the -wal file: read that too.
        wal = config.service.database.with_name(config.service.database.name + "-wal")
        assert wal.stat().st_size > 0
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600  # SQLite copies the database's mode
        evidence.add_file(wal)
    return outcomes


@pytest.mark.timeout(900)  # the first Bluesky test of a run may install the PDS
def test_no_secret_in_output_logs_errors_or_state(
    secret_world: World,
    pds: PdsInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Failing and succeeding deliveries on 10 platforms at -vv: no secret anywhere."""
    caplog.set_level(logging.DEBUG)
    world, evidence = secret_world, Evidence()
    config, env = _write_config(world, pds, tmp_path)
    serve_feed(world, "first")
    first_faults(world)

    _run_cli(config, env, evidence, monkeypatch)

    # Now with the third-party loggers the CLI quiets at DEBUG too (a user's own logging
    # set-up, or a library changing what it logs, must not expose anything either).
    for name in ("httpx", "httpcore", "urllib3", "requests_oauthlib", "oauthlib", "tweepy"):
        caplog.set_level(logging.DEBUG, logger=name)
    serve_feed(world, "first", "second")
    second_faults(world)
    outcomes = _run_pipeline(config, env, evidence)

    assert {"sent", "retry", "paused"} <= set(outcomes), outcomes
    names = {r.name for r in caplog.records}
    assert {"syndbot", "httpx", "requests_oauthlib.oauth1_auth"} <= names  # all were heard
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    for record in caplog.records:
        evidence.add(f"log record from {record.name}", formatter.format(record))
    state = [p for p in tmp_path.iterdir() if p.name.startswith("state.db")]
    for path in [*state, tmp_path / "outbox.jsonl"]:
        evidence.add_file(path)
    # Secrets that travel to a recorded server (X's two signing secrets never do; the
    # PDS records nothing we can read), and all of them.
    sent = [X_KEYS["CONSUMER_KEY"], X_KEYS["ACCESS_TOKEN"], DISCORD_TOKEN, SLACK_SECRET]
    sent += [TOKENS.facebook, TOKENS.instagram, TOKENS.mastodon, TOKENS.threads]
    sent += [TOKENS.linkedin, TOKENS.telegram]
    sent += [v for k, v in WRONG.items() if not k.startswith("BLUESKY")]
    secrets = [*sent, *X_KEYS.values(), *WRONG.values(), env["BLUESKY_EN_APP_PASSWORD"]]
    found = leaks(evidence, secrets)
    assert not found, "\n".join(found)
    assert_secrets_were_sent(world, sent)
    canary = Evidence([("canary", f"GET /bot{quote(TOKENS.telegram, safe='')}/getMe")])
    assert leaks(canary, [TOKENS.telegram]) != []  # the scan does find an encoded secret
    assert stat.S_IMODE((tmp_path / "state.db").stat().st_mode) == 0o600
