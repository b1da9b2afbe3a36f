"""Opt-in smoke run of the LLM summariser against a real OpenAI-compatible server.

    SYNDBOT_LLM_SMOKE_URL=http://127.0.0.1:8080/v1 SYNDBOT_LLM_SMOKE_MODEL=qwen2.5-0.5b \\
        make llm-smoke

Summarises 20 articles of the CNN/DailyMail sample beside the repo
(../shared/corpus/summaries) at 200 and 500 characters and prints, per summary, the time it
took, which summariser's text was used and the gate's verdict; then the pass rate and the
reasons. Nothing is cached (a fresh in-memory cache) and nothing is posted. Without
SYNDBOT_LLM_SMOKE_URL it says so and exits 0: no test run ever needs a model. The key, if
the server wants one, is read from the variable named by SYNDBOT_LLM_SMOKE_KEY_ENV.
"""

from __future__ import annotations

import html
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from bot.config.model import Secret
from bot.llm import LlmSummariser
from bot.llm.breaker import CircuitBreaker
from bot.llm.client import ChatClient
from bot.models import Article
from bot.summarise import ExtractiveSummariser

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "summaries"
ARTICLES = 20
BUDGETS = (200, 500)


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
    articles = corpus_articles(ARTICLES)
    if not articles:
        print("llm-smoke: skipped; the corpus sample ../shared/corpus/summaries is absent")
        return 0
    llm = LlmSummariser(
        ChatClient(url, model, api_key=api_key),
        fallback=ExtractiveSummariser(),
        breaker=CircuitBreaker(failures=3, cooldown=60.0),
        max_wait=float(os.environ.get("SYNDBOT_LLM_SMOKE_MAX_WAIT", "120")),
    )
    reasons: Counter[str] = Counter()
    seconds: list[float] = []
    try:
        for article in articles:
            for budget in BUDGETS:
                started = time.monotonic()
                outcome = llm.decide(article, budget=budget)
                seconds.append(time.monotonic() - started)
                reasons[str(outcome.verdict.reason)] += 1
                print(
                    f"{seconds[-1]:6.2f}s {budget:4d} {outcome.summariser:10s} "
                    f"{outcome.verdict.reason!s:14s} {outcome.verdict.detail[:40]!r}"
                )
    finally:
        llm.close()
    total = sum(reasons.values())
    print(
        f"\n{model} at {url}: {total} summaries, mean {sum(seconds) / total:.2f}s, "
        f"max {max(seconds):.2f}s; gate pass rate {reasons['ok'] / total:.0%}"
    )
    print("reasons: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
