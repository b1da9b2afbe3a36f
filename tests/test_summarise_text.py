"""Feed HTML to clean text, boilerplate removal, and sentence splitting in en/hi/ta/te."""

import pytest

from bot.summarise import clean_paragraphs, html_to_text, split_sentences
from bot.summarise.text import split_truncation

# --- html_to_text -------------------------------------------------------------------------


def test_tags_are_stripped_and_blocks_become_paragraphs() -> None:
    """Inline tags vanish; <p>, <h2>, <li> end paragraphs separated by one blank line."""
    html = (
        "<h2>Range test</h2><p>The <b>new</b> <a href='/x'>EV</a> went far.</p>"
        "<ul><li>One</li></ul>"
    )
    assert html_to_text(html) == "Range test\n\nThe new EV went far.\n\nOne"


def test_br_is_a_line_break_inside_a_paragraph() -> None:
    """<br> ends a line but not the paragraph."""
    assert html_to_text("<p>Line one<br>Line two<br/>Line three</p>") == (
        "Line one\nLine two\nLine three"
    )


def test_named_numeric_and_nbsp_entities_are_decoded() -> None:
    """&amp;, &#8217;, &#x2014;, &hellip; and &nbsp; become characters (nbsp as a space)."""
    html = "<p>Tata&nbsp;Motors &amp; JSW&#8217;s plan &#x2014; 500&nbsp;km&hellip;</p>"
    assert html_to_text(html) == "Tata Motors & JSW’s plan — 500 km…"


def test_double_escaped_entities_decode_once() -> None:
    """'&amp;amp;' is the text '&amp;': we decode exactly once, as a browser would."""
    assert html_to_text("<p>R&amp;amp;D</p>") == "R&amp;D"


def test_scripts_styles_nav_and_captions_are_dropped() -> None:
    """Text in script, style, nav, figcaption and WordPress caption classes is not content."""
    html = (
        "<nav>Home | EVs</nav><style>p{color:red}</style><script>var x = '<p>';</script>"
        "<figure><img src='a.jpg'><figcaption>The Nexon EV at launch</figcaption></figure>"
        "<div class='wp-caption'><p class='wp-caption-text'>Photo by PR</p></div>"
        "<p>Sales rose.</p>"
    )
    assert html_to_text(html) == "Sales rose."


def test_whitespace_is_normalised_and_text_is_nfc() -> None:
    """Runs of spaces collapse, zero-width spaces go, decomposed accents are composed (NFC)."""
    html = "<p>  Cafe\u0301   \u200bopens\t\tnow  </p>"
    assert html_to_text(html) == "Caf\u00e9 opens now"


def test_zwj_and_zwnj_are_kept_for_indic_shaping() -> None:
    """ZWJ/ZWNJ change how Indic conjuncts render: they are not stripped."""
    text = "क्\u200dष"
    assert html_to_text(f"<p>{text}</p>") == text


def test_hindi_tamil_telugu_text_survives_unchanged() -> None:
    """Indic text passes through html_to_text intact."""
    for text in ("बैटरी की कीमतें गिरीं।", "மின்சார வாகனங்கள்.", "విద్యుత్ వాహనాలు."):
        assert html_to_text(f"<p>{text}</p>") == text


# --- clean_paragraphs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "The post Ola cuts prices appeared first on EV News Daily.",
        "The post Ola cuts prices first appeared on EV News Daily.",
        "Also read: Tata launches Curvv EV",
        "ALSO READ | Best EVs under 15 lakh",
        "Read more",
        "Continue reading →",
        "Read full article >>",
        "Share this:",
        "Follow us on Twitter and Instagram",
        "Click here to subscribe",
        "Subscribe to our newsletter",
        "Photo: Tata Motors",
        "Image credit: Ather Energy",
        "यह भी पढ़ें: टाटा की नई कार",
        "ये भी पढ़ें- ओला का नया स्कूटर",
        "இதையும் படிக்க: புதிய மின்சார கார்",
        "ఇది కూడా చదవండి: కొత్త ఎలక్ట్రిక్ కారు",
    ],
)
def test_boilerplate_lines_are_removed(line: str) -> None:
    """Feed furniture lines in English, Hindi, Tamil and Telugu are dropped."""
    assert clean_paragraphs(f"Sales doubled in May.\n\n{line}") == ["Sales doubled in May."]


