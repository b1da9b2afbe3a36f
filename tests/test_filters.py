"""Filters: which articles a channel or feed takes; the rest are skipped with the rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.engine.filters import Filters, refusal
from bot.errors import ConfigError
from bot.models import Article
from tests.builders import Item, rss, write_config

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def _article(title: str, *, summary: str = "", **fields: object) -> Article:
    return Article(
        feed="f",
        item_id="1",
        url=str(fields.pop("url", "https://site.example/news/1/")),
        title=title,
        excerpt_html=summary,
        **fields,  # type: ignore[arg-type]
    )


def _rule(article: Article, **keys: object) -> str | None:
    found = refusal(article, Filters(**keys), now=NOW)  # type: ignore[arg-type]
    return None if found is None else found.rule


@pytest.mark.parametrize(
    ("keyword", "title", "matches"),
    [
        # Hindi: "भारत" (India) must not match inside "भारतीय" (Indian): a vowel sign follows.
        ("भारत", "भारत ने मैच जीता", True),
        ("भारत", "भारतीय टीम ने मैच जीता", False),
        ("चुनाव", "बिहार में चुनाव, नतीजे कल", True),
        # Tamil: "சென்னை" not inside "சென்னையில்" (in Chennai); a virama ends "கல்".
        ("சென்னை", "சென்னை மழை: பள்ளிகள் விடுமுறை", True),
        ("சென்னை", "சென்னையில் கனமழை", False),
        ("கல்", "கல்வி அமைச்சர் அறிவிப்பு", False),
        # Telugu: "హైదరాబాద్" alone and not as the start of "హైదరాబాద్‌లో" (ZWNJ + suffix).
        ("హైదరాబాద్", "హైదరాబాద్ మెట్రో విస్తరణ", True),
        ("హైదరాబాద్", "హైదరాబాద్\u200cలో వర్షం", False),
        ("వర్షం", "హైదరాబాద్\u200cలో వర్షం", True),
        # Latin: whole words, case-insensitive, phrases across any whitespace.
        ("EV", "New ev tax credit", True),
        ("EV", "Every driver wins", False),
        ("electric vehicle", "An Electric\n Vehicle for all", True),
    ],
)
def test_keywords_match_whole_words_in_indic_and_latin_text(
    keyword: str, title: str, matches: bool
) -> None:
    """An exclude keyword refuses a title holding it as a whole word, not inside a word."""
    found = _rule(_article(title), exclude=(keyword,))
    assert found == ("exclude" if matches else None)


def test_include_keywords_refuse_articles_without_any() -> None:
    """With include keywords, an article with none of them is refused; one with any passes."""
    article = _article("Battery prices fall", summary="<p>Cheaper <b>लिथियम</b> cells</p>")
    assert _rule(article, include=("लिथियम", "solar")) is None
    assert _rule(article, include=("solar", "wind")) == "include"


@pytest.mark.parametrize(
    ("summary", "keyword", "matches"),
    [
        # An inline tag inside a word does not split it: the post reads "Tesla".
        ("<p>Tes<b>la</b> cuts prices</p>", "Tesla", True),
        ("<p>टा<em>टा</em> मोटर्स</p>", "टाटा", True),
        # Paragraphs and line breaks separate words: "ev" + "Every" is not "evEvery".
        ("<p>Charging</p><p>network grows</p>", "Chargingnetwork", False),
        ("<p>Charging</p><p>network grows</p>", "charging network", True),
        ("Fast<br>charging", "fast charging", True),
        # Entities are letters; scripts, styles and comments are not words.
        ("<p>Tata &amp; Sons</p>", "Tata & Sons", True),
        ("<p>News</p><script>var lithium = 1;</script>", "lithium", False),
        ("<p>News</p><!-- lithium -->", "lithium", False),
        ("<style>.lithium{}</style><p>News</p>", "lithium", False),
    ],
)
def test_keywords_read_the_summary_as_a_post_would_show_it(
    summary: str, keyword: str, matches: bool
) -> None:
    """Keywords match the summary's visible text: inline tags join, blocks separate."""
    found = _rule(_article("Update", summary=summary), include=(keyword,))
    assert found == (None if matches else "include")


def test_tags_and_authors_match_case_insensitively() -> None:
    """Tags compare whole and case-insensitively; a byline with several names is split."""
    article = _article("x", tags=("Cricket", "खेल"), author="A. Rao, B. Iyer and C. Das")
    assert _rule(article, exclude_tags=("cricket",)) == "exclude_tags"
    assert _rule(article, exclude_tags=("crick",)) is None
    assert _rule(article, include_tags=("खेल",)) is None
    assert _rule(article, include_tags=("Politics",)) == "include_tags"
    assert _rule(article, exclude_authors=("b. iyer",)) == "exclude_authors"
    assert _rule(article, include_authors=("D. Menon",)) == "include_authors"
    assert _rule(article, include_authors=("c. das",)) is None


