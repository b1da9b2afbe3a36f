"""Length measures, one per way a platform counts. Each takes the text exactly as sent.

All are monotone under appending text, which is what ``fit_text``'s binary search needs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.compose.profiles import escape_html
from bot.compose.xlength import (
    TRANSFORMED_URL_LENGTH,
    emoji_spans,
    extract_urls,
    x_weighted_length,
)
from bot.textfit import grapheme_count

MASTODON_URL_LENGTH = TRANSFORMED_URL_LENGTH
BLUESKY_MAX_BYTES = 3000
BLUESKY_MAX_GRAPHEMES = 300
_TAG = re.compile(r"<[^>]*>")


def code_points(text: str) -> int:
    """Python ``len``: Unicode code points."""
    return len(text)


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    return grapheme_count(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_units(text: str) -> int:
    """UTF-16 code units: what JavaScript's ``length`` and Telegram count."""
    return len(text.encode("utf-16-le")) // 2


def mastodon_length(text: str) -> int:
    """Mastodon: graphemes, with every http(s) URL counting 23 whatever its length."""
    urls = [u for u in extract_urls(text) if u.url.lower().startswith(("http://", "https://"))]
    if not urls:
        return grapheme_count(text)
    total, cursor = 0, 0
    for url in urls:
        total += grapheme_count(text[cursor : url.start]) + MASTODON_URL_LENGTH
        cursor = url.end
    return total + grapheme_count(text[cursor:])


def bluesky_length(text: str) -> int:
    """Both Bluesky limits in one monotone number: max(graphemes, ceil(bytes / 10)).

    ``bluesky_length(t) <= 300`` holds exactly when t has <= 300 graphemes and <= 3,000
    UTF-8 bytes, so one budget serves both rules.
    """
    return _bluesky_limits(grapheme_count(text), utf8_bytes(text))


def _bluesky_limits(grapheme_total: int, byte_total: int) -> int:
    ratio = BLUESKY_MAX_BYTES // BLUESKY_MAX_GRAPHEMES
    return max(grapheme_total, -(-byte_total // ratio))


def threads_length(text: str) -> int:
    """Threads: characters (code points), except each emoji counts its UTF-8 byte length."""
    total, cursor = 0, 0
    for start, end in emoji_spans(text):
        total += (start - cursor) + utf8_bytes(text[start:end])
        cursor = end
    return total + len(text) - cursor


def telegram_html_length(text: str) -> int:
    """Telegram HTML mode: UTF-16 units of the text left after entity parsing."""
    return utf16_units(html.unescape(_TAG.sub("", text)))


def same_total(total: int) -> int:
    """The combine of a measure with one count: that count."""
    return total


# Measures whose counts add up over a line break, as (counts, combine): measure(t) is
# combine(*(count(t) for count in counts)) and each count(a + b) = count(a) + count(b)
# when a ends or b starts with "\n". No URL, emoji, grapheme cluster or composed character
# spans a line break, and what one ends or starts does not depend on the other side.
# (Not Telegram's count: its tags may span lines.)
LINE_PARTS: dict[Callable[[str], int], tuple[tuple[Callable[[str], int], ...], Callable[..., int]]]
LINE_PARTS = {
    measure: ((measure,), same_total)
    for measure in (
        len,
        code_points,
        graphemes,
        utf8_bytes,
        utf16_units,
        mastodon_length,
        threads_length,
        x_weighted_length,
    )
}
LINE_PARTS[bluesky_length] = ((grapheme_count, utf8_bytes), _bluesky_limits)
# Telegram's count adds up too, on the frame around a summary line when nothing can span
# the line breaks: the summary is HTML-escaped (no "<" starts a tag in it, and each
# entity it has is one of its own characters, whole), every "<" before it is closed by a
# ">" before it, and no entity holds a line break. ``LINE_FRAME_CHECKS`` says when.
LINE_PARTS[telegram_html_length] = ((telegram_html_length,), same_total)


def _telegram_frame(before: str, escape: Callable[[str], str]) -> bool:
    """True when Telegram's count adds up over the summary line after ``before``."""
    return escape is escape_html and "<" not in before[before.rfind(">") + 1 :]


# A frame (the post before the summary, the platform's escape) on which a count of
# ``LINE_PARTS`` adds up only under provisos; the others add up on any frame.
LINE_FRAME_CHECKS: dict[Callable[[str], int], Callable[[str, Callable[[str], str]], bool]] = {
    telegram_html_length: _telegram_frame
}

# How each count reads a simple text (``bot.compose.simple``): its length in code points,
# its UTF-8 bytes or its X weight. Such text has no URL, emoji, astral or joining
# character: every code point is a grapheme and one UTF-16 unit, and no URL or emoji is
# counted specially.
SIMPLE_TEXT_FIELD: dict[Callable[[str], int], int] = {
    len: 0,
    code_points: 0,
    graphemes: 0,
    grapheme_count: 0,
    utf16_units: 0,
    mastodon_length: 0,
    threads_length: 0,
    utf8_bytes: 1,
    x_weighted_length: 2,
    telegram_html_length: 0,  # no tag or entity: simple text has none of "&<>" unescaped
}