def test_wordpress_footer_from_html_is_removed() -> None:
    """The WordPress RSS footer paragraph (with its links) disappears after html_to_text."""
    html = (
        "<p>Ather opened a plant.</p><p>The post <a href='https://x.test/a'>Ather opens plant</a>"
        " appeared first on <a href='https://x.test'>EV Daily</a>.</p>"
    )
    assert clean_paragraphs(html_to_text(html)) == ["Ather opened a plant."]


def test_truncation_and_read_more_tails_are_stripped() -> None:
    """ "[…]", "[...]" and a trailing "Continue reading" are cut off the paragraph's end."""
    assert clean_paragraphs("Ola cut prices by 10% on Monday […]") == [
        "Ola cut prices by 10% on Monday"
    ]
    assert clean_paragraphs("Ola cut prices. [...]") == ["Ola cut prices."]
    assert clean_paragraphs("Ola cut prices. Continue reading Ola cuts prices →") == [
        "Ola cut prices."
    ]


def test_permalink_tail_is_stripped() -> None:
    """A link-blog's "∞ Permalink" after the last sentence is cut off."""
    assert clean_paragraphs("Ola cut prices. ∞ Permalink") == ["Ola cut prices."]


def test_ordinary_sentences_mentioning_read_or_photo_are_kept() -> None:
    """Only furniture goes: a sentence that merely contains such words stays."""
    text = "Readers photographed the launch.\n\nSubscribers got early access, Tata said."
    assert clean_paragraphs(text) == [
        "Readers photographed the launch.",
        "Subscribers got early access, Tata said.",
    ]


def test_lines_inside_a_paragraph_are_joined_without_the_boilerplate_line() -> None:
    """A <br>-separated "Also read" line is dropped and the remaining lines joined."""
    text = html_to_text("<p>Prices fell.<br>Also read: Nexon review<br>Sales rose.</p>")
    assert clean_paragraphs(text) == ["Prices fell. Sales rose."]


def test_split_truncation_reports_the_marker() -> None:
    """Excerpts ending in "[…]", "[...]" or "…" are reported as cut short, others not."""
    assert split_truncation("Ola cut prices by 10 […]") == ("Ola cut prices by 10", True)
    assert split_truncation("Ola cut prices by 10 [...]") == ("Ola cut prices by 10", True)
    assert split_truncation("Ola cut prices…") == ("Ola cut prices", True)
    assert split_truncation("Ola cut prices.") == ("Ola cut prices.", False)


# --- split_sentences: English -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Musk met Dr. Rao on Monday. Prof. Iyer joined later.",
            ["Mr. Musk met Dr. Rao on Monday.", "Prof. Iyer joined later."],
        ),
        (
            "Some makers, e.g. Tata, cut prices. Others did not.",
            ["Some makers, e.g. Tata, cut prices.", "Others did not."],
        ),
        (
            "Sales in the U.S. rose. Europe fell.",
            ["Sales in the U.S. rose.", "Europe fell."],
        ),
        (
            "Range grew 3.5 percent to 450.7 km. Charging got faster.",
            ["Range grew 3.5 percent to 450.7 km.", "Charging got faster."],
        ),
        (
            "Details are at example.com/ev/launch.html today. Prices follow.",
            ["Details are at example.com/ev/launch.html today.", "Prices follow."],
        ),
        (
            "Visit https://ev.example.in/a.b?c=1. Then book.",
            ["Visit https://ev.example.in/a.b?c=1.", "Then book."],
        ),
        (
            "J. K. Rowling and A.R. Rahman attended. It was loud.",
            ["J. K. Rowling and A.R. Rahman attended.", "It was loud."],
        ),
        (
            "He paused... and then he left. Nobody spoke.",
            ["He paused... and then he left.", "Nobody spoke."],
        ),
        (
            'He said, "It is ready." Then he left.',
            ['He said, "It is ready."', "Then he left."],
        ),
        (
            "“Is it ready?” she asked. “Yes!” He smiled.",
            ["“Is it ready?” she asked.", "“Yes!”", "He smiled."],
        ),
        (
            "The car costs Rs. 15 lakh. It ships in No. 3 colours.",
            ["The car costs Rs. 15 lakh.", "It ships in No. 3 colours."],
        ),
        (
            "Tesla Inc. said sales fell. Shares dropped.",
            ["Tesla Inc. said sales fell.", "Shares dropped."],
        ),
    ],
)
def test_english_sentences(text: str, expected: list[str]) -> None:
    """Abbreviations, decimals, URLs, initials, ellipses and quotes are handled."""
    assert split_sentences(text, "en") == expected


