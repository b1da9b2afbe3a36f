"""A validating view of one TOML table: every error names the file and key path."""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.durations import EXAMPLES as DURATION_EXAMPLES
from bot.durations import parse_duration
from bot.errors import ConfigError


# fmt: off
def closest(word: str, candidates: Collection[str]) -> str:
    """``'; did you mean "feeds"?'`` for a near miss, else ``""``."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f'; did you mean "{match[0]}"?' if match else ""


def _kind(value: object) -> str:
    kinds = ((bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "a string"))
    for cls, name in kinds:
        if isinstance(value, cls):
            return name
    if isinstance(value, dict):
        return "a table"
    return "an array" if isinstance(value, list) else "a date/time"


@dataclass(frozen=True)
class Section:
    """One TOML table and where it sits (``channels[2]``); hands out checked values."""

    data: Mapping[str, Any]
    file: str
    path: str

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=self.key(name))

    def check_known(self, known: Collection[str]) -> None:
        for name in self.data:
            if name not in known:
                hint = closest(name, known)
                listed = ", ".join(sorted(known)) or "none"
                raise self.error(name, f'unknown key "{name}"{hint}; known keys here: {listed}')

    def _typed(self, name: str, cls: type | tuple[type, ...], what: str) -> Any:
        value = self.data[name]
        if isinstance(value, bool) != (cls is bool) or not isinstance(value, cls):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise self.error(name, f"expected {what}, got {_kind(value)} {shown}")
        return value

    def text(self, name: str, default: str) -> str:
        return default if name not in self.data else str(self._typed(name, str, "a string"))

    def optional_text(self, name: str) -> str | None:
        return None if name not in self.data else str(self._typed(name, str, "a string"))

    def required_text(self, name: str) -> str:
        if name not in self.data:
            raise self.error(name, f'missing; add {name} = "..."')
        value = str(self._typed(name, str, "a string"))
        if not value.strip():
            raise self.error(name, "is empty")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in choices:
            listed = ", ".join(f'"{c}"' for c in choices)
            raise self.error(
                name, f'"{value}" is not allowed{closest(value, choices)}; use {listed}'
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        return default if name not in self.data else bool(self._typed(name, bool, "true or false"))

    def optional_integer(self, name: str, *, minimum: int) -> int | None:
        if name not in self.data:
            return None
        value = int(self._typed(name, int, "an integer"))
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        return value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        value = self.optional_integer(name, minimum=minimum)
        return default if value is None else value

    def duration(self, name: str, default: float, *, positive: bool = False) -> float:
        if name not in self.data:
            return default
        try:
            seconds = parse_duration(self.data[name])
        except ValueError as exc:
            raise self.error(name, str(exc)) from exc
        if positive and seconds <= 0:
            raise self.error(name, f"must be longer than zero; write it like {DURATION_EXAMPLES}")
        return seconds

    def text_list(self, name: str) -> list[str]:
        values = self._typed(name, list, 'an array of strings, e.g. ["a", "b"]')
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{name}[{index}]", f"expected a string, got {_kind(value)}")
        return list(values)

    def table(self, name: str) -> Section:
        """The sub-table ``name`` (empty when absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {_kind(value)}")
        return Section(value, file=self.file, path=self.key(name))

    def array(self, name: str) -> list[Section]:
        """The array of tables ``[[name]]`` (empty when absent)."""
        value = self.data.get(name, [])
        if isinstance(value, dict):
            raise self.error(name, f"write [[{name}]] (one per entry), not [{name}]")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, f"expected [[{name}]] tables, got {_kind(value)}")
        key = self.key(name)
        return [Section(v, file=self.file, path=f"{key}[{i}]") for i, v in enumerate(value)]

    def string_table(self, name: str) -> dict[str, str]:
        return self.table(name).string_table_here(scalars=False)

    def string_table_here(self, *, scalars: bool) -> dict[str, str]:
        """This table as ``str -> str``; with ``scalars``, integers and booleans are allowed."""
        result: dict[str, str] = {}
        for key, value in self.data.items():
            if isinstance(value, bool) and scalars:
                result[key] = "true" if value else "false"
            elif isinstance(value, int) and not isinstance(value, bool) and scalars:
                result[key] = str(value)
            else:
                result[key] = str(self._typed(key, str, "a string"))
        return result

    def check_timezone(self, name: str, value: str) -> None:
        if value == "UTC":
            return  # always valid, even where the system has no tz database
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise self.error(
                name, f'unknown time zone "{value}"; use an IANA name like "Asia/Kolkata"'
            ) from exc
