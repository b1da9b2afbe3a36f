"""The shortcuts that make summarising fast give exactly what the plain way gives.

Each shortcut is checked against a straightforward reference written here: the plain
regex normalisation, and sentence selection that measures every joined text.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import unicodedata
from collections.abc import Callable

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.compose.draft import _Draft, _escaped_keeps_shape, _InContext, _keeps_shape
from bot.compose.facets import LINK_CLOSE, LINK_OPEN, TAG_CLOSE, TAG_OPEN, Span, strip_marks
from bot.compose.links import has_www
from bot.compose.profiles import BROKEN, ESCAPED_CHARS, PROFILES, escape_little
from bot.htmltext import BLANK_LINES, normalise_text
from bot.models import ChannelStyle
from bot.summarise import extractive, ranking, scoring
from bot.summarise.candidates import ends_complete
from bot.summarise.ranking import rank, whole_sentences
from bot.summarise.scoring import ScoreWeights
from bot.summarise.select import POOL, best_subset
from bot.textfit import grapheme_count

_INVISIBLE = regex.compile(r"(?V1)[[\p{Cc}\p{Cf}\p{Cs}\p{Co}\uFFFE\uFFFF]--[\n\t\u200c\u200d]]")
_SPACES = regex.compile(r"[^\S\n]{2,}|[^\S\n ]")


def reference_normalise(text: str) -> str:
    """normalise_text as first written: every regex run on every text."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    text = "\n".join(line.strip() for line in text.split("\n"))
    paragraphs = (p.strip() for p in BLANK_LINES.split(text))
    return "\n\n".join(p for p in paragraphs if p)


_PIECES = st.sampled_from(
    [
        " ", "  ", "\n", "\n\n", "\t", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
        "\xa0", "\u2009", "\u2028", "\u2029", "\u3000", "\u200b", "\u200c", "\u200d", "\u00ad",
        "\ufeff", "\ue000", "\ufffe", "\U000f0000", "\x00", "\x07", "e\u0301", "a", "Z", "9",
        ".", "टाटा", "க்ஷ", "తెలుగు", "👨‍👩‍👧", "日本", "\u0378",
    ]
)  # fmt: skip


@settings(max_examples=400)
@given(text=st.one_of(st.lists(_PIECES, max_size=30).map("".join), st.text(max_size=60)))
def test_normalise_text_equals_the_plain_regex_version(text: str) -> None:
    """Skipping the invisible-character scan on clean text and squeezing spaces per line
    change nothing: controls, format characters, NBSP and friends, ZWJ/ZWNJ, surrogates,
    private use and unassigned code points all come out as the regexes made them."""
    assert normalise_text(text) == reference_normalise(text)


def reference_whole_sentences(ranked: object, budget: int, measure: Callable[[str], int]) -> str:
    """Selection as first written: the knapsack, then every joined text measured."""
    weights = ScoreWeights()
    pool = ranked.top[:POOL]
    chosen = [pool[i] for i in best_subset(pool, ranked.conflicts, budget, measure)]

    def select(candidates: object, chosen: list) -> list:  # type: ignore[type-arg]
        chosen = sorted(chosen, key=lambda s: s.index)
        spent = measure(ranking.join(chosen)) if chosen else 0
        separator = measure(" ")
        for sentence in candidates:
            if spent + separator + measure(sentence.text) > budget:
                continue
            if any(ranking.overlap(sentence, c) > weights.redundancy for c in chosen):
                continue
            trial = sorted([*chosen, sentence], key=lambda s: s.index)
            length = measure(ranking.join(trial))
            if length <= budget:
                chosen, spent = trial, length
        return chosen

    chosen = select(ranked.top[POOL:], chosen)
    if measure(ranking.join(chosen)) > budget:
        chosen = select(ranked.top, [])
    return ranking.join(chosen)


@dataclasses.dataclass(frozen=True)
class _Entry:
    index: int
    text: str
    score: float


def reference_best_subset(
    pool: list[_Entry], conflicts: list[int], budget: int, measure: Callable[[str], int]
) -> list[int]:
    """The knapsack as first written: every state grown, the frontier sorted each time."""
    separator = measure(" ")
    frontier: list[tuple[int, float, int]] = [(0, 0.0, 0)]
    for position, candidate in enumerate(pool):
        cost = measure(candidate.text)
        if cost > budget:
            continue
        value = candidate.score * cost
        grown = [
            (spent + cost + (separator if mask else 0), worth + value, mask | 1 << position)
            for spent, worth, mask in frontier
            if not mask & conflicts[position]
            and spent + cost + (separator if mask else 0) <= budget
        ]
        states = sorted(frontier + grown, key=lambda state: (state[0], -state[1]))
        frontier = []
        for state in states:
            if not frontier or state[1] > frontier[-1][1]:
                frontier.append(state)
    best = max(frontier, key=lambda state: (state[1], -state[0]))
    return [i for i in range(len(pool)) if best[2] >> i & 1]


