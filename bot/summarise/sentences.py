"""Rule-based sentence splitting for English, Hindi, Tamil and Telugu (no model downloads).

A boundary is a terminator (". ! ? । ॥", CJK "。！？") plus any closing quotes or brackets,
followed by whitespace (dandas and CJK need none). A full stop is *not* a boundary after a
title ("Dr."), a fixed Latin abbreviation ("e.g."), an acronym ("U.S."), an initial ("J."),
a Tamil/Telugu/Hindi initial ("மு.க.", "వై.ఎస్."), a numbered-list marker, or when the next
word starts in lower case. Ellipses never end a sentence inside a paragraph. Decimals and
URLs are safe because their dots are not followed by whitespace.
"""

from __future__ import annotations

import regex

from bot.textfit import grapheme_count

_TERMINATOR = regex.compile(r"(?:\.{3,}|…|[.!?]+|[।॥]+|[。！？]+)[\"'”’»›)\]}]*")
_PARAGRAPHS = regex.compile(r"\n\s*\n")
_ACRONYM = regex.compile(r"^(?:\p{L}\.)+\p{L}?$")
_INDIC = regex.compile(r"^[\p{Devanagari}\p{Tamil}\p{Telugu}]+$")
_LEADING_PUNCT = regex.compile(r"^[\"'“‘«‹(\[{]+")
_LOOK = 16  # characters read after a mark for the next word's first letter
_OPENERS = ("", *"\"'“‘«‹([{")  # what ``_LEADING_PUNCT`` strips, one at a time

# Titles before a name: the full stop never ends a sentence.
_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "st", "gen", "gov", "sen", "rep", "lt", "col",
        "capt", "cpt", "sgt", "maj", "adm", "hon", "rev", "pres", "supt", "insp", "smt",
        "shri", "sh", "messrs", "mme", "mlle", "cmdr", "brig", "fr",
    }
)  # fmt: skip
# Latin-style abbreviations that are followed by more of the same sentence.
_INFIX = frozenset(
    {"eg", "ie", "vs", "cf", "viz", "approx", "incl", "esp", "ca", "al", "resp", "ref"}
)
# Abbreviations that precede a number: "No. 5", "Rs. 500", "Fig. 3", "Jan. 12".
_BEFORE_NUMBER = frozenset(
    {
        "no", "nos", "fig", "figs", "vol", "pp", "p", "ch", "sec", "art", "rs", "re", "inr",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "op", "ed", "pt", "km", "kg",
    }
)  # fmt: skip
# Same idea in Indian scripts ("डॉ." Dr, "प्रो." Prof, "திரு." Mr, "డా." Dr).
_INDIC_TITLES: dict[str, frozenset[str]] = {
    "hi": frozenset({"डॉ", "प्रो", "श्री", "सुश्री", "श्रीमती", "कु", "मो", "पं", "ई"}),
    "ta": frozenset({"திரு", "திருமதி", "டாக்டர்", "பேரா", "செல்வி"}),
    "te": frozenset({"డా", "శ్రీ", "శ్రీమతి", "ప్రొ", "కు"}),
}
_ALL_INDIC_TITLES = frozenset().union(*_INDIC_TITLES.values())


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Sentences of ``text`` in order, trimmed; blank lines always separate sentences.

    ``lang`` ("en", "hi", "ta", "te"…) narrows the Indian-script titles consulted; with
    None every known title applies.
    """
    titles = _INDIC_TITLES.get((lang or "").split("-")[0].lower(), _ALL_INDIC_TITLES)
    out: list[str] = []
    for paragraph in _PARAGRAPHS.split(text):
        out.extend(_split_paragraph(" ".join(paragraph.split()), titles))
    return out


def _split_paragraph(paragraph: str, titles: frozenset[str]) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _TERMINATOR.finditer(paragraph):
        end = match.end()
        if _is_boundary(paragraph, match, titles):
            sentence = paragraph[start:end].strip()
            if sentence:
                sentences.append(sentence)
            start = end
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _is_boundary(paragraph: str, match: regex.Match[str], titles: frozenset[str]) -> bool:
    """Does ``match`` (a terminator) end a sentence? ``paragraph`` is one line, trimmed,
    with single spaces between words (as ``_split_paragraph`` gets it), so the text around
    the mark is read from a few characters each side: a long paragraph has many marks."""
    mark = match.group().rstrip("\"'”’»›)]}")
    end = match.end()
    if mark[0] in "।॥。！？" or end >= len(paragraph):
        return True
    if paragraph[end] != " ":
        return False  # "3.5", "example.com/x.html", "Yahoo!Inc"
    following = paragraph[end + 1 : end + 1 + _LOOK]
    first = following[:1]
    if first in _OPENERS:  # (and "" for nothing): past the opening quotes and brackets
        first = _LEADING_PUNCT.sub("", following)[:1]
    if not first and end + 1 + _LOOK < len(paragraph):  # a long run of quotes and brackets
        first = _LEADING_PUNCT.sub("", paragraph[end + 1 :])[:1]
    if first.islower() or mark.startswith("...") or mark == "…":
        return False  # "approx. five", "“Why?” he asked.", "Wait... what"
    return mark != "." or not _is_abbreviation(paragraph, match.start(), first, titles)


def _is_abbreviation(paragraph: str, stop: int, next_char: str, titles: frozenset[str]) -> bool:
    """Is the word right before the full stop at ``stop`` an abbreviation rather than a
    sentence end?"""
    if stop == 0 or paragraph[stop - 1] == " ":
        return False  # "diagnosed ." (spaced full stop) ends a sentence
    space = paragraph.rfind(" ", 0, stop)  # the last word, and whether it is the first
    token = paragraph[space + 1 : stop]
    if token[:1] in _OPENERS:
        token = _LEADING_PUNCT.sub("", token)
    bare = token.replace(".", "").lower()
    last_part = token.split(".")[-1]
    return bool(bare) and (
        bare in _TITLES
        or bare in _INFIX
        or (bare in _BEFORE_NUMBER and next_char.isdigit())
        or (_may_be_acronym(token) and bool(_ACRONYM.match(token + ".")))  # "U.S.", "J."
        or (token.isdigit() and len(token) <= 2 and space < 0)  # "1. " list marker
        or token in titles
        # A Tamil/Telugu/Hindi initial is one or two graphemes: "க", "మ", "ఎస్".
        or (
            not last_part.isascii()
            and bool(_INDIC.match(last_part))
            and grapheme_count(last_part) <= 2
        )
    )


def _may_be_acronym(token: str) -> bool:
    """Could ``token`` + "." be letters each followed by a full stop (``_ACRONYM``)?
    The quick test before the regex: one character, or a full stop second."""
    return len(token) == 1 or token[1:2] == "."
