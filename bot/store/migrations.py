"""Numbered schema migrations for the SQLite store.

Each migration is applied in its own ``BEGIN IMMEDIATE`` transaction together with its row
in ``schema_migrations``, so a crash mid-migration leaves the previous schema intact. Never
edit a released migration: append a new one with the next number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from bot.errors import StoreError


class Migration(NamedTuple):
    """One schema step: applied once, in ``number`` order."""

    number: int
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "initial",
        """
        CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            last_poll TEXT,
            last_success TEXT,
            consecutive_errors INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE TABLE items (
            feed TEXT NOT NULL,
            item_id TEXT NOT NULL,
            url TEXT NOT NULL,
            norm_url TEXT NOT NULL,
            title TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            article_json TEXT NOT NULL,
            PRIMARY KEY (feed, item_id)
        );
        CREATE INDEX items_feed_norm_url ON items (feed, norm_url);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            feed TEXT NOT NULL,
            item_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT,
            remote_id TEXT,
            remote_url TEXT,
            last_error TEXT,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            UNIQUE (feed, item_id, channel),
            FOREIGN KEY (feed, item_id) REFERENCES items (feed, item_id) ON DELETE CASCADE
        );
        CREATE INDEX deliveries_due ON deliveries (status, next_attempt, id);
        CREATE TABLE channels (
            name TEXT PRIMARY KEY,
            paused_reason TEXT,
            paused_at TEXT,
            state_json TEXT NOT NULL DEFAULT '{}'
        );
        """,
    ),
    Migration(
        2,
        "stored_post",
        # The post as first attempted, {"v": 1, ...} (see bot.store.codec); NULL until then.
        # Articles written before format versions existed are v0, the same fields as v1.
        """
        ALTER TABLE deliveries ADD COLUMN post_json TEXT;
        UPDATE items SET article_json = json_set(article_json, '$.v', 1)
            WHERE json_type(article_json, '$.v') IS NULL;
        """,
    ),
    Migration(
        3,
        "review",
        # NULL, 'held' (veto window until next_attempt), 'awaiting' (a person must approve;
        # next_attempt is NULL so it is never due) or 'approved'; see bot.approval.
        """
        ALTER TABLE deliveries ADD COLUMN review TEXT
            CHECK (review IS NULL OR review IN ('held', 'awaiting', 'approved'));
        """,
    ),
]

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version this code writes."""
    return max((m.number for m in migrations), default=0)


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration recorded in the database (0 for a new file)."""
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def migrate(
    conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] | None = None
) -> int:
    """Bring the database at ``path`` up to date; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``): transactions are explicit
    here. Raises ``StoreError`` when the file was written by a newer syndbot.
    """
    steps = sorted(MIGRATIONS if migrations is None else migrations)
    known = latest_version(steps)
    conn.execute(_CREATE_TABLE)
    found = current_version(conn)
    if found > known:
        raise StoreError(
            f"{path}: database schema version {found} is newer than this syndbot "
            f"understands (up to {known}); upgrade syndbot to use this database"
        )
    for step in steps:
        if step.number > found:
            _apply(conn, path, step)
    return current_version(conn)


def _apply(conn: sqlite3.Connection, path: Path, step: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have applied it while we waited for the write lock.
        if current_version(conn) >= step.number:
            conn.execute("ROLLBACK")
            return
        # executescript() would COMMIT first, so run statement by statement instead.
        for statement in split_statements(step.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (step.number, step.name, datetime.now(UTC).isoformat(timespec="microseconds")),
        )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(
            f"{path}: migration {step.number} ({step.name}) failed: {exc}; the database "
            "is unchanged by it; check the file is not damaged or restore a backup"
        ) from exc


def split_statements(sql: str) -> Iterator[str]:
    """Split a script into statements, keeping ';' inside strings and triggers intact."""
    buffer = ""
    for piece in sql.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement at end of migration: {buffer.strip()!r}")
