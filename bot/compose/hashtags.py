"""Hashtags from an article's tags: one clean word per tag, in the tag's own script.

"Charging Infrastructure" becomes ``ChargingInfrastructure``; Devanagari, Tamil and Telugu
tags keep their vowel signs and viramas (combining marks), which a naive ``\\w`` would split.
WordPress's default category ("Uncategorized") says nothing about an article: no hashtag.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Iterable

import regex

from bot.textfit import grapheme_count

MAX_TAG_GRAPHEMES = 40  # longer "tags" are sentences; Bluesky's own cap is 64
# A word: letters, marks, digits, with ZWJ/ZWNJ allowed inside (Indic conjuncts use them).
_WORD = regex.compile(r"[\p{L}\p{M}\p{Nd}]+(?:[\u200c\u200d]+[\p{L}\p{M}\p{Nd}]+)*")
_HAS_LETTER = regex.compile(r"\p{L}")
# WordPress files a post it was given no category for under "Uncategorized" (its default
# category, ``__( 'Uncategorized' )`` in wp_install_defaults); compared case-insensitively.
# Only the English spellings: a localized install's name is not listed here.
_PLACEHOLDER_TAGS = frozenset({"uncategorized", "uncategorised"})


@functools.lru_cache(maxsize=1024)  # every channel, and every article of a feed, asks again
def sanitise_tag(tag: str) -> str:
    """The hashtag body (without '#') for ``tag``, or "" when nothing usable is left.

    Words are joined CamelCase; punctuation and spaces go; a tag without any letter
    (``2024``, ``#``) is dropped, and so is WordPress's default category ("Uncategorized").
    """
    text = unicodedata.normalize("NFC", html.unescape(tag))
    if text.strip().casefold() in _PLACEHOLDER_TAGS:
        return ""
    words = _WORD.findall(text)
    body = "".join(_capitalise(word) if len(words) > 1 else word for word in words)
    # A leading combining mark (or joiner) would attach to the '#': drop it.
    while body and unicodedata.category(body[0]) in {"Mn", "Mc", "Me", "Cf"}:
        body = body[1:]
    if not _HAS_LETTER.search(body) or grapheme_count(body) > MAX_TAG_GRAPHEMES:
        return ""
    return unicodedata.normalize("NFC", body)


def _capitalise(word: str) -> str:
    """A word as it reads inside a CamelCase tag: an all-lowercase word gets a capital
    ("electric" -> "Electric"); a word with a capital after its first letter is kept as
    spelled ("iPhone", "iOS", "eMobility", "EV"). Scripts without case are unchanged."""
    if any(char.isupper() for char in word[1:]):
        return word
    return word[:1].upper() + word[1:]


def make_hashtags(tags: Iterable[str], limit: int) -> tuple[str, ...]:
    """Up to ``limit`` distinct hashtag bodies (case-insensitive), first occurrence wins."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if len(out) >= limit:
            break
        body = sanitise_tag(tag)
        key = body.casefold()
        if body and key not in seen:
            seen.add(key)
            out.append(body)
    return tuple(out)


def hashtag_text(body: str) -> str:
    return f"#{body}"
