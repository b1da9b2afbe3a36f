"""CLI behaviours a new user trips over: a config with no channels, bad options, wording."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError
from bot.publishers.mastodon import SCOPES as MASTODON_SCOPES
from bot.store import SQLiteStore
from bot.words import plural
from tests.builders import Item, rss

REPO = Path(__file__).resolve().parents[1]

ITEMS = [
    Item(
        guid=f"a-{n}",
        title=f"Charging network grows in city {n}",
        link=f"https://volt.example/2026/11/charging-{n}/",
        body="<p>Charging points doubled this year.</p><p>More are planned.</p>",
    )
    for n in (1, 2)
]


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_text(rss(ITEMS), encoding="utf-8")
    return path


def _config(tmp_path: Path, feed_file: Path, head: str = "") -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        head
        + f'[service]\ndatabase = "{tmp_path / "state.db"}"\n'
        + f'[[feeds]]\nname = "ev-en"\nurl = "{feed_file}"\nfull_text = "never"\n',
        encoding="utf-8",
    )
    return path


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# --- point 8: a config with no channels ------------------------------------------------------


def test_config_without_channels_is_refused(tmp_path: Path, feed_file: Path) -> None:
    """No [[channels]] is an error naming the key and both ways out; nothing is recorded."""
    path = _config(tmp_path, feed_file)

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    result = _cli("-c", str(path), "--env-file", os.devnull, "poll")

    assert info.value.key == "channels"
    assert "[[channels]]" in str(info.value)
    assert "channels = []" in str(info.value)
    assert result.exit_code == 2
    assert "no channels" in result.output
    assert not (tmp_path / "state.db").exists()


def test_explicit_empty_channels_records_items_only(tmp_path: Path, feed_file: Path) -> None:
    """channels = [] states the intent: polling records the items as seen and posts nothing."""
    path = _config(tmp_path, feed_file, head="channels = []\n")

    config = load_config(path, env={})
    result = _cli("-c", str(path), "--env-file", os.devnull, "poll")

    assert config.channels == ()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone() == (2,)
        assert db.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)


# --- point 18: smaller things ----------------------------------------------------------------


def test_named_env_file_that_does_not_exist_is_an_error(tmp_path: Path, feed_file: Path) -> None:
    """--env-file with a missing path names the file and exits 2 before loading anything."""
    path = _config(tmp_path, feed_file, head="channels = []\n")
    missing = tmp_path / "secrets" / "prod.env"

    result = _cli("-c", str(path), "--env-file", str(missing), "status")

    assert result.exit_code == 2
    assert str(missing) in result.output
    assert "--env-file" in result.output
    assert not (tmp_path / "state.db").exists()


def test_default_env_file_may_be_absent(
    tmp_path: Path, feed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --env-file a missing ./.env is fine: the service manager may set the variables."""
    path = _config(tmp_path, feed_file, head="channels = []\n")
    monkeypatch.chdir(tmp_path)
    assert not Path(".env").exists()

    result = _cli("-c", str(path), "status")

    assert result.exit_code == 0, result.output


