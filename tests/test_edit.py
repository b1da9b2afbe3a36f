"""Editing a composed post: the platform's own counting and rules decide (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.compose import compose
from bot.compose.edit import EditRefused, edit_post, editable_text
from bot.compose.facets import facet_problems
from bot.models import Article, ChannelStyle, Post
from bot.summarise import ExtractiveSummariser
from bot.textfit import fit_text

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
URL = "https://news.example.com/2026/12/batteries/"
ARTICLE = Article(
    feed="f",
    item_id="1",
    url=URL,
    title="Battery prices fall again",
    content_html="<p>"
    + " ".join(f"Region {i} saw cell prices fall by {i + 3} percent this year." for i in range(40))
    + "</p>",
    tags=("EV",),
)


class _Wordy:
    """A summariser filling whatever budget it gets with whole words, so threads happen."""

    def summarise(
        self, article: Article, *, budget: int, measure: Callable[[str], int] = len
    ) -> str:
        words = " ".join(f"Region {i} saw cell prices fall again." for i in range(60))
        return fit_text(words, budget, measure)


def _post(platform: str, **style: object) -> Post:
    settings = ChannelStyle(platform=platform, name=f"{platform}-c", **style)  # type: ignore[arg-type]
    summariser = _Wordy() if style.get("thread") else ExtractiveSummariser()
    return compose(ARTICLE, settings, summariser=summariser, now=NOW)


def test_x_edit_over_the_limit_is_refused_with_the_weighted_count() -> None:
    """X counts CJK characters double (Devanagari single): 150 CJK are 300 > 280, while
    150 Devanagari letters fit."""
    assert edit_post(_post("x"), "क" * 150 + " " + URL).length.value == 150 + 1 + 23
    with pytest.raises(EditRefused) as caught:
        edit_post(_post("x"), "字" * 150 + " " + URL)
    length = caught.value.length
    assert length is not None
    assert (length.unit, length.limit) == ("weighted", 280)
    assert length.value == 300 + 1 + 23
    assert f"{length.value} weighted, over the x limit of 280" in str(caught.value)


def test_valid_edit_keeps_media_and_updates_the_length() -> None:
    """An accepted edit replaces only the text; the length is recounted."""
    post = _post("mastodon")
    text = f"Cheaper cells {URL} #EV"
    edited = edit_post(post, text)
    assert edited.parts[0].text == text
    assert edited.parts[0].media == post.parts[0].media
    assert edited.length.value == len("Cheaper cells ") + 23 + len(" #EV")


def test_thread_parts_are_separated_by_dashes_and_counted_each() -> None:
    """A thread is edited as parts between lines of ---; a missing part or a long second
    part is refused, naming the part."""
    post = _post("x", thread=True)
    assert len(post.parts) > 1, "the article should need a thread on X"
    parts = editable_text(post).split("\n---\n")
    with pytest.raises(EditRefused, match="keep"):
        edit_post(post, parts[0])
    too_long = "\n---\n".join([parts[0], "word " * 80, *parts[2:]])
    with pytest.raises(EditRefused, match="part 2: "):
        edit_post(post, too_long)
    assert edit_post(post, editable_text(post)).parts == post.parts


def test_telegram_markup_is_checked() -> None:
    """Telegram HTML: an unescaped '<' in the edited text is refused by the validator."""
    with pytest.raises(EditRefused, match="not escaped"):
        edit_post(_post("telegram"), f'1 < 2 <a href="{URL}">read</a>')


def test_bluesky_facets_are_rebuilt_and_the_link_is_required() -> None:
    """Bluesky: the link (display form) and tags get facets pointing at the article; with
    the link gone from the text, the link card still carries it."""
    edited = edit_post(_post("bluesky"), "सस्ती बैटरी news.example.com/2026/12/batteries #EV")
    part = edited.parts[0]
    assert facet_problems(part.text, part.facets) == []
    assert {(f.kind, f.value) for f in part.facets} == {("link", URL), ("tag", "EV")}
    bare = edit_post(_post("bluesky"), "no link here #EV").parts[0]
    assert bare.link == URL
    assert [(f.kind, f.value) for f in bare.facets] == [("tag", "EV")]
