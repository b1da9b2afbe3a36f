"""Scoring an article's sentences once, before any budget is seen: a gentle lead-position
prior, term-frequency centrality over content words (stop words dropped, English plurals
folded) and overlap with the title. ``ranking`` then fills every budget from the scores.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from bot.summarise.candidates import leans_on_previous
from bot.summarise.select import trimmed
from bot.summarise.stopwords import ALL_STOPWORDS, STOPWORDS

WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
ASCII_WORD = re.compile(r"[A-Za-z0-9]+")  # ``WORD`` in ASCII text, found faster


@dataclass(frozen=True)
class ScoreWeights:
    """How much each classic feature counts.

    News puts the point early, but not only in the first sentence: a gentle position prior
    with a strong centrality term beat a steep lead bias (tuned on the first 50 articles
    of the CNN/DailyMail sample, held out on the other 50; see bench/rouge.py).
    """

    position: float = 1.0
    centrality: float = 0.7
    title: float = 0.35
    position_decay: float = 0.1  # position score = 1 / (1 + decay * index)
    redundancy: float = 0.6  # skip a sentence sharing this share of content words
    min_share: float = 0.3  # never pad with sentences scoring below this share of the best


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    words: frozenset[str]
    score: float

    @functools.cached_property
    def short(self) -> str:
        """``text`` trimmed of asides, for when nothing whole fits; else ``text``.

        Asked for a few sentences only, so worked out on first use."""
        return trimmed(self.text)


def with_predecessors(sentences: list[Sentence]) -> list[Sentence]:
    """A sentence opening on "But"/"लेकिन"/"ஆனால்" becomes one unit with the one before it.

    The predecessor alone stays a candidate; the unit overlaps it wholly, so the two are
    never chosen together. The unit's score is its parts' length-weighted mean, which keeps
    score x length additive for the knapsack.
    """
    out: list[Sentence] = []
    for sentence in sentences:
        if out and leans_on_previous(sentence.text):
            out.append(_joined(out[-1], sentence))
        else:
            out.append(sentence)
    return out


def _joined(before: Sentence, after: Sentence) -> Sentence:
    text = f"{before.text} {after.text}"
    score = (before.score * len(before.text) + after.score * len(after.text)) / len(text)
    return Sentence(before.index, text, before.words | after.words, score)


def content_words(text: str, stopwords: frozenset[str]) -> list[str]:
    """The words of ``text`` that carry content, case-folded and singular."""
    table = CONTENT_FORMS.get(stopwords)
    if table is None:
        table = CONTENT_FORMS.setdefault(stopwords, _ContentForms(stopwords))
    folded = text.casefold()
    words = (ASCII_WORD if folded.isascii() else WORD).findall(folded)
    return [form for form in map(table.__getitem__, words) if form]


class _ContentForms(dict[str, str]):
    """Case-folded word -> the form ``content_words`` keeps ("" for none), learnt as
    words come: every article repeats its words, and a hit costs one dict look-up."""

    LIMIT = 1 << 16  # forgotten all at once beyond this many words

    def __init__(self, stopwords: frozenset[str]) -> None:
        super().__init__()
        self.stopwords = stopwords

    def __missing__(self, word: str) -> str:
        dropped = word in self.stopwords or (len(word) <= 1 and word.isascii())
        form = "" if dropped else singular(word)
        if len(self) >= self.LIMIT:
            self.clear()
        self[word] = form
        return form


class _ContentFormTables(dict[frozenset[str], _ContentForms]):
    """A ``_ContentForms`` per stop-word list; ``cache_clear`` as an lru_cache has."""

    def cache_clear(self) -> None:
        self.clear()


CONTENT_FORMS = _ContentFormTables()


def singular(word: str) -> str:
    """English plural folded to its singular ("logs" matches "log"); other words as they are."""
    if not word.isascii() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def score_sentences(
    texts: Sequence[str], title: str, lang: str | None, weights: ScoreWeights
) -> list[Sentence]:
    stopwords = STOPWORDS.get((lang or "").split("-")[0].lower(), ALL_STOPWORDS)
    words = [content_words(t, stopwords) for t in texts]
    distinct = [frozenset(ws) for ws in words]
    frequency: Counter[str] = Counter()
    for sentence_words in distinct:
        frequency.update(sentence_words)  # in how many sentences each word is
    title_words = set(content_words(title, stopwords))
    raw_centrality = [
        sum(map(frequency.__getitem__, d)) / math.sqrt(len(ws)) if ws else 0.0
        for ws, d in zip(words, distinct, strict=True)
    ]
    top_centrality = max(raw_centrality, default=0.0) or 1.0
    out: list[Sentence] = []
    for index, (text, d) in enumerate(zip(texts, distinct, strict=True)):
        position = 1.0 / (1.0 + weights.position_decay * index)
        centrality = raw_centrality[index] / top_centrality
        overlap = len(title_words & d) / len(title_words) if title_words else 0.0
        score = (
            weights.position * position + weights.centrality * centrality + weights.title * overlap
        )
        out.append(Sentence(index, text, d, score))
    return out
