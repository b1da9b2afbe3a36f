"""Cutting text to a budget: never inside a word, a URL or a grapheme."""

from hypothesis import given
from hypothesis import strategies as st

from bot.textfit import ELLIPSIS, fit_text, grapheme_count


def test_text_that_fits_is_returned_unchanged() -> None:
    """Text within budget comes back as is (trimmed)."""
    assert fit_text("  Battery prices fell.  ", 50) == "Battery prices fell."


def test_cut_happens_at_a_word_boundary_with_ellipsis() -> None:
    """An over-long sentence is cut after a whole word and ends with an ellipsis."""
    out = fit_text("Battery prices fell sharply this quarter", 22)
    assert out == "Battery prices fell…"
    assert len(out) <= 22


def test_trailing_punctuation_is_dropped_before_the_ellipsis() -> None:
    """'word,…' reads badly: the comma goes before the ellipsis is added."""
    assert fit_text("Prices, costs, and range all improved", 15) == "Prices, costs…"


def test_url_is_kept_whole_or_dropped() -> None:
    """A URL is never cut: it is either entirely present or absent."""
    text = "Read more at https://example.com/a/very/long/path/to/article today"
    for budget in range(5, len(text)):
        out = fit_text(text, budget)
        assert "https://" not in out or "https://example.com/a/very/long/path/to/article" in out


def test_hindi_is_cut_between_words_not_inside_conjuncts() -> None:
    """Devanagari is cut at spaces, never splitting a grapheme cluster."""
    text = "इलेक्ट्रिक वाहनों की बिक्री में तेज़ी से वृद्धि हुई है"
    out = fit_text(text, 20)
    assert out.endswith(ELLIPSIS)
    assert text.startswith(out[: -len(ELLIPSIS)])
    assert out[: -len(ELLIPSIS)].split() == text.split()[: len(out[: -len(ELLIPSIS)].split())]


def test_cjk_may_be_cut_between_graphemes() -> None:
    """Unspaced scripts are cut between characters instead of dropping everything."""
    out = fit_text("电动汽车销量大幅增长了百分之三十", 8)
    assert out == "电动汽车销量大…"


def test_nothing_fits_gives_empty_string() -> None:
    """When not even one word and the ellipsis fit, the result is empty."""
    assert fit_text("Supercalifragilistic", 5) == ""


def test_custom_measure_is_respected() -> None:
    """The platform's own measure decides (here: UTF-8 bytes)."""

    def utf8(s: str) -> int:
        return len(s.encode())

    out = fit_text("தமிழ் மின்சார வாகனங்கள் விற்பனை அதிகரிப்பு", 40, utf8)
    assert len(out.encode()) <= 40
    assert out.endswith(ELLIPSIS)


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_result_always_fits_and_is_a_prefix(text: str, budget: int) -> None:
    """For any Unicode input the result fits the budget and is a word-prefix of the input."""
    out = fit_text(text, budget, grapheme_count)
    assert grapheme_count(out) <= budget
    body = out[: -len(ELLIPSIS)] if out.endswith(ELLIPSIS) and out != text.strip() else out
    assert text.strip().startswith(body.rstrip())
