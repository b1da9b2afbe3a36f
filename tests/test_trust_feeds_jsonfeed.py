"""Trust: a JSON Feed with a raw control character inside a string is read, not refused.

Issue 8 point 18: strict JSON forbids raw control characters (U+0000-U+001F) in strings, so
one pasted tab or backspace in a title used to fail the whole feed.
"""

from __future__ import annotations

import json

import pytest

from bot.errors import ParseError
from bot.feeds.parse import parse_feed


def _feed(title: str, text: str) -> bytes:
    """A JSON Feed whose item title and text hold exactly the characters given (raw)."""
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "EV News",
            "home_page_url": "https://ev.example/",
            "items": [
                {"id": "1", "url": "https://ev.example/a", "title": "@T@", "content_text": "@X@"},
                {"id": "2", "url": "https://ev.example/b", "title": "Clean item"},
            ],
        },
        ensure_ascii=False,
    )
    return body.replace("@T@", title).replace("@X@", text).encode("utf-8")


@pytest.mark.parametrize("control", ["\x08", "\x01", "\t", "\x1f"])
def test_raw_control_character_in_a_string_is_read_leniently(control: str) -> None:
    """Both items are read; the control character is gone from the title; a warning says so."""
    raw = _feed(f"टाटा{control} Nexon price cut", f"First line{control}\nsecond line")
    with pytest.raises(ValueError, match="Invalid control character"):
        json.loads(raw)  # the document really is invalid strict JSON
    parsed = parse_feed(raw, feed_name="ev", base_url="https://ev.example/feed.json")
    assert [a.item_id for a in parsed.articles] == ["1", "2"]
    title = parsed.articles[0].title
    assert title.startswith("टाटा")
    assert title.endswith("Nexon price cut")
    assert not any(ord(ch) < 0x20 and ch != " " for ch in title)
    assert "second line" in parsed.articles[0].content_html
    assert any("control characters" in w for w in parsed.warnings)


def test_broken_json_is_still_refused() -> None:
    """Leniency covers control characters only: a truncated document is a ParseError."""
    raw = _feed("Title", "Text")[:-20]
    with pytest.raises(ParseError, match="invalid JSON"):
        parse_feed(raw, feed_name="ev", base_url="https://ev.example/feed.json")


def test_valid_feed_gets_no_leniency_warning() -> None:
    """A clean JSON Feed is read strictly, with no warning."""
    parsed = parse_feed(
        _feed("Title", "Text"), feed_name="ev", base_url="https://ev.example/feed.json"
    )
    assert parsed.warnings == ()
