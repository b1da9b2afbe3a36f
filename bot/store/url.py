"""Where the state lives: a SQLite file path or a PostgreSQL URL whose password never shows.

``DatabaseURL`` holds a ``postgresql://`` URL. Its ``str()`` and ``repr()`` are the redacted
form (``postgresql://user:***@host/db``), so a log line, a status page or an error message
that names the database cannot leak the password; only ``secret_url()`` gives the real one,
for the driver. This module imports nothing of syndbot, so config can use it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


class DatabaseURL:
    """A PostgreSQL connection URL; prints redacted, compares by the full URL."""

    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"{redact(url)} is not a postgresql:// URL")
        self._url = url

    def secret_url(self) -> str:
        """The URL with its password: for psycopg only, never for a message."""
        return self._url

    @property
    def password(self) -> str | None:
        return urlsplit(self._url).password

    def scrub(self, text: str) -> str:
        """``text`` with this URL's password (and any URL password) replaced by ``***``."""
        password = self.password
        if password:
            text = text.replace(password, "***")
        return redact_urls(text)

    def __str__(self) -> str:
        return redact(self._url)

    def __repr__(self) -> str:
        return f"DatabaseURL({redact(self._url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseURL) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


Database = Path | DatabaseURL
"""``service.database``: a SQLite file or a PostgreSQL server."""


def is_database_url(text: str) -> bool:
    return text.split(":", 1)[0].lower() in SCHEMES and "://" in text


def parse_database(text: str) -> Database:
    """A ``postgresql://`` URL as ``DatabaseURL``, a path as ``Path``; another kind of URL
    (``mysql://``, ``sqlite://``) raises ``ValueError`` rather than become a file name."""
    if is_database_url(text):
        return DatabaseURL(text)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise ValueError(
            f"{redact(text)} is neither a file path nor a postgresql:// URL; syndbot keeps "
            "its state in SQLite (a path) or PostgreSQL"
        )
    return Path(text)


def redact(url: str) -> str:
    """``url`` with the password replaced by ``***`` (and a ``password=`` query value)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_URL_WITH_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", re.I)


def redact_urls(text: str) -> str:
    """Every ``postgresql://user:password@`` inside ``text`` with the password masked."""
    return _URL_WITH_PASSWORD.sub(r"\1***@", text)
