"""Feed documents to Articles: formats, identity, links, titles, images, languages, errors."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from bot.errors import ParseError
from bot.feeds.extract import normalise_url
from bot.feeds.parse import MAX_ITEMS, parse_feed
from bot.models import Article

FEED_URL = "https://ev.example/feed/"


def rss(items: str, *, lang: str = "hi", head: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>ईवी समाचार</title><link>https://ev.example/</link><language>{lang}</language>
{head}{items}</channel></rss>""".encode()


def parse(body: bytes, **kwargs: str) -> list[Article]:
    return list(parse_feed(body, feed_name="ev", base_url=FEED_URL, **kwargs).articles)


HINDI_ITEM = """<item>
<title>टाटा नेक्सन ईवी की कीमत घटी</title>
<link>https://ev.example/hi/tata-nexon-ev-price-cut/</link>
<guid isPermaLink="false">https://ev.example/?p=101</guid>
<pubDate>Tue, 05 Mar 2024 10:30:00 +0530</pubDate>
<dc:creator>राहुल शर्मा</dc:creator>
<category>टाटा</category><category>इलेक्ट्रिक कार</category><category>टाटा</category>
<description>&lt;p&gt;टाटा मोटर्स ने नेक्सन ईवी की कीमत घटाई।&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>टाटा मोटर्स ने नेक्सन ईवी की कीमत ₹1.2 लाख घटा दी है।</p>
<p><img src="/img/nexon.jpg" alt="नीले रंग की नेक्सन ईवी"></p>]]></content:encoded>
</item>"""


def test_rss_item_fields_in_hindi() -> None:
    """An RSS 2.0 item gives id, url, title, bodies, UTC date, tags, author, language."""
    [article] = parse(rss(HINDI_ITEM))
    assert article.feed == "ev"
    assert article.item_id == "https://ev.example/?p=101"
    assert article.url == "https://ev.example/hi/tata-nexon-ev-price-cut/"
    assert article.title == "टाटा नेक्सन ईवी की कीमत घटी"
    assert "₹1.2 लाख" in article.content_html
    assert article.excerpt_html == "<p>टाटा मोटर्स ने नेक्सन ईवी की कीमत घटाई।</p>"
    assert article.published == datetime(2024, 3, 5, 5, 0, tzinfo=UTC)
    assert article.tags == ("टाटा", "इलेक्ट्रिक कार")
    assert article.author == "राहुल शर्मा"
    assert article.lang == "hi"
    assert article.image is not None
    assert article.image.url == "https://ev.example/img/nexon.jpg"
    assert article.image.alt == "नीले रंग की नेक्सन ईवी"


def test_atom_tamil_with_xml_base_and_lang() -> None:
    """Atom entries resolve relative links against xml:base and take xml:lang."""
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ta" xml:base="https://ev.example/ta/">
<title>மின்சார வாகன செய்திகள்</title><id>urn:ev:ta</id><updated>2024-03-06T08:00:00Z</updated>
<entry><title type="html">ஓலா &lt;b&gt;S1 ப்ரோ&lt;/b&gt; விலை குறைப்பு</title>
<id>urn:ev:ta:7</id><link rel="alternate" href="ola-s1-pro"/>
<updated>2024-03-06T08:00:00Z</updated>
<summary>ஓலா எலக்ட்ரிக் நிறுவனம் S1 ப்ரோ ஸ்கூட்டரின் விலையை குறைத்தது.</summary>
<category term="ஓலா"/></entry></feed>""".encode()
    parsed = parse_feed(atom, feed_name="ev-ta", base_url="https://feeds.example/ta.atom")
    [article] = parsed.articles
    assert parsed.title == "மின்சார வாகன செய்திகள்"
    assert article.url == "https://ev.example/ta/ola-s1-pro"
    assert article.item_id == "urn:ev:ta:7"
    assert article.title == "ஓலா S1 ப்ரோ விலை குறைப்பு"
    assert article.lang == "ta"
    assert article.published is None
    assert article.updated == datetime(2024, 3, 6, 8, 0, tzinfo=UTC)
    assert article.tags == ("ஓலா",)


def test_relative_and_protocol_relative_links_resolve_against_feed_url() -> None:
    """Site-relative, path-relative and //host links become absolute."""
    items = "".join(
        f"<item><title>t{n}</title><link>{link}</link></item>"
        for n, link in enumerate(["/te/ather-450x", "ather-rizta", "//cdn.ev.example/te/x"])
    )
    urls = [a.url for a in parse(rss(items, lang="te"))]
    assert urls == [
        "https://ev.example/te/ather-450x",
        "https://ev.example/feed/ather-rizta",
        "https://cdn.ev.example/te/x",
    ]


