"""Summaries: compose asks the summariser each (article, budget, measure) question once,
however many channels the article goes to, and the posts are the same as without it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_pipeline
from bot.compose import PROFILES, Summaries, compose
from bot.config import load_config
from bot.models import Article, ChannelStyle, Media, Post
from bot.summarise import ExtractiveSummariser
from bot.textfit import grapheme_count
from tests.builders import Item, rss, write_config

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
BODY = " ".join(
    f"<p>Chennai adds {n} electric buses on route {n}. Each bus charges overnight at the depot "
    f"and runs 200 km a day. Riders pay the same fare as before on line {n}.</p>"
    for n in range(1, 12)
)


class Counting:
    """A real summariser that records every question it is asked."""

    def __init__(self) -> None:
        self.inner = ExtractiveSummariser()
        self.asked: list[tuple[str, int, Callable[[str], int]]] = []

    def summarise(
        self, article: Article, *, budget: int, measure: Callable[[str], int] = len
    ) -> str:
        self.asked.append((article.item_id, budget, measure))
        return self.inner.summarise(article, budget=budget, measure=measure)

    def repeats(self) -> list[tuple[str, int, Callable[[str], int]]]:
        return [question for question, n in Counter(self.asked).items() if n > 1]


def _article(item_id: str = "bus-1") -> Article:
    return Article(
        feed="chennai",
        item_id=item_id,
        url=f"https://voltlane.example/{item_id}/",
        title="Chennai adds electric buses on eleven routes",
        content_html=BODY,
        tags=("EV", "Buses", "Chennai", "Transit", "Climate", "Cities"),
        image=Media(url="https://voltlane.example/bus.jpg", alt="A bus"),
    )


STYLES = [
    ChannelStyle(platform=platform, name=f"{platform}-{n}", thread=True, max_hashtags=6)
    for platform in sorted(PROFILES)
    for n in (1, 2)  # two channels of every platform, the same style
] + [ChannelStyle(platform="x", name="x-tight", max_chars=70, max_hashtags=6)]


def test_each_question_is_asked_once_across_channels_and_recomposes() -> None:
    """Composing one article for two channels of every platform, twice over, asks the
    summariser no question twice: a platform's second channel and the second round ask
    nothing new, and the link-card description is made once in all."""
    counting = Counting()
    summaries = Summaries(counting)
    first: list[Post] = []
    new_questions: dict[str | None, int] = {}
    for style in STYLES:
        before = len(counting.asked)
        first.append(compose(_article(), style, summariser=summaries, now=NOW))
        new_questions[style.name] = len(counting.asked) - before
    asked_once = len(counting.asked)
    again = [compose(_article(), s, summariser=summaries, now=NOW) for s in STYLES]
    assert counting.repeats() == []
    assert len(counting.asked) == asked_once
    assert all(new_questions[f"{p}-1"] > 0 for p in PROFILES)
    assert [p for p in PROFILES if new_questions[f"{p}-2"]] == []
    description = [q for q in counting.asked if q[1:] == (300, grapheme_count)]
    assert len(description) == 1
    assert again == first


def test_remembered_answers_make_the_same_posts() -> None:
    """A post composed through Summaries equals the one composed with the bare summariser."""
    bare = [compose(_article(), s, summariser=ExtractiveSummariser(), now=NOW) for s in STYLES]
    summaries = Summaries(ExtractiveSummariser())
    cached = [compose(_article(), s, summariser=summaries, now=NOW) for s in STYLES]
    assert cached == bare


def test_articles_are_told_apart_and_only_the_recent_ones_kept() -> None:
    """Each article gets its own answer; beyond ``articles`` the oldest is asked again."""
    counting = Counting()
    summaries = Summaries(counting, articles=2)
    short = dataclasses.replace(_article("bus-2"), content_html="<p>One short sentence here.</p>")
    long_answer = summaries.summarise(_article("bus-1"), budget=500)
    assert summaries.summarise(short, budget=500) == "One short sentence here."
    assert summaries.summarise(_article("bus-1"), budget=500) == long_answer
    summaries.summarise(_article("bus-3"), budget=500)  # pushes out bus-2, the oldest
    summaries.summarise(short, budget=500)
    assert [q[0] for q in counting.asked] == ["bus-1", "bus-2", "bus-3", "bus-2"]


def test_the_pipeline_summarises_an_article_once_for_all_its_channels(tmp_path: Path) -> None:
    """Delivering one article to several channels makes its description once."""
    feed = tmp_path / "feed.xml"
    item = Item(guid="bus-1", title="Chennai adds electric buses", link="https://v.example/1/")
    feed.write_text(rss([dataclasses.replace(item, body=BODY)]), encoding="utf-8")
    platforms = ("x", "bluesky", "mastodon", "telegram")
    path = write_config(tmp_path, feeds={"v": str(feed)}, platforms=platforms)
    config = load_config(path, env={})
    counting = Counting()
    with open_pipeline(config) as opened:
        pipe = dataclasses.replace(opened, summariser=counting)
        pipe.poll("v")
        assert [r.outcome for r in pipe.deliver()] == ["sent"] * len(platforms)
    assert counting.repeats() == []
    assert [q[1:] for q in counting.asked].count((300, grapheme_count)) == 1
