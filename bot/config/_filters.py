"""The filter keys allowed in ``[[channels]]`` and ``[[feeds]]`` (see ``bot.engine.filters``)."""

from __future__ import annotations

import regex

from bot.config._section import Section
from bot.engine.filters import Filters, compile_regex

_LISTS = (
    *("include", "exclude", "include_tags", "exclude_tags"),
    *("include_authors", "exclude_authors", "include_regex", "exclude_regex"),
)
FILTER_KEYS = (*_LISTS, "max_age")


def parse_filters(sec: Section) -> Filters:
    """The table's filter keys, checked: non-empty strings, valid patterns, a positive age."""
    values: dict[str, tuple[str, ...]] = {}
    for key in _LISTS:
        if key not in sec:
            continue
        entries = sec.text_list(key)
        for index, entry in enumerate(entries):
            if not entry.strip():
                raise sec.error(f"{key}[{index}]", "is empty; remove it or write a word")
        if key.endswith("_regex"):
            for index, pattern in enumerate(entries):
                try:
                    compile_regex(pattern)
                except regex.error as exc:
                    raise sec.error(
                        f"{key}[{index}]", f"/{pattern}/ is not a valid regular expression: {exc}"
                    ) from exc
        values[key] = tuple(entries)
    max_age = sec.duration("max_age", 0.0, positive=True) if "max_age" in sec else None
    return Filters(**values, max_age=max_age)
