"""The commonest candidate summary, counted fast: a clean sentence with nothing special.

Composing one article for ten platforms measures the same candidate sentences on each.
Most are "simple": printable, already clean (``template.is_clean_line``), no URL or
anything that could start one, no emoji, no astral character and no character that joins
its neighbour into one grapheme. On such text every platform count is its length, its
UTF-8 bytes or its X weight (``counting.SIMPLE_TEXT_FIELD``), worked out once per
sentence here and remembered; tests/test_fast_paths.py checks the result against
cleaning, escaping and counting the framed post on every platform.
"""

from __future__ import annotations

import functools
import re

from bot.compose.links import has_www
from bot.compose.profiles import ESCAPED_CHARS
from bot.compose.template import is_clean_line
from bot.compose.xlength import _SCALE, DOT_LETTER, MAY_START_EMOJI, _segment_weight
from bot.textfit import may_join

# ((length, UTF-8 bytes, X weight), the characters in it some platform escapes)
SimpleText = tuple[tuple[int, int, int], frozenset[str]]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# Every character some platform escapes (``profiles.ESCAPED_CHARS``).
_ESCAPABLE_CHARS = "".join(sorted(set("".join(ESCAPED_CHARS.values()))))


@functools.lru_cache(maxsize=4096)
def simple_text(text: str) -> SimpleText | None:
    """``text``'s counts when it is simple (see the module), else None."""
    if not text or not is_clean_line(text):
        return None
    if "://" in text or DOT_LETTER.search(text) or has_www(text):
        return None
    if text.isascii():  # no emoji, astral or joining character: none is ASCII
        counts = (len(text), len(text), len(text))
    elif MAY_START_EMOJI.search(text) or _ASTRAL.search(text) or may_join(text):
        return None
    else:
        counts = (len(text), len(text.encode()), _segment_weight(text) // _SCALE)
    return counts, frozenset(char for char in _ESCAPABLE_CHARS if char in text)
