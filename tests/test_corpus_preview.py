"""Acceptance: `syndbot preview FEED --platform all --format json --limit 0` on every feed of
the shared corpus gives only posts each platform would accept, checked by independent
counters (tests/oracles.py), never by bot.compose's own code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import regex
from click.testing import CliRunner

from bot.cli import main
from bot.errors import ParseError
from bot.feeds import load_source_articles, make_http_client
from bot.models import Article
from tests import oracles

pytestmark = pytest.mark.corpus

FEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
_NOT_FEEDS = {"INDEX.md", "SOURCES.md", "index.json"}
# Files that are not readable feeds at all; each must give one clear, named error.
UNREADABLE = {
    "jsonfeed_allthis-partial_INVALID.json": "truncated JSON (a partial download)",
    "rss2_nshipster.xml.gz": "raw gzip bytes, not a feed document",
}
# Plain-character limits, counted in UTF-16 units (never below the code point count).
CHAR_LIMITS = {"linkedin": 3000, "discord": 2000, "slack": 3000, "facebook": 63206}
ALL_PLATFORMS = {
    "x", "mastodon", "bluesky", "threads", "instagram", "telegram", *CHAR_LIMITS,
}  # fmt: skip

# X: the PyPI port of twitter-text freezes a 2021 TLD list; bot.compose.xlength uses the
# current IANA root zone. Retired TLDs (.intel, .fiat…) make the port count a token as a
# 23-weight link that we count in full: we are stricter, the port still says valid. TLDs
# delegated since (below) are the other way round: we count a link there as 23, the port
# as its characters, so a post can be "too long" for the port only. Those tokens are
# recounted as links, and only for these TLDs. (No corpus post needs this today.)
_NEWER_TLD = "delegated after twitter-text's 2021 TLD list; in the IANA root zone now"
X_TLD_DIVERGENCES: dict[str, str] = dict.fromkeys(
    ("hotel", "kids", "music", "spa", "amazon", "merck"), _NEWER_TLD
)
_X_DIVERGENT_LINK = regex.compile(
    rf"(?<![\w@.])(?:https?://)?(?:[\w-]+\.)+(?:{'|'.join(X_TLD_DIVERGENCES)})(?![\w@+-])[^\s]*",
    regex.IGNORECASE,
)


def _feeds() -> list[str]:
    if not FEEDS_DIR.is_dir():
        return []
    return sorted(p.name for p in FEEDS_DIR.iterdir() if p.name not in _NOT_FEEDS)


def _params(names: list[str]) -> list[Any]:
    if not names:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {FEEDS_DIR}"))]
    return names


READABLE = [n for n in _feeds() if n not in UNREADABLE]


def _preview(path: Path) -> Any:
    return CliRunner().invoke(
        main, ["preview", str(path), "--platform", "all", "--format", "json", "--limit", "0"]
    )


def _articles(path: Path) -> dict[str, Article]:
    with make_http_client(user_agent="syndbot-test", timeout=5.0) as client:
        return {a.item_id: a for a in load_source_articles(str(path), client=client)}


@dataclass
class _Source:
    """What the article itself says: its words and the URLs it contains."""

    article: Article

    @cached_property
    def _plain(self) -> tuple[str, list[str]]:
        """Title, body and excerpt as a reader sees them, both decoded once and with
        double escaping undone; and every href/src."""
        a = self.article
        texts, hrefs = [], []
        for markup in (a.title, a.content_html, a.excerpt_html):
            for nested in (True, False):
                text, found = oracles.html_plain(markup, nested=nested)
                texts.append(text)
                hrefs += found
        return " \n ".join(texts), hrefs

    @cached_property
    def words(self) -> set[str]:
        return set(oracles.words(self._plain[0]))

    @cached_property
    def title_words(self) -> set[str]:
        title = self.article.title
        return {w for nested in (True, False)
                for w in oracles.words(oracles.html_plain(title, nested=nested)[0])}  # fmt: skip

    @cached_property
    def urls(self) -> set[str]:
        text, hrefs = self._plain
        return {u.url for u in oracles.urls(text)} | set(hrefs) | {self.article.url}

    def has_url(self, url: str) -> bool:
        return url in self.urls or url.rstrip("/") in {u.rstrip("/") for u in self.urls}


def _x_problems(text: str) -> list[str]:
    result = oracles.x_result(text)
    if result.valid:
        return []
    weight = result.weightedLength
    for token in _X_DIVERGENT_LINK.findall(text):  # see X_TLD_DIVERGENCES
        weight += 23 - oracles.x_result(token).weightedLength
    if weight <= 280 and weight != result.weightedLength:
        return []
    return [f"X weighted length {result.weightedLength} (port) > 280, or invalid characters"]


def _reader_text(platform: str, text: str, url: str) -> tuple[str, list[str]]:
    """The text a reader sees with the platform's own link markup taken out, and problems."""
    if platform == "telegram":
        parsed = oracles.telegram_parse(text)
        problems = [f"tag <{t}> that Telegram does not know" for t in parsed.bad_tags]
        visible = "".join(parsed.visible)
        for href, shown in parsed.link_texts:
            if href != url:
                problems.append(f"link to {href!r}, not the article")
            elif not oracles.shows_url(shown, url):
                problems.append(f"link text {shown!r} does not show {url}")
            visible = visible.replace(shown, " ", 1)
        if url not in parsed.hrefs:
            problems.append("no <a href> to the article")
        return visible, problems
    if platform == "slack":
        problems = []
        links = oracles._SLACK_LINK.findall(text)
        if not any(oracles.slack_unescape(u).replace("%7C", "|") == url for u, _ in links):
            problems.append("no <url|text> link to the article")
        for target, shown in links:
            if not oracles.shows_url(oracles.slack_unescape(shown), url):
                problems.append(f"Slack link shows {shown!r}, not {url}")
            if oracles.slack_unescape(target).replace("%7C", "|") != url:
                problems.append(f"Slack link to {target!r}, not the article")
        return oracles.slack_unescape(oracles._SLACK_LINK.sub(" ", text)), problems
    if platform == "linkedin":
        return oracles.linkedin_plain(text), []
    return text, []


