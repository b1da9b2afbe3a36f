"""PostgreSQL specifics: selecting it, migrating it, its service locks, and a password that
never shows. The shared behaviour is in test_store.py and test_store_contract.py.

Tests marked ``postgresql`` use a throwaway database on a real server (tests/pg.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError, StoreError
from bot.lock import ServiceLocked, nobody_sending, sending, service_lock
from bot.store import MIGRATIONS, DatabaseURL, open_store
from bot.store.migrations import latest_version
from bot.store.postgres import PostgresStore
from bot.store.url import redact, redact_urls
from tests.builders import Item, rss, write_config
from tests.pg import with_database

SECRET = "hunter2-not-for-logs"


def _with_password(url: DatabaseURL, password: str = SECRET) -> DatabaseURL:
    """The same database, with a password in the URL (the test server trusts anyone)."""
    text = url.secret_url()
    scheme, rest = text.split("://", 1)
    user, host = rest.split("@", 1)
    return DatabaseURL(f"{scheme}://{user.split(':')[0]}:{password}@{host}")


# -- the URL and the config, no server needed -------------------------------------------


def test_a_database_url_prints_without_its_password() -> None:
    """str, repr and f-strings of a DatabaseURL show *** where the password was."""
    url = DatabaseURL(f"postgresql://bot:{SECRET}@db.internal:5432/syndbot?sslmode=require")
    shown = [str(url), repr(url), f"{url}", redact(f"postgresql://h/db?password={SECRET}")]
    assert all(SECRET not in s for s in shown), shown
    assert str(url) == "postgresql://bot:***@db.internal:5432/syndbot?sslmode=require"
    assert redact_urls(f"failed: postgres://a:{SECRET}@h/d") == "failed: postgres://a:***@h/d"
    assert url.secret_url().count(SECRET) == 1


def test_config_selects_postgresql_by_url_and_the_environment_wins(tmp_path: Path) -> None:
    """service.database may be a postgresql:// URL; $SYNDBOT_DATABASE overrides the file."""
    cfg = write_config(tmp_path, feeds={"volt": str(tmp_path / "feed.xml")})
    text = cfg.read_text().replace(
        f'database = "{tmp_path / "state.db"}"', 'database = "postgresql://bot@db/syndbot"'
    )
    cfg.write_text(text)
    assert load_config(cfg, env={}).service.database == DatabaseURL("postgresql://bot@db/syndbot")
    env = {"SYNDBOT_DATABASE": f"postgres://bot:{SECRET}@other/site"}
    chosen = load_config(cfg, env=env).service.database
    assert isinstance(chosen, DatabaseURL)
    assert chosen.secret_url() == env["SYNDBOT_DATABASE"]
    assert load_config(cfg, env={"SYNDBOT_DATABASE": str(tmp_path / "x.db")}).service.database == (
        tmp_path / "x.db"
    )


def test_an_unreachable_server_is_one_sentence_without_the_password() -> None:
    """Connection refused names the redacted URL and what to check, never the password."""
    url = DatabaseURL(f"postgresql://bot:{SECRET}@127.0.0.1:1/syndbot")
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith("postgresql://bot:***@127.0.0.1:1/syndbot: cannot connect")


# -- on a real server --------------------------------------------------------------------


@pytest.mark.postgresql
def test_a_wrong_database_name_is_reported_without_the_password(pg_database: str) -> None:
    """The server's own complaint is passed on, scrubbed of the password."""
    url = _with_password(DatabaseURL(with_database(pg_database, "syndbot_no_such_db")))
    with pytest.raises(StoreError, match="does not exist") as caught:
        open_store(url)
    assert SECRET not in str(caught.value)


@pytest.mark.postgresql
def test_migrations_are_recorded_with_the_same_numbers_as_sqlite(
    pg_url: DatabaseURL, tmp_path: Path
) -> None:
    """Both engines record every numbered migration; reopening applies none again."""
    open_store(pg_url).close()
    open_store(tmp_path / "s.db").close()
    with psycopg.connect(pg_url.secret_url()) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert rows == [(m.number, m.name) for m in MIGRATIONS]
    open_store(pg_url).close()
    with psycopg.connect(pg_url.secret_url()) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert count == (len(MIGRATIONS),)