def test_guid_identity_does_not_depend_on_the_feed_url() -> None:
    """A relative-looking guid is kept as written, whatever URL the feed was fetched from."""
    body = rss("<item><title>a</title><link>/a</link><guid>post-42</guid></item>")
    first = parse_feed(body, feed_name="ev", base_url="http://ev.example/feed")
    moved = parse_feed(body, feed_name="ev", base_url="https://www.ev.example/rss")
    assert first.articles[0].item_id == moved.articles[0].item_id == "post-42"


def test_identity_falls_back_to_normalised_link_then_hash() -> None:
    """Without guid the id is the normalised link; without link too, a stable hash."""
    items = (
        "<item><title>A</title><link>HTTPS://EV.example/hi/a/?utm_source=rss&amp;id=3#top</link></item>"
        "<item><title>Bez linku</title><pubDate>Tue, 05 Mar 2024 10:30:00 GMT</pubDate></item>"
    )
    first, second = parse(rss(items))
    assert first.item_id == "https://ev.example/hi/a?id=3"
    assert second.item_id.startswith("sha256:")
    assert second.url == "https://ev.example/"  # a link-less note points at the site
    assert [a.item_id for a in parse(rss(items))] == [first.item_id, second.item_id]


def test_duplicate_guid_keeps_the_first_item() -> None:
    """The same id twice in one feed is one item; a warning says so."""
    items = (
        "<item><title>पहला</title><link>https://ev.example/1</link><guid>x1</guid></item>"
        "<item><title>दूसरा</title><link>https://ev.example/2</link><guid>x1</guid></item>"
    )
    parsed = parse_feed(rss(items), feed_name="ev", base_url=FEED_URL)
    assert [a.title for a in parsed.articles] == ["पहला"]
    assert any("duplicate id 'x1'" in w for w in parsed.warnings)


def test_empty_title_is_derived_from_content() -> None:
    """An item without a title gets the first words of its text."""
    words = " ".join(["తెలుగు"] * 30)
    item = f"<item><title></title><link>https://ev.example/te/1</link><description>{words}</description></item>"
    [article] = parse(rss(item, lang="te"))
    assert article.title.startswith("తెలుగు తెలుగు")
    assert article.title.endswith("…")
    assert len(article.title) <= 91


def test_title_tags_and_entities_are_stripped() -> None:
    """HTML in an Atom html title is reduced to text with entities decoded."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title type="html">Tata &amp;amp; &lt;em&gt;Mahindra&lt;/em&gt; &amp;#8377;5L</title>
<id>1</id><link href="https://ev.example/1"/></entry></feed>"""
    assert parse(atom)[0].title == "Tata & Mahindra ₹5L"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<media:content url="https://img.ev.example/a.jpg" medium="image"/>', "a.jpg"),
        (
            '<media:content url="https://v.ev.example/v.mp4" medium="video"/>'
            '<media:thumbnail url="https://img.ev.example/thumb.jpg"/>',
            "thumb.jpg",
        ),
        ('<enclosure url="https://img.ev.example/e.png" type="image/png" length="1"/>', "e.png"),
        ('<enclosure url="https://a.ev.example/pod.mp3" type="audio/mpeg" length="1"/>', None),
    ],
)
def test_featured_image_sources(markup: str, expected: str | None) -> None:
    """media:content image, media:thumbnail and image enclosures give the featured image."""
    [article] = parse(
        rss(f"<item><title>t</title><link>https://ev.example/1</link>{markup}</item>")
    )
    if expected is None:
        assert article.image is None
    else:
        assert article.image is not None
        assert article.image.url.endswith(expected)


def test_declared_image_takes_alt_from_the_same_img_in_content() -> None:
    """media:content gets the alt text of the identical <img> in the body."""
    item = """<item><title>t</title><link>https://ev.example/1</link>
<media:content url="https://img.ev.example/ev.jpg" medium="image"/>
<content:encoded><![CDATA[<img src="https://img.ev.example/ev.jpg"
 alt="चार्जिंग स्टेशन">]]></content:encoded></item>"""
    [article] = parse(rss(item))
    assert article.image is not None
    assert article.image.alt == "चार्जिंग स्टेशन"


