"""Which of an article's sentences are worth scoring, and which lean on the one before.

Feeds leak furniture into article text: bylines and timestamps, wire datelines
("WASHINGTON (Reuters) - "), headings without a full stop, "(pictured)" pointers at
images the post will not show, and halves of a quotation the splitter cut in two. They are
left out here, before any scoring, unless nothing else is left.
"""

from __future__ import annotations

import re

import regex

from bot.summarise.sentences import split_sentences
from bot.summarise.text import is_boilerplate

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_COMPLETE = regex.compile(r"[.!?…।॥。！？][\"'”’»›)\]]*$")  # what ``ends_complete`` tells
_STOP_TUPLE = tuple(".!?…।॥。！？")
_CLOSERS = "\"'”’»›)]"
_LETTERS = regex.compile(r"\p{L}")
# "injuries ." / "word ," come from inline tags closed after a space: glue them back.
_SPACE_BEFORE_PUNCT = regex.compile(r"(?<=[\p{L}\p{M}\p{N}])\s+([.,;:!?।॥])(?=\s|$)")
# What ``_SPACE_BEFORE_PUNCT`` needs, for the quick test that skips most sentences.
_SPACED_PUNCT = re.compile(r"\s[.,;:!?।॥]")
# "(CNN) -- ", "WASHINGTON (Reuters) - ", "NEW DELHI: ": wire-copy datelines add nothing.
_DATELINE = regex.compile(
    r"^(?:\p{Lu}[\p{Lu}\p{M} .,'-]{1,40}\s*)?\((?:\p{Lu}[\p{L}.]{1,15})\)\s*(?:--|[-–—:])\s+"
    r"|^\p{Lu}[\p{Lu} .'-]{2,30}(?:,\s*\p{Lu}[\p{L} .]{2,30})?\s*(?:--|[–—:])\s+"
)
# "By Jane Doe for MailOnline .", "UPDATED: 15:36 EST, 25 October 2013": no lower-case words.
_BYLINE = regex.compile(
    r"^(?:by|updated|published|posted|last updated)\b[\s:.]*"
    r"(?:[\p{Lu}\d|:.,-]\S*\s*|(?:for|and|at|on)\s+)*$",
    regex.IGNORECASE,
)


# Openings that lean on the sentence before ("But …", "So …", "For example, …"): out of
# context they read as a non sequitur, so such a sentence only goes with its predecessor.
_DEPENDENT = regex.compile(
    r"^[\"'“‘]?(?:(?:and|but|so|or|yet|also|then|still|however|meanwhile|instead|moreover"
    r"|furthermore|therefore|thus|hence|besides|oh|otherwise)\b(?!-)"
    r"|for (?:example|instance)\b|in (?:addition|contrast)\b|on the other hand\b"
    r"|लेकिन|मगर|इसलिए|हालांकि|वहीं|ஆனால்|எனவே|மேலும்|కానీ|అయితే|అందువల్ల)",
    regex.IGNORECASE,
)
# "(pictured)", "(left)", "(file photo)": pointers at images a post does not carry.
_PHOTO_REFERENCE = regex.compile(
    r"\s+\((?:(?:pictured|seen|shown)(?:\s+(?:left|right|centre|center|above|below|top"
    r"|bottom|here|together|second (?:left|right)|far (?:left|right)))?|left|right|centre"
    r"|center|above|below|top|bottom|inset|file (?:photo|picture|image)|फाइल फोटो|फ़ाइल फ़ोटो"
    r"|फोटो|तस्वीर|கோப்புப் படம்|படம்|ఫైల్ ఫోటో|ఫోటో)\)(?=[\s.,;:!?'\"’”]|$)",
    regex.IGNORECASE,
)


def candidate_sentences(text: str, lang: str | None) -> list[str]:
    """The sentences of ``text`` worth scoring: no bylines, datelines, headings, photo
    pointers or half quotations, unless nothing else is left."""
    sentences = [
        drop_photo_references(_SPACE_BEFORE_PUNCT.sub(r"\1", s) if _SPACED_PUNCT.search(s) else s)
        for s in split_sentences(text, lang)
    ]
    real = [s for s in sentences if not _is_furniture(s)] or sentences
    # Headings, list items and "Sale:" lead-ins have no full stop: use them only as a last resort.
    real = [s for s in real if ends_complete(s)] or real
    # Half of a quotation split across sentences ('"It is not cheap.') reads as a fragment.
    real = [s for s in real if _quotes_balanced(s)] or real
    if real:
        real[0] = _DATELINE.sub("", real[0]) or real[0]
    return real


def ends_complete(sentence: str) -> bool:
    """Does ``sentence`` end with a full stop (or "!", "?", "।"…), then only closing quotes
    or brackets? ``_COMPLETE.search`` without scanning the sentence for it: its "$" also
    matches before a final line break."""
    stops = _STOP_TUPLE
    if sentence.rstrip(_CLOSERS).endswith(stops):
        return True
    return sentence.endswith("\n") and sentence[:-1].rstrip(_CLOSERS).endswith(stops)


def _quotes_balanced(sentence: str) -> bool:
    return sentence.count('"') % 2 == 0 and sentence.count("“") == sentence.count("”")


def _is_furniture(sentence: str) -> bool:
    """Bylines, timestamps, fragments like "By ." and inline "Also read: …" that feeds leak."""
    return (
        not (_opens_on_three_words(sentence) or _has_lettered_words(sentence, 3))
        or bool(_BYLINE.match(sentence))
        or is_boilerplate(sentence)
    )


def _opens_on_three_words(sentence: str) -> bool:
    """Do the first three space-separated pieces of ``sentence`` each hold one word of
    ASCII letters, punctuation aside? Then it has three words with a letter in them
    (``_has_lettered_words``), as most sentences do, told without a regex."""
    pieces = sentence.split(None, 3)
    if len(pieces) < 3:
        return False
    for piece in pieces[:3]:
        core = piece.strip(_PUNCTUATION)
        if not (core.isascii() and core.isalpha()):
            return False
    return True


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»—–…"  # none is a letter, mark or digit


def _has_lettered_words(sentence: str, wanted: int) -> bool:
    """Does ``sentence`` have ``wanted`` words with a letter in them? Stops once it has."""
    for word in _WORD.finditer(sentence):
        if _LETTERS.search(word.group()):
            wanted -= 1
            if wanted == 0:
                return True
    return False


def drop_photo_references(sentence: str) -> str:
    """``sentence`` without "(pictured)"-style pointers at images the post will not show."""
    if "(" not in sentence:
        return sentence
    cleaned: str = _PHOTO_REFERENCE.sub("", sentence)
    return cleaned


def leans_on_previous(sentence: str) -> bool:
    """Does ``sentence`` open on "But", "So", "For example", "लेकिन", "ஆனால்", "కానీ"…?"""
    return bool(_DEPENDENT.match(sentence))
