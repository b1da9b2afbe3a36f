"""Answers already paid for, by article content hash + budget + model + language + prompt.

A small SQLite table in its own file (``[llm] cache``, default ``var/llm-cache.db``), so
a retry or a restart does not ask the endpoint again; recent answers are also kept in
memory, which is all there is without a file or when the file cannot be written. The
stored answer is the model's last one, whatever the gate said of it: the gate is
deterministic, so it is judged again on every use and never paid for twice. Only what
the article says and the model wrote is stored: no key, no request header.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StoreError
from bot.llm.client import Completion

log = logging.getLogger("syndbot.llm")

MEMORY_ANSWERS = 2048  # the most recent answers, also kept in memory

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_answers (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class CacheKey:
    content_hash: str
    budget: int
    model: str
    lang: str
    prompt_version: int

    def digest(self) -> str:
        raw = "\0".join(
            [self.content_hash, str(self.budget), self.model, self.lang, str(self.prompt_version)]
        )
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AnswerCache:
    """``get``/``put`` answers; SQLite at ``path`` or memory only when ``path`` is None."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, Completion] = OrderedDict()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"{path}: cannot open the LLM answer cache: {exc}") from exc

    def get(self, key: CacheKey) -> Completion | None:
        digest = key.digest()
        with self._lock:
            if digest in self._memory or self._db is None:
                return self._memory.get(digest)
            try:
                row = self._db.execute(
                    "SELECT text, prompt_tokens, completion_tokens FROM llm_answers WHERE key = ?",
                    (digest,),
                ).fetchone()
            except sqlite3.Error as exc:  # a cache, not the state: never fail a delivery
                log.warning("llm answer cache unreadable, asking afresh: %s", exc)
                return None
        return None if row is None else Completion(row[0], row[1], row[2])

    def put(self, key: CacheKey, answer: Completion) -> None:
        digest = key.digest()
        with self._lock:
            self._memory[digest] = answer
            while len(self._memory) > MEMORY_ANSWERS:
                self._memory.popitem(last=False)
            if self._db is None:
                return
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO llm_answers VALUES (?, ?, ?, ?)",
                    (digest, answer.text, answer.prompt_tokens, answer.completion_tokens),
                )
            except sqlite3.Error as exc:  # disk full, read-only: remembered in memory only
                log.warning("llm answer cache not written, kept in memory: %s", exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
