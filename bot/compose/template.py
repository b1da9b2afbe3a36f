"""Per-channel post templates: ``"{title}\\n\\n{summary}\\n\\n{url} {hashtags}"``.

Values are inserted verbatim (never parsed as templates), then the blank lines and double
spaces left by empty fields are collapsed.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Mapping

from bot.htmltext import html_to_text

PLACEHOLDERS = ("title", "summary", "url", "hashtags", "author", "feed", "lang")
_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n{3,}")
# Something that reads as an HTML tag; validate_post flags these in plain-text platforms.
HTML_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
# Dropped from article text: controls (but newline/tab), surrogates, private use (compose's
# facet markers live there), unassigned/noncharacters (U+FFFE/U+FFFF) and the BOM U+FEFF.
_DROP_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")

Segment = tuple[str, str | None]  # (literal text before, placeholder name or None)


@functools.lru_cache(maxsize=256)
def parse_template(template: str) -> tuple[Segment, ...]:
    """Split ``template`` into literals and placeholder names; ValueError names a bad one."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"template {template!r}: {exc}; write a literal brace as '{{{{' or '}}}}'"
        ) from exc
    segments: list[Segment] = []
    for literal, field, spec, conversion in parsed:
        if field is not None:
            _check_field(template, field, spec, conversion)
        segments.append((literal, field))
    return tuple(segments)


def _check_field(template: str, field: str, spec: str | None, conversion: str | None) -> None:
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    if field not in PLACEHOLDERS:
        shown = "{" + field + "}" if field else "{}"
        raise ValueError(
            f"template {template!r}: unknown placeholder {shown}; use one of {allowed}"
        )
    if spec or conversion:
        raise ValueError(
            f"template {template!r}: placeholder {{{field}}} takes no format spec or "
            f"conversion; write plain {{{field}}}"
        )


def check_template(template: str) -> None:
    """Raise ValueError naming the first unknown or malformed placeholder in ``template``."""
    parse_template(template)


def placeholders(template: str) -> set[str]:
    """The placeholder names ``template`` uses."""
    return {field for _, field in parse_template(template) if field is not None}


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template`` with ``values`` (missing ones are empty) and tidy the whitespace."""
    parts: list[str] = []
    for literal, field in parse_template(template):
        parts.append(literal)
        if field is not None:
            parts.append(values.get(field, ""))
    return collapse("".join(parts))


def collapse(text: str) -> str:
    """Trim each line, squeeze runs of spaces, keep at most one blank line between blocks."""
    if "\n" not in text and "\t" not in text and "  " not in text:
        return text.strip()  # one line, nothing to squeeze: the same result, sooner
    if "\t" in text or "  " in text:
        lines = [_SPACES.sub(" ", line).strip(" \t") for line in text.split("\n")]
    else:  # no run of spaces to squeeze: the same lines, sooner
        lines = [line.strip(" \t") for line in text.split("\n")]
    joined = "\n".join(lines)
    return (_BLANK_LINES.sub("\n\n", joined) if "\n\n\n" in joined else joined).strip()


def clean_block(text: str) -> str:
    """Article text made plain: tags stripped, entities decoded (until none are left, as
    feeds double-escape), NFC, no control/private-use/noncharacters, tidy whitespace."""
    if is_clean_line(text):
        return text  # every summary candidate: already plain, one line, nothing to do
    for _ in range(20):  # each round only shrinks the text; real input settles in 1-3
        markup = "<" in text or "&" in text
        plain = _drop_unwanted(html_to_text(text) if markup else text)
        if plain == text:
            break
        text = plain
    return collapse(text)


def is_clean_line(text: str) -> bool:
    """True when ``clean_block`` would give ``text`` back unchanged, told without copying
    it: no markup or entity, printable (so no line break, tab, control, private-use or
    unassigned character), no double space, none at either end, and in NFC."""
    return (
        "<" not in text
        and "&" not in text
        and text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    )


def _drop_unwanted(text: str) -> str:
    text = unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", text)).replace("\t", " ")
    # str.isprintable is False for every category dropped here (and for U+FEFF), so
    # the common all-printable text skips the per-character scan.
    if text.replace("\n", "").isprintable():
        return text
    return "".join(
        " " if char == "\t" else char
        for char in text
        if char in "\n\t"
        or (unicodedata.category(char) not in _DROP_CATEGORIES and char != "\ufeff")
    )


@functools.lru_cache(maxsize=1024)  # titles, names and alt text: asked on every platform
def clean_inline(text: str) -> str:
    """Like ``clean_block``, on one line (titles, names)."""
    return " ".join(clean_block(text).split())
