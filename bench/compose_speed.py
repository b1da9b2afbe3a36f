"""Compose + summarise time per article for every platform, beside baselines from the
same run: LexRank (``bench/baselines.py``) summarising the article for every platform's
limit, counted the platform's way, as the classic extractive baseline; and the naive
"title + URL cut to the limit" post (what many bots do).

Run: python bench/compose_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # baselines.py

from baselines import fill_by_rank, lexrank_scores

from bot.compose import Summaries, compose
from bot.compose.profiles import PROFILES
from bot.feeds.parse import parse_feed
from bot.models import Article, ChannelStyle
from bot.summarise import ExtractiveSummariser, split_sentences
from bot.summarise.text import clean_paragraphs, html_to_text

# ../shared/corpus/feeds beside the checkout; SYNDBOT_CORPUS names another (e.g. from a
# git worktree). Without it only the bundled demo feed is timed.
CORPUS = Path(
    os.environ.get("SYNDBOT_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
)


def feed_paths() -> list[Path]:
    demo = Path(__file__).resolve().parents[1] / "bot" / "demo" / "feed.xml"
    names = (
        "wp-rss2_dcrainmaker.xml",
        "news-rss2_google-cloudblog.xml",
        "news-atom_russcox-very-long.atom",
        "wp-rss2_natasha.xml",
    )
    return [demo, *(CORPUS / n for n in names if (CORPUS / n).exists())]


def load_articles() -> list[Article]:
    articles: list[Article] = []
    for path in feed_paths():
        parsed = parse_feed(
            path.read_bytes(), feed_name=path.stem, base_url="https://bench.example/"
        )
        articles.extend(parsed.articles)
    return articles


def parse_time_per_article() -> float:
    """Seconds to parse the same feeds, per article: the work every poll already does."""
    start = time.perf_counter()
    count = len(load_articles())
    return (time.perf_counter() - start) / count


def lexrank_all(article: Article, styles: list[ChannelStyle]) -> None:
    """LexRank's summary of the article for each platform's limit, in its own count."""
    text = "\n\n".join(clean_paragraphs(html_to_text(article.content_html)))
    sentences = split_sentences(text, article.lang)
    scores = lexrank_scores(sentences, article.lang)
    for style in styles:
        profile = PROFILES[style.platform]
        fill_by_rank(sentences, scores, profile.limit, profile.measure)


def naive(article: Article, limit: int) -> str:
    return f"{article.title} {article.url}"[:limit]


def _fresh_caches() -> ExtractiveSummariser:
    """A new summariser and no remembered text: each run pays what a poll pays. Every
    cache kept by text (cleaned text, simple-sentence counts, plural folding, excerpt
    digests, parsed templates) is emptied; a module without one is passed over."""
    caches = (
        ("bot.compose.draft", "_plain_text"),
        ("bot.compose", "_plain_text"),  # where it lived before bot/compose/draft.py
        ("bot.compose.draft", "_plain_keeps_shape"),
        ("bot.compose.simple", "simple_text"),
        ("bot.compose.hashtags", "sanitise_tag"),
        ("bot.compose.template", "clean_inline"),
        ("bot.compose.core", "_clean_description"),
        ("bot.compose.xlength", "_window_urls"),
        ("bot.compose.template", "parse_template"),
        ("bot.summarise.extractive", "_singular"),
        ("bot.summarise.extractive", "_CONTENT_FORMS"),  # before bot/summarise/scoring.py
        ("bot.summarise.scoring", "CONTENT_FORMS"),  # words to their content form
        ("bot.summarise.extractive", "_digest"),
    )
    for module_name, name in caches:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # an older version, without that module
        remembered = getattr(module, name, None)  # absent in older versions
        if remembered is not None and hasattr(remembered, "cache_clear"):
            remembered.cache_clear()
    return ExtractiveSummariser()


def main(repeat: int) -> None:
    articles = load_articles()
    now = datetime.now(UTC)
    styles = [ChannelStyle(platform=p) for p in PROFILES]
    medians: list[float] = []
    means: list[float] = []
    base: list[float] = []
    lexrank: list[float] = []
    for _ in range(repeat):
        # As the pipeline does: one article, every channel, its summaries asked once.
        summariser = _fresh_caches()
        # New Article objects too: nothing worked out for an article (its content hash)
        # carries over from the run before.
        articles = [dataclasses.replace(article) for article in articles]
        per_article = []
        for article in articles:
            start = time.perf_counter()
            summaries = Summaries.of(summariser)
            for style in styles:
                compose(article, style, summariser=summaries, now=now)
            per_article.append(time.perf_counter() - start)
        medians.append(statistics.median(per_article))
        means.append(statistics.fmean(per_article))
        per_article = []
        for article in articles:
            start = time.perf_counter()
            lexrank_all(article, styles)
            per_article.append(time.perf_counter() - start)
        lexrank.append(statistics.median(per_article))
        start = time.perf_counter()
        for article in articles:
            for style in styles:
                naive(article, PROFILES[style.platform].limit)
        base.append((time.perf_counter() - start) / len(articles))
    o, m, b = statistics.median(medians), statistics.median(means), statistics.median(base)
    lex = statistics.median(lexrank)
    p = statistics.median(parse_time_per_article() for _ in range(repeat))
    print(f"{len(articles)} articles x {len(styles)} platforms, median of {repeat} runs")
    print(f"{'(shared machine: noisy; compare within one run)':<50}{'ms / article':>14}")
    print(f"{'syndbot compose + summarise, all platforms: median':<50}{o * 1000:>14.2f}")
    print(f"{'  (mean over the articles)':<50}{m * 1000:>14.2f}")
    print(f"{'baseline: LexRank, every platform limit: median':<50}{lex * 1000:>14.2f}")
    print(f"{'baseline: title + URL sliced to the limit':<50}{b * 1000:>14.4f}")
    print(f"{'reference: parsing the feed (feedparser)':<50}{p * 1000:>14.2f}")
    print(
        f"ratio: {o / lex:.2f}x LexRank's time, {o / b:,.0f}x the naive slice, {o / p:.1f}x parsing"
    )
    verdict = "met" if o <= 0.005 else "not met"
    print(f"the article's feed entry; goal: median at most 5 ms ({verdict})")
    print(f"{1 / m:,.0f} articles/s on one core for all {len(styles)} platforms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)
