"""ROUGE-1/2/L of the extractive summariser beside Lead, LexRank and TextRank, at 200 and 500.

Run from the repo: ``python bench/rouge.py [--corpus DIR] [--set feeds]``. Reads the third-party
CNN/DailyMail sample beside the repo (``../shared/corpus/summaries``; ``--corpus`` or
``SYNDBOT_CORPUS`` names another corpus directory); exits 0 with a message when it is absent.
Corpus text is read, never copied into the repository.

Every system gets the same article text and budget, counted with ``len``:
- **ours**: ``ExtractiveSummariser`` on the article as a feed would carry it (escaped HTML,
  no excerpt, the row's title, which is empty in this sample). Its own cleaning (bylines,
  datelines, "(pictured)") is part of what is measured.
- **Lead**: the article's leading whole sentences that fit (``split_sentences``, the
  splitter ours uses).
- **LexRank**, **TextRank**: the classic graph rankings (``bench/baselines.py``) over the
  same ``split_sentences`` sentences, filled best-ranked first and shown in article order;
  when no whole sentence fits, the best-ranked one is cut at a word with "…", the same
  fallback ours has (Lead has none: it is empty then).
- **lead-cut**, for reference only: the article's opening cut at a word boundary with "…"
  (a stronger baseline at small budgets, where Lead is often empty).

``--set feeds``: a second news set assembled from the corpus feeds (``../shared/corpus/feeds``):
items whose feed carries an editor-written summary beside the full article; that summary
is the reference, and every system gets only the title and the article.

Guarding against overfitting the 100-article sample: every weight and rule of ours was
chosen on articles 1-50 only; the second table shows ROUGE-1 on those and on the held-out
51-100 separately (with 50 articles, differences under about 1.5 points are noise).

ROUGE here is the classic F1 (Lin 2004): lowercase, tokens are ``\\w+`` runs, ROUGE-N on
clipped n-gram counts, ROUGE-L on the longest common subsequence, no stemming. On ASCII
tokens this ROUGE equals Google's ``rouge-score`` (use_stemmer=False); they differ only on
"_" and non-ASCII letters, which ``rouge-score`` drops.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

sys.path.insert(0, str(Path(__file__).resolve().parent))  # baselines.py, also when imported

from baselines import fill_by_rank, lexrank_scores, textrank_scores

from bot.errors import ParseError
from bot.feeds.parse import parse_feed
from bot.models import Article
from bot.summarise import ExtractiveSummariser, split_sentences
from bot.summarise.text import clean_paragraphs, html_to_text, split_truncation
from bot.textfit import fit_text

SAMPLE = Path("summaries") / "cnn_dailymail_train_sample_100.jsonl"
CORPUS = (
    Path(os.environ.get("SYNDBOT_CORPUS") or Path(__file__).resolve().parents[2] / "shared/corpus")
    / SAMPLE
)
BUDGETS = (200, 500)
SYSTEMS = ("ours", "lead", "lexrank", "textrank", "lead_cut")
# Ours was tuned on the first TUNED articles only; the rest are held out.
TUNED = 50
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
    return ExtractiveSummariser().summarise(_article(row), budget=budget)


def _article(row: dict[str, str]) -> Article:
    return Article(
        feed="bench",
        item_id=row["id"],
        url="https://example.invalid/" + row["id"],
        title=row.get("title", ""),
        content_html=html.escape(row["text"]),
        excerpt_html="",
        lang=row.get("lang"),
    )


def summaries(rows: Sequence[dict[str, str]], budgets: Sequence[int]) -> dict[str, list[list[str]]]:
    """``{system: [[summary of each row] for each budget]}``; each article analysed once."""
    out: dict[str, list[list[str]]] = {name: [[] for _ in budgets] for name in SYSTEMS}
    for row in rows:
        lang = row.get("lang")
        sentences = split_sentences(row["text"], lang)
        lex, text_rank = lexrank_scores(sentences, lang), textrank_scores(sentences, lang)
        article, ours = _article(row), ExtractiveSummariser()
        for slot, budget in enumerate(budgets):
            produced = {
                "ours": ours.summarise(article, budget=budget),
                "lead": lead_summary(row["text"], budget, lang),
                "lexrank": fill_by_rank(sentences, lex, budget),
                "textrank": fill_by_rank(sentences, text_rank, budget),
                "lead_cut": fit_text(" ".join(row["text"].split()), budget),
            }
            for name in SYSTEMS:
                out[name][slot].append(produced[name])
    return out


def evaluate(rows: Sequence[dict[str, str]], budget: int) -> dict[str, Rouge]:
    """Mean ROUGE of each system at ``budget`` over ``rows``."""
    produced = summaries(rows, [budget])
    return {name: _mean_score(produced[name][0], rows) for name in SYSTEMS}


def _mean_score(candidates: Sequence[str], rows: Sequence[dict[str, str]]) -> Rouge:
    return mean([score(c, row["summary"]) for c, row in zip(candidates, rows, strict=True)])


def load_feed_set(feeds: Path) -> list[dict[str, str]]:
    """A second news set, assembled from the corpus feeds: items whose feed carries an
    editor-written summary (not the article's opening cut short, not a teaser of a few
    words) beside a full article of at least six sentences. The summary is the reference;
    the systems get the title and the article only."""
    rows: list[dict[str, str]] = []
    for path in sorted(feeds.glob("*")):
        if path.suffix not in (".xml", ".atom", ".rdf", ".rss") or not path.is_file():
            continue
        try:
            parsed = parse_feed(
                path.read_bytes(), feed_name=path.stem, base_url="https://x.invalid/"
            )
        except ParseError:
            continue
        for article in parsed.articles:
            text = "\n\n".join(clean_paragraphs(html_to_text(article.content_html)))
            reference, cut = split_truncation(html_to_text(article.excerpt_html))
            reference = " ".join(reference.split())
            opening = " ".join(text.split())
            if cut or len(reference) < 80 or len(split_sentences(text)) < 6:
                continue
            if opening.startswith(reference[:60]) or reference in opening:
                continue  # the article's own opening, not a summary of it
            rows.append(
                {"id": article.item_id, "lang": article.lang or "", "title": article.title,
                 "text": text, "summary": reference, "source": path.stem}
            )  # fmt: skip
    return rows


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="corpus directory holding summaries/")
    parser.add_argument(
        "--set",
        choices=("cnn", "feeds"),
        default="cnn",
        help="cnn: the CNN/DailyMail sample; feeds: editor summaries in the corpus feeds",
    )
    args = parser.parse_args(argv)
    if args.set == "feeds":
        path = (args.corpus or CORPUS.parents[1]) / "feeds"
        rows = load_feed_set(path) if path.is_dir() else []
    else:
        path = args.corpus / SAMPLE if args.corpus else CORPUS
        rows = load_corpus(path)
    if not rows:
        print(f"corpus not found at {path}; nothing to benchmark")
        return 0
    produced = summaries(rows, BUDGETS)
    print(f"{len(rows)} articles from {path.name}; ROUGE F1 (x100), own implementation")
    print(
        f"{'budget':>6} {'metric':>7} {'ours':>7} {'lead':>7} {'lexrank':>7} {'textrank':>8}"
        f" {'lead-cut':>8} {'ours-lex':>8}"
    )
    for slot, budget in enumerate(BUDGETS):
        result = {name: _mean_score(produced[name][slot], rows) for name in SYSTEMS}
        for metric, label in (("r1", "ROUGE-1"), ("r2", "ROUGE-2"), ("rl", "ROUGE-L")):
            got = {name: getattr(result[name], metric) * 100 for name in SYSTEMS}
            print(
                f"{budget:>6} {label:>7} {got['ours']:7.2f} {got['lead']:7.2f}"
                f" {got['lexrank']:7.2f} {got['textrank']:8.2f} {got['lead_cut']:8.2f}"
                f" {got['ours'] - got['lexrank']:+8.2f}"
            )
    if len(rows) > TUNED and args.set == "cnn":
        _print_halves(rows, produced)
    return 0


def _print_halves(rows: Sequence[dict[str, str]], produced: dict[str, list[list[str]]]) -> None:
    """ROUGE-1 on the tuning articles and on the held-out rest, to show any overfitting."""
    print(
        f"ROUGE-1 by part: ours was tuned on articles 1-{TUNED}; {TUNED + 1}-{len(rows)} held out"
    )
    print(f"{'budget':>6} {'part':>7} {'ours':>7} {'lead':>7} {'lexrank':>7} {'textrank':>8}")
    parts = ((f"1-{TUNED}", slice(0, TUNED)), (f"{TUNED + 1}-{len(rows)}", slice(TUNED, None)))
    for slot, budget in enumerate(BUDGETS):
        for label, part in parts:
            got = {
                name: _mean_score(produced[name][slot][part], rows[part]).r1 * 100
                for name in SYSTEMS
            }
            print(
                f"{budget:>6} {label:>7} {got['ours']:7.2f} {got['lead']:7.2f}"
                f" {got['lexrank']:7.2f} {got['textrank']:8.2f}"
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
