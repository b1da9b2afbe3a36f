"""The ``[http]`` table: off unless ``listen`` is set, loopback unless an address is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import HttpConfig, load_config
from bot.errors import ConfigError

FEED = 'channels = []\n[[feeds]]\nname = "f"\nurl = "builtin:demo"\n'


def _load(tmp_path: Path, http: str) -> HttpConfig | None:
    path = tmp_path / "c.toml"
    path.write_text(f"{FEED}[http]\n{http}\n", encoding="utf-8")
    return load_config(path, env={}).http


def _http(tmp_path: Path, text: str) -> HttpConfig:
    http = _load(tmp_path, text)
    assert http is not None
    return http


def test_http_is_off_without_listen(tmp_path: Path) -> None:
    """No [http] table, or one without listen, serves nothing."""
    path = tmp_path / "c.toml"
    path.write_text(FEED, encoding="utf-8")
    assert load_config(path, env={}).http is None
    assert _load(tmp_path, 'stale_after = "5m"') is None


@pytest.mark.parametrize(
    ("listen", "host", "port", "probe"),
    [
        ('"127.0.0.1:8787"', "127.0.0.1", 8787, "http://127.0.0.1:8787/healthz"),
        ("9000", "127.0.0.1", 9000, "http://127.0.0.1:9000/healthz"),
        ('":9001"', "127.0.0.1", 9001, "http://127.0.0.1:9001/healthz"),
        ('"0.0.0.0:8787"', "0.0.0.0", 8787, "http://127.0.0.1:8787/healthz"),
        ('"[::1]:8787"', "::1", 8787, "http://[::1]:8787/healthz"),
    ],
)
def test_listen_forms(tmp_path: Path, listen: str, host: str, port: int, probe: str) -> None:
    """A bare port binds 127.0.0.1; a wildcard bind is probed on loopback by `syndbot health`."""
    http = _http(tmp_path, f"listen = {listen}")
    assert (http.host, http.port, http.url("/healthz")) == (host, port, probe)
    assert http.stale_after is None


def test_stale_after_is_a_duration(tmp_path: Path) -> None:
    """stale_after takes the usual duration forms."""
    http = _http(tmp_path, 'listen = "127.0.0.1:8787"\nstale_after = "30m"')
    assert http.stale_after == 1800.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('listen = "127.0.0.1:99999"', "no valid port"),
        ('listen = "127.0.0.1"', "no valid port"),
        ('listen = "example.com:80"', "not an IP address"),
        ("listen = true", "expected an address"),
        ('listen = "127.0.0.1:1"\nstale_after = "0s"', "longer than zero"),
        ('listne = "127.0.0.1:1"', 'did you mean "listen"'),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    """Each mistake in [http] is one ConfigError naming the http.* key and the fix."""
    with pytest.raises(ConfigError, match=message) as info:
        _load(tmp_path, text)
    assert "http." in str(info.value)
