"""The outbox: a channel that needs no account. Each post becomes one JSON line in a file.

It is also the model of a *reconcilable* publisher: before writing, it looks for the
idempotency key among lines already written, so a delivery interrupted after the write
(crash before the database recorded it) is recognised instead of written twice.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import ConfigError, Transient
from bot.models import Post, PublishResult

_LOCKS: dict[Path, threading.Lock] = {}
_INDEXES: dict[Path, _Index] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


@dataclass
class _Index:
    """Idempotency key -> line number of one outbox file, read once, then kept up to date.

    ``identity`` (inode, size) is what the file looked like after our last read or write;
    a file changed behind our back (rotated, truncated, written by another process) is
    read again, so the dedupe-by-key guarantee never rests on a stale index.
    """

    keys: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    identity: tuple[int, int] | None = None
    torn: bool = False  # the last line has no newline (a crash mid-write)


def _index_for(path: Path) -> _Index:
    """The up-to-date index of ``path``; call with the path's lock held."""
    resolved = path.resolve()
    index = _INDEXES.get(resolved)
    try:
        stat = path.stat()
    except FileNotFoundError:
        index = _INDEXES[resolved] = _Index()
        return index
    if index is None or index.identity != (stat.st_ino, stat.st_size):
        index = _INDEXES[resolved] = _read_index(path)
    return index


def _read_index(path: Path) -> _Index:
    index = _Index()
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            index.lines = line_no
            index.torn = not raw.endswith(b"\n")
            # A torn last line (crash mid-write) is not valid JSON: ignore it.
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            key = record.get("idempotency_key") if isinstance(record, dict) else None
            if isinstance(key, str):
                index.keys.setdefault(key, line_no)
        stat = os.fstat(fh.fileno())
    index.identity = (stat.st_ino, stat.st_size)
    return index


class OutboxPublisher:
    """Append posts to ``path`` (JSON Lines); with ``echo``, show each post's full text."""

    def __init__(
        self,
        *,
        name: str,
        platform: str,
        path: Path,
        echo: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.platform = platform
        self.path = path
        self._echo = echo
        self._clock = clock

    def check(self) -> str:
        """The outbox needs no credentials; it only needs a file it can append to."""
        if self.path.is_dir():
            raise ConfigError(self._is_a_directory())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(self.path.parent, os.W_OK):
            raise Transient(f"{self.path.parent} is not writable", channel=self.name)
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise Transient(f"{self.path} is not writable", channel=self.name)
        return f"file {self.path}"

    def _is_a_directory(self) -> str:
        return (
            f"outbox {self.path} is a directory; set outbox to a file in it, "
            f"e.g. {self.path / 'outbox.jsonl'}"
        )

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        """The line written earlier for this key, if any."""
        with _lock_for(self.path):
            return self._find(idempotency_key)

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        with _lock_for(self.path):
            found = self._find(idempotency_key)
            if found is not None:
                return found
            line_no = self._append(post, idempotency_key)
        if self._echo is not None:
            self._echo(render_post(post))
        return PublishResult(remote_id=f"{self.path.name}:{line_no}")

    def _find(self, key: str) -> PublishResult | None:
        try:
            line_no = _index_for(self.path).keys.get(key)
        except IsADirectoryError as exc:
            raise Transient(self._is_a_directory(), channel=self.name) from exc
        except OSError as exc:
            raise Transient(f"cannot read {self.path}: {exc.strerror}", channel=self.name) from exc
        return None if line_no is None else PublishResult(remote_id=f"{self.path.name}:{line_no}")

    def _append(self, post: Post, key: str) -> int:
        """Write one line; the file is not read again (the index knows its keys and lines)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        index = _index_for(self.path)
        record = {
            "idempotency_key": key,
            "published_at": self._clock().isoformat(timespec="seconds"),
            **post.to_dict(),
        }
        # After a torn last line, start a new one: glued to it, this record could not be read.
        line = ("\n" if index.torn else "") + json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
                stat = os.fstat(fh.fileno())
        except OSError as exc:
            raise Transient(f"cannot write {self.path}: {exc.strerror}", channel=self.name) from exc
        index.lines += 1
        index.keys[key] = index.lines
        index.torn = False
        index.identity = (stat.st_ino, stat.st_size)
        return index.lines


def render_post(post: Post) -> str:
    """A post as a person reads it in a terminal."""
    head = f"── {post.channel or post.platform} ({post.platform}) · {post.title}"
    unit = post.length
    lines = [head]
    for i, part in enumerate(post.parts, start=1):
        if len(post.parts) > 1:
            lines.append(f"[{i}/{len(post.parts)}]")
        lines.append(part.text)
        lines.extend(f"  🖼 {m.url}  (alt: {m.alt})" for m in part.media)
    lines.append(f"   {unit.value}/{unit.limit} {unit.unit}")
    return "\n".join(lines)


def post_line(post: Post, *, title_chars: int = 70) -> str:
    """A post in one line: its title, its link and the length it used of the limit."""
    title = " ".join(post.title.split())
    if len(title) > title_chars:
        title = title[: title_chars - 1] + "…"
    unit = post.length
    parts = f", {len(post.parts)} parts" if len(post.parts) > 1 else ""
    return f'"{title}" {post.article_url} ({unit.value}/{unit.limit} {unit.unit}{parts})'
