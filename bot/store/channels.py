"""Per-channel state kept beside the deliveries: pause flag and small JSON data.

``LedgerStore`` inherits these; they only need its ``_tx`` transaction helper.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.store.codec import clip, to_text

if TYPE_CHECKING:
    from bot.store.ledger import Conn

# Channel state is for cursors and counters; a key like these means a credential slipped in.
_SECRET_KEY = re.compile(r"token|secret|passw|jwt|cookie|authori[sz]ation|api_?key", re.I)


class ChannelMethods:
    """Pause/resume and JSON state per channel name."""

    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def channel_paused(self, name: str) -> str | None:
        """Why the channel is paused, or None when it may publish."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT paused_reason FROM channels WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else row["paused_reason"]

    def paused_channels(self) -> dict[str, str]:
        """Every paused channel and its reason, for ``syndbot status``."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT name, paused_reason FROM channels"
                " WHERE paused_reason IS NOT NULL ORDER BY name"
            ).fetchall()
        return {r["name"]: r["paused_reason"] for r in rows}

    def pause_channel(self, name: str, *, reason: str, now: datetime) -> None:
        """Stop publishing to ``name`` (e.g. revoked credentials) until ``resume_channel``."""
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO channels (name, paused_reason, paused_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET paused_reason = excluded.paused_reason,"
                " paused_at = excluded.paused_at",
                (name, clip(reason), to_text(now)),
            )

    def resume_channel(self, name: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute(
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE name = ?",
                (name,),
            )

    def channel_state(self, name: str) -> dict[str, Any]:
        """The channel's saved JSON state ({} when none)."""
        with self._tx() as conn:
            row = conn.execute("SELECT state_json FROM channels WHERE name = ?", (name,)).fetchone()
        return {} if row is None else dict(json.loads(row["state_json"]))

    def set_channel_state(self, name: str, state: dict[str, Any]) -> None:
        """Replace the channel's state: JSON-serialisable, non-secret data only."""
        _refuse_secrets(state, name)
        text = json.dumps(state, ensure_ascii=False, sort_keys=True)
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO channels (name, state_json) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET state_json = excluded.state_json",
                (name, text),
            )


def _refuse_secrets(value: object, channel: str, where: str = "state") -> None:
    """The database is not a secret store: refuse keys that name credentials."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if _SECRET_KEY.search(str(key)):
                raise ValueError(
                    f"channel {channel!r}: {where}.{key} looks like a credential; keep "
                    "secrets in environment variables, not in the database"
                )
            _refuse_secrets(inner, channel, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            _refuse_secrets(inner, channel, f"{where}[{index}]")
