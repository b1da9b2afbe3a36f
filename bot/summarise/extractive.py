"""Classic extractive summaries that fit a platform's budget, measured its own way.

Candidates: whole article sentences, scored once per article (a gentle lead-position
prior, term-frequency centrality, overlap with the title), then chosen per budget as the
set that best fills it (``select.best_subset``: score x length, no near-duplicates, shown
in article order); the feed's own excerpt or the page's og:description (an editor's
summary, unless it is just the article's opening cut off with "[…]"), which competes
with them but wins only when it says about as much (``TEASER_SHARE``); and, when neither
has a whole sentence that fits, the best sentence trimmed of its asides
(``select.trimmed``) or, failing that, cut at a word boundary with "…". Pure and
deterministic.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import regex

from bot.models import Article
from bot.summarise.candidates import candidate_sentences, ends_complete, leans_on_previous
from bot.summarise.select import POOL, best_subset, trimmed
from bot.summarise.sentences import split_sentences
from bot.summarise.stopwords import ALL_STOPWORDS, STOPWORDS
from bot.summarise.text import clean_paragraphs, html_to_text, split_truncation
from bot.textfit import fit_text

Measure = Callable[[str], int]

# An editor's summary is preferred over picked sentences, but a 32-character teaser must not
# replace 400 characters of article: it wins only when it is at least this share of the
# length the article's own sentences would fill within the same budget.
TEASER_SHARE = 0.8

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")  # ``_WORD`` in ASCII text, found faster
_COMPLETE = regex.compile(r"[.!?…।॥。！？][\"'”’»›)\]]*$")
_INDEX = attrgetter("index")  # sentences in article order


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
class _Sentence:
    index: int
    text: str
    words: frozenset[str]
    score: float

    @functools.cached_property
    def short(self) -> str:
        """``text`` trimmed of asides, for when nothing whole fits; else ``text``.

        Asked for a few sentences only, so worked out on first use."""
        return trimmed(self.text)


@dataclass(frozen=True)
class _Ranked:
    """An article's sentences, scored once: what every budget is then filled from."""

    top: tuple[_Sentence, ...]  # sentences worth using, best first
    conflicts: tuple[int, ...]  # per top[:POOL] entry: bit mask of its near-duplicates
    strongest: _Sentence | None  # trimmed or cut with "…" when no whole sentence fits
    redundancy: float = 0.0  # the share of shared content words that makes two clash
    # Per top entry, the bit mask of the top entries it clashes with (``_clashes``),
    # worked out when first asked: every budget asks about the same few sentences.
    clashes: list[int | None] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class _Analysis:
    """Everything ``summarise`` derives from an article before it sees a budget."""

    excerpt: tuple[str, ...]  # the editor's own summary, in sentences; () when none
    excerpt_complete: int  # how many of its sentences lead before the first cut-short one
    ranked: _Ranked


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
        measure = _remembered(measure)
        whole = _whole_sentences(analysis.ranked, budget, measure)
        if analysis.excerpt:
            teaser = _leading_fit(analysis.excerpt, budget, measure, analysis.excerpt_complete)
            if teaser and measure(teaser) >= TEASER_SHARE * (measure(whole) if whole else 0):
                return teaser
        return whole or _shortened(analysis.ranked, budget, measure)

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
        ranked = _rank(body, lang=article.lang, title=article.title, weights=self.weights)
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
    return _fill(_rank(text, lang=lang, title=title, weights=weights), budget, measure)


def _rank(text: str, *, lang: str | None, title: str, weights: ScoreWeights) -> _Ranked:
    sentences = _with_predecessors(_score(candidate_sentences(text, lang), title, lang, weights))
    if not sentences:
        return _Ranked((), (), None)
    floor = weights.min_share * max(s.score for s in sentences)
    top = sorted((s for s in sentences if s.score >= floor), key=lambda s: (-s.score, s.index))
    pool = top[:POOL]
    redundancy = weights.redundancy
    return _Ranked(
        top=tuple(top),
        conflicts=tuple(_clash_mask(pool, i, redundancy) for i in range(len(pool))),
        strongest=max(sentences, key=lambda s: (s.score, -s.index)),
        redundancy=redundancy,
        clashes=[None] * len(top),
    )


def _clash_mask(sentences: Sequence[_Sentence], position: int, redundancy: float) -> int:
    """Bit mask of the other ``sentences`` whose ``_overlap`` with the one at ``position``
    exceeds ``redundancy`` (``_overlap`` written out: this is asked of many pairs)."""
    sentence = sentences[position]
    index, words = sentence.index, sentence.words
    size = len(words)
    mask = 0
    for other_position, other in enumerate(sentences):
        if other_position == position:
            continue
        if other.index == index:
            share = 1.0
        else:
            smaller = min(size, len(other.words))
            share = len(words & other.words) / smaller if smaller else 0.0
        if share > redundancy:
            mask |= 1 << other_position
    return mask


