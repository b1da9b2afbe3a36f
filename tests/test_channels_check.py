"""`syndbot channels check` through click's runner against the fake X and Graph APIs."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests
from click.testing import CliRunner, Result

from bot.cli import main
from bot.cli._network import describe_network_error, network_cause
from bot.errors import Transient
from tests.fakes import graph_api, x_api
from tests.harnesses.facebook import graph_fault

FB_TOKEN = "EAAGfakeEnglishPageToken5d1a90c3"
IG_TOKEN = "IGfakeEnglishAccessToken77e2b04d"
ENV = {
    "X_EN_API_KEY": x_api.CONSUMER_KEY,
    "X_EN_API_SECRET": x_api.CONSUMER_SECRET,
    "X_EN_ACCESS_TOKEN": x_api.ACCESS_TOKEN,
    "X_EN_ACCESS_TOKEN_SECRET": x_api.ACCESS_TOKEN_SECRET,
    "FB_EN_PAGE_TOKEN": FB_TOKEN,
    "IG_EN_ACCESS_TOKEN": IG_TOKEN,
}
SECRETS = tuple(ENV.values())


@dataclass
class Site:
    """The fakes and a config whose channels point at them."""

    x: x_api.FakeX
    facebook: graph_api.FakeGraph
    instagram: graph_api.FakeGraph
    config: Path
    env_file: Path

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        argv = ["-c", str(self.config), "--env-file", str(self.env_file), "channels", "check"]
        return CliRunner().invoke(main, [*argv, *args], env=env if env is not None else ENV)


def _config(tmp_path: Path, x: str, facebook: str, instagram: str) -> Path:
    text = f"""
[service]
database = "{tmp_path / "state.db"}"
outbox = "{tmp_path / "outbox.jsonl"}"
timeout = "2s"
allow_private_addresses = true

[[feeds]]
name = "ev-en"
url = "builtin:demo"
lang = "en"

[[channels]]
name = "x-en"
platform = "x"
api_base = "{x}"
[channels.credentials]
api_key = "X_EN_API_KEY"
api_secret = "X_EN_API_SECRET"
access_token = "X_EN_ACCESS_TOKEN"
access_token_secret = "X_EN_ACCESS_TOKEN_SECRET"

[[channels]]
name = "facebook-en"
platform = "facebook"
api_base = "{facebook}"
[channels.credentials]
page_token = "FB_EN_PAGE_TOKEN"
[channels.options]
page_id = "1001"
graph_version = "v25.0"

[[channels]]
name = "instagram-en"
platform = "instagram"
api_base = "{instagram}"
[channels.credentials]
access_token = "IG_EN_ACCESS_TOKEN"
[channels.options]
ig_user_id = "17841400001"
graph_version = "v25.0"