@settings(max_examples=3000)
@given(
    entries=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=70),
            st.sampled_from([0.0, 0.25, 0.3, 0.5, 0.7, 1.0, 1.0, 1.2, 1.5, 2.0, 1 / 3]),
        ),
        max_size=POOL,
    ),
    clash=st.integers(min_value=0, max_value=(1 << POOL) ** 2),
    budget=st.integers(min_value=-5, max_value=200),
    separator=st.sampled_from([0, 1, 1, 1, 2, 3]),
    negative=st.sampled_from([None, None, None, "cost", "score", "separator"]),
)
@example(  # equal worths and equal costs from different sets
    entries=[(10, 1.0), (5, 1.0), (4, 1.0), (10, 1.0), (20, 0.5), (9, 1.0)],
    clash=0,
    budget=20,
    separator=0,
    negative=None,
)
def test_pruned_knapsack_chooses_what_the_sorted_frontier_chooses(
    entries: list[tuple[int, float]],
    clash: int,
    budget: int,
    separator: int,
    negative: str | None,
) -> None:
    """Merging the frontier instead of sorting it, and dropping states that cannot catch
    up with the best, choose the very set the plain frontier knapsack chooses: ties in
    worth and in cost, zero costs and scores, clashes, and (taking the plain way) negative
    costs, scores or separators."""
    size = len(entries)
    conflicts = [(clash >> (i * size)) & ((1 << size) - 1) & ~(1 << i) for i in range(size)]
    costs = {f"s{i}": cost for i, (cost, _) in enumerate(entries)}
    costs[" "] = separator
    pool = [_Entry(i, f"s{i}", score) for i, (_, score) in enumerate(entries)]
    if negative == "cost" and pool:
        costs["s0"] = -3
    elif negative == "score" and pool:
        pool[-1] = _Entry(size - 1, pool[-1].text, -0.5)
    elif negative == "separator":
        costs[" "] = -1
    expected = reference_best_subset(pool, conflicts, budget, costs.__getitem__)
    assert best_subset(pool, conflicts, budget, costs.__getitem__) == expected


def framed(text: str) -> int:
    """In-context style: a frame adds two line breaks to any non-empty summary."""
    return len(text) + 2 if text.strip() else 0


def bluesky_like(text: str) -> int:
    """Not additive: the larger of graphemes and bytes / 4, rounded up."""
    return max(grapheme_count(text), math.ceil(len(text.encode()) / 4))


def wide_spaces(text: str) -> int:
    """Additive, but a join adds three: every space counts three."""
    return len(text) + 2 * text.count(" ")


def links_cliff(text: str) -> int:
    """Not additive either: beyond two links a text is 'broken' (Threads-style)."""
    return 10**9 if text.count("http") > 2 else len(text)


_ARTICLE = " ".join(
    [
        "Tata Motors cut the price of the Nexon EV by 12% on Monday.",
        "टाटा मोटर्स ने नेक्सॉन ईवी की कीमत घटाई।",
        "The company said battery costs fell; see https://ev.example/a for details.",
        "டாடா மோட்டார்ஸ் விலையை குறைத்தது.",
        "Dealers expect sales to rise in the festive season, http://x.example/b says.",
        "టాటా మోటార్స్ ధరను తగ్గించింది.",
        "Rivals are likely to follow with cuts of their own https://y.example/c.",
        "Analysts said the move puts pressure on MG and Hyundai.",
        "Charging networks grew 40% last year.",
        "Buyers waited for the cut.",
        "A second price cut is not planned.",
        "The Nexon EV sells about 5,000 units a month.",
        "Exports start next year.",
        *(
            f"Tata's EV dealer number {n} in city {n} reported {n * 7} bookings of the Nexon EV."
            for n in range(1, 25)
        ),
    ]
)


@pytest.mark.parametrize(
    "measure", [len, framed, wide_spaces, bluesky_like, links_cliff, grapheme_count]
)
def test_selection_without_measuring_joins_equals_measuring_every_join(
    measure: Callable[[str], int],
) -> None:
    """For additive counts, framed counts and counts that do not add up at all, the
    shortcut picks the very sentences the measure-everything selection picks."""
    ranked = rank(_ARTICLE, lang=None, title="Tata cuts Nexon EV price", weights=ScoreWeights())
    assert len(ranked.top) > 2 * POOL  # sentences beyond the knapsack's pool
    for budget in range(0, 900, 3):
        assert whole_sentences(ranked, budget, measure) == (
            reference_whole_sentences(ranked, budget, measure)
        ), budget


def test_emoji_quick_test_admits_every_code_point_an_emoji_can_start_with() -> None:
    """The cheap pre-check never hides an emoji: every code point that starts an emoji
    match (or completes a keycap) is one it lets through, over all of Unicode."""
    from bot.compose.xlength import _EMOJI, MAY_START_EMOJI

    missed = [
        hex(code)
        for code in range(0x110000)
        if not MAY_START_EMOJI.search(chr(code))
        and chr(code) not in "#*0123456789"  # keycaps: their U+20E3 is let through
        and (_EMOJI.match(chr(code)) or _EMOJI.match(chr(code) + "\ufe0f"))
    ]
    assert missed == []
    assert MAY_START_EMOJI.search("1\u20e3")


