"""The fact gate (bot.llm.gate): pure checks of a generated summary against its article."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.llm.gate import Reason, check
from bot.llm.text import source_text
from bot.models import Article
from bot.summarise import ExtractiveSummariser
from bot.textfit import grapheme_count

EN = (
    "Prime Minister Narendra Modi said on 12 March 2024 that India's exports rose 12% to "
    '₹1.5 lakh crore. Rahul Gandhi called it "a hollow claim". The Reserve Bank of India '
    "kept its rate at 6.5 per cent. Officials said 1,00,000 jobs were created in three states."
)
HI = (
    "सरकार ने किसानों के लिए ५ करोड़ रुपये की योजना की घोषणा की। कृषि मंत्री शिवराज सिंह चौहान "
    "ने कहा कि योजना से १,५०,००० किसानों को लाभ होगा। उत्पादन में १२ प्रतिशत की वृद्धि हुई।"
)
TA = (
    "தமிழக அரசு ௨ கோடி ரூபாய் நிதி ஒதுக்கீடு செய்துள்ளது. முதல்வர் ஸ்டாலின் சென்னையில் "
    "இதை அறிவித்தார். ௧௦,௦௦௦ குடும்பங்கள் பயன்பெறும்."
)


@pytest.mark.parametrize(
    "summary",
    [
        'Modi said exports rose 12% to ₹1.5 lakh crore; Gandhi called it "a hollow claim".',
        "Meanwhile, the Reserve Bank kept its rate at 6.5%. About 1 lakh jobs were created.",
        "Prime Minister Modi said 100,000 jobs were created in 3 states.",  # run part, Western
        "India’s exports rose on March 12, 2024 (12/03/2024), officials said.",
        "Exports rose to ₹1.5 trillion, Modi said.",  # 1.5 lakh crore = 1.5 trillion
    ],
)
def test_faithful_english_summaries_pass(summary: str) -> None:
    """Figures restated in another form, name parts, dates and exact quotes pass."""
    assert check(summary, EN, budget=500).reason is Reason.OK


@pytest.mark.parametrize(
    ("summary", "reason", "detail"),
    [
        ("Modi said exports rose 15%.", Reason.PERCENTAGE, "15"),
        ("Exports rose by ₹2 lakh crore.", Reason.AMOUNT, "2"),
        ("Officials said 2,00,000 jobs were created.", Reason.NUMBER, "2,00,000"),
        ("Exports rose on 14 March 2024.", Reason.DATE, "14"),
        ("Officials said four states gained jobs.", Reason.NUMBER, "four"),
        ("Amit Shah said exports rose.", Reason.NAME, "Amit"),
        ("Rahul Modi said exports rose.", Reason.NAME, "Rahul Modi"),  # both parts exist
        ('Gandhi called it "an empty boast".', Reason.QUOTE, "an empty boast"),
        ("Exports rose; read more at https://example.com/x", Reason.URL, "https://example.com/x"),
        ("Exports rose, says @PMOIndia.", Reason.HANDLE, "@PMOIndia"),
        ("Exports rose 12%. #MakeInIndia", Reason.HASHTAG, "#MakeInIndia"),
        ("   ", Reason.EMPTY, ""),
    ],
)
def test_invented_facts_are_refused_with_their_reason(
    summary: str, reason: Reason, detail: str
) -> None:
    """Each kind of invented fact is refused, naming the offending text."""
    verdict = check(summary, EN, budget=500)
    assert (verdict.reason, verdict.detail) == (reason, detail)
    assert not verdict.passed


def test_single_quoted_phrases_are_checked_too() -> None:
    """British-style 'quotes' (ASCII or curly) must be in the article; apostrophes are not
    quotes."""
    article = "Pulis said: 'It's a disgrace, and we won't accept it.' The players' union agreed."
    assert check(
        "Pulis called it 'a disgrace'; the players' union agreed.", article, budget=500
    ).passed
    assert check("Pulis: 'It's a disgrace.'", article, budget=500).passed
    for summary in ("Pulis called it 'a scandal'.", "Pulis called it ‘a scandal’."):
        verdict = check(summary, article, budget=500)
        assert (verdict.reason, verdict.detail) == (Reason.QUOTE, "a scandal")


def test_over_the_budget_by_the_given_measure_is_refused() -> None:
    """A faithful summary that does not fit the budget, by the measure given, is refused."""
    summary = "Modi said exports rose 12%."
    assert check(summary, EN, budget=len(summary)).passed
    verdict = check(summary, EN, budget=len(summary), measure=lambda s: 2 * len(s))
    assert verdict.reason is Reason.TOO_LONG
    assert verdict.detail == f"{2 * len(summary)} > {len(summary)}"


@pytest.mark.parametrize(
    "summary",
    [
        "सरकार ने किसानों के लिए 5 करोड़ रुपये की योजना की घोषणा की।",  # ५ in the article
        "सरकार ने किसानों के लिए 50 मिलियन रुपये की योजना की घोषणा की।",  # crore = 10 million
        "योजना से 1.5 लाख किसानों को लाभ होगा।",  # १,५०,००० in Indian grouping
        "उत्पादन में 12% की वृद्धि हुई।",
    ],
)
def test_faithful_hindi_summaries_pass(summary: str) -> None:
    """Devanagari digits, lakh/crore and Indian grouping compare by value."""
    assert check(summary, HI, budget=500, measure=grapheme_count).reason is Reason.OK


@pytest.mark.parametrize(
    ("summary", "reason", "detail"),
    [
        ("सरकार ने किसानों के लिए ७ करोड़ रुपये की योजना की घोषणा की।", Reason.AMOUNT, "7"),
        ("योजना से 2 लाख किसानों को लाभ होगा।", Reason.AMOUNT, "2"),
        ("उत्पादन में १५ प्रतिशत की वृद्धि हुई।", Reason.PERCENTAGE, "15"),
        ("कृषि मंत्री राजनाथ सिंह ने योजना की घोषणा की।", Reason.NAME, "राजनाथ"),
    ],
)
def test_invented_hindi_facts_are_refused(summary: str, reason: Reason, detail: str) -> None:
    """An invented amount, percentage or name in Hindi is refused."""
    verdict = check(summary, HI, budget=500)
    assert (verdict.reason, verdict.detail) == (reason, detail)


def test_tamil_digits_and_crore_compare_by_value() -> None:
    """Tamil digits and கோடி (crore) compare by value; an invented figure or name is refused."""
    assert check("தமிழக அரசு 2 கோடி ரூபாய் நிதி ஒதுக்கீடு செய்துள்ளது.", TA, budget=500).passed
    assert check("ஸ்டாலின் சென்னையில் அறிவித்தார். 10,000 குடும்பங்கள் பயன்பெறும்.", TA, budget=500).passed
    three = check("தமிழக அரசு ௩ கோடி ரூபாய் நிதி ஒதுக்கீடு செய்துள்ளது.", TA, budget=500)
    assert (three.reason, three.detail) == (Reason.AMOUNT, "3")
    name = check("முதல்வர் எடப்பாடி பழனிசாமி அறிவித்தார்.", TA, budget=500)
    assert (name.reason, name.detail) == (Reason.NAME, "எடப்பாடி")


def test_verdict_is_deterministic_and_serialisable() -> None:
    """The same input gives the same verdict; to_dict carries passed, reason and detail."""
    first = check("Modi said exports rose 15%.", EN, budget=500)
    assert first == check("Modi said exports rose 15%.", EN, budget=500)
    assert first.to_dict() == {"passed": False, "reason": "percentage", "detail": "15"}


@pytest.mark.parametrize(
    ("article", "summary"),
    [
        (
            "Ralph Mata was a lieutenant for the Miami-Dade Police Department.",
            "Ralph Mata was a lieutenant for the Miami-Dade Police.",
        ),
        ("He sued two U.S. lawyers and J.J. Abrams.", "He sued two U.S. lawyers and J.J. Abrams."),
        (
            "Posh lost again. Fleetwood won at Glanford Park.",
            "Fleetwood won at Glanford Park. Posh lost.",
        ),
        ("The app is sold on eBay and the iPhone.", "The app is sold on eBay and the iPhone."),
        ("The AMY1 gene makes a compound.", "The AMY1 gene makes a compound."),
        ("The shop opened at 9.30 on Monday.", "The shop opened at 9.30 on Monday."),
        ("Glancy stole a total of £10,787.50 pounds.", "Glancy stole £10,787 in all."),
        ("Revenue reached $4.18 billion.", "Revenue reached $4.2 billion."),
    ],
    ids=[
        "hyphen",
        "dotted",
        "sentence-break",
        "inner-capital",
        "letters-digits",
        "time",
        "cut",
        "round",
    ],
)
def test_article_wording_and_roundings_pass(article: str, summary: str) -> None:
    """Hyphenated and dotted names, a capital after a full stop, "eBay", "AMY1", "9.30" and
    a figure rounded to the digits it shows (at least two) are not taken for inventions."""
    assert check(summary, article, budget=500).passed


def test_one_digit_is_not_a_rounding() -> None:
    """ "2 lakh" for 1,50,000 is refused: one significant digit is a different figure."""
    verdict = check("2 lakh farmers gain.", "1,50,000 farmers gain.", budget=500)
    assert (verdict.reason, verdict.detail) == (Reason.AMOUNT, "2")


def _corpus() -> Path | None:
    here = Path(__file__).resolve()
    for root in (here.parents[2], here.parents[3]):  # beside the repo, or a worktree's
        path = root / "shared" / "corpus" / "summaries" / "cnn_dailymail_train_sample_100.jsonl"
        if path.is_file():
            return path
    return None


@pytest.mark.skipif(_corpus() is None, reason="the shared summaries corpus is not beside the repo")
def test_extractive_summaries_of_the_corpus_pass_the_gate() -> None:
    """Sentences taken from the article state nothing new: the gate passes every extractive
    summary of the 100 CNN/DailyMail sample articles at 200 and 500 characters."""
    path = _corpus()
    assert path is not None
    refused = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        article = Article(
            feed="corpus",
            item_id=row["id"],
            url="https://example.invalid/a",
            title=row.get("title", ""),
            content_html=html.escape(row["text"]),
            lang=row.get("lang"),
        )
        facts = source_text(article)[1]
        for budget in (200, 500):
            summary = ExtractiveSummariser().summarise(article, budget=budget)
            verdict = check(summary, facts, budget=budget)
            if not verdict.passed:
                refused.append((row["id"], budget, verdict.reason, verdict.detail))
    assert refused == []


_PIECES = st.sampled_from(
    [*"0123456789०१२३௧௨౩.,%₹$#@'\"“”‘’-:/ ", "lakh", "crore", "करोड़", "கோடி", "March",
     "Modi", "U.S.", "eBay", "per cent", "https://x.example/a", "www.", "\n", "Rs.",
     "1,00,000", "9.30", "NaN", "Infinity"]
)  # fmt: skip
_TEXTS = st.lists(_PIECES | st.text(max_size=4), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(summary=_TEXTS, article=_TEXTS)
def test_the_gate_never_raises_and_always_passes_the_article_itself(
    summary: str, article: str
) -> None:
    """Any text, figures and scripts mixed at random, gets a verdict, never an exception;
    and an article checked against itself states nothing new (up to links and tags)."""
    check(summary, article, budget=100)
    verdict = check(article, article, budget=len(article))
    assert verdict.passed or verdict.reason in (
        Reason.EMPTY,
        Reason.URL,
        Reason.HASHTAG,
        Reason.HANDLE,
    ), verdict


@pytest.mark.parametrize(
    ("summary", "passed"),
    [
        ("Two thousand people took part.", True),
        ("Two million people took part.", False),  # "two" is in the article, not 2,000,000
        ("A million voters took part.", True),  # 1,000,000 in the article
        ("A billion voters took part.", False),
        ("मार्च में 12 लोग आए।", True),
        ("अप्रैल में 12 लोग आए।", False),  # a month is a word like any other
    ],
)
def test_spelled_figures_take_their_scale_and_months_are_checked(
    summary: str, passed: bool
) -> None:
    """A number word with a scale word is the scaled figure; "a million" is one; a Hindi
    month name must come from the article."""
    article = "Officials said two thousand people and 1,000,000 voters took part. मार्च में 12 लोग आए।"
    assert check(summary, article, budget=500).passed is passed


SAFETY = (
    "We're inside the Australian Transport Safety Bureau's accident investigation lab. "
    "The Federal Bureau of Investigation was told. The Reserve Bank of India, officials said."
)


@pytest.mark.parametrize(
    "summary",
    [
        "The ATSB has a team of experts to recover the data.",  # seen from SmolLM2-135M
        "The ATSB's lab recovers flight data.",
        "The FBI was told, as was the RBI.",  # "of" between the words is skipped
        "The lab of the Australian Transport Safety Bureau (ATSB) recover data.",
    ],
)
def test_initialisms_of_names_the_article_spells_out_pass(summary: str) -> None:
    """An all-capitals word made of the initials of one of the article's names (ending
    where the name ends) names nothing new: it is not refused as an invented name."""
    assert check(summary, SAFETY, budget=500).reason is Reason.OK


@pytest.mark.parametrize(
    ("summary", "detail"),
    [
        ("The NTSB has a team of experts.", "NTSB"),  # not the article's bureau
        ("The ATS has a team of experts.", "ATS"),  # a name cut short is not its initials
        ("The ABTS has a team of experts.", "ABTS"),  # letters out of order
        ("ATSB Director Smith spoke.", "ATSB"),  # only standing alone
        ("The FB was told.", "FB"),  # two letters are too easily matched by chance
    ],
)
def test_initialisms_the_article_does_not_support_are_refused(summary: str, detail: str) -> None:
    """Initials of no name in the article, of part of one, out of order, inside a longer
    run or of two letters only are refused like any other invented name."""
    verdict = check(summary, SAFETY, budget=500)
    assert (verdict.reason, verdict.detail) == (Reason.NAME, detail)


@pytest.mark.parametrize(
    "summary",
    [
        "Fleetwood won. They're top of the table.",  # seen from SmolLM2-135M
        "We've seen Fleetwood win. I'm sure they’ll stay top.",
        "You'll see Fleetwood top the table.",
    ],
)
def test_a_contracted_pronoun_opening_a_sentence_is_not_a_name(summary: str) -> None:
    """Contracted pronouns ("They're", "We've", "I'm", "You'll") open sentences without
    naming anyone, though the article never writes them."""
    article = "Fleetwood are top of the table after a win."
    assert check(summary, article, budget=500).reason is Reason.OK


def test_a_contracted_name_is_still_checked() -> None:
    """Only common sentence openers lose their contraction: an invented "Smith'll" is a name."""
    article = "Fleetwood are top of the table after a win."
    verdict = check("Smith'll keep Fleetwood top.", article, budget=500)
    assert verdict.reason is Reason.NAME