def test_regex_looks_at_title_summary_and_link() -> None:
    """Patterns search the title, the summary and the article link, case-insensitively."""
    article = _article("Score: 3-1", url="https://site.example/sport/123/")
    assert _rule(article, exclude_regex=("/SPORT/",)) == "exclude_regex"
    assert _rule(article, include_regex=(r"\d+-\d+",)) is None
    assert _rule(article, include_regex=("^Breaking",)) == "include_regex"


def test_max_age_refuses_old_articles_and_keeps_undated_ones() -> None:
    """An article published more than max_age before now is refused; no date, no refusal."""
    old = _article("old", published=NOW - timedelta(days=2, minutes=1))
    young = _article("young", published=NOW - timedelta(days=1, hours=23))
    found = refusal(old, Filters(max_age=2 * 86400), now=NOW, where="channel x-en")
    assert found is not None
    assert found.reason == "filtered by max_age (channel x-en): published 2d1m ago, more than 2d"
    assert _rule(young, max_age=2 * 86400) is None
    assert _rule(_article("undated"), max_age=60) is None


def _config(tmp_path: Path, channel_lines: str, feed_lines: str = "") -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(
        f'[service]\ndatabase = "{tmp_path / "s.db"}"\noutbox = "{tmp_path / "out.jsonl"}"\n'
        f'[[feeds]]\nname = "f"\nurl = "builtin:demo"\n{feed_lines}\n'
        f'[[channels]]\nname = "c"\nplatform = "x"\npublisher = "outbox"\n{channel_lines}\n',
        encoding="utf-8",
    )
    return path


def test_config_reads_filters_for_channels_and_feeds(tmp_path: Path) -> None:
    """Filter keys are read from [[channels]] and [[feeds]] into typed Filters."""
    config = load_config(
        _config(tmp_path, 'exclude = ["cricket"]\nmax_age = "2d"', 'include_tags = ["EV"]'),
        env={},
    )
    assert config.channel("c").filters == Filters(exclude=("cricket",), max_age=172800.0)
    assert config.feed("f").filters == Filters(include_tags=("EV",))


@pytest.mark.parametrize(
    ("lines", "key", "message"),
    [
        ('include_regex = ["(unclosed"]', "channels[0].include_regex[0]", "not a valid"),
        ('exclude = [""]', "channels[0].exclude[0]", "is empty"),
        ('max_age = "soon"', "channels[0].max_age", "not a duration"),
        ('exclude = "cricket"', "channels[0].exclude", "expected an array"),
    ],
)
def test_config_refuses_bad_filters(tmp_path: Path, lines: str, key: str, message: str) -> None:
    """A bad pattern, an empty keyword, a bad age or a bare string is a ConfigError at load."""
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, lines), env={})
    assert caught.value.key == key
    assert message in str(caught.value)


def test_filtered_item_is_recorded_as_skipped_with_its_rule(tmp_path: Path) -> None:
    """The pipeline records a refused article as skipped with the rule, and never posts it,
    while the unfiltered channel posts it; a feed filter applies to every channel."""
    feed = tmp_path / "feed.xml"
    items = [
        Item("a", "Cricket: India win", "https://site.example/a/", tags=("Sport",)),
        Item("b", "Battery prices fall", "https://site.example/b/", tags=("EV",)),
        Item("c", "Spam story", "https://site.example/c/", tags=("Ads",)),
    ]
    feed.write_text(rss(items), encoding="utf-8")
    path = write_config(tmp_path, feeds={"f": str(feed)}, catch_up="all")
    text = path.read_text(encoding="utf-8")
    text = text.replace('full_text = "never"', 'full_text = "never"\nexclude_tags = ["ads"]')
    text = text.replace('name = "x-out"', 'name = "x-out"\nexclude = ["cricket"]')
    path.write_text(text, encoding="utf-8")
    config = load_config(path, env={})
    with open_pipeline(config) as pipe:
        pipe.poll("f")
        pipe.deliver()
        skipped = {
            (d.channel, d.item_id): d.last_error
            for d in pipe.store.deliveries()
            if d.status == "skipped"
        }
    assert skipped == {
        ("x-out", "a"): 'filtered by exclude (channel x-out): the keyword "cricket" appears',
        ("x-out", "c"): 'filtered by exclude_tags (feed f): tagged "ads"',
        ("bluesky-out", "c"): 'filtered by exclude_tags (feed f): tagged "ads"',
    }
    lines = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    sent = sorted((json.loads(x)["channel"], json.loads(x)["item_id"]) for x in lines)
    assert sent == [("bluesky-out", "a"), ("bluesky-out", "b"), ("x-out", "b")]
