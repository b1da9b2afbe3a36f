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

from bot.compose.template import is_clean_line
from bot.compose.xlength import _SCALE, _segment_weight
from bot.textfit import may_join

# ((length, UTF-8 bytes, X weight), the characters in it some platform escapes)
SimpleText = tuple[tuple[int, int, int], frozenset[str]]

_DOT_LETTER = re.compile(r"\.[^\W\d_]")  # "." then a letter: where a domain's TLD could start
# What an emoji can start with (or a keycap needs), astral characters, as ``xlength``'s
# emoji pattern sees them (tests/test_fast_paths.py checks it over all of Unicode).
NOT_SIMPLE = re.compile(
    "[\u00a9\u00ae\u203c\u2049\u20e3\u2122\u2139\u2194-\u2bff\u3030\u303d\u3297\u3299"
    "\U00010000-\U0010ffff]"
)
_ESCAPABLE = re.compile(r"[\\|{}@\[\]()<>#*_~&]")  # what some platform escapes


@functools.lru_cache(maxsize=4096)
def simple_text(text: str) -> SimpleText | None:
    """``text``'s counts when it is simple (see the module), else None."""
    if not text or not is_clean_line(text):
        return None
    if "://" in text or _DOT_LETTER.search(text) or "www." in text.lower():
        return None
    if NOT_SIMPLE.search(text) or may_join(text):
        return None
    weight = len(text) if text.isascii() else _segment_weight(text) // _SCALE
    return (len(text), len(text.encode()), weight), frozenset(_ESCAPABLE.findall(text))
