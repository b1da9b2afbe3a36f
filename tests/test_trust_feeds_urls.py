"""Trust: one URL identity for feeds and the store, safe for Indian-language slugs.

Issue 8 point 11: the feeds' ``normalise_url`` turned ``%e0...`` into ``%EF%BF%BD`` and
raised on a malformed IPv6 host, and the store had a second ``normalise_url`` that
disagreed. There is now one (``bot.urls``); raw and percent-encoded spellings of a Hindi,
Tamil or Telugu slug are the same article; a malformed host is kept as written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds import extract
from bot.feeds.parse import parse_feed
from bot.store import SQLiteStore, codec
from bot.urls import normalise_url

# (language, raw slug path) as Indian news sites publish them.
SLUGS = [
    ("hi", "/hi/2026/11/टाटा-नेक्सॉन-ईवी-सस्ती"),
    ("ta", "/ta/2026/11/சென்னை-சார்ஜிங்-மையங்கள்"),
    ("te", "/te/2026/11/హైదరాబాద్-ఎలక్ట్రిక్-బస్సులు"),
]
HOST = "https://news.example"
REPLACEMENT = "%EF%BF%BD"  # U+FFFD: a byte sequence was lost


def _spellings(slug: str) -> list[str]:
    """Ways a feed or a reader writes the same article URL."""
    encoded = quote(slug)
    return [
        HOST + slug,
        HOST + slug + "/",
        HOST + encoded.lower(),
        HOST + encoded + "/",  # quote() writes upper-case hex
        "HTTPS://News.Example:443" + slug + "/?utm_source=rss&utm_medium=feed#comments",
        "  " + HOST + encoded.lower() + "/#top  ",
    ]


def test_feeds_and_store_share_one_function() -> None:
    """The feeds (item ids) and the store (dedup by URL) use the very same function."""
    assert extract.normalise_url is normalise_url
    assert codec.normalise_url is normalise_url


@pytest.mark.parametrize(("lang", "slug"), SLUGS)
def test_raw_and_encoded_slugs_normalise_equal(lang: str, slug: str) -> None:
    """Every spelling of one Hindi/Tamil/Telugu URL gives one identity, with the UTF-8
    bytes kept (upper-case escapes) and nothing replaced by U+FFFD."""
    identities = {normalise_url(url) for url in _spellings(slug)}
    assert len(identities) == 1, identities
    (identity,) = identities
    assert identity == HOST + quote(slug)  # quote() writes upper-case hex
    assert REPLACEMENT not in identity
    assert unquote(identity) == HOST + slug
    assert lang in identity


@pytest.mark.parametrize(("lang", "slug"), SLUGS)
def test_encoded_query_is_kept_byte_for_byte(lang: str, slug: str) -> None:
    """A percent-encoded query value survives (upper-cased), and utm_* parameters go."""
    value = quote(slug.rsplit("/", 1)[1]).lower()
    url = f"{HOST}/search?q={value}&utm_campaign=x&lang={lang}"
    assert normalise_url(url) == f"{HOST}/search?q={value.upper()}&lang={lang}"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/",
        "http://[zz]/",
        "http://[::1",
        "https://[fe80::1%eth0/a",
        "https://news.example:99999/a",
        "https://news.example:port/a",
    ],
)
def test_malformed_hosts_are_kept_as_written(url: str) -> None:
    """A malformed host raises nothing: the URL is compared as written (stripped)."""
    assert normalise_url(f" {url} ") in (url, normalise_url(url))
    assert normalise_url(normalise_url(url)) == normalise_url(url)


def test_feed_item_with_a_malformed_link_does_not_fail_the_feed() -> None:
    """One item linking to http://[::1/ is skipped with a warning; the others are read."""
    rss = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>EV</title>'
        f"<link>{HOST}/</link>"
        "<item><title>Broken</title><link>http://[::1/x</link></item>"
        f"<item><title>Good</title><link>{HOST}{quote(SLUGS[0][1]).lower()}/</link></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(rss, feed_name="ev", base_url=HOST + "/feed")
    assert [a.title for a in parsed.articles] == ["Good"]
    assert parsed.articles[0].item_id == HOST + quote(SLUGS[0][1])
    assert any("item 1" in w and "malformed URL" in w for w in parsed.warnings)


def _rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Story</title><link>{link}</link></item>" for link in links)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>EV</title>'
        f"<link>{HOST}/</link>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(("lang", "slug"), SLUGS)
def test_store_recognises_the_other_spelling(tmp_path: Path, lang: str, slug: str) -> None:
    """An item first seen with an encoded link is found again when the feed writes the raw
    slug (and the other way round): same id, same stored URL identity, no second item."""
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    (first,) = parse_feed(
        _rss([HOST + quote(slug).lower()]), feed_name="ev", base_url=HOST + "/feed"
    ).articles
    (again,) = parse_feed(
        _rss([HOST + slug + "/"]), feed_name="ev", base_url=HOST + "/feed"
    ).articles
    assert first.item_id == again.item_id
    store = SQLiteStore.open(tmp_path / f"{lang}.db")
    try:
        store.add_item(first, now=now)
        found = store.find_item("ev", "another-id", again.url)
        assert found is not None
        assert found.item_id == first.item_id
    finally:
        store.close()


_INDIC = st.sampled_from(["टाटा", "सस्ती", "சென்னை", "மையங்கள்", "హైదరాబాద్", "బస్సులు"])
_SEGMENT = st.one_of(
    _INDIC,
    _INDIC.map(lambda s: quote(s).lower()),
    st.text(alphabet="abcXYZ019-._~%!$&'()*+,;=:@ /?#[]", max_size=8),
)
_URL = st.builds(
    lambda scheme, host, port, segments, query, fragment: (
        f"{scheme}://{host}{port}/{'/'.join(segments)}{query}{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTPS", "ftp"]),
    st.sampled_from(["news.example", "News.EXAMPLE", "[::1]", "[::1", "समाचार.example", ""]),
    st.sampled_from(["", ":80", ":443", ":8080", ":x"]),
    st.lists(_SEGMENT, max_size=4),
    st.sampled_from(["", "?utm_source=a&id=3", "?q=%e0%a4%9f", "?q=टाटा&UTM_x=1", "?"]),
    st.sampled_from(["", "#frag", "#"]),
)


@settings(max_examples=400, deadline=None)
@given(url=st.one_of(_URL, st.text(max_size=40)))
def test_normalise_is_idempotent_and_never_raises(url: str) -> None:
    """For URL-like and arbitrary text alike, normalising twice equals normalising once."""
    once = normalise_url(url)
    assert normalise_url(once) == once
    assert REPLACEMENT not in once or REPLACEMENT in url.upper()


def test_a_url_with_a_port_but_no_host_is_kept_as_written() -> None:
    """``http://:80//टाटा`` has no host: it is compared as written, and normalising it
    twice gives the same text (found by the idempotency property)."""
    url = "http://:80//टाटा"
    assert normalise_url(url) == url
    assert normalise_url(normalise_url(url)) == normalise_url(url)