def _clashes(ranked: _Ranked, position: int) -> int:
    """``_clash_mask`` of ``ranked.top[position]`` over all of ``ranked.top``, remembered
    for the article (a race only computes the same mask twice)."""
    mask = ranked.clashes[position]
    if mask is None:
        mask = ranked.clashes[position] = _clash_mask(ranked.top, position, ranked.redundancy)
    return mask


def _with_predecessors(sentences: list[_Sentence]) -> list[_Sentence]:
    """A sentence opening on "But"/"लेकिन"/"ஆனால்" becomes one unit with the one before it.

    The predecessor alone stays a candidate; the unit overlaps it wholly, so the two are
    never chosen together. The unit's score is its parts' length-weighted mean, which keeps
    score x length additive for the knapsack.
    """
    out: list[_Sentence] = []
    for sentence in sentences:
        if out and leans_on_previous(sentence.text):
            out.append(_joined(out[-1], sentence))
        else:
            out.append(sentence)
    return out


def _joined(before: _Sentence, after: _Sentence) -> _Sentence:
    text = f"{before.text} {after.text}"
    score = (before.score * len(before.text) + after.score * len(after.text)) / len(text)
    return _Sentence(before.index, text, before.words | after.words, score)


def _fill(ranked: _Ranked, budget: int, measure: Measure) -> str:
    """Whole sentences within budget, else the strongest sentence trimmed or cut to fit."""
    measure = _remembered(measure)
    return _whole_sentences(ranked, budget, measure) or _shortened(ranked, budget, measure)


def _whole_sentences(ranked: _Ranked, budget: int, measure: Measure) -> str:
    """The set of whole sentences that best fills ``budget``, in article order.

    The knapsack over the best-scored sentences, then any leftover room filled best first;
    should a measure not add up over a space-joined text, the plain best-first fill.
    The callers pass ``measure`` remembering its answers (``_remembered``): the knapsack
    and the fill measure the same sentences.
    """
    if ranked.strongest is None:
        return ""
    best = best_subset(ranked.top[:POOL], ranked.conflicts, budget, measure)
    chosen, spent = _select(ranked, POOL, budget, measure, best)
    length = measure(_join(chosen))
    if length != spent:  # the parts did not add up: measure every join
        chosen, length = _select(ranked, POOL, budget, measure, best, additive=False)
    if length > budget:
        chosen, _ = _select(ranked, 0, budget, measure, [], additive=False)
    return _join(chosen)


def _shortened(ranked: _Ranked, budget: int, measure: Measure) -> str:
    """Nothing whole fits: a good sentence without its asides, else the strongest one cut."""
    for sentence in ranked.top[:POOL]:
        if sentence.short != sentence.text and measure(sentence.short) <= budget:
            return sentence.short
    return fit_text(ranked.strongest.short, budget, measure) if ranked.strongest else ""


def _remembered(measure: Measure) -> Measure:
    """``measure`` with its answers kept for the length of one call (measures are pure).
    A text asked again costs one dict look-up, without a Python call."""
    return _Answers(measure).__getitem__


class _Answers(dict[str, int]):
    """Text -> ``measure(text)``, each asked of ``measure`` once."""

    def __init__(self, measure: Measure) -> None:
        super().__init__()
        self.measure = measure

    def __missing__(self, text: str) -> int:
        found = self[text] = self.measure(text)
        return found


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
    excerpt_words = _WORD.findall(excerpt.casefold())[:-1]  # the last word may be cut
    return whole, bool(body) and _words_begin(body, excerpt_words)


def _words_begin(text: str, words: list[str]) -> bool:
    """Do ``text``'s (case-folded) words begin with ``words``? Reads no further than that."""
    found = [m.group() for m in itertools.islice(_WORD.finditer(text.casefold()), len(words))]
    return found == words


def _content_words(text: str, stopwords: frozenset[str]) -> list[str]:
    """The words of ``text`` that carry content, case-folded and singular."""
    table = _CONTENT_FORMS.get(stopwords)
    if table is None:
        table = _CONTENT_FORMS.setdefault(stopwords, _ContentForms(stopwords))
    folded = text.casefold()
    words = (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)
    return [form for form in map(table.__getitem__, words) if form]


