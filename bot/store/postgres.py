"""``Store`` on PostgreSQL: psycopg 3 with a connection pool, one transaction per method.

The methods are ``bot.store.ledger``'s, the same SQL SQLite runs; this module only connects,
migrates and says plainly what went wrong. The URL's password reaches psycopg and nothing
else: every message names the database by its redacted form (``bot.store.url``) and any
driver text is scrubbed before it is shown.

Opening migrates with the numbered steps of ``bot.store.migrations`` (their ``postgresql``
form), each in its own transaction under a transaction-scoped advisory lock, so two
instances starting at once apply each step exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.errors import StoreError
from bot.store.errors import DatabaseReadOnly
from bot.store.ledger import Cursor, LedgerStore
from bot.store.migrations import MIGRATIONS, Migration, latest_version, split_statements
from bot.store.url import DatabaseURL

if TYPE_CHECKING:
    from bot.backup import CheckReport

LOCK_NAMESPACE = 0x53594E44  # "SYND": the first key of every syndbot advisory lock
MIGRATE_KEY = 3  # (LOCK_NAMESPACE, 3) serialises migrations; 1 and 2 are in bot.pglock

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


class _Conn:
    """psycopg's connection behind the ledger's ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        # The ledger's SQL has no '?' inside a literal, so each '?' is a parameter; a '%'
        # would mean something else to psycopg, so it is refused rather than misread.
        if "%" in sql:
            raise ValueError(f"'%' in ledger SQL is not portable: {sql!r}")
        params = [_text(p) for p in parameters]
        return self._conn.execute(sql.replace("?", "%s"), params)


def _text(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL, which SQLite stores; a feed's stray NUL must not
    # make an item impossible to record.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


class PostgresStore(LedgerStore):
    """The durable state on a PostgreSQL database. Safe to share between threads."""

    def __init__(self, pool: ConnectionPool[Any], url: DatabaseURL) -> None:
        self._pool = pool
        self._url = url
        self._where = str(url)

    @classmethod
    def open(
        cls,
        url: DatabaseURL,
        *,
        read_only: bool = False,
        connect_timeout: float = 10.0,
        max_connections: int = 10,
    ) -> PostgresStore:
        """Connect, migrate (or with ``read_only`` only check the version) and pool.

        Raises ``StoreError`` naming the redacted URL when the server cannot be reached or
        the schema is newer than this syndbot.
        """
        timeout = max(1, round(connect_timeout))
        try:
            with psycopg.connect(
                url.secret_url(), autocommit=True, connect_timeout=timeout
            ) as conn:
                if read_only:
                    check_version(conn, url)
                else:
                    migrate(conn, url)
        except psycopg.Error as exc:
            raise translate(exc, url, opening=True) from exc

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.read_only = read_only  # every transaction READ ONLY for `status`

        pool: ConnectionPool[Any] = ConnectionPool(
            url.secret_url(),
            min_size=1,
            max_size=max_connections,
            kwargs={"row_factory": dict_row, "connect_timeout": timeout},
            configure=configure,
            check=ConnectionPool.check_connection,
            timeout=connect_timeout,
            name="syndbot",
            open=False,
        )
        try:
            pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            pool.close()
            raise translate(exc, url, opening=True) from exc
        return cls(pool, url)

    @property
    def url(self) -> DatabaseURL:
        return self._url

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[_Conn]:
        """One transaction on a pooled connection: committed at the end, rolled back on
        any exception (row locks, not a database lock, keep writers apart)."""
        try:
            with self._pool.connection() as conn:
                yield _Conn(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise translate(exc, self._url) from exc


def migrate(
    conn: psycopg.Connection[Any],
    url: DatabaseURL,
    migrations: Sequence[Migration] | None = None,
) -> int:
    """Bring the database up to date (``conn`` in autocommit); return the version."""
    steps = sorted(MIGRATIONS if migrations is None else migrations)
    known = latest_version(steps)
    with conn.transaction():
        _lock_migrations(conn)
        conn.execute(_CREATE_TABLE)
        found = current_version(conn)
    _refuse_newer(found, known, url)
    for step in steps:
        if step.number <= found:
            continue
        try:
            with conn.transaction():
                _lock_migrations(conn)
                # Another instance may have applied it while we waited for the lock.
                if current_version(conn) >= step.number:
                    continue
                for statement in split_statements(step.script("postgresql")):
                    conn.execute(statement.encode())  # bytes: no placeholder parsing
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                    (step.number, step.name, datetime.now(UTC).isoformat(timespec="microseconds")),
                )
        except psycopg.Error as exc:
            raise StoreError(
                f"{url}: migration {step.number} ({step.name}) failed: {url.scrub(str(exc))}; "
                "the database is unchanged by it; check the role may create tables there"
            ) from exc
    return current_version(conn)


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The highest migration recorded (0 when syndbot never wrote this database)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def check_version(conn: psycopg.Connection[Any], url: DatabaseURL) -> None:
    """For read-only use: the schema must be exactly this syndbot's."""
    found, known = current_version(conn), latest_version()
    _refuse_newer(found, known, url)
    if found < known:
        raise StoreError(
            f"{url}: the database has schema version {found} and this syndbot needs {known}; "
            "it cannot be upgraded read-only: run `syndbot run` or `syndbot poll` once to "
            "migrate it"
        )


def _refuse_newer(found: int, known: int, url: DatabaseURL) -> None:
    if found > known:
        raise StoreError(
            f"{url}: database schema version {found} is newer than this syndbot "
            f"understands (up to {known}); upgrade syndbot to use this database"
        )


def _lock_migrations(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATE_KEY))


