"""Classic extractive summaries that fit a platform's budget, measured its own way.

Candidates: whole article sentences, scored once per article (``scoring``: a gentle
lead-position prior, term-frequency centrality, overlap with the title), then chosen per
budget as the set that best fills it (``ranking``, ``select.best_subset``: score x length,
no near-duplicates, shown in article order); the feed's own excerpt or the page's
og:description (an editor's summary, unless it is just the article's opening cut off
with "[…]"), which competes with them but wins only when it says about as much
(``TEASER_SHARE``); and, when neither has a whole sentence that fits, the best sentence
trimmed of its asides (``select.trimmed``) or, failing that, cut at a word boundary
with "…". Pure and deterministic.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Article
from bot.summarise.candidates import ends_complete
from bot.summarise.ranking import (
    Measure,
    Ranked,
    fill,
    rank,
    remembered,
    shortened,
    whole_sentences,
)
from bot.summarise.scoring import WORD, ScoreWeights
from bot.summarise.sentences import split_sentences
from bot.summarise.text import clean_paragraphs, html_to_text, split_truncation

__all__ = ["TEASER_SHARE", "ExtractiveSummariser", "Measure", "ScoreWeights", "summarise_text"]

# An editor's summary is preferred over picked sentences, but a 32-character teaser must not
# replace 400 characters of article: it wins only when it is at least this share of the
# length the article's own sentences would fill within the same budget.
TEASER_SHARE = 0.8


@dataclass(frozen=True)
class _Analysis:
    """Everything ``summarise`` derives from an article before it sees a budget."""

    excerpt: tuple[str, ...]  # the editor's own summary, in sentences; () when none
    excerpt_complete: int  # how many of its sentences lead before the first cut-short one
    ranked: Ranked


class ExtractiveSummariser:
    """The ``Summariser`` that picks sentences from the article; no model, no I/O.

    Compose asks for one article's summary many times (every platform, every trial
    budget), so the per-article analysis (HTML to text, sentence split, scoring) is kept in
    a small LRU keyed by the article's content; only the fitting runs per call.
    """

    CACHE_SIZE = 16

    def __init__(self, weights: ScoreWeights | None = None) -> None:
        self.weights = weights or ScoreWeights()
        self._cache: OrderedDict[tuple[str, ...], _Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def summarise(self, article: Article, *, budget: int, measure: Measure = len) -> str:
        """Best summary of ``article`` whose ``measure`` is at most ``budget``; "" if none fits."""
        if budget <= 0:
            return ""
        analysis = self._analysis(article)
        # Remembered for this call: the knapsack, the fill and the teaser measure the same
        # sentences and joined texts again.
        measure = remembered(measure)
        whole = whole_sentences(analysis.ranked, budget, measure)
        if analysis.excerpt:
            teaser = _leading_fit(analysis.excerpt, budget, measure, analysis.excerpt_complete)
            if teaser and measure(teaser) >= TEASER_SHARE * (measure(whole) if whole else 0):
                return teaser
        return whole or shortened(analysis.ranked, budget, measure)

    def _analysis(self, article: Article) -> _Analysis:
        key = (article.content_hash, _digest(article.excerpt_html), article.lang or "")
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        analysis = self._analyse(article)
        with self._lock:
            self._cache[key] = analysis
            while len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
        return analysis

    def _analyse(self, article: Article) -> _Analysis:
        body = " \n\n".join(clean_paragraphs(html_to_text(article.content_html), normalised=True))
        excerpt, excerpt_is_lead = _excerpt(article.excerpt_html, body)
        sentences: tuple[str, ...] = ()
        if excerpt and not _same_words(excerpt, article.title):
            if not excerpt_is_lead:
                sentences = tuple(split_sentences(excerpt, article.lang))
            if not body:
                body = excerpt
        ranked = rank(body, lang=article.lang, title=article.title, weights=self.weights)
        return _Analysis(
            excerpt=sentences, excerpt_complete=_complete_run(sentences), ranked=ranked
        )


def summarise_text(
    text: str,
    *,
    budget: int,
    lang: str | None = None,
    title: str = "",
    measure: Measure = len,
    weights: ScoreWeights | None = None,
) -> str:
    """Summary of plain ``text`` (paragraphs split by blank lines) within ``budget``."""
    if budget <= 0:
        return ""
    weights = weights or ScoreWeights()
    return fill(rank(text, lang=lang, title=title, weights=weights), budget, measure)


@functools.lru_cache(maxsize=256)  # asked on every platform for the same excerpt
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _excerpt(excerpt_html: str, body: str) -> tuple[str, bool]:
    """The cleaned excerpt, and whether it is merely the body's opening cut short."""
    raw, truncated = split_truncation(html_to_text(excerpt_html))
    excerpt = " ".join(clean_paragraphs(raw, normalised=True))  # only its end was cut
    if not excerpt or not truncated:
        return excerpt, False
    # A cut-short excerpt ends inside a sentence: keep only its whole sentences.
    sentences = split_sentences(excerpt)
    if sentences and not ends_complete(sentences[-1]):
        sentences = sentences[:-1]
    whole = " ".join(sentences)
    excerpt_words = WORD.findall(excerpt.casefold())[:-1]  # the last word may be cut
    return whole, bool(body) and _words_begin(body, excerpt_words)


def _words_begin(text: str, words: list[str]) -> bool:
    """Do ``text``'s (case-folded) words begin with ``words``? Reads no further than that."""
    found = [m.group() for m in itertools.islice(WORD.finditer(text.casefold()), len(words))]
    return found == words


def _leading_fit(
    sentences: Sequence[str], budget: int, measure: Measure, complete: int | None = None
) -> str:
    """All of ``sentences`` if they fit, else the longest run of leading complete ones, or "".

    ``complete``: ``_complete_run(sentences)``, when known. Platform measures only grow as
    text is appended, so runs of 1, 2, 4… sentences are measured until one does not fit,
    then the longest that does is found by bisection; and the whole text can only fit
    when its run of complete sentences does. A long excerpt and a short budget thus cost
    a few short measurements, not one of the whole excerpt.
    """
    complete = _complete_run(sentences) if complete is None else complete
    fitting, too_many, best = 0, complete + 1, ""
    size = 1
    while size <= complete:  # gallop
        candidate = " ".join(sentences[:size])
        if measure(candidate) > budget:
            too_many = size
            break
        fitting, best = size, candidate
        if size == complete:
            break
        size = min(size * 2, complete)
    lo, hi = fitting + 1, too_many - 1
    while lo <= hi:  # bisect between the last run that fit and the first that did not
        mid = (lo + hi) // 2
        candidate = " ".join(sentences[:mid])
        if measure(candidate) <= budget:
            fitting, best, lo = mid, candidate, mid + 1
        else:
            hi = mid - 1
    if fitting == complete:
        whole = " ".join(sentences)
        if whole != best and measure(whole) <= budget:
            return whole
    return best


def _complete_run(sentences: Sequence[str]) -> int:
    """How many of ``sentences`` come before the first one cut short (no full stop)."""
    return next((i for i, s in enumerate(sentences) if not ends_complete(s)), len(sentences))


def _same_words(text: str, other: str) -> bool:
    """Are the (case-folded) words of ``text`` those of ``other``? A long excerpt is told
    from a short title at the first word past the title's."""
    words: list[str] = WORD.findall(other.casefold())
    found = [m.group() for m in itertools.islice(WORD.finditer(text.casefold()), len(words) + 1)]
    return found == words
