"""Feed HTML is no longer run through feedparser's sanitiser (a third of a cold poll's CPU):
what a reader, a post or the web page gets from a feed must not change, and must carry no
script, style, event handler or javascript:/data: URL of the feed's.

Hostile feeds are parsed both ways (``SANITIZE_HTML`` on, as before, and off), and the
articles' titles, links, texts, images, authors and tags compared; the corpus feeds too.
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import bot.feeds.parse as parse_module
from bot.app import open_pipeline
from bot.config import load_config
from bot.engine.filters import searchable_text
from bot.errors import ParseError
from bot.feeds.parse import ParsedFeed, parse_feed
from bot.htmltext import html_to_text
from bot.models import Article
from tests.builders import write_config

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
FEED = "https://volt.example/feed.xml"
MARK = "pwned"  # every hostile payload below names it; no text, post or page may
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)

# The body of every hostile RSS item: each kind of active markup, around real words.
HOSTILE_BODY = (
    "<p>Electric buses now cost less than diesel ones.</p>"
    "<script>alert('pwned')</script><style>p { background: url(pwned) }</style>"
    "<SCRIPT type='text/javascript'>document.title = 'pwned'</SCRIPT >"
    '<img src="javascript:alert(\'pwned\')"><img src="data:image/svg+xml,pwned">'
    '<img src="/img/bus.jpg" onerror="alert(\'pwned\')" alt="A bus">'
    "<p onmouseover=\"alert('pwned')\">Charging takes <b>forty</b> minutes.</p>"
    '<a href="javascript:alert(\'pwned\')">one</a> <a href="jav&#x61;script:pwned()">two</a> '
    '<a href=" JaVaScRiPt:pwned()">three</a> <a href="java&#9;script:pwned()">four</a> '
    '<a href="data:text/html,pwned">five</a> <a href="/more" onclick="pwned()">more</a>'
    '<iframe src="https://evil.example/pwned"></iframe><svg onload="pwned()"></svg>'
    '<object data="https://evil.example/pwned.swf"></object><!-- pwned -->'
    '<form action="https://evil.example/pwned"><input name="q" value="pwned"></form>'
    "<p>The grid copes.</p><script>never closed: pwned"
)


def _rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Volt &lt;b&gt;Lane'
        "&lt;/b&gt;</title><link>https://volt.example/</link><language>en</language>"
        f"{items}</channel></rss>"
    ).encode()


def _escaped(markup: str) -> str:
    return markup.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


HOSTILE_RSS = _rss(
    # Markup in CDATA, in content:encoded.
    "<item><title>Buses</title><link>https://volt.example/buses</link><guid>g1</guid>"
    f"<dc:creator>Asha Rao</dc:creator><content:encoded><![CDATA[{HOSTILE_BODY}]]>"
    "</content:encoded></item>"
    # The same markup entity-encoded in the description; a title of plain HTML tags.
    '<item><title>Fast &lt;b onclick="pwned()"&gt;charging&lt;/b&gt;</title>'
    "<link>https://volt.example/charging</link><guid>g2</guid>"
    f"<description>{_escaped(HOSTILE_BODY)}</description></item>"
    # A title with a script tag is not HTML to feedparser: it stays text, as it always did.
    "<item><title>Grid &lt;script&gt;alert(1)&lt;/script&gt;</title>"
    "<link>/grid</link><guid>g3</guid><description>&lt;p&gt;Relative &lt;a "
    'href="/a"&gt;link&lt;/a&gt; &lt;img src="pic.jpg"&gt;&lt;/p&gt;</description></item>'
)

HOSTILE_ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
    'xml:base="https://volt.example/blog/"><title type="html">Volt &lt;script&gt;pwned()'
    "&lt;/script&gt;</title><id>urn:volt</id><updated>2026-11-26T00:00:00Z</updated>"
    "<entry><id>urn:e1</id><updated>2026-11-26T00:00:00Z</updated>"
    '<title type="html">&lt;em onclick="pwned()"&gt;Grid&lt;/em&gt; news&lt;script&gt;'
    "pwned()&lt;/script&gt;&lt;style&gt;pwned&lt;/style&gt;</title>"
    '<link href="grid-news"/><author><name>Ravi Iyer</name></author>'
    f'<summary type="html">{_escaped(HOSTILE_BODY)}</summary>'
    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    '<p onclick="pwned()">Storage <a href="javascript:pwned()">doubles</a>.</p>'
    '<img src="chart.png" alt="Chart" onload="pwned()"/>'
    "<script>pwned()</script><style>p { color: pwned }</style></div></content></entry>"
    '<entry><id>urn:e2</id><updated>2026-11-25T00:00:00Z</updated><title type="text">'
    'Tariffs &lt;b&gt;fall&lt;/b&gt;</title><link href="https://volt.example/t"/>'
    f'<content type="html"><![CDATA[{HOSTILE_BODY}]]></content></entry></feed>'
).encode()


def _parse(
    body: bytes, *, sanitise: bool, monkeypatch: pytest.MonkeyPatch, base_url: str = FEED
) -> ParsedFeed:
    """``body`` parsed with feedparser's sanitiser on (as before) or off (as now)."""
    with monkeypatch.context() as patch:
        patch.setattr(parse_module, "SANITIZE_HTML", sanitise)
        return parse_feed(body, feed_name="volt", base_url=base_url)


