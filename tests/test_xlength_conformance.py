"""X weighted length against twitter-text's own conformance files and an independent port."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose.xlength import (
    extract_urls,
    top_level_domains,
    x_has_invalid_characters,
    x_is_valid,
    x_weighted_length,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "twitter-text"


def _cases(filename: str, *sections: str) -> list[Any]:
    """Test cases of ``sections`` in a conformance YAML; one skipped param when absent."""
    path = CORPUS / filename
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} not present"))]
    tests = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(case, id=f"{section}: {case['description']}"[:120])
        for section in sections
        for case in tests[section]
    ]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "case",
    _cases(
        "conformance_validate.yml",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ),
)
def test_weighted_length_matches_twitter_text_v3(case: dict[str, Any]) -> None:
    """Every v3 weighted-length case: same weightedLength and validity as twitter-text."""
    expected = case["expected"]
    assert x_weighted_length(case["text"]) == expected["weightedLength"]
    assert x_is_valid(case["text"]) is expected["valid"]


@pytest.mark.corpus
def test_config_v3_matches_our_constants() -> None:
    """The weights we hard-code are the ones in twitter-text's config/v3.json."""
    path = CORPUS / "config_v3.json"
    if not path.exists():
        pytest.skip(f"{path} not present")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    ranges = [(r["start"], r["end"]) for r in config["ranges"]]
    assert ranges == [(0, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037)]
    assert (config["maxWeightedTweetLength"], config["transformedURLLength"]) == (280, 23)
    assert config["emojiParsingEnabled"] is True


@pytest.mark.corpus
@pytest.mark.parametrize(
    "case",
    _cases(
        "conformance_extract.yml",
        "urls",
        "urls_with_indices",
        "urls_with_directional_markers",
        "tco_urls_with_params",
    ),
)
def test_url_extraction_matches_twitter_text(case: dict[str, Any]) -> None:
    """The URLs (and code point indices) twitter-text's extractor finds, we find."""
    expected = case["expected"]
    found = extract_urls(case["text"])
    if expected and isinstance(expected[0], dict):
        assert [{"url": u.url, "indices": [u.start, u.end]} for u in found] == expected
    else:
        assert [u.url for u in found] == expected


@pytest.mark.corpus
@pytest.mark.parametrize("case", _cases("conformance_tlds.yml", "country", "generic"))
def test_tld_list_follows_the_current_root_zone(case: dict[str, Any]) -> None:
    """A TLD still delegated links as in twitter-text; one retired since 2021 does not."""
    tld = case["text"].rsplit(".", 1)[1].lower()
    expected = case["expected"] if tld in top_level_domains() else []
    assert [u.url for u in extract_urls(case["text"])] == expected


def test_most_of_twitter_texts_tlds_are_still_known() -> None:
    """The TLD list comes from a real, current source: the usual TLDs are all present."""
    names = top_level_domains()
    assert {"com", "org", "in", "uk", "io", "ev", "भारत", "இந்தியா", "భారత్"} - names <= {"ev"}
    assert len(names) > 1000


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("Tata Nexon EV", 13),
        # Devanagari, Tamil, Telugu lie below U+10FF: 1 per code point (not 2 as CJK).
        ("नमस्ते", 6),
        ("வணக்கம்", 7),
        ("నమస్కారం", 8),
        ("电动车", 6),
        ("EV 🚗⚡", 7),
        ("👨‍👩‍👧‍👦", 2),
        ("🇮🇳", 2),
        ("Read https://evnews.example.com/a/very/long/path/that/goes/on/and/on", 28),
        ("see evnews.co.in", 27),
        ("version 1.2 is out", 18),
    ],
)
def test_weighted_length_examples(text: str, weight: int) -> None:
    """Code points up to U+10FF weigh 1, CJK 2; emoji sequences 2; any detected URL 23."""
    assert x_weighted_length(text) == weight


def test_invalid_characters_make_a_post_invalid() -> None:
    """U+FFFE, U+FEFF and U+FFFF are rejected even in a short post; empty is invalid too."""
    for char in "\ufffe\ufeff\uffff":
        assert x_has_invalid_characters(f"ok{char}")
        assert not x_is_valid(f"ok{char}")
    assert not x_is_valid("")
    assert x_is_valid("x" * 280)
    assert not x_is_valid("x" * 281)


def test_nfc_is_applied_before_counting() -> None:
    """A decomposed 'é' (e + U+0301) counts as one, like the precomposed one."""
    assert x_weighted_length("e\u0301") == x_weighted_length("\u00e9") == 1


def _port_parse() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from twitter_text import parse_tweet
        except Exception as exc:  # the oracle is optional; any import failure skips
            pytest.skip(f"twitter_text (twitter-text-parser) does not import: {exc}")
    return parse_tweet


# Pieces both implementations know alike: scripts, emoji of Unicode <= 11, URLs on TLDs
# that existed in twitter-text's 2021 list and still do.
_PIECES = st.sampled_from(
    [
        "EV",
        "charging",
        "Nexon",
        "café",
        "naïve",
        "1.2",
        "—",
        "“quote”",
        "′",
        "…",
        "इलेक्ट्रिक",
        "वाहन",
        "சார்ஜிங்",
        "வாகனம்",
        "ఛార్జింగ్",
        "వాహనం",
        "电动车",
        "Ελλάδα",
        "😷",
        "👍🏽",
        "👨‍👩‍👧‍👦",
        "🇮🇳",
        "1️⃣",
        "©",
        "❤️",
        "☺",
        "https://evnews.example.com/2024/tata-nexon?utm_source=x&utm_medium=social",
        "http://example.org/a_(b)",
        "evnews.co.in",
        "www.example.net/path",
        "t.co/abc",
        "#EV",
        "@user",
        "$TSLA",
        "a@b.com",
        "foo.bar",
        "x.com",
        "\n",
        "  ",
        ".",
        ",",
        "(",
        ")",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_PIECES, st.sampled_from(["", " ", "\n"])), max_size=40))
def test_weighted_length_agrees_with_the_pypi_port(pieces: list[tuple[str, str]]) -> None:
    """On texts mixing scripts, emoji and URLs, we count what twitter-text-parser counts."""
    parse_tweet = _port_parse()
    text = "".join(piece + sep for piece, sep in pieces)
    result = parse_tweet(text)
    assert x_weighted_length(text) == result.weightedLength
    assert x_is_valid(text) is result.valid