@settings(max_examples=300)
@given(text=st.one_of(st.lists(_PIECES, max_size=30).map("".join), st.text(max_size=60)))
def test_clean_block_shortcut_returns_what_the_full_cleaning_returns(text: str) -> None:
    """A text the quick test calls clean is exactly what the full cleaning makes of it."""
    from bot.compose import template

    if template.is_clean_line(text):
        saved = template.is_clean_line
        template.is_clean_line = lambda _text: False  # type: ignore[assignment]
        try:
            assert template.clean_block(text) == text
        finally:
            template.is_clean_line = saved


def test_clean_block_shortcut_is_taken_for_plain_sentences() -> None:
    """Ordinary sentences in any of our scripts take the shortcut; markup does not."""
    from bot.compose.template import is_clean_line

    for text in ("Tata cut prices.", "टाटा ने कीमत घटाई।", "டாடா விலை.", "టాటా ధర."):
        assert is_clean_line(text)
    for text in ("a &amp; b", "<b>x</b>", "a  b", " a", "a\nb", "e\u0301"):
        assert not is_clean_line(text)


@settings(max_examples=300)
@given(
    sentences=st.lists(
        st.sampled_from(["Prices fell.", "Sales rose", "टाटा ने कीमत घटाई।", "🚗 EVs!", "x"]),
        min_size=1,
        max_size=12,
    ),
    budget=st.integers(min_value=0, max_value=120),
    measure=st.sampled_from([len, framed, wide_spaces, bluesky_like, grapheme_count]),
)
def test_leading_fit_bisection_equals_trying_every_run(
    sentences: list[str], budget: int, measure: Callable[[str], int]
) -> None:
    """The longest leading run of complete sentences that fits, found by bisection, is the
    one found by trying each run in turn (the measures only grow as text is appended)."""
    whole = " ".join(sentences)
    expected = whole if measure(whole) <= budget else ""
    if not expected:
        for end in range(1, len(sentences) + 1):
            candidate = " ".join(sentences[:end])
            if measure(candidate) > budget or not ends_complete(sentences[end - 1]):
                break
            expected = candidate
    assert extractive._leading_fit(sentences, budget, measure) == expected


def _draft(
    platform: str,
    *,
    template: str | None = None,
    title: str = "Tata cuts prices",
    tags: tuple[str, ...] = (),
) -> _Draft:
    """A draft post for ``platform`` with the article link, as compose builds one."""
    profile = PROFILES[platform]
    return _Draft(
        profile=profile,
        template=template or profile.default_template,
        limit=profile.limit,
        title=title,
        link=profile.format_link("https://evnews.example/a", ChannelStyle(platform=platform)),
        tags=tags,
        author="",
        feed="",
        lang="en",
    )


_SIMPLE_PIECES = st.sampled_from(
    [
        " ", "  ", "a", "Z", "9", ".", ". ", ".x", "e.g.", "U.S.", "://", "http://x.org/a",
        "www.", "WWW.5", "example.com", "&", "<", ">", "<b>", "#", "@", "*", "_", "~", "|",
        "\\", "{", "}", "[", "]", "(", ")", "Prices fell 12%.", "!", "?", "'", '"', "-",
        "’", "“", "”", "—", "–", "…", "é", "e\u0301", "ß", "日本", "。", "©", "™", "→", "🚗",
        "\U0001d400", "टाटा", "கார்", "ధర", ".рф", "рф", "\u00a0", "\u200b", "‼",
    ]
)  # fmt: skip


# No deadline: the first example may pay for compiling the URL pattern (once per process).
@settings(max_examples=800, deadline=None)
@example(text="see example.com now", platform="x", cap=None, tags=())
@example(text="see example.com now", platform="threads", cap=None, tags=())
@example(text="WWW.5 and more", platform="instagram", cap=None, tags=())
@example(text="R&D costs", platform="slack", cap=None, tags=())
@example(text="ask @tata now", platform="linkedin", cap=None, tags=())
@example(text="a > b", platform="telegram", cap=None, tags=())
@example(text="Café prices fell", platform="telegram", cap=None, tags=("EV",))
@example(text="Prices fell 12% in June.", platform="mastodon", cap=10, tags=("EV",))
@example(text="日本 prices fell… “really” — café", platform="x", cap=None, tags=())
@example(text="日本 prices fell… “really” — café", platform="bluesky", cap=None, tags=())
@example(text="日本 prices fell… “really” — café", platform="threads", cap=None, tags=())
@given(
    text=st.lists(_SIMPLE_PIECES, max_size=20).map(" ".join),
    platform=st.sampled_from(sorted(PROFILES)),
    cap=st.sampled_from([None, 40]),
    tags=st.sampled_from([(), ("EV",)]),
)
def test_simple_text_shortcut_costs_what_cleaning_and_counting_cost(
    text: str, platform: str, cap: int | None, tags: tuple[str, ...]
) -> None:
    """A simple candidate (clean, no URL, emoji, astral or joining character, none of the
    characters the platform escapes) is costed from its length, bytes or X weight: the
    same number cleaning, escaping and counting the framed post gives, on every platform
    (and the shortcut is not taken where it would not be)."""
    draft = _draft(platform, tags=tags)
    fixed = draft.measure("")
    fast = _InContext(draft, fixed, cap)
    slow = _InContext(draft, fixed, cap)
    slow.__dict__["_simple_cost"] = None  # the shortcut switched off
    assert fast(text) == slow(text)


