"""The numbers a text states, normalised so the article and a summary can be compared.

Digits in Devanagari, Tamil, Telugu (any Unicode decimal digit) read as ASCII; thousands
separators in Western (1,000,000) and Indian (10,00,000) grouping are dropped; a scale word
after a number (thousand, lakh, crore, million, billion, and their Hindi, Tamil and Telugu
forms) gives it a second, scaled value, so "1.5 lakh" equals "1,50,000" and "5 crore"
equals "50 million". Each mention is classified as a number, a date, an amount or a
percentage, which is only the name of the reason when the gate rejects it. Pure.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import regex

Kind = Literal["number", "date", "amount", "percentage"]

_DIGIT = regex.compile(r"\p{Nd}")
# Indian grouping first ("1,00,000"), then Western ("1,000,000"), then a plain run.
_NUMBER = regex.compile(
    r"(?<![\d.])(?:\d{1,2}(?:,\d{2})+,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)"
)
_NEXT_WORDS = regex.compile(r"\s*-?\s*([\p{L}\p{M}%.]+)(?:\s+([\p{L}\p{M}.]+))?")
_CURRENCY_BEFORE = regex.compile(
    r"(?:₹|\$|€|£|\brs\.?|\binr|\busd|\bரூ\.?|రూ\.?|रु\.?)\s*$", regex.IGNORECASE
)
_CURRENCY_AFTER = ("rupee", "रुपय", "रुपए", "ரூபாய", "రూపాయ", "dollar", "euro", "pound")
_PERCENT_WORDS = ("percent", "प्रतिशत", "फीसदी", "फ़ीसदी", "சதவீத", "శాత")

# Stems: a scale word matches when the word after the number starts with one of these.
_SCALES: tuple[tuple[str, int], ...] = (
    ("thousand", 10**3),
    ("lakh", 10**5),
    ("lac", 10**5),
    ("crore", 10**7),
    ("million", 10**6),
    ("mn", 10**6),
    ("billion", 10**9),
    ("bn", 10**9),
    ("trillion", 10**12),
    ("हज़ार", 10**3),
    ("हजार", 10**3),
    ("लाख", 10**5),
    ("करोड", 10**7),
    ("अरब", 10**9),
    ("मिलियन", 10**6),
    ("बिलियन", 10**9),
    ("மில்லியன்", 10**6),
    ("பில்லியன்", 10**9),
    ("మిలియన్", 10**6),
    ("బిలియన్", 10**9),
    ("ஆயிர", 10**3),
    ("லட்ச", 10**5),
    ("கோடி", 10**7),
    ("వేల", 10**3),
    ("వేయి", 10**3),
    ("లక్ష", 10**5),
    ("కోటి", 10**7),
    ("కోట్ల", 10**7),
)
_SHORT_SCALES = {"cr": 10**7, "k": 10**3}  # only as the whole word

_MONTHS = (
    ("january", "jan", "जनवरी", "ஜனவரி", "జనవరి"),
    ("february", "feb", "फरवरी", "फ़रवरी", "பிப்ரவரி", "ఫిబ్రవరి"),
    ("march", "mar", "मार्च", "மார்ச்", "మార్చి"),
    ("april", "apr", "अप्रैल", "ஏப்ரல்", "ఏప్రిల్"),
    ("may", "मई", "மே", "మే"),
    ("june", "jun", "जून", "ஜூன்", "జూన్"),
    ("july", "jul", "जुलाई", "ஜூலை", "జూలై"),
    ("august", "aug", "अगस्त", "ஆகஸ்ட்", "ఆగస్టు"),
    ("september", "sep", "sept", "सितंबर", "सितम्बर", "செப்டம்பர்", "సెప్టెంబర్"),
    ("october", "oct", "अक्टूबर", "அக்டோபர்", "అక్టోబర్"),
    ("november", "nov", "नवंबर", "नवम्बर", "நவம்பர்", "నవంబర్"),
    ("december", "dec", "दिसंबर", "दिसम्बर", "டிசம்பர்", "డిసెంబర్"),
)
MONTH_NUMBER = {name: index for index, names in enumerate(_MONTHS, 1) for name in names}
_NUMERIC_DATE = regex.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b")

# Spelled-out English numbers a summary might use for a figure the article gives in digits
# ("one" is left out: "one of the", "no one" are not figures).
_UNITS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen"
_TEENS = "fifteen sixteen seventeen eighteen nineteen twenty"
_TENS = "thirty forty fifty sixty seventy eighty ninety"
NUMBER_WORDS = {w: n for n, w in enumerate(f"{_UNITS} {_TEENS}".split(), start=2)} | {
    w: n for n, w in zip(range(30, 100, 10), _TENS.split(), strict=True)
}
_WORD = regex.compile(r"[\p{L}\p{M}]+")
# "a million", "one lakh": a figure without a digit.
_A_SCALE = regex.compile(r"\s+(?:thousand|lakh|lac|crore|million|billion|trillion)\b", regex.I)


def is_figure_word(word: str) -> bool:
    """A scale, currency or percent word: part of a figure, checked with its number.
    (Month names are not: a month must come from the article like any other word.)"""
    stems = (*(stem for stem, _ in _SCALES), *_CURRENCY_AFTER, *_PERCENT_WORDS)
    return word.casefold().startswith(stems)


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (०-९, ௦-௯, ౦-౯, ...) written in ASCII, NFC."""
    text = unicodedata.normalize("NFC", text)
    return str(_DIGIT.sub(lambda m: str(unicodedata.decimal(m[0])), text))


