"""The store's own ``StoreError`` subclasses: what went wrong with the database, said plainly."""

from __future__ import annotations

from bot.errors import StoreError


class DeliveryTaken(StoreError):
    """Another process (the service, or a ``syndbot post``) claimed this delivery first."""


class DatabaseDamaged(StoreError):
    """The database file is corrupt: the message says how to recover."""


class DatabaseReadOnly(StoreError):
    """The database cannot be written here: the message says why and what to do."""