def test_simple_text_shortcut_is_taken_for_plain_english_on_most_platforms() -> None:
    """The shortcut is there to be compared: an ordinary English sentence, typographic
    quotes and all, takes it on every platform, Telegram (whose count parses HTML) too."""
    from bot.compose.simple import simple_text

    assert simple_text("Tata’s “new” EV costs less—by 12%…") is not None
    taking = set()
    for platform in PROFILES:
        draft = _draft(platform)
        if _InContext(draft, draft.measure(""), None)._simple_cost is not None:
            taking.add(platform)
    assert taking == set(PROFILES)


@settings(max_examples=800)
@example(text="a  b", escape="escape_little")
@example(text=" (a)", escape="escape_html")
@example(text="a\u00a0", escape="escape_mrkdwn")
@given(
    text=st.lists(_SIMPLE_PIECES | _PIECES, max_size=12).map("".join),
    escape=st.sampled_from(sorted(f.__name__ for f in ESCAPED_CHARS)),
)
def test_shape_of_escaped_text_is_the_shape_of_the_text(text: str, escape: str) -> None:
    """Each known escape leaves a text's shape (printable, one line, nothing to trim, no
    double space) as it was: the answer for the unescaped text, shared by all
    platforms, is the answer for the escaped one."""
    function = next(f for f in ESCAPED_CHARS if f.__name__ == escape)
    escaped = function(text)
    assert _escaped_keeps_shape(function, text, escaped) == _keeps_shape(escaped)


@settings(max_examples=400)
@given(
    texts=st.lists(st.lists(_SIMPLE_PIECES, max_size=12).map(" ".join), min_size=1, max_size=4),
    platform=st.sampled_from(sorted(PROFILES)),
    cap=st.sampled_from([None, 40]),
    tags=st.sampled_from([(), ("EV",)]),
)
def test_remembered_answer_is_the_post_length(
    texts: list[str], platform: str, cap: int | None, tags: tuple[str, ...]
) -> None:
    """A summary measured in context answers again from memory with what measuring it
    afresh gives, and the length compose reports for the one-part post without counting
    it again is the platform's count of the rendered post."""
    draft = _draft(platform, tags=tags)
    fixed = draft.measure("")
    remembering = _InContext(draft, fixed, cap)
    answers = [remembering(text) for text in texts]
    assert [remembering(text) for text in texts] == answers
    assert answers == [_InContext(draft, fixed, cap)(text) for text in texts]
    for text in texts:
        summary = draft.plain(text)
        known = remembering.post_length(summary)
        if known is not None and known < BROKEN:
            rendered = draft._render(draft.profile.escape(summary))[0]
            assert known == draft.profile.measure(rendered)
        if cap is None and summary == text:
            assert known is not None  # the remembered length is there to be used


def reference_strip_marks(text: str) -> tuple[str, list[Span]]:
    """strip_marks as first written: one character at a time."""
    out: list[str] = []
    spans: list[Span] = []
    opened: tuple[str, int] | None = None
    for char in text:
        if char in (LINK_OPEN, TAG_OPEN):
            opened = ("link" if char == LINK_OPEN else "tag", len(out))
        elif char in (LINK_CLOSE, TAG_CLOSE):
            if opened is not None and len(out) > opened[1]:
                spans.append(Span(opened[0], opened[1], len(out)))  # type: ignore[arg-type]
            opened = None
        else:
            out.append(char)
    return "".join(out), spans


@settings(max_examples=800)
@given(
    text=st.lists(
        st.sampled_from([LINK_OPEN, LINK_CLOSE, TAG_OPEN, TAG_CLOSE, "a", "#t", " ", "\n", "日本"]),
        max_size=20,
    ).map("".join)
)
def test_strip_marks_between_markers_equals_reading_each_character(text: str) -> None:
    """Taking the text between markers whole gives the text and spans reading it one
    character at a time gives, for nested, unclosed and empty marks too."""
    assert strip_marks(text) == reference_strip_marks(text)