class _ContentForms(dict[str, str]):
    """Case-folded word -> the form ``_content_words`` keeps ("" for none), learnt as
    words come: every article repeats its words, and a hit costs one dict look-up."""

    LIMIT = 1 << 16  # forgotten all at once beyond this many words

    def __init__(self, stopwords: frozenset[str]) -> None:
        super().__init__()
        self.stopwords = stopwords

    def __missing__(self, word: str) -> str:
        if word in self.stopwords or (len(word) <= 1 and word.isascii()):
            form = ""
        else:
            form = _singular(word)
        if len(self) >= self.LIMIT:
            self.clear()
        self[word] = form
        return form


class _ContentFormTables(dict[frozenset[str], _ContentForms]):
    """A ``_ContentForms`` per stop-word list; ``cache_clear`` as an lru_cache has."""

    def cache_clear(self) -> None:
        self.clear()


_CONTENT_FORMS = _ContentFormTables()


def _singular(word: str) -> str:
    """English plural folded to its singular ("logs" matches "log"); other words as they are."""
    if not word.isascii() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _score(
    texts: Sequence[str], title: str, lang: str | None, weights: ScoreWeights
) -> list[_Sentence]:
    stopwords = STOPWORDS.get((lang or "").split("-")[0].lower(), ALL_STOPWORDS)
    words = [_content_words(t, stopwords) for t in texts]
    distinct = [frozenset(ws) for ws in words]
    frequency: Counter[str] = Counter()
    for sentence_words in distinct:
        frequency.update(sentence_words)  # in how many sentences each word is
    title_words = set(_content_words(title, stopwords))
    raw_centrality = [
        sum(map(frequency.__getitem__, d)) / math.sqrt(len(ws)) if ws else 0.0
        for ws, d in zip(words, distinct, strict=True)
    ]
    top_centrality = max(raw_centrality, default=0.0) or 1.0
    out: list[_Sentence] = []
    for index, (text, d) in enumerate(zip(texts, distinct, strict=True)):
        position = 1.0 / (1.0 + weights.position_decay * index)
        centrality = raw_centrality[index] / top_centrality
        overlap = len(title_words & d) / len(title_words) if title_words else 0.0
        score = (
            weights.position * position + weights.centrality * centrality + weights.title * overlap
        )
        out.append(_Sentence(index, text, d, score))
    return out


def _select(
    ranked: _Ranked,
    start: int,
    budget: int,
    measure: Measure,
    chosen: Sequence[int],
    *,
    additive: bool = True,
) -> tuple[list[_Sentence], int]:
    """To the sentences at ``chosen`` positions of ``ranked.top``, add those from position
    ``start`` on, best first, while the joined text fits; the sentences (in article order)
    and the joined text's length.

    Measuring a long joined text is the costly part. A sentence clashing with one chosen
    (``_clashes``), or whose own length already overflows the room left, is skipped
    without measuring the join; with ``additive``, a sentence that fits is added without
    measuring the joined text, whose length is taken as the sum of the parts plus what
    joining added the first time (the same each time for every platform's count). The
    caller measures the result and, should the sum be wrong, selects again with
    ``additive=False``, which measures every joined text.
    """
    top = ranked.top
    sentences = sorted((top[position] for position in chosen), key=_INDEX)
    taken = sum(1 << position for position in chosen)
    spent = measure(_join(sentences)) if sentences else 0
    separator = measure(" ")
    joining: int | None = None  # what a join adds beyond its parts, once measured
    for position in range(start, len(top)):
        if taken and _clashes(ranked, position) & taken:
            continue  # a near-duplicate of one chosen: not even measured
        sentence = top[position]
        cost = measure(sentence.text)
        if spent + separator + cost > budget:
            continue
        trial = sorted([*sentences, sentence], key=_INDEX)
        if not sentences:
            length = cost
        elif additive and joining is not None and spent + cost + joining <= budget:
            length = spent + cost + joining
        else:
            length = measure(_join(trial))
            joining = length - spent - cost
        if length <= budget:
            sentences, spent, taken = trial, length, taken | 1 << position
    return sentences, spent


def _overlap(a: _Sentence, b: _Sentence) -> float:
    if a.index == b.index:
        return 1.0  # a sentence and the unit it starts (``_with_predecessors``) never pair
    smaller = min(len(a.words), len(b.words))
    return len(a.words & b.words) / smaller if smaller else 0.0


def _join(sentences: Sequence[_Sentence]) -> str:
    return " ".join(s.text for s in sentences)


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
    words: list[str] = _WORD.findall(other.casefold())
    found = [m.group() for m in itertools.islice(_WORD.finditer(text.casefold()), len(words) + 1)]
    return found == words
