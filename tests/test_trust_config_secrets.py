"""A secret pasted into [channels.credentials] is refused and never printed back."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dotenv
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.config._credentials import looks_like_secret
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
FEED = '[[feeds]]\nname = "ev-en"\nurl = "builtin:demo"\n'

# Shapes of real credentials (made up, same alphabet and length as the real ones).
PASTED = {
    "facebook page token": ("facebook", "page_token", "EAABsbCS1iHgBAKZCZBZAZA7x9ZBZCZAqmZCsZD"),
    "x api key": ("x", "api_key", "xvz1evFS4wEEPTGEFPHBog"),
    "x api secret": ("x", "api_secret", "kAcSOqF21Fu85e7zTjzbFxdPNxOqxxxK3bWQmNxy"),
    "x access token": ("x", "access_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9"),
    "x bearer token": ("x", "api_key", "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"),
    "mastodon token": ("mastodon", "access_token", "ZA7Yj3aBD8U8Cm7lKUpLlm9O9BmDgdhHzDeqsY8tlL0"),
    "hex token": ("threads", "access_token", "5f4dcc3b5aa765d61d8327deb882cf99"),
    "telegram bot token": ("telegram", "bot_token", "123456789:AAHfakeTelegramBotToken0123"),
    "bluesky app password": ("bluesky", "app_password", "abcd-efgh-ijkl-mnop"),
    "slack webhook": ("slack", "webhook_url", "https://hooks.slack.com/services/T0/B0/xyz"),
    "github token": ("linkedin", "access_token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
}


def _config(tmp_path: Path, platform: str, key: str, value: str) -> Path:
    text = (
        FEED
        + f'[service]\ndatabase = "{tmp_path / "state.db"}"\n'
        + f'[[channels]]\nname = "main"\nplatform = "{platform}"\n'
        + f'[channels.credentials]\n{key} = "{value}"\n'
    )
    path = tmp_path / "syndbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("platform", "key", "value"), PASTED.values(), ids=list(PASTED))
def test_pasted_secret_is_refused_naming_file_and_key(
    tmp_path: Path, platform: str, key: str, value: str
) -> None:
    """The error names the file and key, says what to do, and never contains the value."""
    path = _config(tmp_path, platform, key, value)

    with pytest.raises(ConfigError) as info:
        load_config(path, env={value: "x"} if value.isidentifier() else {})

    err = info.value
    assert err.file == str(path)
    assert err.key == f"channels[0].credentials.{key}"
    assert "this looks like a secret value" in str(err)
    assert "NAME of an environment variable" in str(err)
    assert ".env" in str(err)
    assert value not in str(err)
    assert value[:8] not in str(err)


@pytest.mark.parametrize("command", [["channels", "check"], ["status"], ["run"]])
def test_cli_never_echoes_a_pasted_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, command: list[str]
) -> None:
    """Every command that loads the config refuses it with exit 2; no output or log has it."""
    platform, key, token = PASTED["facebook page token"]
    path = _config(tmp_path, platform, key, token)
    caplog.set_level(logging.DEBUG)

    result = CliRunner().invoke(main, ["-c", str(path), "--env-file", os.devnull, *command])

    assert result.exit_code == 2, result.output
    assert "this looks like a secret value" in result.output
    assert "channels[0].credentials.page_token" in result.output
    assert token not in result.output
    assert token[:8] not in result.output
    assert token not in caplog.text


def test_every_documented_variable_name_is_accepted() -> None:
    """The names in .env.example and the example configs are not mistaken for secrets."""
    names = list(dotenv.dotenv_values(REPO / ".env.example"))
    names += ["X_EN_API_KEY", "FB_TE_PAGE_TOKEN", "MASTO_TOKEN", "BSKY_PW", "x_api_key", "TG"]
    assert len(names) > 20
    assert [n for n in names if looks_like_secret(n)] == []


def test_a_valid_name_still_reports_the_missing_variable(tmp_path: Path) -> None:
    """A plain name that is not set is named in the error, as the fix needs it."""
    path = _config(tmp_path, "facebook", "page_token", "FB_MAIN_PAGE_TOKEN")

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})

    assert "FB_MAIN_PAGE_TOKEN" in str(info.value)
    assert "not set" in str(info.value)