def test_tracking_pixels_are_not_featured_images() -> None:
    """1x1 images and feed share buttons are skipped for the first real <img>."""
    body = (
        '<img src="https://stats.ev.example/p.gif" width="1" height="1">'
        '<a href="x"><img src="http://feeds.feedburner.com/~ff/ev?i=1"></a>'
        '<img src="/real.jpg" alt="real">'
    )
    item = f"<item><title>t</title><link>https://ev.example/1</link><content:encoded><![CDATA[{body}]]></content:encoded></item>"
    [article] = parse(rss(item))
    assert article.image is not None
    assert (article.image.url, article.image.alt) == ("https://ev.example/real.jpg", "real")


def test_default_lang_applies_when_the_feed_has_none() -> None:
    """default_lang is used only when neither item nor feed names a language."""
    body = rss("<item><title>t</title><link>https://ev.example/1</link></item>", lang="")
    assert parse(body, default_lang="te")[0].lang == "te"
    assert (
        parse(
            rss("<item><title>t</title><link>https://ev.example/1</link></item>", lang="en_IN"),
            default_lang="te",
        )[0].lang
        == "en-in"
    )


def test_invalid_dates_become_none() -> None:
    """A date feedparser cannot read is None, not an error."""
    item = "<item><title>t</title><link>https://ev.example/1</link><pubDate>soon</pubDate></item>"
    assert parse(rss(item))[0].published is None


def test_not_well_formed_feed_keeps_entries_with_a_warning() -> None:
    """An undefined entity makes the feed bozo; its items are kept and a warning added."""
    body = b"""<rss version="2.0"><channel><title>t</title>
<item><title>Range &nbsp; test</title><link>https://ev.example/1</link></item></channel></rss>"""
    parsed = parse_feed(body, feed_name="ev", base_url=FEED_URL)
    assert [a.url for a in parsed.articles] == ["https://ev.example/1"]
    assert any("not well-formed" in w for w in parsed.warnings)


def test_leading_whitespace_and_wrong_declared_encoding_are_tolerated() -> None:
    """Whitespace before <?xml?> and a declared encoding the bytes do not match still parse."""
    body = b"\n\n  " + rss(HINDI_ITEM).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    [article] = parse(body)
    assert article.title == "टाटा नेक्सन ईवी की कीमत घटी"


def test_item_cap() -> None:
    """More than MAX_ITEMS items are cut to MAX_ITEMS with a warning."""
    items = "".join(
        f"<item><title>{n}</title><link>https://ev.example/{n}</link></item>"
        for n in range(MAX_ITEMS + 3)
    )
    parsed = parse_feed(rss(items), feed_name="ev", base_url=FEED_URL)
    assert len(parsed.articles) == MAX_ITEMS
    assert any(f"more than {MAX_ITEMS} items" in w for w in parsed.warnings)


def test_html_page_is_a_parse_error_pointing_at_its_feed() -> None:
    """An HTML page is refused, naming the feed it advertises."""
    page = b"""<!DOCTYPE html><html><head><title>EV</title>
<link rel="alternate" type="application/rss+xml" href="https://ev.example/feed/"></head>
<body><p>hello</p></body></html>"""
    with pytest.raises(ParseError, match=r"HTML page.*https://ev\.example/feed/") as caught:
        parse_feed(page, feed_name="ev", base_url="https://ev.example/")
    assert caught.value.url == "https://ev.example/"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not an RSS/Atom/JSON feed"),
        (b"hello world, no feed here", "starts with 'hello world"),
        (gzip.compress(b"<rss/>", mtime=0), "gzip"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
        (b'{"title": "no items"}', "no 'items' list"),
    ],
)
def test_unreadable_documents_raise_parse_error(body: bytes, message: str) -> None:
    """Garbage, gzip bytes and broken JSON raise ParseError naming the URL and the problem."""
    with pytest.raises(ParseError, match=message) as caught:
        parse_feed(body, feed_name="ev", base_url=FEED_URL)
    assert str(caught.value).startswith(FEED_URL + ": ")


