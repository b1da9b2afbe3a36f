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


def test_ui_is_off_by_default_and_reads_its_password_by_name(tmp_path: Path) -> None:
    """ui defaults to false; ui_password_env names a variable whose value becomes a Secret."""
    assert _http(tmp_path, 'listen = "127.0.0.1:8787"').ui is False
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f'{FEED}[http]\nlisten = "0.0.0.0:8787"\nui = true\nui_password_env = "UI_PW"\n',
        encoding="utf-8",
    )
    http = load_config(path, env={"UI_PW": "correct horse"}).http
    assert http is not None
    assert http.ui
    assert http.ui_password is not None
    assert http.ui_password.get() == "correct horse"
    assert "correct horse" not in repr(http)


def test_ui_without_a_password_is_refused_off_loopback(tmp_path: Path) -> None:
    """ui = true on 0.0.0.0 without ui_password_env is a ConfigError; on 127.0.0.1 it is not."""
    assert _http(tmp_path, 'listen = "127.0.0.1:8787"\nui = true').ui_password is None
    with pytest.raises(ConfigError, match="not a loopback address") as caught:
        _load(tmp_path, 'listen = "0.0.0.0:8787"\nui = true')
    assert caught.value.key == "http.ui"


@pytest.mark.parametrize(
    ("name", "env", "message"),
    [
        ("ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7", {}, "looks like a secret"),
        ("UI_PW", {}, "UI_PW is not set"),
    ],
)
def test_ui_password_env_refuses_values_and_unset_names(
    tmp_path: Path, name: str, env: dict[str, str], message: str
) -> None:
    """A token pasted as the name is refused without being echoed; an unset name is named."""
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f'{FEED}[http]\nlisten = 8787\nui = true\nui_password_env = "{name}"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path, env=env)
    assert caught.value.key == "http.ui_password_env"
    if name.startswith("ghp_"):
        assert name not in str(caught.value)