@dataclass(frozen=True)
class Mention:
    """One figure in a text: its values (plain and, with a scale word, scaled)."""

    text: str
    value: Decimal
    scaled: Decimal | None
    kind: Kind

    @property
    def claimed(self) -> Decimal:
        """What the text asserts: the scaled value when a scale word follows."""
        return self.scaled if self.scaled is not None else self.value


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _scale(word: str) -> int | None:
    word = word.casefold().rstrip(".")
    if word in _SHORT_SCALES:
        return _SHORT_SCALES[word]
    for stem, factor in _SCALES:
        if word.startswith(stem):
            return factor
    return None


def _is_percent(word: str) -> bool:
    word = word.casefold()
    return word.startswith("%") or word == "pc" or word.startswith(_PERCENT_WORDS)


def mentions(text: str) -> list[Mention]:
    """Every figure in ``text`` (already ``ascii_digits``), in order."""
    dates = [m.span() for m in _NUMERIC_DATE.finditer(text)]
    found: list[Mention] = []
    for match in _NUMBER.finditer(text):
        value = _decimal(match[0])
        if value is None:
            continue
        after = text[match.end() : match.end() + 40]
        following = _NEXT_WORDS.match(after)
        word = following[1] if following else ""
        per_cent = after.lstrip().casefold().startswith(("per cent", "percent"))
        kind: Kind = "number"
        scaled: Decimal | None = None
        factor = _scale(word)
        if factor is not None and following and following[2]:
            factor *= _scale(following[2]) or 1  # "1.5 lakh crore"
        if factor is not None:
            scaled = (value * factor).normalize()
        if after.lstrip().startswith("%") or per_cent or _is_percent(word):
            kind = "percentage"
        elif _CURRENCY_BEFORE.search(text[max(0, match.start() - 6) : match.start()]) or any(
            word.casefold().startswith(c) for c in _CURRENCY_AFTER
        ):
            kind = "amount"
        elif factor is not None:
            kind = "amount" if factor >= 10**5 else "number"
        elif _is_date(text, match, word, dates):
            kind = "date"
        found.append(Mention(match[0], value, scaled, kind))
    for word_match in _WORD.finditer(text):
        word = word_match[0].casefold()
        if word in NUMBER_WORDS or (
            word in ("a", "one") and _A_SCALE.match(text, word_match.end())
        ):
            value = Decimal(NUMBER_WORDS.get(word, 1))
            following = _NEXT_WORDS.match(text, word_match.end())
            factor = _scale(following[1]) if following else None
            scaled = (value * factor).normalize() if factor is not None else None
            large = factor is not None and factor >= 10**5
            found.append(Mention(word_match[0], value, scaled, "amount" if large else "number"))
    return found


def _is_date(text: str, match: regex.Match[str], word: str, dates: list[tuple[int, int]]) -> bool:
    if any(start <= match.start() < end for start, end in dates):
        return True
    if word.casefold().rstrip(".") in MONTH_NUMBER:
        return True
    before = _WORD.findall(text[max(0, match.start() - 12) : match.start()])
    if before and before[-1].casefold().rstrip(".") in MONTH_NUMBER:
        return True
    return len(match[0]) == 4 and match[0].isdigit() and 1900 <= int(match[0]) <= 2099


def months(text: str) -> set[int]:
    """Month numbers named in words in ``text`` ("March", "मार्च" -> 3)."""
    return {
        MONTH_NUMBER[w] for w in (m.casefold() for m in _WORD.findall(text)) if w in MONTH_NUMBER
    }
