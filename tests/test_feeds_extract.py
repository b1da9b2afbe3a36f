"""Article pages: text extraction, page-filled excerpt-only items, single-article preview."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.errors import ExtractError
from bot.feeds.extract import article_from_page, extract_page, first_image
from bot.feeds.fetch import make_http_client
from bot.feeds.sources import HttpFeedSource, fetch_article, load_source_articles
from bot.htmltext import inline_text as html_to_text
from tests.feedserver import FeedServer

PARAGRAPHS = [
    "टाटा मोटर्स ने मंगलवार को नेक्सन ईवी का नया लंबी दूरी वाला संस्करण पेश किया, जिसकी "
    "प्रमाणित रेंज 465 किलोमीटर है और जो तेज़ चार्जिंग का समर्थन करता है।",
    "कंपनी के अनुसार नई बैटरी 40.5 kWh की है और इसे 56 मिनट में 10 से 80 प्रतिशत तक चार्ज "
    "किया जा सकता है। कीमत 14.74 लाख रुपये से शुरू होती है।",
    "विश्लेषकों का कहना है कि इस कदम से भारत के इलेक्ट्रिक कार बाज़ार में प्रतिस्पर्धा और बढ़ेगी, "
    "जहाँ टाटा की हिस्सेदारी पहले से ही सबसे अधिक है।",
]


def article_page(*, image: bool = True) -> bytes:
    meta = (
        '<meta property="og:image" content="/uploads/nexon-lr.jpg">'
        '<meta property="og:image:alt" content="सड़क पर चलती लाल नेक्सन ईवी">'
        if image
        else ""
    )
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html><html lang="hi"><head><meta charset="utf-8">
<title>नेक्सन ईवी लॉन्ग रेंज लॉन्च | ईवी समाचार</title>
<meta property="og:title" content="नेक्सन ईवी लॉन्ग रेंज लॉन्च">
<meta property="og:description" content="465 किमी रेंज के साथ नई नेक्सन ईवी">{meta}</head>
<body><nav><a href="/">होम</a> <a href="/cars">कारें</a></nav>
<article><h1>नेक्सन ईवी लॉन्ग रेंज लॉन्च</h1>{body}</article>
<footer>© ईवी समाचार 2024</footer></body></html>""".encode()


