"""Text a publisher's CMS encoded twice ("userâ€™s" for "user’s", "à¤šà¤¾à¤°" for
"चार"): UTF-8 bytes read as Windows-1252 or Latin-1 and stored again. ``ftfy`` undoes it
where it is sure; text without the tell-tale pairs is returned at once, without importing
it (a feed's text is almost always clean).
"""

from __future__ import annotations

import functools
import re

# A UTF-8 lead byte read as Latin-1/Windows-1252 (Â..ô) followed by a continuation byte read
# the same way (\x80..\xbf, or the Windows-1252 letters those bytes become).
_TELL = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030"
    "\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161"
    "\u203a\u0153\u017e\u0178]"
)


def fix_mojibake(text: str) -> str:
    """``text`` with doubly encoded UTF-8 decoded once more; other text unchanged."""
    if text.isascii() or not _TELL.search(text):
        return text
    return _fixed(text)


@functools.lru_cache(maxsize=64)  # a broken feed sends the same items poll after poll
def _fixed(text: str) -> str:
    import ftfy  # only for the rare text that needs it

    return str(ftfy.fix_encoding(text))
