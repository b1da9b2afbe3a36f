"""The format-neutral shape both feed readers (``parse`` for RSS/Atom, ``jsonfeed``) fill.

``parse._finalise`` then turns a ``FeedDoc`` into ``Article`` values with the shared rules.
Kept apart so the two readers need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.models import Media


@dataclass
class RawItem:
    """One entry as the document gives it, before the shared rules are applied."""

    guid: str = ""
    link: str = ""
    title: str = ""  # plain text
    content_html: str = ""
    excerpt_html: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    image: Media | None = None  # an explicitly declared image (media:*, enclosure, JSON)
    lang: str | None = None
    author: str | None = None
    content_base: str = ""  # xml:base in scope for the item's HTML (may be relative)


@dataclass
class FeedDoc:
    """A whole document as read by one format reader."""

    title: str = ""
    link: str = ""
    lang: str | None = None
    items: list[RawItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def normalise_lang(value: str | None) -> str | None:
    """Language tags compared case-insensitively: ``en_US`` -> ``en-us``."""
    if not value or not value.strip():
        return None
    return value.strip().replace("_", "-").lower()