@settings(max_examples=600)
@example(text="Prices fell.", platform="bluesky", tags=("EV", "Tata"), template=None)
@example(text="R&D <b>", platform="telegram", tags=("EV",), template="{summary}\n\n{url}")
@given(
    text=st.lists(_SIMPLE_PIECES | _PIECES, max_size=12).map("".join),
    platform=st.sampled_from(sorted(PROFILES)),
    tags=st.sampled_from([(), ("EV",), ("EV", "Tata")]),
    template=st.sampled_from(
        [None, "{url} {hashtags}\n\n{summary}", "{title} {summary} {url} {hashtags}", "{summary}"]
    ),
)
def test_post_rendered_in_its_frame_equals_rendering_the_template(
    text: str, platform: str, tags: tuple[str, ...], template: str | None
) -> None:
    """The post built from the frame around the summary, its facet spans moved past the
    summary, is the text and spans rendering the template gives."""
    draft = _draft(platform, template=template, tags=tags)
    summary = draft.plain(text)
    assert draft.render(summary) == draft._render(draft.profile.escape(summary))
    if draft._frame is not None and text == "Prices fell.":
        assert draft.render(summary)[1] or not draft.profile.facets  # spans to compare


_LITTLE_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")


@settings(max_examples=800)
@example(text="\\#a\\\\|{}@[]()<>*_~")
@given(text=st.lists(_SIMPLE_PIECES | _PIECES, max_size=15).map("".join) | st.text(max_size=40))
def test_little_text_escape_by_replacing_equals_the_regex(text: str) -> None:
    """Escaping LinkedIn's reserved characters one str.replace at a time, the backslash
    first, gives what one regex over every character gives."""
    assert escape_little(text) == _LITTLE_RESERVED.sub(r"\\\1", text)


def test_only_w_and_dot_lower_case_to_a_w_or_a_dot() -> None:
    """has_www's premise, over every code point: no other character lower-cases to
    something holding "w" or "."."""
    others = [
        code
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF
        and chr(code) not in "wW."
        and ("w" in chr(code).lower() or "." in chr(code).lower())
    ]
    assert others == []


@settings(max_examples=800)
@example(text="see WwW.example")
@example(text="know. www5")
@given(
    text=st.lists(
        st.sampled_from(["w", "W", ".", "ww.", "WWW", "İ", "ẞ", " ", "a", "www.", "\u212a"]),
        max_size=12,
    ).map("".join)
)
def test_has_www_equals_lower_casing_the_text(text: str) -> None:
    """Looking for "ww." before the pattern finds "www." exactly where lower-casing the
    whole text would."""
    assert has_www(text) == ("www." in text.lower())


@settings(max_examples=600)
@example(summary="a > b", template="{title} <i\n{summary}\n>{url}", title="x")
@example(summary="R&amp;D", template="{url}\n\n{summary}\n\n{title}", title="a < b & c")
@given(
    summary=st.lists(
        st.sampled_from(["a", " ", "<", ">", "&", "&amp;", "&lt", "<b>", "#", "日本", "🚗", "é"]),
        max_size=15,
    ).map("".join),
    template=st.sampled_from(
        [
            None,
            "{url}\n\n{summary}\n\n{title}",
            "<b>{title}</b>\n{summary}\n{url}",
            "{title} <i\n{summary}\n>{url}",
            "{title} <i>\n{summary}\n{url}",
        ]
    ),
    title=st.sampled_from(["Tata cuts prices", "a < b & c", "<b>x</b>"]),
)
def test_telegram_summary_line_counted_alone_equals_counting_the_post(
    summary: str, template: str | None, title: str
) -> None:
    """Telegram's count (tags removed, entities read) adds up over the summary's line
    where the frame lets it, link tags before or after the summary, and the frame is
    refused where a tag opened before the summary could close after it."""
    draft = _draft("telegram", template=template, title=title, tags=("EV",))
    profile = draft.profile
    rendered = draft._render(profile.escape(summary))[0]
    assert draft.measure(summary) == profile.fit_measure(rendered)
    assert draft.measure("") == profile.fit_measure(draft._render("")[0])
    fixed = draft.measure("")
    plain = draft.plain(summary)  # the in-context measure counts the text made plain
    if plain:
        posted = profile.fit_measure(draft._render(profile.escape(plain))[0])
        assert _InContext(draft, fixed, None)(summary) == posted - fixed
    if template in (None, "{url}\n\n{summary}\n\n{title}"):
        assert draft._line_frame is not None  # the shortcut is there to be compared
    if template == "{title} <i\n{summary}\n>{url}":
        assert draft._line_frame is None


