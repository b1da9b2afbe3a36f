"""Durable state: ``SQLiteStore`` implements ``bot.protocols.Store``."""

from bot.store.codec import normalise_url
from bot.store.errors import DatabaseDamaged, DatabaseReadOnly, DeliveryTaken
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import STATUSES, SQLiteStore

__all__ = [
    "MIGRATIONS",
    "STATUSES",
    "DatabaseDamaged",
    "DatabaseReadOnly",
    "DeliveryTaken",
    "Migration",
    "SQLiteStore",
    "normalise_url",
]