def test_blank_lines_always_separate_sentences() -> None:
    """A heading without punctuation does not merge with the next paragraph."""
    assert split_sentences("Price cut announced\n\nOla cut prices today.") == [
        "Price cut announced",
        "Ola cut prices today.",
    ]


def test_question_and_exclamation_marks_end_sentences() -> None:
    """'?' and '!' followed by a capital are boundaries."""
    assert split_sentences("Is it cheap? Yes! It is.") == ["Is it cheap?", "Yes!", "It is."]


# --- split_sentences: Hindi, Tamil, Telugu ------------------------------------------------


def test_hindi_danda_and_double_danda() -> None:
    """The danda "।" and double danda "॥" end Hindi sentences, with or without a space."""
    text = "इलेक्ट्रिक वाहनों की बिक्री बढ़ी। सरकार ने सब्सिडी दी॥क्या कीमतें घटेंगी? हाँ!"
    assert split_sentences(text, "hi") == [
        "इलेक्ट्रिक वाहनों की बिक्री बढ़ी।",
        "सरकार ने सब्सिडी दी॥",
        "क्या कीमतें घटेंगी?",
        "हाँ!",
    ]


def test_hindi_title_abbreviation_does_not_split() -> None:
    """ "डॉ." (Dr.) before a name is not a sentence end."""
    text = "डॉ. शर्मा ने नई बैटरी दिखाई। यह सस्ती है।"
    assert split_sentences(text, "hi") == ["डॉ. शर्मा ने नई बैटरी दिखाई।", "यह सस्ती है।"]


def test_tamil_full_stops_and_initials() -> None:
    """Tamil ends sentences with "."; initials like "மு.க." do not split."""
    text = "மு.க. ஸ்டாலின் சென்னையில் மின்சார பேருந்துகளை தொடங்கி வைத்தார். இது ஒரு முக்கிய நிகழ்வு! விலை எவ்வளவு?"
    assert split_sentences(text, "ta") == [
        "மு.க. ஸ்டாலின் சென்னையில் மின்சார பேருந்துகளை தொடங்கி வைத்தார்.",
        "இது ஒரு முக்கிய நிகழ்வு!",
        "விலை எவ்வளவு?",
    ]


def test_telugu_full_stops_and_initials() -> None:
    """Telugu ends sentences with "."; initials like "వై.ఎస్." do not split."""
    text = "వై.ఎస్. జగన్ విద్యుత్ వాహనాలను ప్రారంభించారు. ధర 3.5 లక్షలు. ఇది చాలా ముఖ్యమైనది!"
    assert split_sentences(text, "te") == [
        "వై.ఎస్. జగన్ విద్యుత్ వాహనాలను ప్రారంభించారు.",
        "ధర 3.5 లక్షలు.",
        "ఇది చాలా ముఖ్యమైనది!",
    ]


def test_language_is_optional() -> None:
    """Without ``lang`` every script's rules apply."""
    assert split_sentences("बिक्री बढ़ी। Sales rose. விலை குறைந்தது.") == [
        "बिक्री बढ़ी।",
        "Sales rose.",
        "விலை குறைந்தது.",
    ]