def _over(n: int, limit: int, what: str) -> list[str]:
    return [f"{n} {what} > {limit}"] if n > limit else []


def _bluesky(part: dict[str, Any], url: str) -> list[str]:
    text = part["text"]
    problems = oracles.bluesky_facet_problems(text, part.get("facets", []), url)
    problems += _over(oracles.graphemes(text), 300, "graphemes")
    return problems + _over(oracles.utf8_bytes(text), 3000, "UTF-8 bytes")


def _threads(part: dict[str, Any], url: str) -> list[str]:
    text = part["text"]
    links = _over(len(oracles.urls(text)), oracles.THREADS_MAX_LINKS, "links")
    return _over(oracles.threads_length(text), 500, "Threads length") + links


def _instagram(part: dict[str, Any], url: str) -> list[str]:
    text = part["text"]
    problems = _over(oracles.utf16_units(text), 2200, "characters")
    problems += _over(len(oracles.hashtags(text)), oracles.INSTAGRAM_MAX_HASHTAGS, "hashtags")
    if url in text or "http://" in text or "https://" in text:
        problems.append("a URL in an Instagram caption")
    return problems


def _telegram(part: dict[str, Any], url: str) -> list[str]:
    visible = "".join(oracles.telegram_parse(part["text"]).visible)
    limit = 1024 if part["media"] else 4096
    return _over(oracles.utf16_units(visible), limit, "visible UTF-16 units")


_LENGTH_CHECKS = {
    "x": lambda part, url: _x_problems(part["text"]),
    "mastodon": lambda part, url: _over(
        oracles.mastodon_length(part["text"]), 500, "Mastodon characters"
    ),
    "bluesky": _bluesky,
    "threads": _threads,
    "instagram": _instagram,
    "telegram": _telegram,
}


def _length_problems(platform: str, part: dict[str, Any], url: str) -> list[str]:
    check = _LENGTH_CHECKS.get(platform)
    if check is not None:
        return check(part, url)
    return _over(oracles.utf16_units(part["text"]), CHAR_LIMITS[platform], "characters")


def _link_present(platform: str, part: dict[str, Any], reader: str, url: str) -> bool:
    if platform == "bluesky":
        return any(f["features"][0].get("uri") == url for f in part.get("facets", []))
    if platform in ("telegram", "slack"):
        return True  # checked with the markup in _reader_text
    return url in reader


def post_problems(post: dict[str, Any], source: _Source) -> list[str]:
    """Every way ``post`` breaks the acceptance criteria (empty: none)."""
    platform, url = post["platform"], post["article_url"]
    problems: list[str] = []
    for part in post["parts"]:
        problems += _length_problems(platform, part, url)
        reader, markup = _reader_text(platform, part["text"], url)
        problems += markup
        if platform != "instagram" and not _link_present(platform, part, reader, url):
            problems.append("the article link is missing")
        if platform == "bluesky":  # the display text is covered by the link facet
            for facet in part.get("facets", []):
                if facet["features"][0]["$type"].endswith("#link"):
                    data = part["text"].encode("utf-8")
                    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
                    shown = data[start:end].decode("utf-8", "replace")
                    reader = reader.replace(shown, " ", 1)
        problems += oracles.leftover_markup(reader, ignore=[url, *sorted(source.urls)])
        for found in oracles.urls(reader):
            if found.url != url and not source.has_url(found.url):
                problems.append(f"URL {found.url!r} is neither the article's nor in it")
    problems += oracles.cut_word_problems(post["summary"], source.words, what="summary")
    problems += oracles.cut_word_problems(post["title"], source.title_words, what="title")
    return problems


def _all_problems(posts: list[dict[str, Any]], articles: dict[str, Article]) -> Iterator[str]:
    sources = {item_id: _Source(a) for item_id, a in articles.items()}
    for post in posts:
        source = sources[post["item_id"]]
        for problem in post_problems(post, source):
            yield f"{post['platform']} {post['item_id']}: {problem}"


