"""ROUGE-1/2/L of the extractive summariser against the Lead baseline, at 200 and 500 chars.

Run from the repo: ``python bench/rouge.py``. Reads the third-party CNN/DailyMail sample
beside the repo (../shared/corpus/summaries); exits 0 with a message when it is absent.

ROUGE here is the classic F1 (Lin 2004): lowercase, tokens are ``\\w+`` runs, ROUGE-N on
clipped n-gram counts, ROUGE-L on the longest common subsequence, no stemming. The Lead
baseline is the article's leading whole sentences that fit the budget (same splitter).
For reference only, "lead-cut" is the article's opening cut at a word boundary with "…"
(a stronger baseline at small budgets, where Lead is often empty). On ASCII tokens this
ROUGE equals Google's ``rouge-score`` (use_stemmer=False); they differ only on "_" and
non-ASCII letters, which ``rouge-score`` drops.
"""

from __future__ import annotations

import html
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

from bot.models import Article
from bot.summarise import ExtractiveSummariser, split_sentences
from bot.textfit import fit_text

CORPUS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpus"
    / "summaries"
    / "cnn_dailymail_train_sample_100.jsonl"
)
BUDGETS = (200, 500)
_TOKEN = regex.compile(r"\w+")


@dataclass(frozen=True)
class Rouge:
    """Mean F1 of ROUGE-1, ROUGE-2 and ROUGE-L."""

    r1: float
    r2: float
    rl: float


def tokens(text: str) -> list[str]:
    found: list[str] = _TOKEN.findall(text.lower())
    return found


def _f1(overlap: int, candidate_total: int, reference_total: int) -> float:
    if not overlap or not candidate_total or not reference_total:
        return 0.0
    precision, recall = overlap / candidate_total, overlap / reference_total
    return 2 * precision * recall / (precision + recall)


def rouge_n(candidate: Sequence[str], reference: Sequence[str], n: int) -> float:
    cand = Counter(tuple(candidate[i : i + n]) for i in range(len(candidate) - n + 1))
    ref = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    overlap = sum((cand & ref).values())
    return _f1(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (one-row dynamic programme)."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous_diagonal = 0
        for j, y in enumerate(b, start=1):
            kept = row[j]
            row[j] = previous_diagonal + 1 if x == y else max(row[j], row[j - 1])
            previous_diagonal = kept
    return row[-1]


def rouge_l(candidate: Sequence[str], reference: Sequence[str]) -> float:
    return _f1(lcs_length(candidate, reference), len(candidate), len(reference))


def score(candidate: str, reference: str) -> Rouge:
    cand, ref = tokens(candidate), tokens(reference)
    return Rouge(rouge_n(cand, ref, 1), rouge_n(cand, ref, 2), rouge_l(cand, ref))


def mean(scores: Sequence[Rouge]) -> Rouge:
    count = len(scores) or 1
    return Rouge(
        sum(s.r1 for s in scores) / count,
        sum(s.r2 for s in scores) / count,
        sum(s.rl for s in scores) / count,
    )


def load_corpus(path: Path | None = None) -> list[dict[str, str]]:
    """Rows ``{id, lang, title, text, summary, source}``; [] when the file is absent."""
    path = path or CORPUS
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def lead_summary(text: str, budget: int, lang: str | None = None) -> str:
    """Leading whole sentences of ``text`` while they fit ``budget`` characters."""
    out = ""
    for sentence in split_sentences(text, lang):
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > budget:
            break
        out = candidate
    return out


def our_summary(row: dict[str, str], budget: int) -> str:
    """The extractive summariser on a corpus row, given as a feed would (escaped, no excerpt)."""
    article = Article(
        feed="bench",
        item_id=row["id"],
        url="https://example.invalid/" + row["id"],
        title=row.get("title", ""),
        content_html=html.escape(row["text"]),
        excerpt_html="",
        lang=row.get("lang"),
    )
    return ExtractiveSummariser().summarise(article, budget=budget)


def evaluate(rows: Sequence[dict[str, str]], budget: int) -> dict[str, Rouge]:
    """Mean ROUGE of each system at ``budget`` over ``rows``."""
    systems: dict[str, Callable[[dict[str, str]], str]] = {
        "ours": lambda row: our_summary(row, budget),
        "lead": lambda row: lead_summary(row["text"], budget, row.get("lang")),
        "lead_cut": lambda row: fit_text(" ".join(row["text"].split()), budget),
    }
    return {
        name: mean([score(system(row), row["summary"]) for row in rows])
        for name, system in systems.items()
    }


def main() -> int:
    rows = load_corpus()
    if not rows:
        print(f"corpus not found at {CORPUS}; nothing to benchmark")
        return 0
    print(f"{len(rows)} articles from {CORPUS.name}; ROUGE F1 (x100), own implementation")
    print(f"{'budget':>6} {'metric':>7} {'ours':>7} {'lead':>7} {'ratio':>6} {'lead-cut':>8}")
    for budget in BUDGETS:
        result = evaluate(rows, budget)
        for metric in ("r1", "r2", "rl"):
            ours, lead = getattr(result["ours"], metric), getattr(result["lead"], metric)
            ratio = ours / lead if lead else float("inf")
            name = {"r1": "ROUGE-1", "r2": "ROUGE-2", "rl": "ROUGE-L"}[metric]
            cut = getattr(result["lead_cut"], metric)
            print(
                f"{budget:>6} {name:>7} {ours * 100:7.2f} {lead * 100:7.2f} {ratio:6.3f}"
                f" {cut * 100:8.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