def translate(exc: Exception, url: DatabaseURL, *, opening: bool = False) -> StoreError:
    """Our error for a psycopg one, naming the redacted URL and never the password."""
    detail = url.scrub(str(exc)).strip() or type(exc).__name__
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return DatabaseReadOnly(
            f"{url}: the database is read-only here ({detail}); point service.database at "
            "the primary server, not a standby, and check default_transaction_read_only; "
            "read-only commands such as `syndbot status` still work"
        )
    if isinstance(exc, PoolTimeout):
        return StoreError(
            f"{url}: no database connection within the timeout ({detail}); the server is "
            "down or unreachable, or every connection is busy"
        )
    if isinstance(exc, psycopg.OperationalError):
        what = "cannot connect to" if opening else "lost the connection to"
        return StoreError(
            f"{url}: {what} the PostgreSQL server ({detail}); check the server runs, the "
            "host and port, the user and its password ($SYNDBOT_DATABASE or PGPASSWORD)"
        )
    return StoreError(f"{url}: database operation failed: {detail}")


def writable_problem(url: DatabaseURL, *, timeout: float = 5.0) -> str | None:
    """None when a write transaction may run on ``url``, else why not (nothing is written)."""
    try:
        with psycopg.connect(url.secret_url(), connect_timeout=max(1, round(timeout))) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
            ).fetchone()
            conn.rollback()
    except psycopg.Error as exc:
        return f"database {url} is not reachable: {url.scrub(str(exc)).strip()}"
    if row and (row[0] or row[1] == "on"):
        return f"database {url} is read-only (a standby, or default_transaction_read_only)"
    return None


def check_database(url: DatabaseURL) -> CheckReport:
    """``syndbot db check`` on PostgreSQL: reachable, writable, and the schema version."""
    from bot.backup import CheckReport

    code = latest_version()
    try:
        with psycopg.connect(url.secret_url(), autocommit=True, connect_timeout=10) as conn:
            version = current_version(conn)
    except psycopg.Error as exc:
        return CheckReport(url, 0, code, problems=(str(translate(exc, url, opening=True)),))
    problems = [p for p in (writable_problem(url),) if p]
    notes: list[str] = []
    if version > code:
        problems.append(f"schema version {version} is newer than this syndbot's {code}")
    elif version < code:
        notes.append(f"schema version {version}: the service migrates it to {code} at start")
    return CheckReport(url, version, code, tuple(problems), tuple(notes))
