"""Bluesky rich-text facets: links and hashtags as UTF-8 byte ranges of the posted text.

Compose wraps the link and each hashtag in private-use marker characters while rendering;
``strip_marks`` removes them and reports where they were, so offsets are exact even after
the template collapsed whitespace. Incoming text never carries these markers: compose
removes private-use characters from article text first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

import regex

from bot.compose.xlength import extract_urls
from bot.models import Facet, FacetKind
from bot.textfit import ELLIPSIS, graphemes

LINK_OPEN, LINK_CLOSE = "\ue000", "\ue001"
TAG_OPEN, TAG_CLOSE = "\ue002", "\ue003"
MARKERS = frozenset(LINK_OPEN + LINK_CLOSE + TAG_OPEN + TAG_CLOSE)
_MARKER = re.compile("[" + "".join(sorted(MARKERS)) + "]")
DISPLAY_URL_GRAPHEMES = 32  # about what the Bluesky app itself shows of a long link
_HIGH_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")  # UTF-8 bytes of non-ASCII text


@dataclass(frozen=True)
class Span:
    """A marked stretch of text, in code point offsets of the unmarked text."""

    kind: FacetKind
    start: int
    end: int


def mark_link(display: str) -> str:
    return f"{LINK_OPEN}{display}{LINK_CLOSE}"


def mark_tag(text: str) -> str:
    return f"{TAG_OPEN}{text}{TAG_CLOSE}"


def strip_marks(text: str) -> tuple[str, list[Span]]:
    """The text without markers, and the spans the markers enclosed."""
    if (
        LINK_OPEN not in text
        and LINK_CLOSE not in text
        and TAG_OPEN not in text
        and TAG_CLOSE not in text
    ):
        return text, []
    out: list[str] = []
    spans: list[Span] = []
    opened: tuple[FacetKind, int] | None = None
    length, cursor = 0, 0
    for found in _MARKER.finditer(text):  # the text between markers is taken whole
        piece = text[cursor : found.start()]
        out.append(piece)
        length += len(piece)
        cursor = found.end()
        char = found.group()
        if char in (LINK_OPEN, TAG_OPEN):
            opened = ("link" if char == LINK_OPEN else "tag", length)
        else:
            if opened is not None and length > opened[1]:
                spans.append(Span(opened[0], opened[1], length))
            opened = None
    out.append(text[cursor:])
    return "".join(out), spans


def display_url(url: str, max_graphemes: int = DISPLAY_URL_GRAPHEMES) -> str:
    """``https://www.example.com/a/long/path`` -> ``example.com/a/long…`` (scheme dropped).

    Percent-encoded non-ASCII characters are shown as themselves (``/%E0%A4%B9`` as
    ``/ह``), as browsers do; ASCII escapes such as ``%7C`` stay encoded."""
    parts = urlsplit(url)
    shown = url.split("://", 1)[1] if parts.scheme and "://" in url else url
    shown = _HIGH_ESCAPES.sub(_unescape_utf8, shown.removeprefix("www.").rstrip("/"))
    pieces = graphemes(shown)
    if len(pieces) <= max_graphemes:
        return shown
    return "".join(pieces[: max_graphemes - 1]) + ELLIPSIS


def _unescape_utf8(match: re.Match[str]) -> str:
    try:
        return unquote_to_bytes(match.group(0)).decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of code point ``index`` in ``text``."""
    return len(text[:index].encode("utf-8"))


def build_facets(
    text: str,
    spans: list[Span],
    *,
    link_uri: str,
    values: dict[tuple[int, int], str] | None = None,
) -> tuple[Facet, ...]:
    """Facets for ``spans`` of ``text``: links point at ``link_uri``, tags at their word;
    ``values`` (by code point span) overrides either."""
    facets: list[Facet] = []
    for span in spans:
        start, end = byte_offset(text, span.start), byte_offset(text, span.end)
        value = link_uri if span.kind == "link" else text[span.start : span.end].lstrip("#")
        value = (values or {}).get((span.start, span.end), value)
        facets.append(Facet(byte_start=start, byte_end=end, kind=span.kind, value=value))
    return tuple(facets)


def facet_problems(text: str, facets: tuple[Facet, ...]) -> list[str]:
    """What is wrong with ``facets`` for ``text``: ranges outside it, or not on the link/tag."""
    data = text.encode("utf-8")
    problems: list[str] = []
    for facet in facets:
        where = f"facet [{facet.byte_start}, {facet.byte_end})"
        if not 0 <= facet.byte_start < facet.byte_end <= len(data):
            problems.append(f"{where} is outside the {len(data)}-byte text")
            continue
        try:
            covered = data[facet.byte_start : facet.byte_end].decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{where} cuts a UTF-8 character")
            continue
        if facet.kind == "tag" and covered != f"#{facet.value}":
            problems.append(f"{where} covers {covered!r}, not the tag #{facet.value}")
        if facet.kind == "link" and not _shows_link(covered, facet.value):
            problems.append(f"{where} covers {covered!r}, which does not show {facet.value}")
    return problems


def _shows_link(covered: str, uri: str) -> bool:
    """True when ``covered`` is the URI, or its display form (maybe shortened with '…')."""
    if covered == uri:
        return True
    full = display_url(uri, max_graphemes=10**9)
    stem = covered.removesuffix(ELLIPSIS)
    return bool(stem) and (
        covered == full or (covered.endswith(ELLIPSIS) and full.startswith(stem))
    )


_HASHTAG = regex.compile(r"(?<!\S)#([\p{L}\p{M}\p{Nd}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{Nd}_]*)")


def facets_for_text(text: str, *, link_uri: str) -> tuple[Facet, ...]:
    """Facets rebuilt from plain ``text`` (a post a person edited): the article link, written
    in full or in its display form, points at ``link_uri``; any other http(s) URL at itself;
    every ``#tag`` becomes a tag. Overlapping matches keep the first found."""
    spans: list[tuple[int, int, FacetKind, str]] = []

    def add(start: int, end: int, kind: FacetKind, value: str) -> None:
        if all(end <= s or start >= e for s, e, _, _ in spans):
            spans.append((start, end, kind, value))

    shown = (link_uri, display_url(link_uri, max_graphemes=10**9), display_url(link_uri))
    for form in dict.fromkeys(shown):
        for match in re.finditer(re.escape(form), text):
            add(match.start(), match.end(), "link", link_uri)
    for url in extract_urls(text):
        if url.url.lower().startswith(("http://", "https://")):
            add(url.start, url.end, "link", url.url)
    for match in _HASHTAG.finditer(text):
        add(match.start(), match.end(), "tag", match.group(1))
    return build_facets(
        text,
        [Span(kind, start, end) for start, end, kind, _ in sorted(spans)],
        link_uri=link_uri,
        values={(start, end): value for start, end, _, value in spans},
    )