[[channels]]
name = "outbox-en"
platform = "x"
publisher = "outbox"
outbox = "{tmp_path / "out" / "posts.jsonl"}"
"""
    path = tmp_path / "syndbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with (
        x_api.FakeX() as x,
        graph_api.FakeGraph(token=FB_TOKEN) as facebook,
        graph_api.FakeGraph(token=IG_TOKEN) as instagram,
    ):
        config = _config(tmp_path, x.base, facebook.base, instagram.base)
        yield Site(x, facebook, instagram, config, Path(os.devnull))
    assert x.errors == []


def _row(output: str, channel: str) -> str:
    """The table row of ``channel``: its first line and the lines its folded cells take."""
    lines = output.splitlines()
    [start] = [i for i, line in enumerate(lines) if f" {channel} " in line]
    row = [lines[start]]
    for line in lines[start + 1 :]:
        first_cell = line.split("│")[1:2]
        if first_cell != [] and not first_cell[0].strip():
            row.append(line)
        else:
            break
    return " ".join(row)


def _assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output


def test_every_channel_ok_shows_its_account(site: Site) -> None:
    """All credentials work: each row says OK with the account name; exit code 0."""
    result = site.run()

    assert result.exit_code == 0, result.output
    assert "OK" in _row(result.output, "x-en")
    assert f"@{x_api.USERNAME}" in _row(result.output, "x-en")
    assert site.facebook.page_name in _row(result.output, "facebook-en")
    assert f"@{site.instagram.username}" in _row(result.output, "instagram-en")
    assert "OK" in _row(result.output, "outbox-en")
    _assert_no_secret(result.output)


def test_check_reads_and_never_posts(site: Site) -> None:
    """Each platform gets exactly its one documented read call and nothing is posted."""
    result = site.run()

    assert result.exit_code == 0, result.output
    assert [(r.method, r.path) for r in site.x.api_requests()] == [("GET", "/2/users/me")]
    assert [(c.method, c.route) for c in site.facebook.calls] == [("GET", "me")]
    [account] = site.instagram.calls
    assert (account.method, account.route, account.query) == (
        "GET",
        "account",
        {"fields": "username"},
    )
    assert site.x.tweets == []
    assert site.facebook.page_posts == []


def test_expired_token_fails_one_channel_only(site: Site) -> None:
    """An expired Page token shows Graph's problem on that row, the others say OK; exit 1."""
    site.facebook.fail("me", graph_fault("auth", wait_minutes=0))

    result = site.run()

    assert result.exit_code == 1, result.output
    facebook = _row(result.output, "facebook-en")
    assert "OK" not in facebook
    assert "190" in facebook
    assert "expired" in result.output
    assert "fbtrace_id AxAuth1" in result.output  # quoted as text, not eaten as markup
    assert "OK" in _row(result.output, "x-en")
    assert "OK" in _row(result.output, "instagram-en")
    _assert_no_secret(result.output)


def test_refused_x_credentials_are_named(site: Site) -> None:
    """X answering 401 shows which credentials to check, never their values."""
    site.x.script("GET", "/2/users/me", x_api.Fault(status=401, body=x_api.UNAUTHORIZED))

    result = site.run()

    assert result.exit_code == 1
    assert "401" in _row(result.output, "x-en")
    assert "access_token_secret" in result.output
    _assert_no_secret(result.output)


def test_unreachable_api_is_a_problem_not_a_crash(tmp_path: Path, site: Site) -> None:
    """A channel whose API cannot be reached is reported; the other channels are checked."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    config = _config(tmp_path, site.x.base, site.facebook.base, dead)
    site.config = config

    result = site.run()

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    instagram = _row(result.output, "instagram-en")
    assert "cannot reach 127.0.0.1: the connection was refused" in instagram
    assert "check the address (api_base)" in instagram
    assert "ConnectError" not in result.output
    assert "Errno" not in result.output
    assert "OK" in _row(result.output, "facebook-en")


def test_channel_option_restricts_the_check(site: Site) -> None:
    """--channel checks only the named channel."""
    site.facebook.fail("me", graph_fault("auth", wait_minutes=0))

    result = site.run("--channel", "x-en")

    assert result.exit_code == 0, result.output
    assert "x-en" in result.output
    assert "facebook-en" not in result.output
    assert site.facebook.calls == []


def test_unknown_channel_is_a_clear_error(site: Site) -> None:
    """--channel with a name not in the config names it and the real channels."""
    result = site.run("--channel", "x-hi")

    assert result.exit_code == 2
    assert 'no channel named "x-hi"' in result.output
    assert "x-en" in result.output


def _dead_url() -> str:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}"


def test_missing_variable_is_one_row_and_the_others_are_checked(site: Site) -> None:
    """An unset variable fails its channel's row with the fix; every other channel is checked."""
    env: dict[str, str | None] = {**ENV, "FB_EN_PAGE_TOKEN": None, "X_EN_API_SECRET": None}

    result = site.run(env=env)

    assert result.exit_code == 1, result.output
    facebook = _row(result.output, "facebook-en")
    assert "FB_EN_PAGE_TOKEN" in facebook
    assert "not set" in facebook
    assert ".env" in facebook
    x = _row(result.output, "x-en")
    assert "X_EN_API_SECRET" in x
    assert "OK" in _row(result.output, "instagram-en")
    assert "OK" in _row(result.output, "outbox-en")
    assert "2 of 4 channels failed the check." in result.output
    assert site.facebook.calls == []
    assert [r.path for r in site.instagram.calls] != []
    _assert_no_secret(result.output)


