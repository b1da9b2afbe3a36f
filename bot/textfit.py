"""Cut text to a budget without breaking a word, a URL or a grapheme.

``measure`` is the platform's own length function (X weighted length, graphemes, bytes…),
so the same cutter serves every profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex

ELLIPSIS = "…"

_GRAPHEME = regex.compile(r"\X")
_WORD = regex.compile(r"(\s*)(\S+)")
_URLISH = regex.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)", regex.IGNORECASE)
# Scripts written without spaces between words: a cut between graphemes is a word cut there.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
# Punctuation we drop before adding the ellipsis ("word,…" reads badly).
_TRAILING_PUNCT = " \t\n,;:-–—([{"


def unspaced(text: str) -> bool:
    """Is any of ``text`` in a script written without spaces between words (CJK, Thai…)?"""
    return bool(_UNSPACED.search(text))


def graphemes(text: str) -> list[str]:
    """User-perceived characters of ``text``."""
    found: list[str] = _GRAPHEME.findall(text)
    return found


# The only characters a grapheme cluster joins to a neighbour (Unicode UAX #29: GB6-GB9b,
# GB9c and GB11 need an Extend or ZWJ, GB12-13 regional indicators). Without any of them
# every code point is a grapheme of its own but CR LF (GB3): counted without splitting,
# which was most of the time compose spends measuring.
_JOINING = regex.compile(
    r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}\p{GCB=Prepend}"
    r"\p{GCB=Regional_Indicator}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]"
)


# Blocks with none of them (Latin, Greek, Cyrillic, general punctuation, currency, arrows):
# the standard library's regex rules most text out faster than ``_JOINING`` can.
_OUTSIDE_PLAIN_BLOCKS = re.compile(
    "[^\x00-\u02ff\u0370-\u0482\u2000-\u200b\u200e-\u206f\u20a0-\u20cf\u2100-\u214f\u2190-\u21ff]"
)


def may_join(text: str) -> bool:
    """Might two of ``text``'s code points form one grapheme? False guarantees not (but
    for CR LF): every code point is then a grapheme of its own."""
    if text.isascii():  # ASCII is inside the plain blocks (told without reading the text)
        return False
    return bool(_OUTSIDE_PLAIN_BLOCKS.search(text)) and bool(_JOINING.search(text))


def grapheme_count(text: str) -> int:
    if not may_join(text):
        return len(text) - text.count("\r\n")
    return len(_GRAPHEME.findall(text))


def fits(text: str, budget: int, measure: Callable[[str], int] = len) -> bool:
    return measure(text) <= budget


def fit_text(
    text: str,
    budget: int,
    measure: Callable[[str], int] = len,
    *,
    ellipsis: str = ELLIPSIS,
) -> str:
    """Return ``text`` if it fits, else the longest word-boundary prefix + ``ellipsis`` that does.

    URLs are whole tokens: they are kept entire or dropped. Text in scripts without spaces
    (CJK, Thai…) may be cut between graphemes. Returns "" when not even one word fits.
    """
    text = text.strip()
    if measure(text) <= budget:
        return text
    tokens = _tokens(text)
    # Binary search the longest prefix of tokens that fits with the ellipsis appended.
    lo, hi, best = 1, len(tokens), ""
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = _with_ellipsis("".join(tokens[:mid]), ellipsis)
        if candidate and measure(candidate) <= budget:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def _with_ellipsis(prefix: str, ellipsis: str) -> str:
    prefix = prefix.rstrip(_TRAILING_PUNCT)
    if not prefix:
        return ""
    # An ellipsis glued to a URL would become part of it: separate them.
    last = prefix.split()[-1] if prefix.split() else ""
    sep = " " if _URLISH.match(last) else ""
    return f"{prefix}{sep}{ellipsis}"


def _tokens(text: str) -> list[str]:
    """Cut points: each token is a word with its leading whitespace.

    Inside runs of unspaced scripts each grapheme is its own token.
    """
    out: list[str] = []
    for match in _WORD.finditer(text):
        out.extend(_word_tokens(match.group(2), lead=match.group(1)))
    return out


def _word_tokens(word: str, *, lead: str) -> list[str]:
    if not word:
        return [lead] if lead else []
    if _URLISH.match(word) or not _UNSPACED.search(word):
        return [lead + word]
    parts = graphemes(word)
    parts[0] = lead + parts[0]
    return parts
