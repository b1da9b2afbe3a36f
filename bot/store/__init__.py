"""Durable state: ``SQLiteStore`` implements ``bot.protocols.Store``."""

from bot.store.errors import DatabaseDamaged, DatabaseReadOnly, DeliveryTaken
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import STATUSES, SQLiteStore
from bot.urls import normalise_url

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