_MARKUP = st.sampled_from(
    [
        "<p>", "</p>", "<P CLASS='x'>", "<div>", "</div>", "<div class=\"caption\">", "<br>",
        "<br/>", "<br />", "<hr/>", "<hr>", "<a href=x>", "<a href=\"/a?b=1&amp;c=2\">", "</a >",
        "<a title=\"x>y\">", "<p class=a/>", "<figcaption>", "</figcaption>", "<nav>", "</nav>",
        "<b class=\"wp-caption-text\">", "<span class='caption x'>", "</span>", "</b>",
        "<img src=\"a.jpg\" alt=\"x\"/>", "<!-- c -->", "<!-- a -- b -->", "<!---->", "<!-->",
        "<![CDATA[x]]>", "<!DOCTYPE html>", "<?php ?>", "<script>", "</script>", "<style>",
        "&amp;", "&lt;", "&nbsp;", "&nbsp", "&#x41;", "&#65", "&", "<", ">", "< p>", "<p",
        "</", "</p", "<a href='x' disabled>", "<a b=\"1\" b=\"2\">", "<p\nclass=\"caption\">",
        "text", " ", "\n", "é", "टाटा", "\"", "'", "=", "/", "<span CLASS=\"caption\">",
        "<b class=caption class=x>", "<b class=x CLASS='caption'>", "<i class>", "<i clas=nav>",
    ]
)  # fmt: skip


def _parser_text(html: str) -> str:
    from bot.htmltext import _TextCollector

    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


@settings(max_examples=1000)
@given(html=st.lists(_MARKUP, max_size=25).map("".join))
def test_simple_markup_reader_gives_what_htmlparser_gives(html: str) -> None:
    """On tag soup, the quick reader either declines (HTMLParser then reads it) or yields
    exactly the text HTMLParser's events give: blocks, line breaks, skipped captions and
    navigation, entities, comments, self-closing tags."""
    from bot.htmltext import _TextCollector, _tokenise_simple

    collector = _TextCollector()
    if _tokenise_simple(html, collector):
        assert "".join(collector.parts) == _parser_text(html)


def test_simple_markup_reader_reads_ordinary_feed_html() -> None:
    """The quick reader takes ordinary article markup (so it is what runs), and declines
    scripts, CDATA and broken tags."""
    from bot.htmltext import _TextCollector, _tokenise_simple

    ordinary = (
        '<p>Tata <a href="https://x.example/?a=1&amp;b=2">cut</a> prices&nbsp;by 12%.</p>'
        '<figure><img src="a.jpg" alt="car"/><figcaption>Photo: Tata</figcaption></figure>'
        "<ul><li>One</li><li>Two<br/>lines</li></ul><!-- more --><p>टाटा ने कीमत घटाई।</p>"
    )
    collector = _TextCollector()
    assert _tokenise_simple(ordinary, collector)
    assert "".join(collector.parts) == _parser_text(ordinary)
    for odd in ("<script>x</script>", "<![CDATA[x]]>", "a <p b", "<p class='x>"):
        assert not _tokenise_simple(odd, _TextCollector())


@settings(max_examples=400)
@given(
    platform=st.sampled_from(sorted(PROFILES)),
    template=st.sampled_from(
        [
            None,
            "{title}\n{summary}\n{url}",
            "{title}\n\n\n{summary}\n{url} {hashtags}",
            "{title}\n\n{summary}\n\n{hashtags}\n\n{url}",
            "{summary}\n\n{url}",
            "{title} {summary} {url}",
            "{title}\n\n{summary}",
            "  {title}  \n\n {summary} \n\n{url}\t{hashtags}",
            "{url}\n\n{summary}\n\n{title}",
            "<b>{title}</b>\n{summary}\n{url}",
            "{title} <i\n{summary}\n>{url}",
        ]
    ),
    title=st.sampled_from(["Tata cuts prices", "", "टाटा 🚗 https://x.example/t", "a  b"]),
    tags=st.sampled_from([(), ("EV",), ("EV", "Tata", "India", "Auto", "Cars", "News")]),
)
def test_bare_length_from_the_counted_frame_equals_rendering_without_a_summary(
    platform: str, template: str | None, title: str, tags: tuple[str, ...]
) -> None:
    """The post without a summary, counted from the frame already counted for fitting,
    is what rendering it and counting it gives, whatever the template's line breaks."""
    profile = PROFILES[platform]
    draft = _draft(platform, template=template, title=title, tags=tags)
    rendered = draft._render(profile.escape(""))[0]
    assert draft.measure("") == profile.fit_measure(rendered)


@settings(max_examples=600)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "Prices fell",
                ".",
                "!",
                "?",
                "।",
                "…",
                " ",
                "\n",
                "Continue reading",
                "read more",
                "Read the full story",
                "permalink",
                "आगे पढ़ें",
                "மேலும் படிக்க",
                "మరింత చదవండి",
                "→",
                "»",
                "already",
                "a",
                "[…]",
                "(",
                ")",
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_read_more_tail_searched_near_the_end_only_finds_what_a_whole_search_finds(
    text: str,
) -> None:
    """Searching only after the second-last sentence mark drops exactly the tail a
    search of the whole text drops."""
    from bot.summarise.text import _READ_MORE_TAIL, _without_read_more

    assert _without_read_more(text) == _READ_MORE_TAIL.sub("", text)