@pytest.mark.postgresql
def test_instances_starting_together_migrate_once(pg_url: DatabaseURL) -> None:
    """Four stores opened at once on an empty database all succeed; each step runs once."""
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_store(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with psycopg.connect(pg_url.secret_url()) as conn:
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    assert [v for (v,) in versions] == [m.number for m in MIGRATIONS]


@pytest.mark.postgresql
def test_a_newer_schema_is_refused_and_read_only_never_writes(pg_url: DatabaseURL) -> None:
    """A version beyond this syndbot's is refused; read_only opens refuse any write."""
    open_store(pg_url).close()
    with open_store(pg_url, read_only=True) as reader, pytest.raises(StoreError, match="read-only"):
        reader.pause_channel("x", reason="r", now=datetime.now(UTC))
    with psycopg.connect(pg_url.secret_url()) as conn:
        conn.execute(
            "INSERT INTO schema_migrations VALUES (%s, 'future', 'now')", (latest_version() + 1,)
        )
    with pytest.raises(StoreError, match="newer than this syndbot"):
        PostgresStore.open(pg_url)


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from bot.lock import service_lock
    from bot.store import DatabaseURL
    with service_lock(DatabaseURL(sys.argv[1])):
        print("held", flush=True)
        time.sleep(120)
    """
)


@pytest.mark.postgresql
def test_a_second_service_on_one_database_is_refused_until_the_first_dies(
    pg_url: DatabaseURL,
) -> None:
    """The service lock is a server-side advisory lock: a second service is refused naming
    the holder's pid; after a kill -9 of the holder the lock is free again."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_url.secret_url()], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(ServiceLocked) as caught, service_lock(pg_url):
                pass
            assert f"syndbot service pid {holder.pid}" in str(caught.value)
            assert str(pg_url) in str(caught.value)
        finally:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(10)
    deadline = time.monotonic() + 10
    while True:
        try:
            with service_lock(pg_url):
                break
        except ServiceLocked:
            assert time.monotonic() < deadline, "the dead holder's lock was never released"
            time.sleep(0.1)


@pytest.mark.postgresql
def test_recovery_waits_while_a_one_off_post_is_sending(pg_url: DatabaseURL) -> None:
    """nobody_sending is False while a `post` holds the sending lock, True once it ends."""
    with sending(pg_url), nobody_sending(pg_url, wait=0.3) as free:
        assert free is False
    with nobody_sending(pg_url, wait=0.3) as free:
        assert free is True


@pytest.mark.postgresql
def test_poll_and_status_run_on_postgresql_and_never_print_the_password(
    pg_url: DatabaseURL, tmp_path: Path
) -> None:
    """`syndbot poll` posts each item once on PostgreSQL; no output holds the password."""
    feed = tmp_path / "feed.xml"
    feed.write_text(
        rss(
            [
                Item(guid=f"g{n}", title=f"Story {n}", link=f"https://volt.example/{n}")
                for n in (1, 2)
            ]
        ),
        encoding="utf-8",
    )
    cfg = str(write_config(tmp_path, feeds={"volt": str(feed)}, catch_up="all"))
    env = {"SYNDBOT_DATABASE": _with_password(pg_url).secret_url()}
    runner = CliRunner()
    outputs = []
    for args in (["poll"], ["poll"], ["status"], ["status", "--format", "json"]):
        result = runner.invoke(main, ["-c", cfg, "-vv", *args], env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 4  # 2 items x 2
    assert all(SECRET not in out for out in outputs)
    assert json.loads(outputs[3])["database"] == str(_with_password(pg_url))
    assert not (tmp_path / "state.db").exists()


@pytest.mark.postgresql
def test_poll_is_refused_while_a_service_holds_the_database(
    pg_url: DatabaseURL, tmp_path: Path
) -> None:
    """`syndbot poll` exits 1 with one sentence when a service runs on the same database."""
    cfg = str(write_config(tmp_path, feeds={"volt": str(tmp_path / "feed.xml")}))
    with service_lock(pg_url):
        result = CliRunner().invoke(
            main, ["-c", cfg, "poll"], env={"SYNDBOT_DATABASE": pg_url.secret_url()}
        )
    assert result.exit_code == 1, result.output
    assert "another syndbot service is already running on postgresql://" in result.output
    assert "Traceback" not in result.output


@pytest.mark.postgresql
def test_health_and_db_check_see_a_read_only_server(pg_url: DatabaseURL, tmp_path: Path) -> None:
    """A writable database passes `db check`; one that refuses writes is named a problem."""
    from bot.web.health import database_writable

    open_store(pg_url).close()
    assert database_writable(pg_url) is None
    text = pg_url.secret_url()
    read_only = DatabaseURL(text + "%20-cdefault_transaction_read_only%3Don")
    problem = database_writable(read_only)
    assert problem is not None
    assert "read-only" in problem
    cfg = str(write_config(tmp_path, feeds={"volt": str(tmp_path / "feed.xml")}))
    checks = [
        CliRunner().invoke(main, ["-c", cfg, "db", "check"], env={"SYNDBOT_DATABASE": url})
        for url in (text, read_only.secret_url())
    ]
    assert (checks[0].exit_code, checks[1].exit_code) == (0, 1), [c.output for c in checks]
    assert f"schema version: {latest_version()}" in checks[0].output
    assert "is read-only" in checks[1].output


def test_another_kind_of_database_url_is_a_config_error(tmp_path: Path) -> None:
    """mysql://... is refused naming service.database (password redacted), not made a file."""
    cfg = write_config(tmp_path, feeds={"volt": str(tmp_path / "feed.xml")})
    with pytest.raises(ConfigError) as caught:
        load_config(cfg, env={"SYNDBOT_DATABASE": f"mysql://bot:{SECRET}@db/site"})
    message = str(caught.value)
    assert "service.database" in message
    assert "neither a file path nor a postgresql:// URL" in message
    assert SECRET not in message
