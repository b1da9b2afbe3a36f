"""CLI behaviours a new user trips over: a config with no channels, bad options, wording."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError
from tests.builders import Item, rss

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
