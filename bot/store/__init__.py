"""Durable state: ``SQLiteStore`` and ``PostgresStore`` implement ``bot.protocols.Store``.

``open_store`` picks one from ``service.database``: a file path means SQLite, a
``postgresql://`` URL means PostgreSQL (imported only then).
"""

from __future__ import annotations

from pathlib import Path

from bot.store.errors import DatabaseDamaged, DatabaseReadOnly, DeliveryTaken
from bot.store.ledger import LedgerStore
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import STATUSES, SQLiteStore
from bot.store.url import Database, DatabaseURL, parse_database
from bot.urls import normalise_url

__all__ = [
    "MIGRATIONS",
    "STATUSES",
    "Database",
    "DatabaseDamaged",
    "DatabaseReadOnly",
    "DatabaseURL",
    "DeliveryTaken",
    "LedgerStore",
    "Migration",
    "SQLiteStore",
    "normalise_url",
    "open_store",
]


def open_store(database: Database | str, *, read_only: bool = False) -> LedgerStore:
    """The store at ``database`` (a SQLite file or a ``postgresql://`` URL), opened,
    checked and migrated (with ``read_only``: never written, never migrated)."""
    if isinstance(database, str):
        database = parse_database(database)
    if isinstance(database, DatabaseURL):
        from bot.store.postgres import PostgresStore

        return PostgresStore.open(database, read_only=read_only)
    return SQLiteStore.open(Path(database), read_only=read_only)
