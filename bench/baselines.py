"""The classic graph baselines for ``bench/rouge.py``: LexRank and TextRank, offline.

Both rank an article's sentences by centrality in a sentence-similarity graph and are
then filled into the budget exactly like every system in the bench (``fill_by_rank``):
walk the ranking best first, keep a sentence when the kept ones, joined in article order,
still fit; when no whole sentence fits, the best-ranked one cut at a word with "…".

- **LexRank** (Erkan & Radev 2004, the thresholded variant): each sentence a tf-idf
  vector of its words (tf = count in the sentence, idf = log(N / sentences containing
  the word) over the article's N sentences), an edge where cosine similarity > 0.1,
  each row normalised by its degree, scores by power iteration with damping 0.85. No
  self-loops (as in TextRank), so an unlinked sentence gets only the random-jump share;
  with them every sentence of a disconnected graph keeps 1/N (on the corpus sample the
  two differ by under 0.1 ROUGE-1).
- **TextRank** (Mihalcea & Tarau 2004): edge weight = words in common /
  (log |Si| + log |Sj|), scores by weighted PageRank with d = 0.85.

Words are lower-cased letter/digit runs without the language's stopwords (the same lists
our summariser uses); no stemming, as nothing here may download a model or a lexicon.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import regex

from bot.summarise.stopwords import ALL_STOPWORDS, STOPWORDS
from bot.textfit import fit_text

DAMPING = 0.85
LEXRANK_THRESHOLD = 0.1
_ITERATIONS = 100
_TOLERANCE = 1e-8
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")

Matrix = list[list[float]]


def words_of(sentence: str, lang: str | None) -> list[str]:
    """Content words of ``sentence``: lower-cased, the language's stopwords left out."""
    stopwords = STOPWORDS.get((lang or "").split("-")[0].lower(), ALL_STOPWORDS)
    return [w for w in _WORD.findall(sentence.casefold()) if w not in stopwords]


def lexrank_scores(sentences: Sequence[str], lang: str | None = None) -> list[float]:
    """Thresholded LexRank centrality of each sentence."""
    bags = [Counter(words_of(s, lang)) for s in sentences]
    count = len(bags)
    document_frequency = Counter(w for bag in bags for w in bag)
    idf = {w: math.log(count / df) for w, df in document_frequency.items()}
    vectors = [{w: tf * idf[w] for w, tf in bag.items()} for bag in bags]
    norms = [math.sqrt(sum(v * v for v in vector.values())) for vector in vectors]
    adjacency = [
        [
            1.0
            if i != j and _cosine(vectors[i], vectors[j], norms[i] * norms[j]) > LEXRANK_THRESHOLD
            else 0.0
            for j in range(count)
        ]
        for i in range(count)
    ]
    return _pagerank(adjacency)


def textrank_scores(sentences: Sequence[str], lang: str | None = None) -> list[float]:
    """TextRank centrality of each sentence (overlap normalised by log lengths)."""
    sets = [set(words_of(s, lang)) for s in sentences]
    lengths = [len(words_of(s, lang)) for s in sentences]
    weights = [
        [
            _textrank_similarity(sets[i], sets[j], lengths[i], lengths[j]) if i != j else 0.0
            for j in range(len(sets))
        ]
        for i in range(len(sets))
    ]
    return _pagerank(weights)


def _cosine(a: dict[str, float], b: dict[str, float], norms: float) -> float:
    if not norms:
        return 0.0
    return sum(weight * b.get(w, 0.0) for w, weight in a.items()) / norms


def _textrank_similarity(a: set[str], b: set[str], length_a: int, length_b: int) -> float:
    if length_a < 1 or length_b < 1:
        return 0.0
    denominator = math.log(length_a) + math.log(length_b)
    return len(a & b) / denominator if denominator > 0 else 0.0


def _pagerank(weights: Matrix) -> list[float]:
    """Weighted PageRank: s = (1 - d) / N + d * sum_j s_j * w_ji / sum_k w_jk."""
    count = len(weights)
    if not count:
        return []
    out_weight = [sum(row) for row in weights]
    scores = [1.0 / count] * count
    for _ in range(_ITERATIONS):
        updated = [
            (1 - DAMPING) / count
            + DAMPING
            * sum(scores[j] * weights[j][i] / out_weight[j] for j in range(count) if out_weight[j])
            for i in range(count)
        ]
        done = max(abs(x - y) for x, y in zip(updated, scores, strict=True)) < _TOLERANCE
        scores = updated
        if done:
            break
    return scores


def fill_by_rank(
    sentences: Sequence[str],
    scores: Sequence[float],
    budget: int,
    measure: Callable[[str], int] = len,
) -> str:
    """Best-ranked whole sentences that fit, in article order; else the best one cut."""
    if not sentences:
        return ""
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    for index in order:
        trial = sorted([*chosen, index])
        if measure(" ".join(sentences[i] for i in trial)) <= budget:
            chosen = trial
    if chosen:
        return " ".join(sentences[i] for i in chosen)
    return fit_text(sentences[order[0]], budget, measure)
