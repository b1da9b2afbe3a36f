"""Article pages already read for "full text", kept across restarts.

A feed that gives only excerpts has each article page downloaded and extracted once
(``bot.feeds.sources``). This cache remembers, per page URL, what was extracted, for which
version of the item (``key``: its id and a hash of its excerpt) and the page's validators.
The same item again costs nothing; a changed item asks the page with ``If-None-Match`` /
``If-Modified-Since`` and a 304 reuses what was extracted before.

It is its own small SQLite file beside the database (``pages_path``), not part of the
store: losing it only means pages are downloaded again.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bot.models import Article, Media

MAX_PAGES = 20_000  # rows kept; the oldest go first
RETRY_FAILED_AFTER = 3600.0  # seconds before a page that could not be used is tried again
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    failed INTEGER NOT NULL DEFAULT 0,
    content_html TEXT NOT NULL DEFAULT '',
    image_url TEXT,
    image_alt TEXT,
    image_mime TEXT,
    lang TEXT,
    author TEXT,
    stored_at REAL NOT NULL
)
"""


def pages_path(database: object) -> Path | str:
    """``var/syndbot.db`` -> ``var/syndbot-pages.db``; in memory for a database server (a
    fleet's instances each keep their own, and a restart refetches at most a few pages)."""
    if not isinstance(database, Path):
        return ":memory:"
    return database.with_name(f"{database.stem}-pages.db")


@dataclass(frozen=True)
class CachedPage:
    """What one article page gave, for the item version ``key``."""

    key: str
    etag: str | None = None
    last_modified: str | None = None
    failed: bool = False  # the page could not be used: the excerpt stays
    content_html: str = ""
    image: Media | None = None
    lang: str | None = None
    author: str | None = None
    stored_at: float = 0.0  # time.time() when stored

    def serves(self, key: str) -> bool:
        """True when this entry answers item version ``key`` without a download."""
        if self.key != key:
            return False
        return not self.failed or time.time() - self.stored_at < RETRY_FAILED_AFTER

    @classmethod
    def of(
        cls, key: str, filled: Article, *, etag: str | None, last_modified: str | None
    ) -> CachedPage:
        return cls(
            key=key,
            etag=etag,
            last_modified=last_modified,
            content_html=filled.content_html,
            image=filled.image,
            lang=filled.lang,
            author=filled.author,
        )

    def fill(self, article: Article) -> Article:
        """``article`` with this page's text (what the feed gave itself wins)."""
        if self.failed:
            return article
        return dataclasses.replace(
            article,
            content_html=self.content_html,
            image=article.image or self.image,
            lang=article.lang or self.lang,
            author=article.author or self.author,
        )


class PageCache:
    """URL -> ``CachedPage`` in SQLite (``":memory:"`` when no file is given); thread-safe."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        self._writes = 0

    def get(self, url: str) -> CachedPage | None:
        with self._lock:
            row = self._db.execute(
                "SELECT key, etag, last_modified, failed, content_html, image_url, image_alt,"
                " image_mime, lang, author, stored_at FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
        if row is None:
            return None
        key, etag, last_modified, failed, content, image_url, alt, mime, lang, author, at = row
        image = Media(url=image_url, alt=alt or "", mime=mime) if image_url else None
        return CachedPage(key, etag, last_modified, bool(failed), content, image, lang, author, at)

    def put(self, url: str, page: CachedPage) -> None:
        image = page.image
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    url,
                    page.key,
                    page.etag,
                    page.last_modified,
                    int(page.failed),
                    page.content_html,
                    image.url if image else None,
                    image.alt if image else None,
                    image.mime if image else None,
                    page.lang,
                    page.author,
                    time.time(),
                ),
            )
            self._writes += 1
            if self._writes % 500 == 0:
                self._db.execute(
                    "DELETE FROM pages WHERE url IN (SELECT url FROM pages"
                    " ORDER BY stored_at DESC LIMIT -1 OFFSET ?)",
                    (MAX_PAGES,),
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()