def feed_with_excerpt(page_url: str, excerpt: str = "नई नेक्सन ईवी लॉन्च") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>ईवी</title><link>https://ev.example/</link><language>hi</language>
<item><title>नेक्सन ईवी</title><link>{page_url}</link><guid>n1</guid>
<description>{excerpt}</description></item></channel></rss>""".encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_http_client(user_agent="syndbot-test", timeout=5.0) as http:
        yield http


def test_extract_page_reads_text_and_metadata() -> None:
    """Main text becomes <p> paragraphs; og:image/alt, description and lang are read."""
    page = extract_page(article_page(), url="https://ev.example/hi/nexon-lr")
    assert page.title == "नेक्सन ईवी लॉन्ग रेंज लॉन्च"
    assert page.text_html.startswith("<p>")
    assert "465 किलोमीटर" in page.text_html
    assert "होम" not in page.text_html  # navigation is not article text
    assert page.image is not None
    assert page.image.url == "https://ev.example/uploads/nexon-lr.jpg"
    assert page.image.alt == "सड़क पर चलती लाल नेक्सन ईवी"
    assert page.description == "465 किमी रेंज के साथ नई नेक्सन ईवी"
    assert page.lang == "hi"


def test_page_without_text_is_an_extract_error() -> None:
    """A page with no article text raises ExtractError naming the URL."""
    with pytest.raises(ExtractError, match=r"https://ev\.example/empty: no article text"):
        extract_page(
            b"<html><body><nav><a href='/'>x</a></nav></body></html>",
            url="https://ev.example/empty",
        )


def test_article_from_page_uses_normalised_url_as_id() -> None:
    """An article built from a page has the normalised URL as item_id."""
    url = "https://EV.example/hi/nexon-lr/?utm_source=wa"
    article = article_from_page(extract_page(article_page(), url=url), url=url)
    assert article.item_id == "https://ev.example/hi/nexon-lr"
    assert article.feed == "(article)"
    assert article.excerpt_html == "<p>465 किमी रेंज के साथ नई नेक्सन ईवी</p>"


def test_html_helpers() -> None:
    """html_to_text drops tags/scripts and decodes entities; first_image resolves src."""
    assert (
        html_to_text("<p>Ola&nbsp;S1</p><script>x()</script><p>ப்ரோ &amp; X</p>") == "Ola S1 ப்ரோ & X"
    )
    image = first_image(
        '<img data-src="/a.webp" src="data:," alt=" ఎలక్ట్రిక్ ">', base="https://ev.example/te/"
    )
    assert image is not None
    assert (image.url, image.alt) == ("https://ev.example/a.webp", "ఎలక్ట్రిక్")


def test_excerpt_only_item_is_filled_from_its_page(
    server: FeedServer, client: httpx.Client
) -> None:
    """full_text=auto fetches the page of a short excerpt-only item and fills body and image."""
    server.route("/hi/nexon-lr", body=article_page(), content_type="text/html; charset=utf-8")
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/hi/nexon-lr")))
    source = HttpFeedSource("ev-hi", server.url("/feed.xml"), client=client, allow_private=True)
    [article] = source.fetch().articles
    assert "465 किलोमीटर" in article.content_html
    assert article.excerpt_html == "नई नेक्सन ईवी लॉन्च"
    assert article.image is not None
    assert article.image.url == server.url("/uploads/nexon-lr.jpg")
    source.fetch()  # a second poll reuses the page it already read
    assert [r.path for r in server.requests] == ["/feed.xml", "/hi/nexon-lr", "/feed.xml"]


def test_long_excerpt_is_not_fetched(server: FeedServer, client: httpx.Client) -> None:
    """full_text=auto leaves items alone whose excerpt is long enough to summarise."""
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/page"), " ".join(PARAGRAPHS)))
    source = HttpFeedSource("ev", server.url("/feed.xml"), client=client, allow_private=True)
    [article] = source.fetch().articles
    assert article.content_html == ""
    assert [r.path for r in server.requests] == ["/feed.xml"]


def test_full_text_always_fetches(server: FeedServer, client: httpx.Client) -> None:
    """full_text=always fetches the page even for a long excerpt."""
    server.route("/page", body=article_page(), content_type="text/html")
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/page"), " ".join(PARAGRAPHS)))
    source = HttpFeedSource(
        "ev", server.url("/feed.xml"), client=client, full_text="always", allow_private=True
    )
    assert "56 मिनट" in source.fetch().articles[0].content_html


def test_failing_page_is_a_warning_not_a_feed_failure(
    server: FeedServer, client: httpx.Client
) -> None:
    """A 404 article page leaves the excerpt in place and adds a warning."""
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/gone")))
    source = HttpFeedSource("ev", server.url("/feed.xml"), client=client, allow_private=True)
    outcome = source.fetch()
    assert outcome.articles[0].content_html == ""
    assert any("HTTP 404" in w for w in outcome.warnings)


def test_page_links_in_feeds_are_guarded(server: FeedServer, client: httpx.Client) -> None:
    """With allow_private=False a feed linking to 127.0.0.1 pages gets no page fetched."""
    server.route("/admin", body=article_page(), content_type="text/html")
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/admin")))
    source = HttpFeedSource("ev", server.url("/feed.xml"), client=client)
    outcome = source.fetch()
    assert outcome.articles[0].content_html == ""
    assert any("refusing" in w for w in outcome.warnings)
    assert [r.path for r in server.requests] == ["/feed.xml"]


def test_fetch_article(server: FeedServer, client: httpx.Client) -> None:
    """fetch_article builds an Article from one page URL."""
    server.route("/hi/nexon-lr", body=article_page(image=False), content_type="text/html")
    article = fetch_article(client, server.url("/hi/nexon-lr"))
    assert article.item_id == server.url("/hi/nexon-lr")
    assert article.title == "नेक्सन ईवी लॉन्ग रेंज लॉन्च"
    assert article.image is None
    assert article.lang == "hi"


def test_load_source_articles_accepts_feeds_pages_and_files(
    server: FeedServer, client: httpx.Client, tmp_path: Path
) -> None:
    """preview SOURCE works for a feed URL, an article URL and a feed file."""
    server.route("/page", body=article_page(), content_type="text/html")
    long_excerpt = " ".join(PARAGRAPHS)
    server.route("/feed.xml", body=feed_with_excerpt(server.url("/page"), long_excerpt))
    from_feed = load_source_articles(server.url("/feed.xml"), client=client)
    assert [a.item_id for a in from_feed] == ["n1"]
    [from_page] = load_source_articles(server.url("/page"), client=client)
    assert from_page.title == "नेक्सन ईवी लॉन्ग रेंज लॉन्च"
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(feed_with_excerpt("https://ev.example/hi/1", long_excerpt))
    [from_file] = load_source_articles(str(feed_file), client=client)
    assert from_file.url == "https://ev.example/hi/1"
