"""The shortcuts that make compose fast measure exactly what the slow way measured."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from bot.compose.draft import _Draft
from bot.compose.profiles import PROFILES
from bot.compose.xlength import (
    UrlEntity,
    _char_weight,
    _segment_weight,
    _window_urls,
    extract_urls,
)
from bot.models import ChannelStyle
from bot.textfit import grapheme_count

_PIECES = st.sampled_from(
    [
        " ", "\n", "\t", "\r\n", ".", ",", "(", ")", "/", "-", "_", "@", "#", "a", "Z", "9",
        "example.com", "https://", "http://x.org/a?b=1", "t.co/abc", "www.", "xn--p1ai", ".in",
        ".рф", "рф", "e\u0301", "क्ष", "क्\u200dष", "ᄀ", "ᅡ", "가", "🇮🇳", "👨‍👩‍👧", "1️⃣",
        "\u200d", "\u0308", "“", "”", "…", "—", "\u00a0", "\u3000", "日本", "。", "\u202e",
    ]
)  # fmt: skip
_TEXTS = st.one_of(st.lists(_PIECES, max_size=40).map("".join), st.text(max_size=80))


@given(text=_TEXTS)
def test_grapheme_count_equals_splitting_into_graphemes(text: str) -> None:
    """The no-joining-character shortcut counts what splitting by \\X counts."""
    assert grapheme_count(text) == len(regex.findall(r"\X", text))


def _whole_text_urls(text: str) -> list[UrlEntity]:
    """The URL pattern over all of ``text``, nothing remembered."""
    return [UrlEntity(*found) for found in _window_urls.__wrapped__(text, 0)]


@given(text=_TEXTS)
def test_url_windows_find_what_the_whole_text_scan_finds(text: str) -> None:
    """Scanning only around "." + letter finds the same URLs as scanning everything."""
    assert extract_urls(text) == _whole_text_urls(text)


@given(text=_TEXTS, before=st.lists(_PIECES, min_size=1, max_size=4).map("".join))
def test_remembered_url_windows_find_what_scanning_finds_in_any_text(
    text: str, before: str
) -> None:
    """A window's URLs remembered from one text are those scanning finds in another
    text holding the same window after other characters (the link line of every
    platform's post)."""
    assert extract_urls(text) == _whole_text_urls(text)
    assert extract_urls(before + text) == _whole_text_urls(before + text)
    assert extract_urls(before + " " + text) == _whole_text_urls(before + " " + text)


@given(text=_TEXTS)
def test_segment_weight_is_the_sum_of_character_weights(text: str) -> None:
    """X's per-character weights, summed without a Python loop."""
    assert _segment_weight(text) == sum(_char_weight(c) for c in text)


_SUMMARIES = st.one_of(
    _TEXTS,
    st.lists(
        st.sampled_from(["Battery", "prices", "fell", "12%", "<b>", "&", "*x*"]), max_size=30
    ).map(" ".join),
)


@given(summary=_SUMMARIES, platform=st.sampled_from(sorted(PROFILES)))
def test_in_context_measure_equals_rendering_the_post(summary: str, platform: str) -> None:
    """Measuring a summary in its frame gives the length of the post rendered with it."""
    profile = PROFILES[platform]
    draft = _Draft(
        profile=profile,
        template=profile.default_template,
        limit=profile.limit,
        title="Tata cuts Nexon EV prices",
        link=profile.format_link("https://evnews.example/a", ChannelStyle(platform=platform)),
        tags=("EV", "Tata"),
        author="Asha",
        feed="ev",
        lang="en",
    )
    assert draft._frame is not None  # the shortcut is there to be compared
    rendered = draft._render(profile.escape(summary))[0]  # rendering, no shortcut
    assert draft.measure(summary) == profile.fit_measure(rendered)


_LINE_PLATFORMS = ["x", "mastodon", "bluesky", "threads", "discord", "linkedin", "telegram"]


@given(summary=_SUMMARIES, platform=st.sampled_from(_LINE_PLATFORMS))
def test_line_break_shortcut_measures_what_rendering_measures(summary: str, platform: str) -> None:
    """Where the summary has a line of its own and the counts add up over line breaks
    (Bluesky's two limits, Threads' link cap too), the frame is counted once and only the
    summary's line per candidate: the same number as measuring the rendered post."""
    profile = PROFILES[platform]
    style = ChannelStyle(platform=platform)
    draft = _Draft(
        profile=profile,
        template=profile.default_template,
        limit=profile.limit,
        title="Tata cuts https://evnews.example prices 🇮🇳",
        link=profile.format_link("https://evnews.example/a", style),
        tags=("EV",),
        author="",
        feed="",
        lang="en",
    )
    assert draft._line_frame is not None  # the shortcut is taken for these platforms
    assert draft.measure(summary) == profile.fit_measure(draft._render(profile.escape(summary))[0])


def test_line_break_shortcut_keeps_blueskys_byte_limit() -> None:
    """Bluesky's count is the larger of graphemes and bytes / 10: a line of letters with ten
    accents each (21 bytes, one grapheme) is bound by bytes, in the shortcut as in the post."""
    profile = PROFILES["bluesky"]
    style = ChannelStyle(platform="bluesky")
    draft = _Draft(
        profile=profile,
        template=profile.default_template,
        limit=profile.limit,
        title="Family time",
        link=profile.format_link("https://evnews.example/a", style),
        tags=("EV",),
        author="",
        feed="",
        lang="en",
    )
    summary = ("a" + "\u0301" * 10) * 60
    rendered = draft._render(profile.escape(summary))[0]
    assert len(rendered.encode()) // 10 > grapheme_count(rendered)  # bytes decide here
    assert draft.measure(summary) == profile.fit_measure(rendered)
