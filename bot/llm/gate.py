"""The fact gate: a generated summary is used only when it states nothing the article does not.

Pure and deterministic: the same summary, article text, budget and measure always give the
same ``GateVerdict``. A summary passes when it is not empty; adds no URL, @handle or
#hashtag; every quoted phrase appears in the article (case, spacing and punctuation aside);
every figure (number, date, amount, percentage; see ``bot.llm.numbers``) has its value in
the article, or is one of its values rounded to two or more significant digits; every
proper name appears there; and it fits ``budget`` by ``measure``.

Proper names: in Latin script, capitalised words, compared case-blind with light English
inflection ("India's", "Americans"); a run of them ("Rahul Gandhi") must appear together
in the article or be part of one of its runs ("Prime Minister Narendra Modi" allows "Prime
Minister Modi"); an all-capitals initialism standing alone may shorten a name the article
spells out ("ATSB" after "Australian Transport Safety Bureau", see ``bot.llm.initialisms``).
Devanagari, Tamil and Telugu have no capitals, so there every word must come from the
article (a shared stem is enough: "किसानों" after "किसान") unless it is a common function
word: a paraphrase may be refused, an invented name is never let through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import regex

from bot.llm.initialisms import initialism, initialisms
from bot.llm.numbers import ascii_digits, is_figure_word, mentions, months
from bot.llm.words import COMMON_INDIC, SENTENCE_OPENERS


class Reason(StrEnum):
    """Why a summary was or was not used; the ``reason`` label of the gate metric."""

    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    URL = "url"
    HANDLE = "handle"
    HASHTAG = "hashtag"
    QUOTE = "quote"
    NUMBER = "number"
    DATE = "date"
    AMOUNT = "amount"
    PERCENTAGE = "percentage"
    NAME = "name"
    # Not the gate's verdicts: why no generated summary reached the gate at all.
    LANGUAGE = "language"  # no prompt for the article's language
    SMALL_BUDGET = "small_budget"  # too little room to be worth a request
    BREAKER_OPEN = "breaker_open"  # the endpoint failed repeatedly; resting
    TIMEOUT = "timeout"  # no answer within timeout / max_wait
    ENDPOINT_ERROR = "endpoint_error"  # HTTP error, refused connection, unreadable answer


@dataclass(frozen=True)
class GateVerdict:
    """``passed`` with ``Reason.OK``, or the first problem found and the text that caused it."""

    reason: Reason
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.reason is Reason.OK

    def to_dict(self) -> dict[str, object]:
        return {"passed": self.passed, "reason": str(self.reason), "detail": self.detail}


PASSED = GateVerdict(Reason.OK)

_URL = regex.compile(
    r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|in|io|co|gov|edu|info|news)\b(?:/\S*)?"
)
_HANDLE = regex.compile(r"(?<![\w@.])@[\p{L}\p{N}_]{1,30}")
_HASHTAG = regex.compile(r"(?<![\w#&])#[\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*")
# Double quotes of every style; single ones (‘…’ or '…', British news style) only when they
# open and close outside a word, an apostrophe inside ("it's") being part of the quote.
_QUOTES = regex.compile(
    r"\"([^\"]+)\"|“([^”“]+)”|„([^“”]+)[“”]|«([^»]+)»"
    r"|(?<!\w)‘((?:[^’]|’(?=\w))+)’(?!\w)|(?<!\w)'((?:[^']|'(?=\w))+)'(?!\w)"
)
# A capitalised word, whole ("eBay" is not "Bay"), with its inner hyphens, dots, apostrophes.
_LATIN_CAP = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}])\p{Lu}[\p{Latin}\p{M}\p{N}]*(?:['’.-][\p{Latin}\p{M}\p{N}]+)*"
)
_LATIN_WORD = regex.compile(r"[\p{Latin}\p{M}\p{N}]+")
_POSSESSIVE = regex.compile(r"(?<=\p{L})['’]s?(?![\p{L}])")
_INDIC = regex.compile(r"[\p{Devanagari}\p{Tamil}\p{Telugu}]+")
_SENTENCE_END = regex.compile(r"[.!?।॥:;\n]\s*[\"“‘(]*$")
_NON_WORD = regex.compile(r"[^\p{L}\p{M}\p{N}]+")
_CONTRACTED = regex.compile(r"(?i)['’](?:re|ve|ll|d|m)$")  # "They're", "We've", "I'm"


def check(
    summary: str, article_text: str, *, budget: int, measure: Callable[[str], int] = len
) -> GateVerdict:
    """The verdict on ``summary`` as a summary of ``article_text`` within ``budget``."""
    if not summary.strip():
        return GateVerdict(Reason.EMPTY)
    facts = ArticleFacts.of(article_text)
    text = ascii_digits(summary)  # compared as the article is: NFC, ASCII digits
    checks: tuple[Callable[[], GateVerdict], ...] = (
        lambda: _added(text, facts, _URL, Reason.URL),
        lambda: _added(text, facts, _HANDLE, Reason.HANDLE),
        lambda: _added(text, facts, _HASHTAG, Reason.HASHTAG),
        lambda: _quotes(text, facts),
        lambda: _figures(text, facts),
        lambda: _names(text, facts),
    )
    for run in checks:
        verdict = run()
        if not verdict.passed:
            return verdict
    length = measure(summary)
    if length > budget:
        return GateVerdict(Reason.TOO_LONG, f"{length} > {budget}")
    return PASSED


@dataclass(frozen=True)
class ArticleFacts:
    """What the article states, normalised once for every check."""

    flat: str  # case-folded words separated by single spaces, ASCII digits
    raw: str  # ASCII digits, case-folded, as written
    values: frozenset[Decimal]
    percentages: frozenset[Decimal]
    months: frozenset[int]
    stems: frozenset[str]  # Latin words, any case, as ``name_parts``
    stem_flat: str  # the same in article order, space-separated
    runs: tuple[tuple[str, ...], ...]  # capitalised runs, as ``name_parts``
    indic: frozenset[str]  # Indic-script words
    initialisms: frozenset[str]  # of its spelled-out names, as ``bot.llm.initialisms``

    @classmethod
    def of(cls, text: str) -> ArticleFacts:
        text = ascii_digits(text)
        values: set[Decimal] = set()
        percentages: set[Decimal] = set()
        for mention in mentions(text):
            values.add(mention.value)
            if mention.scaled is not None:
                values.add(mention.scaled)
            if mention.kind == "percentage":
                percentages.add(mention.value)
        parts = name_parts(text)
        return cls(
            flat=flatten(text),
            raw=text.casefold(),
            values=frozenset(values),
            percentages=frozenset(percentages),
            months=frozenset(months(text)),
            stems=frozenset(parts),
            stem_flat=" " + " ".join(parts) + " ",
            runs=tuple(tuple(name_parts(" ".join(run))) for run in capitalised_runs(text)),
            indic=frozenset(_INDIC.findall(text)),
            initialisms=initialisms(text),
        )


def flatten(text: str) -> str:
    """Case-folded words and numbers joined by single spaces: punctuation never matters."""
    return " " + " ".join(_NON_WORD.split(text.casefold())).strip() + " "


def name_parts(text: str) -> list[str]:
    """The Latin-script words of ``text`` as names are compared: no possessive, split at
    hyphens, dots and other scripts ("Miami-Dade" -> miami, dade; "U.S." -> u, s), stemmed."""
    return [stem(word) for word in _LATIN_WORD.findall(_POSSESSIVE.sub("", text).casefold())]


def stem(word: str) -> str:
    """Light English inflection off: possessive, plural (not "ss"), trailing full stop."""
    word = word.casefold().rstrip(".").replace("’", "'")
    for suffix in ("'s", "s'", "'"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            word = word[: -len(suffix)]
            break
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[-3:-2] in "sxzh" and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _added(
    summary: str, facts: ArticleFacts, pattern: regex.Pattern[str], reason: Reason
) -> GateVerdict:
    for match in pattern.finditer(summary):
        if match[0].casefold().rstrip(".,") not in facts.raw:
            return GateVerdict(reason, match[0])
    return PASSED


def _quotes(summary: str, facts: ArticleFacts) -> GateVerdict:
    for match in _QUOTES.finditer(summary):
        quoted = next(group for group in match.groups() if group is not None)
        if flatten(quoted).strip() and flatten(quoted) not in facts.flat:
            return GateVerdict(Reason.QUOTE, quoted)
    return PASSED


def _figures(summary: str, facts: ArticleFacts) -> GateVerdict:
    """Every figure's value is in the article, to the precision the summary states it
    ("£10,787" for £10,787.50, "4.2 billion" for 4.18 billion: rounding, not inventing)."""
    for mention in mentions(summary):
        if mention.kind == "percentage":
            ok = _near(mention.value, mention.value, facts.percentages)
        elif mention.kind == "date" and mention.value <= 12:
            ok = mention.value in facts.values or int(mention.value) in facts.months
        else:
            ok = _near(mention.claimed, mention.value, facts.values)
        if not ok:
            return GateVerdict(Reason(mention.kind), mention.text)
    return PASSED


def _near(claimed: Decimal, written: Decimal, values: frozenset[Decimal]) -> bool:
    """``claimed`` is one of ``values``, or one rounded (or cut) to the last digit written
    when at least two significant digits are."""
    if claimed in values:
        return True
    digits, exponent = written.as_tuple()[1:]
    if not isinstance(exponent, int) or len(digits) < 2:
        return False  # one significant digit ("2 lakh" for 1.5 lakh) is not a rounding
    last_digit = min(0, exponent)
    tolerance = Decimal(5).scaleb(last_digit - 1) * (claimed / written if written else 1)
    return any(abs(value - claimed) <= tolerance for value in values)


def capitalised_runs(text: str) -> Iterable[tuple[str, ...]]:
    """Runs of capitalised Latin words, as written; a common word opening a sentence is not
    part of a name ("The", "Officials", "They're"), nor is the pronoun "I"."""
    run: list[str] = []
    last_end = -1
    for match in _LATIN_CAP.finditer(text):
        gap = text[last_end : match.start()] if last_end >= 0 else None
        opens_sentence = match.start() == 0 or bool(_SENTENCE_END.search(text[: match.start()]))
        word = stem(_CONTRACTED.sub("", match[0]))
        if run and gap != " ":
            yield tuple(run)
            run = []
        last_end = match.end()
        if (opens_sentence and word in SENTENCE_OPENERS) or match[0] == "I":
            if run:
                yield tuple(run)
            run = []
            continue
        run.append(match[0])
    if run:
        yield tuple(run)


def _in_order(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    position = 0
    for word in whole:
        if position < len(part) and word == part[position]:
            position += 1
    return position == len(part)


def _names(summary: str, facts: ArticleFacts) -> GateVerdict:
    for written in capitalised_runs(summary):
        run: list[str] = []
        for word in written:
            parts = name_parts(word)
            if any(part not in facts.stems for part in parts) and not (
                len(written) == 1 and initialism(word) in facts.initialisms
            ):
                return GateVerdict(Reason.NAME, word)
            run += parts
        if (
            len(written) > 1
            and f" {' '.join(run)} " not in facts.stem_flat
            and not any(_in_order(tuple(run), article_run) for article_run in facts.runs)
        ):
            return GateVerdict(Reason.NAME, " ".join(written))
    for word in _INDIC.findall(summary):
        if word not in COMMON_INDIC and not _indic_known(word, facts.indic):
            return GateVerdict(Reason.NAME, word)
    return PASSED


def _indic_known(word: str, known: frozenset[str]) -> bool:
    """``word`` is in the article, or shares a stem with one of its words: one is a prefix
    of the other, or they share all but the last two code points (inflected endings)."""
    if word in known or is_figure_word(word):
        return True
    for other in known:
        shorter = min(len(word), len(other))
        if shorter < 2:
            continue
        common = 0
        for a, b in zip(word, other, strict=False):
            if a != b:
                break
            common += 1
        if common == shorter or common >= max(3, shorter - 2):
            return True
    return False
