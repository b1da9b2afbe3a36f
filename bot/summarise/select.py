"""Choosing whole sentences for one budget, and trimming a sentence when nothing else fits.

Per budget the summariser solves a small knapsack instead of truncating one ranking: among
the best-scored sentences it takes the set, free of near-duplicates, that maximises
score x length within the budget (an estimate of how much of the story the post carries),
so a 200-character post is not left half empty because the next-ranked sentence was long.
Trimming drops only whole pieces (a parenthetical, a trailing "…, police said."), so it
can never split a word, URL or grapheme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Protocol

import regex

Measure = Callable[[str], int]

# The knapsack looks at this many best-scored sentences (2**POOL subsets at most, pruned
# to the cost/value frontier); the rest can still fill leftover room, best first.
POOL = 10

# A short aside in brackets after a word: "(WADA)", "(3 metres)". Never one holding a URL.
_PARENTHETICAL = regex.compile(r"\s+\((?![^()]*(?:://|www\.))[^()]{1,40}\)(?=[\s.,;:!?]|$)")
# A trailing attribution after a comma: "…, police said." / "…, according to the report."
# Not after a closing quote, where the quote would be left without its speaker.
_ATTRIBUTION = regex.compile(
    r"(?<![\"'’”]),\s+(?:according to\s+[^,.;:!?\"'“”]{2,60}"
    r"|(?:\S+\s+){0,5}?(?:said|says|told|added)(?:\s+[^,.;:!?\"'“”]{0,40})?)\.$"
)
_LETTERED = regex.compile(r"\p{L}[\p{L}\p{M}]*")
_COST, _WORTH = itemgetter(0), itemgetter(1)  # of a knapsack state (cost, worth, mask)


class Candidate(Protocol):
    """What selection needs of a scored sentence."""

    @property
    def index(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...


def trimmed(sentence: str) -> str:
    """A shorter ``sentence`` without its parentheticals and trailing attribution.

    Returns ``sentence`` itself when there is nothing to trim or too little would be left.
    """
    short: str = _ATTRIBUTION.sub(".", _PARENTHETICAL.sub("", sentence))
    return short if len(_LETTERED.findall(short)) >= 3 else sentence


def best_subset(
    pool: Sequence[Candidate],
    conflicts: Sequence[int],
    budget: int,
    measure: Measure,
) -> list[int]:
    """Indexes into ``pool`` of the set maximising sum(score x measure) within ``budget``.

    ``conflicts[i]`` is a bit mask of the pool entries too similar to entry ``i`` to go
    with it. Sentences are joined by one space; costs are summed, which every platform
    measure satisfies for text joined at a space (the caller checks the joined text).
    """
    separator = measure(" ")
    costs = [measure(candidate.text) for candidate in pool]
    fitting = [i for i, cost in enumerate(costs) if cost <= budget]
    everything = sum(1 << i for i in fitting)
    if (
        fitting
        and sum(costs[i] for i in fitting) + separator * (len(fitting) - 1) <= budget
        and all(pool[i].score * costs[i] > 0 and not conflicts[i] & everything for i in fitting)
    ):
        return fitting  # all of them fit, none clashes, each adds worth: nothing to choose
    if separator < 0 or any(costs[i] < 0 or pool[i].score * costs[i] < 0 for i in fitting):
        return _frontier_search(pool, conflicts, budget, costs, separator)
    return _pruned_search(pool, conflicts, budget, costs, separator)


def _frontier_search(
    pool: Sequence[Candidate],
    conflicts: Sequence[int],
    budget: int,
    costs: Sequence[int],
    separator: int,
) -> list[int]:
    """The knapsack as defined: a frontier of (cost, worth, chosen mask) states, each
    entry in turn grown onto every state it does not clash with, and states both dearer
    and worth no more than another dropped (``_pareto``)."""
    frontier: list[tuple[int, float, int]] = [(0, 0.0, 0)]
    for position, candidate in enumerate(pool):
        cost = costs[position]
        if cost > budget:
            continue
        value = candidate.score * cost
        grown = [
            (spent + cost + (separator if mask else 0), worth + value, mask | 1 << position)
            for spent, worth, mask in frontier
            if not mask & conflicts[position]
            and spent + cost + (separator if mask else 0) <= budget
        ]
        frontier = _pareto(frontier + grown)
    best = max(frontier, key=lambda state: (state[1], -state[0]))
    return [i for i in range(len(pool)) if best[2] >> i & 1]


def _pruned_search(
    pool: Sequence[Candidate],
    conflicts: Sequence[int],
    budget: int,
    costs: Sequence[int],
    separator: int,
) -> list[int]:
    """``_frontier_search``'s answer, found faster when no cost, worth or separator is
    negative (tests/test_fast_paths.py compares the two).

    Then the frontier, ordered by cost, has costs and worths both strictly rising, and so
    do the states grown from it: the two are merged in one pass instead of sorted. And a
    state that, with all it could still add, cannot reach the worth of the best state so
    far is dropped: it never becomes the best, nor could it have pushed out anything that
    does (what it pushes out is worth no more for no less, so cannot reach it either).
    "All it could still add" is bounded twice: the worth of every entry left, and the
    best score left times the room left; with a margin far above rounding errors.
    """
    fitting = [i for i, cost in enumerate(costs) if cost <= budget]
    # What the entries after each step could still add: their worth, their best score.
    still = [0.0] * (len(fitting) + 1)
    best_score = [0.0] * (len(fitting) + 1)
    for step in range(len(fitting) - 1, -1, -1):
        candidate = pool[fitting[step]]
        still[step] = still[step + 1] + candidate.score * costs[fitting[step]]
        best_score[step] = max(best_score[step + 1], candidate.score)
    # States are (cost, -worth, mask): sorted as they come, they are in ``_pareto``'s
    # order (cost; then more worth first; then the older state, whose mask is smaller).
    states: list[tuple[int, float, int]] = [(0, -0.0, 0)]
    for step, position in enumerate(fitting):
        cost, clashes, bit = costs[position], conflicts[position], 1 << position
        value = pool[position].score * cost
        grown = [
            (spent + cost + (separator if mask else 0), unworth - value, mask | bit)
            for spent, unworth, mask in states
            if not mask & clashes and spent + cost + (separator if mask else 0) <= budget
        ]
        if not grown:
            continue
        # Worth rises along both lists: the best state is the last of one of them.
        floor = -min(states[-1][1], grown[-1][1])
        floor -= 1e-9 * (abs(floor) + 1.0)
        most, score = still[step + 1] - floor, best_score[step + 1]
        kept: list[tuple[int, float, int]] = []
        lowest = math.inf
        for state in sorted(states + grown):
            unworth = state[1]
            if unworth < lowest:  # worth more than every cheaper state: on the frontier
                lowest = unworth
                if unworth <= most and score * (budget - state[0]) - unworth >= floor:
                    kept.append(state)  # and it can still catch up with the best
        states = kept
    return [i for i in fitting if states[-1][2] >> i & 1]


def _pareto(states: list[tuple[int, float, int]]) -> list[tuple[int, float, int]]:
    kept: list[tuple[int, float, int]] = []
    # Cost ascending, then worth descending, ties in the order given: two stable sorts
    # with C keys (a Python key function per state was most of the knapsack's time).
    states = sorted(states, key=_WORTH, reverse=True)
    states.sort(key=_COST)
    for state in states:
        if not kept or state[1] > kept[-1][1]:
            kept.append(state)
    return kept
