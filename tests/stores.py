"""The store contract's fixtures (a pytest plugin, loaded by ``tests/conftest.py``).

``open_store`` is parametrized over ``BACKENDS``: SQLite on a tmp file and PostgreSQL on a
fresh schema of the session's throwaway database (tests/pg.py), the latter marked
``postgresql`` so it skips, with the reason, where there is no server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

import pytest

from bot.models import Delivery
from bot.protocols import Store
from bot.store import SQLiteStore
from bot.store import open_store as open_any_store
from bot.store.websub import StoredSubscription


class ContractStore(Store, Protocol):
    """``Store`` plus the extras every backend must offer to the pipeline and CLI."""

    def sending_deliveries(self) -> list[Delivery]: ...
    def channel_paused(self, name: str) -> str | None: ...
    def pause_channel(self, name: str, *, reason: str, now: datetime) -> None: ...
    def resume_channel(self, name: str) -> None: ...
    def channel_state(self, name: str) -> dict[str, Any]: ...
    def set_channel_state(self, name: str, state: dict[str, Any]) -> None: ...
    def websub_subscriptions(self) -> list[StoredSubscription]: ...
    def save_websub_subscription(self, sub: StoredSubscription) -> None: ...
    def delete_websub_subscription(self, token: str) -> None: ...


def _sqlite(request: pytest.FixtureRequest) -> ContractStore:
    return SQLiteStore.open(request.getfixturevalue("tmp_path") / "state" / "syndbot.db")


def _postgresql(request: pytest.FixtureRequest) -> ContractStore:
    # A fresh schema per test in the session's throwaway database (tests/pg.py).
    return open_any_store(request.getfixturevalue("pg_url"))


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], ContractStore]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}
# The server-backed ones are marked, so they skip (with the reason) where there is none.
BACKEND_PARAMS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
]

Opener = Callable[[], ContractStore]


@pytest.fixture(params=BACKEND_PARAMS)
def open_store(request: pytest.FixtureRequest) -> Iterator[Opener]:
    """Open (and reopen, to simulate a restart) one backend's store on the same data."""
    opened: list[ContractStore] = []

    def opener() -> ContractStore:
        store = BACKENDS[request.param](request)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Opener) -> ContractStore:
    return open_store()
