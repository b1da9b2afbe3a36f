"""Properties: for any article (any script, emoji, marks, RTL, long words and URLs) and every
platform, compose's post validates clean and carries the link wherever one is allowed."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.compose import PROFILES, compose
from bot.compose.validate import validate_post
from bot.models import Article, ChannelStyle, Media, Post
from bot.summarise import ExtractiveSummariser

NOW = datetime(2025, 3, 1, tzinfo=UTC)
SUMMARISER = ExtractiveSummariser()

_WORDS = st.sampled_from(
    [
        "EV", "charging", "battery", "Nexon", "1.2", "km/h", "R&D", "&amp;", "&lt;b&gt;", "<i>",
        "इलेक्ट्रिक", "वाहन", "चार्जिंग", "।", "மின்சார", "வாகனம்", "విద్యుత్", "వాహనం",
        "电动车", "שלום", "مرحبا", "\u200f", "\u202e", "e\u0301", "क्\u200dष", "🚗", "⚡",
        "👨‍👩‍👧‍👦", "🇮🇳", "1️⃣", "👍🏽", "#EV", "@tata", "example.com", "https://x.org/a",
        "(", ")", "*", "_", "~", "|", "\\", "{", "}", "[", "]", "\n", "\n\n", ".", "!", "?",
        "a" * 120, "ச" * 60,
    ]
)  # fmt: skip
_TEXT = st.one_of(
    st.lists(_WORDS, max_size=60).map(" ".join),
    st.text(max_size=300),
    st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=40).map(" ".join),
)
_PATH_CHARS = st.sampled_from([*list("abcxyz019-_.~()"), "%E0%A4%9F", "हिंदी", "/"])
_URLS = st.builds(
    lambda host, tld, path, query, fragment: f"https://{host}.{tld}/{path}{query}{fragment}",
    st.sampled_from(["evnews", "www.evnews", "ev-news", "news.ev"]),
    st.sampled_from(["com", "in", "co.in", "org", "news", "io"]),
    st.lists(_PATH_CHARS, max_size=400).map("".join),
    st.sampled_from(["", "?id=7", "?a=1&b=%20x", "?utm_source=feed"]),
    st.sampled_from(["", "#top"]),
)
_ARTICLES = st.builds(
    lambda title, body, escape_body, excerpt, tags, url, lang, image, author: Article(
        feed="ev",
        item_id="1",
        url=url,
        title=title,
        content_html=f"<p>{html.escape(body) if escape_body else body}</p>",
        excerpt_html=excerpt,
        lang=lang,
        tags=tuple(tags),
        image=Media(url="https://evnews.com/i.jpg", alt=image) if image is not None else None,
        author=author,
    ),
    _TEXT,
    _TEXT,
    st.booleans(),
    st.one_of(st.just(""), _TEXT),
    st.lists(_TEXT, max_size=8),
    _URLS,
    st.sampled_from([None, "en", "hi", "ta", "te"]),
    st.one_of(st.none(), _TEXT),
    st.one_of(st.none(), _TEXT),
)
_STYLES = st.fixed_dictionaries(
    {
        "thread": st.booleans(),
        "max_hashtags": st.one_of(st.none(), st.integers(0, 40)),
        "utm": st.sampled_from([(), (("utm_source", "social"), ("utm_medium", "bot"))]),
        "summary_chars": st.one_of(st.none(), st.integers(1, 400)),
        "include_image": st.booleans(),
    }
)


def _link_shown(post: Post) -> bool:
    """The article URL is in the text, in a link facet/href, or rides as the link card."""
    profile = PROFILES[post.platform]
    first = post.parts[0]
    if profile.link_attachment and first.link == post.article_url:
        return True
    if post.platform == "bluesky":
        return any(f.kind == "link" and f.value == post.article_url for f in first.facets)
    if post.platform == "telegram":
        return f'href="{html.escape(post.article_url)}"' in first.text
    if post.platform == "slack":
        return post.article_url.replace("&", "&amp;") in first.text
    if post.platform == "linkedin":
        return post.article_url.replace("_", "\\_").replace("~", "\\~") in first.text
    return post.article_url in first.text


@pytest.mark.parametrize("platform", sorted(PROFILES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=_ARTICLES, style=_STYLES)
def test_compose_always_validates(
    platform: str, article: Article, style: dict[str, object]
) -> None:
    """validate_post(compose(...)) is clean (Instagram without image: only that is reported)."""
    post = compose(
        article,
        ChannelStyle(platform=platform, **style),
        summariser=SUMMARISER,
        now=NOW,  # type: ignore[arg-type]
    )
    problems = validate_post(post)
    if platform == "instagram" and not post.parts[0].media:
        assert problems == ["instagram: an image is required and the article has none"]
        assert post.image_missing
    else:
        assert problems == []
        assert not post.image_missing
    if PROFILES[platform].link_allowed:
        assert _link_shown(post)
    else:
        assert post.article_url not in post.parts[0].text
    if platform in ("x", "mastodon"):  # no link card there: the URL itself is in the text
        assert post.article_url in post.parts[0].text
