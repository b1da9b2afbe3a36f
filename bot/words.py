"""Small wording helpers for messages people read."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 feed"``, ``"3 feeds"``; pass ``many`` for irregular words (``"entries"``)."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {many if many is not None else word + 's'}"
