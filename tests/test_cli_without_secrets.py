"""Commands that only read state or compose work without the channels' secrets set."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.builders import write_config
from tests.feedserver import FeedServer

VARIABLE = "QA_TG_EN_BOT_TOKEN_NOT_SET"

PAGE = b"""<!doctype html><html lang="en"><head><title>Battery swap stations open in Chennai</title>
</head><body><article><h1>Battery swap stations open in Chennai</h1>
<p>Two hundred battery swap stations for electric autos will open across Chennai over the
next six months, the city's transport authority said on Monday.</p>
<p>Drivers will pay per swap or by monthly subscription.</p></article></body></html>"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One outbox channel and one telegram channel whose token variable is not set."""
    monkeypatch.delenv(VARIABLE, raising=False)
    path = write_config(tmp_path, feeds={"demo": "builtin:demo"}, platforms=("x",))
    path.write_text(
        path.read_text(encoding="utf-8")
        + '[[channels]]\nname = "telegram-en"\nplatform = "telegram"\n'
        + f'[channels.credentials]\nbot_token = "{VARIABLE}"\n'
        + '[channels.options]\nchat_id = "@evnews_en"\n',
        encoding="utf-8",
    )
    return str(path)


@pytest.mark.parametrize(
    "args",
    [["status"], ["status", "--format", "json"], ["queue"], ["db", "check"], ["health"]],
)
def test_read_only_commands_do_not_need_the_secrets(cfg: str, args: list[str]) -> None:
    """status, queue, db check and health read the database only: an unset credential
    variable is no error for them (an operator's shell often lacks the service's secrets)."""
    result = CliRunner().invoke(main, ["-c", cfg, *args])
    assert VARIABLE not in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1)  # health: 1 = never polled, an answer, not an error


def test_db_backup_does_not_need_the_secrets(cfg: str, tmp_path: Path) -> None:
    """db backup copies the database without the channels' secrets."""
    runner = CliRunner()
    result = runner.invoke(main, ["-c", cfg, "poll", "--no-deliver"], env={VARIABLE: "t"})
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["-c", cfg, "db", "backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "copy.db").exists()


def test_post_dry_run_does_not_need_the_secrets_but_a_real_post_does(cfg: str) -> None:
    """post --dry-run only composes, so it runs without secrets; a real post still stops
    with the missing variable named."""
    with FeedServer() as server:
        server.route("/a/", body=PAGE, content_type="text/html")
        dry = CliRunner().invoke(main, ["-c", cfg, "post", server.url("/a/"), "--dry-run"])
        real = CliRunner().invoke(main, ["-c", cfg, "post", server.url("/a/")])
    assert dry.exit_code == 0, dry.output
    assert "Battery swap stations open in Chennai" in dry.output
    assert "telegram · telegram-en" in dry.output
    assert real.exit_code == 2
    assert VARIABLE in real.output
