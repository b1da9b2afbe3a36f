"""Human durations for config files: ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``, ``"1h30m"``.

A bare number (TOML integer or float) means seconds. The result is always ``float`` seconds
so schedulers and clocks never have to care which form the user wrote.
"""

from __future__ import annotations

import re

UNIT_SECONDS: dict[str, float] = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

# One or more "<number><unit>" pieces, largest unit first by convention (not enforced).
_PIECE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[smhd])+\s*")

EXAMPLES = '"30s", "10m", "2h", "1d", "1h30m" or a number of seconds'


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; raise ``ValueError`` saying what is accepted.

    >>> parse_duration("1h30m")
    5400.0
    """
    # bool is an int subclass; `interval = true` is a typo, not one second.
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as {EXAMPLES}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise ValueError(f"expected a duration such as {EXAMPLES}, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def _parse_text(text: str) -> float:
    stripped = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", stripped):
        return float(stripped)
    if not stripped or not _WHOLE.fullmatch(stripped):
        raise ValueError(f"not a duration: {text!r}; write it like {EXAMPLES}")
    return sum(float(num) * UNIT_SECONDS[unit] for num, unit in _PIECE.findall(stripped))


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds``, e.g. ``5400 -> "1h30m"``, for messages."""
    if seconds <= 0:
        return "0s"
    parts: list[str] = []
    remaining = seconds
    for unit in ("d", "h", "m"):
        size = UNIT_SECONDS[unit]
        whole = int(remaining // size)
        if whole:
            parts.append(f"{whole}{unit}")
            remaining -= whole * size
    if remaining or not parts:
        parts.append(f"{remaining:g}s")
    return "".join(parts)
