"""Config at scale: thousands of feeds load in linear time and are looked up in O(1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import bot.config
import bot.config._channels
from bot.config import ChannelConfig, FeedConfig, load_config
from bot.errors import ConfigError


def _many(tmp_path: Path, feeds: int, channels: int) -> Path:
    lines = ['[service]\ndatabase = "state.db"']
    lines += [
        f'[[feeds]]\nname = "f{i}"\nurl = "https://site.example/{i}.xml"' for i in range(feeds)
    ]
    lines += [
        f'[[channels]]\nname = "c{i}"\nplatform = "x"\npublisher = "outbox"\nfeeds = ["f{i}"]'
        for i in range(channels)
    ]
    path = tmp_path / "syndbot.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _Counting(tuple[Any, ...]):
    """A tuple that counts how often it is iterated."""

    iterations = 0

    def __iter__(self) -> Any:
        type(self).iterations += 1
        return super().__iter__()


def test_feed_and_channel_lookup_do_not_scan_the_lists(tmp_path: Path) -> None:
    """Config.feed/Config.channel find an entry without walking feeds/channels each call."""
    config = load_config(_many(tmp_path, 300, 30), env={})
    counted = dataclasses.replace(
        config, feeds=_Counting(config.feeds), channels=_Counting(config.channels)
    )
    _Counting.iterations = 0
    for i in range(300):
        assert counted.feed(f"f{i}").name == f"f{i}"
    for i in range(30):
        assert counted.channel(f"c{i}").feeds == (f"f{i}",)
    assert _Counting.iterations == 0
    with pytest.raises(ConfigError, match='no feed named "f9999"'):
        counted.feed("f9999")
    with pytest.raises(ConfigError, match='no channel named "nope"'):
        counted.channel("nope")


def _count_name_reads(monkeypatch: pytest.MonkeyPatch, module: Any, cls: type) -> list[int]:
    """Replace ``module.<cls>`` by a subclass counting reads of its ``name``."""
    reads = [0]

    class Counted(cls):  # type: ignore[misc,valid-type]
        def __getattribute__(self, attr: str) -> Any:
            if attr == "name":
                reads[0] += 1
            return super().__getattribute__(attr)

    monkeypatch.setattr(module, cls.__name__, Counted)
    return reads


def test_duplicate_name_checks_are_linear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking 1,000 feed and 200 channel names for duplicates reads each name a few
    times, not once per earlier entry (which made a 10,000-feed config load for seconds)."""
    path = _many(tmp_path, 1000, 200)
    feed_reads = _count_name_reads(monkeypatch, bot.config, FeedConfig)
    channel_reads = _count_name_reads(monkeypatch, bot.config._channels, ChannelConfig)
    config = load_config(path, env={})
    assert len(config.feeds) == 1000
    assert len(config.channels) == 200
    assert feed_reads[0] <= 5 * 1000
    assert channel_reads[0] <= 5 * 200


def test_a_duplicate_among_many_is_still_refused(tmp_path: Path) -> None:
    """The linear check still names the duplicate and where it is."""
    path = _many(tmp_path, 50, 2)
    path.write_text(
        path.read_text() + '[[feeds]]\nname = "f7"\nurl = "https://site.example/again.xml"\n'
    )
    with pytest.raises(ConfigError, match='duplicate feed name "f7"') as info:
        load_config(path, env={})
    assert info.value.key == "feeds[50].name"
