"""Bluesky facets: UTF-8 byte ranges of the text as posted, links shown short but whole."""

from __future__ import annotations

from bot.compose.facets import (
    build_facets,
    byte_offset,
    display_url,
    facet_problems,
    mark_link,
    mark_tag,
    strip_marks,
)
from bot.models import Facet

URL = "https://evnews.example.com/hi/2024/05/tata-nexon-ev-long-range-launch?utm_source=bsky"


def test_offsets_are_utf8_bytes_after_emoji_and_devanagari() -> None:
    """With emoji and Hindi before the link, byteStart/byteEnd count UTF-8 bytes, end exclusive."""
    shown = display_url(URL)
    marked = f"⚡🚗 टाटा नेक्सन ईवी {mark_link(shown)} {mark_tag('#ईवी')}"
    text, spans = strip_marks(marked)
    facets = build_facets(text, spans, link_uri=URL)
    data = text.encode("utf-8")
    link, tag = facets
    assert data[link.byte_start : link.byte_end].decode() == shown
    assert link.byte_start == len("⚡🚗 टाटा नेक्सन ईवी ".encode())
    assert link.byte_start > text.index(shown)  # bytes, not code points
    assert (link.kind, link.value) == ("link", URL)
    assert data[tag.byte_start : tag.byte_end].decode() == "#ईवी"
    assert (tag.kind, tag.value) == ("tag", "ईवी")
    assert tag.byte_end == len(data)
    assert facet_problems(text, facets) == []


def test_display_url_drops_scheme_and_shortens_with_ellipsis() -> None:
    """Long links are shown as 'host/path…' (32 graphemes), short ones whole without scheme."""
    assert display_url("https://www.example.com/a/") == "example.com/a"
    short = display_url(URL)
    assert short.startswith("evnews.example.com/hi/2024/")
    assert short.endswith("…")
    assert len(short) == 32


def test_strip_marks_reports_spans_in_code_points() -> None:
    """Markers vanish from the text and the spans index the clean text."""
    text, spans = strip_marks(f"ab {mark_link('x.io')} {mark_tag('#t')}")
    assert text == "ab x.io #t"
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [("link", "x.io"), ("tag", "#t")]


def test_byte_offset_counts_multibyte_characters() -> None:
    """Each code point adds its UTF-8 length: 1 (ASCII), 3 (Devanagari), 4 (emoji)."""
    assert byte_offset("aक😀b", 3) == 1 + 3 + 4


def test_facet_problems_catch_wrong_ranges() -> None:
    """A range in code points, past the end, cutting a character or off the tag is reported."""
    text = "टाटा #EV"
    good = Facet(len("टाटा ".encode()), len(text.encode()), "tag", "EV")
    assert facet_problems(text, (good,)) == []
    by_code_points = Facet(text.index("#"), len(text), "tag", "EV")
    assert facet_problems(text, (by_code_points,))
    assert facet_problems(text, (Facet(0, 999, "tag", "EV"),))
    assert "cuts a UTF-8 character" in facet_problems(text, (Facet(1, 3, "tag", "EV"),))[0]
    wrong_link = Facet(0, 3, "link", "https://example.com")
    assert "does not show" in facet_problems("abc", (wrong_link,))[0]
