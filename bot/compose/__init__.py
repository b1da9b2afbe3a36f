"""compose: one article and a channel's style in, a post sized for that platform out.

Pure: no I/O, the clock is the ``now`` argument. The fitting order is the promise made to
users: the link is never cut; hashtags go before the title is shortened; a hashtag goes
before the whole summary would; whatever is left is filled with the best summary that fits
*in context*, measured by the platform's own count on the text exactly as sent.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.compose.core import compose
    from bot.compose.links import add_utm
    from bot.compose.profiles import PROFILES
    from bot.compose.summaries import Summaries

__all__ = ["PROFILES", "Summaries", "add_utm", "compose"]

# Imported on first use: the platform registry (and so `syndbot status`) needs only
# ``bot.compose.profiles``, not the fitting machinery behind ``compose``.
_HOMES = {
    "compose": "bot.compose.core",
    "add_utm": "bot.compose.links",
    "PROFILES": "bot.compose.profiles",
    "Summaries": "bot.compose.summaries",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