def test_named_env_file_is_read(
    tmp_path: Path, feed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named env file that exists supplies the credentials a channel names."""
    # Recorded as absent, so the value the env file puts in os.environ is removed afterwards.
    monkeypatch.setenv("SYNDBOT_TRUST_TG_TOKEN", "")
    monkeypatch.delenv("SYNDBOT_TRUST_TG_TOKEN")
    env_file = tmp_path / "prod.env"
    env_file.write_text("SYNDBOT_TRUST_TG_TOKEN=123456:fake-token-for-test\n", encoding="utf-8")
    path = _config(tmp_path, feed_file)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(
            '[[channels]]\nname = "tg"\nplatform = "telegram"\n'
            '[channels.credentials]\nbot_token = "SYNDBOT_TRUST_TG_TOKEN"\n'
            '[channels.options]\nchat_id = "@volt"\n'
        )

    # poll builds the channels' publishers, so it needs the credentials (status does not).
    without = _cli("-c", str(path), "--env-file", os.devnull, "poll", "--no-deliver")
    named = _cli("-c", str(path), "--env-file", str(env_file), "poll", "--no-deliver")

    assert without.exit_code == 2
    assert "SYNDBOT_TRUST_TG_TOKEN" in without.output
    assert named.exit_code == 0, named.output


@pytest.mark.parametrize("command", ["preview", "summarise"])
def test_negative_limit_is_refused(feed_file: Path, command: str) -> None:
    """--limit -1 is a usage error naming the option, not "all" or an empty run."""
    result = _cli(command, str(feed_file), "--limit", "-1")

    assert result.exit_code == 2
    assert "--limit" in result.output


def test_summary_too_small_for_any_sentence_gets_a_note(feed_file: Path) -> None:
    """--max-chars 5 leaves every summary empty; a note on stderr says so and what to try."""
    text = _cli("summarise", str(feed_file), "--max-chars", "5")
    as_json = _cli("summarise", str(feed_file), "--max-chars", "5", "--format", "json")
    roomy = _cli("summarise", str(feed_file), "--max-chars", "200")

    assert text.exit_code == 0, text.output
    assert "2 summaries are empty" in text.stderr
    assert "--max-chars 100" in text.stderr
    assert [row["summary"] for row in json.loads(as_json.stdout)] == ["", ""]
    assert "2 summaries are empty" in as_json.stderr
    assert roomy.stderr == ""


def test_counts_of_one_read_as_singular(tmp_path: Path, feed_file: Path) -> None:
    """One failed delivery re-queued reads "1 failed delivery", not "1 failed deliveries"."""
    path = _config(tmp_path, feed_file)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('[[channels]]\nname = "x-out"\nplatform = "x"\npublisher = "outbox"\n')
    assert _cli("-c", str(path), "--env-file", os.devnull, "poll", "--no-deliver").exit_code == 0
    with SQLiteStore.open(tmp_path / "state.db") as store:
        first = store.deliveries(channel="x-out")[0]
        store.mark_failed(first.id, now=datetime.now(UTC), error="HTTP 500")

    result = _cli("-c", str(path), "--env-file", os.devnull, "retry")

    assert result.exit_code == 0, result.output
    assert "Re-queued 1 failed delivery." in result.output
    assert plural(1, "feed") == "1 feed"
    assert plural(2, "feed") == "2 feeds"
    assert plural(0, "entry", "entries") == "0 entries"


def test_env_example_mastodon_scopes_include_read_accounts() -> None:
    """Every Mastodon hint in .env.example lists the scopes the publisher asks for."""
    text = " ".join(
        line.lstrip("#").strip() for line in (REPO / ".env.example").read_text().splitlines()
    )
    hints = [m.end() for m in re.finditer(r"Mastodon\S*\s.{0,80}?New application", text)]

    assert len(hints) >= 2
    for end in hints:
        for scope in MASTODON_SCOPES.split():
            assert scope in text[end : end + 120], text[end : end + 120]


def test_license_is_an_spdx_string_with_a_new_enough_setuptools() -> None:
    """pyproject.toml uses license = "MIT" (no deprecation warning) and setuptools>=77."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

    assert data["project"]["license"] == "MIT"
    [setuptools] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(setuptools.split(">=")[1].split(".")[0]) >= 77


def test_empty_channels_under_a_heading_says_where_it_belongs(
    tmp_path: Path, feed_file: Path
) -> None:
    """channels = [] written below [[feeds]] (so TOML files it there) is pointed to the top."""
    path = _config(tmp_path, feed_file)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("channels = []\n")

    with pytest.raises(ConfigError) as info:
        load_config(path, env={})

    assert info.value.key == "feeds[0].channels"
    assert "before the first [table] heading" in str(info.value)