class _Links(HTMLParser):
    """The (tag, attribute, value) of every link and image in a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "img": "src"}.get(tag)
        self.found += [(tag, name, value or "") for name, value in attrs if name == wanted]


def links(fragment: str) -> list[tuple[str, str, str]]:
    finder = _Links()
    finder.feed(fragment)
    finder.close()
    return finder.found


# Titles the feeds give as text, not HTML: kept as typed, as they always were (a post is
# plain text; Telegram's HTML and the web page escape them).
TEXT_TITLES = ("Grid <script>alert(1)</script>", "Tariffs <b>fall</b>")
BASES = (FEED, "https://volt.example/blog/")  # the hostile feeds' URL and xml:base


def reader_view(article: Article, bases: tuple[str, ...] = BASES) -> dict[str, Any]:
    """What anyone downstream reads of an article: its fields, its texts and links.

    Links exclude empty ones and ones to a base itself: the sanitiser emptied an unsafe
    href, and the resolver then pointed it at the feed (or its xml:base); an unsafe link
    is now just empty.
    The filters' text is compared without spaces: it replaces each tag with a space, and
    the sanitiser removed some tags whole (ruby's ``<rt>``: "猫ねこ" is now "猫 ねこ").
    """
    found = links(article.content_html + article.excerpt_html)
    return {
        "id": article.item_id,
        "url": article.url,
        "title": article.title,
        "content": html_to_text(article.content_html),
        "excerpt": html_to_text(article.excerpt_html),
        "searchable": "".join(searchable_text(article).split()),
        "links": [link for link in found if link[2] not in ("", *bases)],
        "image": article.image,
        "author": article.author,
        "tags": article.tags,
        "lang": article.lang,
        "published": article.published,
        "updated": article.updated,
    }


@pytest.mark.parametrize("body", [HOSTILE_RSS, HOSTILE_ATOM], ids=["rss", "atom"])
def test_hostile_feed_reads_the_same_as_with_the_sanitiser(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles, links, texts, images and authors of hostile items are what the sanitised
    parse gave, and none of them carries a payload (only the literal-text title does)."""
    before = _parse(body, sanitise=True, monkeypatch=monkeypatch)
    after = _parse(body, sanitise=False, monkeypatch=monkeypatch)
    assert after.title == before.title
    assert MARK not in after.title
    assert "<" not in after.title
    assert [reader_view(a) for a in after.articles] == [reader_view(a) for a in before.articles]
    for article in after.articles:
        view = reader_view(article)
        for key in ("content", "excerpt", "searchable", "links", "image", "author", "tags"):
            assert MARK not in repr(view[key]), (key, view[key])
        if article.title not in TEXT_TITLES:
            assert MARK not in article.title, article.title
            assert "<" not in article.title, article.title
        for _, _, url in view["links"]:
            assert url.startswith("https://volt.example/"), url
        assert article.image is None or article.image.url.startswith("https://volt.example/")


def test_unsafe_links_are_dropped_and_relative_ones_made_absolute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No javascript:/data: href or src survives in the kept HTML, however it is spelt;
    relative links and images resolve against the item's link or xml:base."""
    rss = _parse(HOSTILE_RSS, sanitise=False, monkeypatch=monkeypatch)
    atom = _parse(HOSTILE_ATOM, sanitise=False, monkeypatch=monkeypatch)
    for article in (*rss.articles, *atom.articles):
        for tag, _, url in links(article.content_html + article.excerpt_html):
            assert url == "" or url.startswith("https://volt.example/"), (tag, url)
    grid = rss.articles[2]
    assert links(grid.excerpt_html) == [
        ("a", "href", "https://volt.example/a"),
        ("img", "src", "https://volt.example/pic.jpg"),
    ]
    assert grid.image is not None
    assert grid.image.url == "https://volt.example/pic.jpg"
    assert rss.articles[0].image is not None
    assert rss.articles[0].image.url == "https://volt.example/img/bus.jpg"
    assert rss.articles[0].image.alt == "A bus"
    atom_first = atom.articles[0]
    assert atom_first.url == "https://volt.example/blog/grid-news"
    assert atom_first.image is not None
    assert atom_first.image.url == "https://volt.example/blog/chart.png"


def test_titles_come_out_as_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTML titles lose their tags, scripts and styles; a text title keeps its characters."""
    rss = _parse(HOSTILE_RSS, sanitise=False, monkeypatch=monkeypatch)
    atom = _parse(HOSTILE_ATOM, sanitise=False, monkeypatch=monkeypatch)
    assert [a.title for a in rss.articles] == [
        "Buses",
        "Fast charging",
        "Grid <script>alert(1)</script>",  # RSS text, not HTML: shown as typed, as before
    ]
    assert [a.title for a in atom.articles] == ["Grid news", "Tariffs <b>fall</b>"]
    assert atom.title == "Volt"
    assert rss.title == "Volt Lane"


def test_text_and_keyword_filters_skip_script_style_and_comments() -> None:
    """html_to_text and the filters' searchable text never read script, style or comment
    text as words, closed or not (the sanitiser used to remove them before they could)."""
    article = Article(
        feed="f", item_id="1", url="https://volt.example/1", title="T", excerpt_html=HOSTILE_BODY
    )
    assert MARK not in html_to_text(HOSTILE_BODY)
    assert MARK not in searchable_text(article)
    assert "Electric buses now cost less than diesel ones" in searchable_text(article)
    assert "The grid copes" in searchable_text(article)
    assert html_to_text("<applet>pwned</applet><p>ok</p>") == "ok"


def test_posts_stored_articles_and_the_web_page_carry_no_feed_markup(tmp_path: Path) -> None:
    """A hostile feed polled and delivered to every kind of text channel: no post (Telegram's
    HTML included) carries a payload; stored titles, links, images and authors are plain;
    the review page shows no script, handler or javascript: link of the feed's."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        HOSTILE_RSS.replace(b"<link>/grid</link>", b"<link>https://volt.example/g</link>")
    )
    path = write_config(
        tmp_path,
        feeds={"f": str(feed)},
        platforms=("x", "mastodon", "telegram", "bluesky"),
        catch_up="all",
    )
    config = load_config(path, env={})
    with open_pipeline(config) as pipe:
        report = pipe.poll("f")
        assert report.error is None
        assert report.new == 3
        for channel in config.channels:
            pipe.deliver(channel.name)
        stored = [d.article for d in pipe.store.deliveries()]
    assert len(stored) == 12
    for article in stored:
        plain = (article.url, article.author or "", *article.tags)
        assert all(MARK not in field and "<" not in field for field in plain)
        assert article.image is None or article.image.url.startswith("https://volt.example/")
    posts = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert len(posts) == 12
    for post in posts:
        text = json.dumps(post, ensure_ascii=False)
        assert MARK not in text, text
        assert "javascript" not in text.lower(), text
        assert not _HANDLER.search(text), text
        for part in post["parts"]:
            for media in part["media"]:
                assert media["url"].startswith("https://volt.example/"), media