def test_x_library_dump_becomes_one_sentence(tmp_path: Path, site: Site) -> None:
    """X (requests under tweepy) unreachable: a plain sentence, no connection-pool dump."""
    site.config = _config(tmp_path, _dead_url(), site.facebook.base, site.instagram.base)

    result = site.run()

    assert result.exit_code == 1
    x = _row(result.output, "x-en")
    assert "cannot reach 127.0.0.1: the connection was refused" in x
    for dump in ("HTTPConnectionPool", "Max retries", "NewConnectionError", "Errno"):
        assert dump not in result.output
    assert "OK" in _row(result.output, "facebook-en")


def test_every_failing_channel_has_a_row_with_what_to_do(tmp_path: Path, site: Site) -> None:
    """Three channels failing three ways: three rows, each with a problem and a fix."""
    site.config = _config(tmp_path, _dead_url(), site.facebook.base, _dead_url())
    site.facebook.fail("me", graph_fault("auth", wait_minutes=0))

    result = site.run()

    assert result.exit_code == 1
    assert "renew or correct" in _row(result.output, "facebook-en")
    assert "check the address" in _row(result.output, "x-en")
    assert "check the address" in _row(result.output, "instagram-en")
    assert "OK" in _row(result.output, "outbox-en")
    assert "3 of 4 channels failed the check." in result.output


def _requests_error(cls: type[requests.RequestException], text: str) -> Exception:
    request = requests.Request("GET", "https://api.x.com/2/users/me").prepare()
    return cls(text, request=request)


POOL = "HTTPSConnectionPool(host='api.x.com', port=443): Max retries exceeded with url: /2"
NETWORK_ERRORS = {
    "httpx proxy": (
        httpx.ProxyError("502 Bad Gateway", request=httpx.Request("GET", "https://api.x.com/")),
        "cannot reach api.x.com through the proxy",
    ),
    "requests proxy": (
        _requests_error(
            requests.exceptions.ProxyError,
            f"{POOL} (Caused by ProxyError('Unable to connect to proxy', OSError('Tunnel')))",
        ),
        "cannot reach api.x.com through the proxy",
    ),
    "dns": (
        _requests_error(
            requests.ConnectionError,
            f"{POOL} (Caused by NameResolutionError(\"Failed to resolve 'api.x.com'\"))",
        ),
        "cannot reach api.x.com: its name could not be resolved",
    ),
    "connect timeout": (
        httpx.ConnectTimeout("timed out", request=httpx.Request("GET", "https://graph.example/")),
        "cannot reach graph.example: no connection within the time limit",
    ),
    "read timeout": (
        httpx.ReadTimeout("timed out", request=httpx.Request("GET", "https://graph.example/")),
        "graph.example did not answer within the time limit",
    ),
    "tls": (
        httpx.ConnectError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            request=httpx.Request("GET", "https://mastodon.example/"),
        ),
        "cannot reach mastodon.example: its TLS certificate could not be verified",
    ),
}


@pytest.mark.parametrize(("error", "sentence"), NETWORK_ERRORS.values(), ids=list(NETWORK_ERRORS))
def test_network_errors_read_as_one_sentence(error: Exception, sentence: str) -> None:
    """Library exceptions (also when wrapped by ours) become one sentence naming the host."""
    try:
        try:
            raise error
        except Exception as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
    except Transient as wrapped:
        text = describe_network_error(network_cause(wrapped) or wrapped)

    assert text.startswith(sentence)
    assert text.count(";") == 1
    for dump in ("Pool", "Max retries", "Caused by", "Errno", "CERTIFICATE_VERIFY", "Error"):
        assert dump not in text