def test_parser_crash_becomes_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception inside the parser is reported as ParseError."""
    import feedparser

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(feedparser, "parse", explode)
    with pytest.raises(ParseError, match="RuntimeError: boom"):
        parse(rss(HINDI_ITEM))


def test_json_feed_1_1() -> None:
    """JSON Feed 1.1: authors, language, content_html, image, tags, RFC 3339 dates."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "EV తెలుగు",
        "home_page_url": "https://ev.example/te/",
        "language": "te",
        "items": [
            {
                "id": 9,
                "url": "/te/tvs-iqube",
                "title": "టీవీఎస్ ఐక్యూబ్ కొత్త వేరియంట్",
                "content_html": "<p>టీవీఎస్ మోటార్ కొత్త ఐక్యూబ్ వేరియంట్‌ను విడుదల చేసింది.</p>",
                "summary": "కొత్త వేరియంట్",
                "image": "https://img.ev.example/iqube.jpg",
                "date_published": "2024-03-07T09:15:00+05:30",
                "date_modified": "not a date",
                "tags": ["టీవీఎస్", 3],
                "authors": [{"name": "సాయి"}],
            }
        ],
    }
    parsed = parse_feed(
        json.dumps(feed).encode(), feed_name="ev-te", base_url="https://ev.example/te/feed.json"
    )
    [article] = parsed.articles
    assert parsed.title == "EV తెలుగు"
    assert (article.item_id, article.url) == ("9", "https://ev.example/te/tvs-iqube")
    assert article.title == "టీవీఎస్ ఐక్యూబ్ కొత్త వేరియంట్"
    assert article.excerpt_html == "<p>కొత్త వేరియంట్</p>"
    assert article.published == datetime(2024, 3, 7, 3, 45, tzinfo=UTC)
    assert article.updated is None
    assert article.tags == ("టీవీఎస్",)
    assert (article.author, article.lang) == ("సాయి", "te")
    assert article.image is not None
    assert article.image.url == "https://img.ev.example/iqube.jpg"


def test_json_feed_1_0_content_text_is_escaped() -> None:
    """JSON Feed 1.0: content_text becomes escaped paragraphs; author object is read."""
    feed = {
        "version": "https://jsonfeed.org/version/1",
        "title": "EV",
        "items": [
            {
                "id": "a",
                "external_url": "https://ev.example/a",
                "content_text": "Range <500 km> & more\n\nSecond para",
                "author": {"name": "Asha"},
            }
        ],
    }
    [article] = parse(json.dumps(feed).encode(), content_type="application/feed+json")
    assert article.content_html == "<p>Range &lt;500 km&gt; &amp; more</p><p>Second para</p>"
    assert article.title == "Range <500 km> & more Second para"
    assert article.author == "Asha"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://EV.Example/a/", "https://ev.example/a"),
        ("https://ev.example/a?utm_source=x&UTM_medium=y&p=1#frag", "https://ev.example/a?p=1"),
        ("http://ev.example:80/", "http://ev.example"),
        ("https://ev.example/Case/Path", "https://ev.example/Case/Path"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    """normalise_url lowercases scheme/host and drops fragments, utm_* and trailing slashes."""
    assert normalise_url(url) == expected


def _rss(items: str, *, head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{head}<rss version="2.0"><channel><title>EV</title><link>https://ev.example/</link>'
        f"{items}</channel></rss>"
    )


def test_short_literal_entities_are_kept() -> None:
    """A DOCTYPE declaring &nbsp; as a character reference still parses, strictly."""
    body = _rss("<item><title>Nexon&nbsp;EV</title><link>https://ev.example/n</link></item>")
    doc = body.replace("<rss", '<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss', 1)
    result = parse_feed(doc.encode(), feed_name="ev", base_url="https://ev.example/feed")
    assert result.articles[0].title == "Nexon EV"  # the entity was expanded, then spaces folded
    assert result.warnings == ()


def test_utf16_feed_is_read_with_the_item_cap() -> None:
    """A UTF-16 feed (BOM) is read, and the item cap still applies before feedparser."""
    items = "".join(
        f"<item><title>தமிழ் செய்தி {n}</title><link>https://ev.example/ta/{n}</link></item>"
        for n in range(MAX_ITEMS + 5)
    )
    body = _rss(items, head='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")
    result = parse_feed(body, feed_name="ev", base_url="https://ev.example/feed")
    assert len(result.articles) == MAX_ITEMS
    assert result.articles[0].title == "தமிழ் செய்தி 0"
    assert any(f"more than {MAX_ITEMS} items" in w for w in result.warnings)


def test_item_cap_applies_when_expat_cannot_read_the_encoding() -> None:
    """A GB2312 feed (expat cannot scan it) is still cut to the item cap."""
    items = "".join(
        f"<item><title>电动汽车 {n}</title><link>https://ev.example/zh/{n}</link></item>"
        for n in range(MAX_ITEMS + 5)
    )
    body = _rss(items, head='<?xml version="1.0" encoding="GB2312"?>').encode("gb2312")
    result = parse_feed(body, feed_name="ev", base_url="https://ev.example/feed")
    assert len(result.articles) == MAX_ITEMS
    assert result.articles[1].title == "电动汽车 1"