def test_review_page_shows_hostile_items_as_text(tmp_path: Path) -> None:
    """The web page's queue of held hostile posts has no script, handler or unsafe link."""
    from tests.webui import PASSWORD, PASSWORD_ENV, logged_in, served

    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        HOSTILE_RSS.replace(b"<link>/grid</link>", b"<link>https://volt.example/g</link>")
    )
    path = write_config(tmp_path, feeds={"f": str(feed)}, platforms=("telegram",), catch_up="all")
    text = path.read_text(encoding="utf-8") + 'approval = "manual"\n'
    path.write_text(
        text + f'[http]\nlisten = "127.0.0.1:0"\nui = true\nui_password_env = "{PASSWORD_ENV}"\n',
        encoding="utf-8",
    )
    config = load_config(path, env={PASSWORD_ENV: PASSWORD})
    with served(config) as site, logged_in(site.base) as (client, _):
        page = client.get(f"{site.base}/queue").text
    assert "Fast charging" in page
    assert "Electric buses" in page
    assert MARK not in page
    assert "<script" not in page.lower()
    assert "javascript:" not in page.lower()
    assert not _HANDLER.search(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the text title, escaped


CORPUS_FILES = (
    sorted(
        p
        for p in CORPUS.iterdir()
        if p.name.endswith((".xml", ".rdf", ".atom", ".rss", ".gz")) and p.name != "index.json"
    )
    if CORPUS.is_dir()
    else []
)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
def test_corpus_feeds_read_the_same_as_with_the_sanitiser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every RSS/Atom feed of the corpus gives the same articles, warnings and errors as
    with feedparser's sanitiser: ids, links, titles, texts, links in the HTML, images,
    authors, tags, dates."""
    compared = 0
    for path in CORPUS_FILES:
        body = path.read_bytes()
        if path.suffix == ".gz":
            body = gzip.decompress(body)
        base = f"https://corpus.example/feeds/{path.name}"
        views = []
        for sanitise in (True, False):
            try:
                parsed = _parse(body, sanitise=sanitise, monkeypatch=monkeypatch, base_url=base)
            except ParseError as exc:
                views.append(str(exc))
                continue
            articles = [reader_view(a, (base,)) for a in parsed.articles]
            views.append(repr((parsed.title, parsed.link, parsed.warnings, articles)))
            compared += len(articles)
        assert views[0] == views[1], path.name
    assert compared > 800  # the corpus's ~860 RSS/Atom items were all compared
