"""Filling a budget from an article's scored sentences (``scoring``): the set of whole
sentences that best fills it (``select.best_subset``: score x length, no near-duplicates,
shown in article order), any room left filled best first, and when nothing whole fits the
strongest sentence trimmed of its asides or cut at a word with "…".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from bot.summarise.candidates import candidate_sentences
from bot.summarise.scoring import ScoreWeights, Sentence, score_sentences, with_predecessors
from bot.summarise.select import POOL, best_subset
from bot.textfit import fit_text

Measure = Callable[[str], int]

_INDEX = attrgetter("index")  # sentences in article order


@dataclass(frozen=True)
class Ranked:
    """An article's sentences, scored once: what every budget is then filled from."""

    top: tuple[Sentence, ...]  # sentences worth using, best first
    conflicts: tuple[int, ...]  # per top[:POOL] entry: bit mask of its near-duplicates
    strongest: Sentence | None  # trimmed or cut with "…" when no whole sentence fits
    redundancy: float = 0.0  # the share of shared content words that makes two clash
    # Per top entry, the bit mask of the top entries it clashes with (``_clashes``),
    # worked out when first asked: every budget asks about the same few sentences.
    clashes: list[int | None] = field(default_factory=list, compare=False)


def rank(text: str, *, lang: str | None, title: str, weights: ScoreWeights) -> Ranked:
    sentences = with_predecessors(
        score_sentences(candidate_sentences(text, lang), title, lang, weights)
    )
    if not sentences:
        return Ranked((), (), None)
    floor = weights.min_share * max(s.score for s in sentences)
    top = sorted((s for s in sentences if s.score >= floor), key=lambda s: (-s.score, s.index))
    pool = top[:POOL]
    redundancy = weights.redundancy
    return Ranked(
        top=tuple(top),
        conflicts=tuple(clash_mask(pool, i, redundancy) for i in range(len(pool))),
        strongest=max(sentences, key=lambda s: (s.score, -s.index)),
        redundancy=redundancy,
        clashes=[None] * len(top),
    )


def clash_mask(sentences: Sequence[Sentence], position: int, redundancy: float) -> int:
    """Bit mask of the other ``sentences`` whose ``overlap`` with the one at ``position``
    exceeds ``redundancy`` (``overlap`` written out: this is asked of many pairs)."""
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


def _clashes(ranked: Ranked, position: int) -> int:
    """``clash_mask`` of ``ranked.top[position]`` over all of ``ranked.top``, remembered
    for the article (a race only computes the same mask twice)."""
    mask = ranked.clashes[position]
    if mask is None:
        mask = ranked.clashes[position] = clash_mask(ranked.top, position, ranked.redundancy)
    return mask


def fill(ranked: Ranked, budget: int, measure: Measure) -> str:
    """Whole sentences within budget, else the strongest sentence trimmed or cut to fit."""
    measure = remembered(measure)
    return whole_sentences(ranked, budget, measure) or shortened(ranked, budget, measure)


def whole_sentences(ranked: Ranked, budget: int, measure: Measure) -> str:
    """The set of whole sentences that best fills ``budget``, in article order.

    The knapsack over the best-scored sentences, then any leftover room filled best first;
    should a measure not add up over a space-joined text, the plain best-first fill.
    The callers pass ``measure`` remembering its answers (``remembered``): the knapsack
    and the fill measure the same sentences.
    """
    if ranked.strongest is None:
        return ""
    best = best_subset(ranked.top[:POOL], ranked.conflicts, budget, measure)
    chosen, spent = _select(ranked, POOL, budget, measure, best)
    length = measure(join(chosen))
    if length != spent:  # the parts did not add up: measure every join
        chosen, length = _select(ranked, POOL, budget, measure, best, additive=False)
    if length > budget:
        chosen, _ = _select(ranked, 0, budget, measure, [], additive=False)
    return join(chosen)


def shortened(ranked: Ranked, budget: int, measure: Measure) -> str:
    """Nothing whole fits: a good sentence without its asides, else the strongest one cut."""
    for sentence in ranked.top[:POOL]:
        if sentence.short != sentence.text and measure(sentence.short) <= budget:
            return sentence.short
    return fit_text(ranked.strongest.short, budget, measure) if ranked.strongest else ""


def _select(
    ranked: Ranked,
    start: int,
    budget: int,
    measure: Measure,
    chosen: Sequence[int],
    *,
    additive: bool = True,
) -> tuple[list[Sentence], int]:
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
    spent = measure(join(sentences)) if sentences else 0
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
            length = measure(join(trial))
            joining = length - spent - cost
        if length <= budget:
            sentences, spent, taken = trial, length, taken | 1 << position
    return sentences, spent


def overlap(a: Sentence, b: Sentence) -> float:
    if a.index == b.index:
        return 1.0  # a sentence and the unit it starts (``with_predecessors``) never pair
    smaller = min(len(a.words), len(b.words))
    return len(a.words & b.words) / smaller if smaller else 0.0


def join(sentences: Sequence[Sentence]) -> str:
    return " ".join(s.text for s in sentences)


def remembered(measure: Measure) -> Measure:
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