def reference_split(text: str, lang: str | None = None) -> list[str]:
    """split_sentences as first written: the whole rest of the paragraph read at each mark."""
    from bot.summarise import sentences as m

    titles = m._INDIC_TITLES.get((lang or "").split("-")[0].lower(), m._ALL_INDIC_TITLES)

    def abbreviation(before: str, next_char: str) -> bool:
        if not before or before[-1].isspace():
            return False
        words = before.split()
        token = m._LEADING_PUNCT.sub("", words[-1])
        bare = token.replace(".", "").lower()
        last_part = token.split(".")[-1]
        return bool(bare) and (
            bare in m._TITLES
            or bare in m._INFIX
            or (bare in m._BEFORE_NUMBER and next_char.isdigit())
            or bool(m._ACRONYM.match(token + "."))
            or (len(words) == 1 and token.isdigit() and len(token) <= 2)
            or token in titles
            or (bool(m._INDIC.match(last_part)) and grapheme_count(last_part) <= 2)
        )

    def boundary(paragraph: str, match: regex.Match[str]) -> bool:
        mark = match.group().rstrip("\"'”’»›)]}")
        after = paragraph[match.end() :]
        if mark[0] in "।॥。！？" or not after.strip():
            return True
        if not after[0].isspace():
            return False
        first = m._LEADING_PUNCT.sub("", after.lstrip())[:1]
        if first.islower() or mark.startswith("...") or mark == "…":
            return False
        return mark != "." or not abbreviation(paragraph[: match.start()], first)

    out: list[str] = []
    for raw in m._PARAGRAPHS.split(text):
        paragraph, start = " ".join(raw.split()), 0
        for match in m._TERMINATOR.finditer(paragraph):
            if boundary(paragraph, match):
                if sentence := paragraph[start : match.end()].strip():
                    out.append(sentence)
                start = match.end()
        if rest := paragraph[start:].strip():
            out.append(rest)
    return out


@settings(max_examples=800)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "Dr.",
                "Mr. Rao",
                "U.S.",
                "e.g.",
                "No. 5",
                "Rs. 500",
                "1.",
                "12.",
                "J.",
                "3.5",
                ".",
                "!",
                "?",
                "...",
                "…",
                "।",
                "॥",
                "。",
                " ",
                "  ",
                "\n",
                "\n\n",
                "\t",
                "a",
                "The",
                "said",
                '"',
                "“",
                "”",
                "(",
                "((((((((((((((((((",
                "[",
                "'",
                "डॉ.",
                "மு.க.",
                "క.",
                "example.com/x.html",
                "Why?”",
                "he",
                "It",
                "Yahoo!Inc",
            ]
        ),
        max_size=40,
    ).map("".join),
    lang=st.sampled_from([None, "en", "hi", "ta", "te"]),
)
@example(
    text="It rose. (he said so) Then. [it fell] Now. «Non» Yes. ‹a› No. {b} Mr. 'x'", lang=None
)
@example(text="Rao met (Dr. Rao) and “U.S. officials” at ‘J. Doe’s’ place.", lang="en")
def test_sentence_split_reading_near_each_mark_equals_reading_the_rest(
    text: str, lang: str | None
) -> None:
    """Reading a few characters each side of a mark splits exactly where reading the
    whole rest of the paragraph did: abbreviations, initials, list markers, quotes,
    long runs of brackets, ellipses and Indian-script marks."""
    from bot.summarise.sentences import split_sentences

    assert split_sentences(text, lang) == reference_split(text, lang)