@pytest.mark.parametrize("name", _params(READABLE))
def test_preview_posts_valid_by_each_platform(name: str) -> None:
    """Every post previewed from a readable corpus feed passes its platform's own rules."""
    path = FEEDS_DIR / name
    result = _preview(path)
    assert result.exit_code == 0, f"{name}: {result.output}"
    assert "Traceback" not in result.output
    posts = json.loads(result.stdout)
    articles = _articles(path)
    assert {p["item_id"] for p in posts} <= set(articles)
    for item_id in articles:  # every article gets a post on every platform
        platforms = {p["platform"] for p in posts if p["item_id"] == item_id}
        assert platforms == ALL_PLATFORMS, f"{name} {item_id}: {sorted(platforms)}"
    problems = list(_all_problems(posts, articles))
    assert not problems, f"{name}: {len(problems)} problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("name", _params([n for n in _feeds() if n in UNREADABLE]))
def test_unreadable_feed_gives_named_error(name: str) -> None:
    """A corpus file that is not a readable feed gives one 'error: <file>: …' line, exit 2."""
    path = FEEDS_DIR / name
    result = _preview(path)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"error: {path}: "), result.stderr
    assert result.stdout == ""
    with pytest.raises(ParseError) as caught:
        _articles(path)
    assert caught.value.url == str(path)


def test_truncated_feed_with_bad_date_is_still_read() -> None:
    """rss2_truncated_INVALID-DATE.xml (no closing </rss>, epoch date) yields both items."""
    path = FEEDS_DIR / "rss2_truncated_INVALID-DATE.xml"
    if not path.exists():
        pytest.skip(f"no corpus at {FEEDS_DIR}")
    assert len(_articles(path)) == 2


# ---------------------------------------------------------------- the oracle can fail

_URL = "https://evnews.example.com/2025/03/nexon"
_ARTICLE = Article(
    feed="ev",
    item_id="1",
    url=_URL,
    title="Nexon EV price cut",
    content_html="<p>Tata cut the Nexon EV price on Monday &amp; dealers cheered.</p>",
)


def _post(platform: str, text: str, summary: str, **part: Any) -> dict[str, Any]:
    return {
        "platform": platform,
        "item_id": "1",
        "article_url": _URL,
        "title": "Nexon EV price cut",
        "summary": summary,
        "parts": [{"text": text, "media": [], **part}],
    }


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        (_post("x", "Tata cut the Nexon EV price " * 12 + _URL, "Tata cut"), "X weighted"),
        (_post("x", f"Tata cut the Nexon &amp; {_URL}", "Tata cut the Nexon"), "entity"),
        (_post("x", "a" * 250 + " https://taylor.mus/" + "x" * 40, "Tata"), "X weighted"),
        (_post("x", f"Tata cut the Nex {_URL}", "Tata cut the Nex"), "cut without"),
        (_post("x", "Tata cut the Nexon EV price", "Tata cut"), "link is missing"),
        (_post("x", f"See {_URL[:-3]}… {_URL}", "Tata"), "neither the article's"),
        (_post("mastodon", "é" * 480 + " " + _URL, "Tata"), "Mastodon characters"),
        (_post("threads", "🚗" * 130 + " " + _URL, "Tata"), "Threads length"),
        (_post("instagram", f"Tata cut {_URL}", "Tata cut"), "URL in an Instagram"),
        (_post("telegram", f'Tata <br> <a href="{_URL}">x</a>', "Tata"), "does not know"),
        (_post("slack", "Tata cut", "Tata cut"), "no <url|text>"),
        (
            _post(
                "bluesky",
                "Tata é evnews.example.com/2025/03/nexon",
                "Tata",
                facets=[
                    {
                        "index": {"byteStart": 7, "byteEnd": 39},
                        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": _URL}],
                    }
                ],
            ),
            "link facet shows",
        ),
    ],
)
def test_oracle_flags_broken_posts(post: dict[str, Any], expected: str) -> None:
    """Each kind of broken post is caught by the independent checks (they can fail)."""
    problems = post_problems(post, _Source(_ARTICLE))
    assert any(expected in p for p in problems), problems


def test_oracle_accepts_a_good_post() -> None:
    """A post within the rules gets no complaint, so the corpus checks are not vacuous."""
    text = (
        f"Nexon EV price cut\n\nTata cut the Nexon EV price on Monday & dealers cheered.\n\n{_URL}"
    )
    good = _post("x", text, "Tata cut the Nexon EV price on Monday & dealers cheered.")
    assert post_problems(good, _Source(_ARTICLE)) == []
    cut = _post("x", f"Tata cut the Nexon EV pr… {_URL}", "Tata cut the Nexon EV pr…")
    assert post_problems(cut, _Source(_ARTICLE)) == []


def test_x_divergence_is_accepted_only_for_listed_tlds() -> None:
    """A link on a TLD newer than the port's list counts 23 (as we and IANA say); the same
    link on an unknown, unlisted TLD stays over the limit."""
    newer = "a" * 250 + " https://taylor.music/" + "x" * 40
    assert not oracles.x_result(newer).valid
    assert _x_problems(newer) == []
    assert _x_problems(newer.replace(".music/", ".musix/"))
