"""Durable state: ``SQLiteStore`` implements ``bot.protocols.Store``."""

from bot.store.codec import normalise_url
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import STATUSES, SQLiteStore

__all__ = ["MIGRATIONS", "STATUSES", "Migration", "SQLiteStore", "normalise_url"]