@settings(max_examples=500)
@given(
    text=st.lists(
        st.sampled_from(
            [
                " ",
                "  ",
                "\n",
                "\n\n",
                "\t",
                "word",
                "Word.",
                "[…]",
                "[...]",
                "…",
                "...",
                "(…)",
                "Continue reading",
                "The post X appeared first on Y.",
                "Read more",
                "Photo: AP",
                "\u00a0",
                "\u200b",
                "टाटा।",
                " → ",
                "Also read: x",
                "[Photo credit]",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_an_excerpt_cut_at_its_end_is_still_normalised(text: str) -> None:
    """What split_truncation leaves of normalised text needs no second normalising: its
    paragraphs clean to the same either way."""
    from bot.summarise.text import clean_paragraphs, split_truncation

    raw, _ = split_truncation(normalise_text(text))
    assert clean_paragraphs(raw, normalised=True) == clean_paragraphs(raw)


@settings(max_examples=1000)
@given(
    text=st.lists(
        st.sampled_from(
            [".", "!", "?", "…", "।", "॥", "。", "！", "？", '"', "'", "”", "’", "»", "›", ")",
             "]", "(", "[", "“", "a", "टाटा", " ", "\n", "\r", ",", "...", "x.y"]
        ),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_complete_sentence_test_from_the_end_equals_the_regex_search(text: str) -> None:
    """Reading a sentence from its end for a full stop and closing quotes tells complete
    sentences exactly as searching it with the pattern does (line breaks included)."""
    from bot.summarise.candidates import _COMPLETE, ends_complete

    assert ends_complete(text) == bool(_COMPLETE.search(text))


@settings(max_examples=500)
@given(
    text=st.lists(
        st.sampled_from(
            ["the", "The", "logs", "log", "Stories", "bus", "class", "ies", "xies", "a", "I",
             "é", "नेक्सॉन", "की", "EVs", "ŉ", "ǅ", "İs", " ", ", ", "12", "ß"]
        ),
        max_size=15,
    ).map(" ".join),
    lang=st.sampled_from(["en", "hi", "ta", "xx"]),
)  # fmt: skip
def test_content_words_from_the_learnt_table_equal_filtering_each_word(
    text: str, lang: str
) -> None:
    """Words looked up in the table of learnt forms (also after it is emptied) come out
    as filtering stop words and folding plurals word by word gives them."""
    from bot.summarise.stopwords import ALL_STOPWORDS, STOPWORDS

    stopwords = STOPWORDS.get(lang, ALL_STOPWORDS)
    words = scoring.WORD.findall(text.casefold())
    expected = [
        scoring.singular(w) for w in words if w not in stopwords and (len(w) > 1 or not w.isascii())
    ]
    assert scoring.content_words(text, stopwords) == expected
    assert scoring.content_words(text, stopwords) == expected  # from the table
    scoring.CONTENT_FORMS.cache_clear()
    assert scoring.content_words(text, stopwords) == expected


@settings(max_examples=1000)
@given(
    text=st.lists(
        st.sampled_from(
            ["The", "a", "I", "12", "x1", "U.S.", "—", "“Yes", "said,", "(AP)", "...", "_", "é",
             "टाटा", "கார்", "e\u0301", "ǅ", "Ⅻ", "²", " ", "  ", "\n", "\t", "\u00a0", "-"]
        ),
        max_size=8,
    ).map("".join)
)  # fmt: skip
def test_three_plain_opening_words_are_three_lettered_words(text: str) -> None:
    """A sentence the quick test says opens on three plain words has three words with a
    letter in them, as the word-by-word regex scan says."""
    from bot.summarise.candidates import _has_lettered_words, _opens_on_three_words

    if _opens_on_three_words(text):
        assert _has_lettered_words(text, 3)


def test_boilerplate_heads_hold_every_two_ascii_characters_a_furniture_line_opens_on() -> None:
    """Every pair of ASCII letters or digits that can open a line ``_BOILERPLATE_LINE``
    matches (asked of the pattern itself, by partial matching) is one the quick test lets
    through to it; the others never match."""
    import string

    from bot.summarise.text import _BOILERPLATE_HEADS, _BOILERPLATE_LINE

    characters = string.ascii_letters + string.digits
    for first in characters:
        for second in characters:
            head = first + second
            if _BOILERPLATE_LINE.match(head, partial=True):
                assert head.lower() in _BOILERPLATE_HEADS, head


@settings(max_examples=500)
@given(
    line=st.lists(
        st.sampled_from(
            ["The post X appeared first on Y.", "Also read: x", "Photo: AP", "Read more",
             "ſubscribe", "Share this", "Credit: x", "the", "THIS", "Th", "e", "x", " ", "\n",
             ">", "→ ",
             "आगे पढ़ें", "İmage: x", "Click here", "Follow us on X", "Source: x", "12"]
        ),
        max_size=5,
    ).map("".join)
)  # fmt: skip
def test_boilerplate_quick_test_tells_lines_as_the_pattern_does(line: str) -> None:
    """Lines of feed furniture and lines merely starting like them are told apart as the
    pattern alone tells them."""
    from bot.summarise.text import _BOILERPLATE_LINE, is_boilerplate

    assert is_boilerplate(line) == bool(_BOILERPLATE_LINE.match(line.strip()))


@settings(max_examples=500)
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_words_found_with_re_are_the_regex_words(text: str) -> None:
    """In ASCII text the standard ``re`` pattern finds the words ``_WORD`` finds."""
    assert scoring.ASCII_WORD.findall(text) == scoring.WORD.findall(text)


def test_ascii_shortcuts_premise_no_ascii_character_is_special() -> None:
    """The ASCII shortcuts (may_join, emoji_spans, simple_text, is_clean_line's NFC check,
    X's NFC step) skip a scan for ASCII text: no ASCII character could start an emoji,
    is astral, lies outside the plain blocks, or changes under NFC."""
    from bot.compose.simple import _ASTRAL
    from bot.compose.xlength import MAY_START_EMOJI
    from bot.textfit import _OUTSIDE_PLAIN_BLOCKS

    ascii_text = "".join(map(chr, range(128)))
    assert not MAY_START_EMOJI.search(ascii_text)
    assert not _ASTRAL.search(ascii_text)
    assert not _OUTSIDE_PLAIN_BLOCKS.search(ascii_text)
    assert all(unicodedata.is_normalized("NFC", char) for char in ascii_text)
