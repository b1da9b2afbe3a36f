"""Durable state: ``SQLiteStore`` implements ``bot.protocols.Store``."""

from bot.store.migrations import MIGRATIONS, Migration
from bot.store.sqlite import STATUSES, SQLiteStore
from bot.urls import normalise_url

__all__ = ["MIGRATIONS", "STATUSES", "Migration", "SQLiteStore", "normalise_url"]
