"""Links in feed content are resolved once, and not at all when they are already absolute."""

from __future__ import annotations

from typing import Any

import feedparser
import pytest

from bot.feeds import links
from bot.feeds.parse import parse_feed

FEED = "https://ev.example/feed/"


def _rss(bodies: list[str]) -> bytes:
    items = "".join(
        f"<item><title>t{n}</title><link>https://ev.example/{n}</link><guid>g{n}</guid>"
        f"<description><![CDATA[{body}]]></description></item>"
        for n, body in enumerate(bodies)
    )
    channel = f"<channel><title>EV</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def resolver_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each HTML fragment whose links are rewritten (feedparser's own resolver pass too)."""
    runs: list[str] = []
    original = feedparser.urls.resolve_relative_uris
    rewrite = links._rewrite

    def counted(html: str, *args: Any) -> Any:
        runs.append(html)
        return original(html, *args)

    def rewrite_counted(html: str, base: str) -> str:
        runs.append(html)
        return rewrite(html, base)

    monkeypatch.setattr(feedparser.urls, "resolve_relative_uris", counted)
    monkeypatch.setattr(feedparser.mixin, "resolve_relative_uris", counted)
    monkeypatch.setattr(links, "_rewrite", rewrite_counted)
    return runs


def test_absolute_links_are_not_parsed_again(resolver_runs: list[str]) -> None:
    """Items whose links are all absolute http(s) never go through the resolver."""
    bodies = [
        f'<p>Read <a href="https://ev.example/{n}">more</a><img src="http://cdn.ev.example/{n}.jpg"></p>'
        for n in range(5)
    ]
    parsed = parse_feed(_rss(bodies), feed_name="ev", base_url=FEED)
    assert len(parsed.articles) == 5
    assert 'href="https://ev.example/3"' in parsed.articles[3].excerpt_html
    assert resolver_runs == []


def test_relative_links_are_resolved_exactly_once(resolver_runs: list[str]) -> None:
    """Each fragment with a relative link is resolved once, against the feed URL."""
    bodies = [
        f'<p><a href="/story/{n}">more</a> <a href="https://x.example/">x</a></p>' for n in range(3)
    ]
    parsed = parse_feed(_rss(bodies), feed_name="ev", base_url=FEED)
    assert [a.excerpt_html.count('href="https://ev.example/story/') for a in parsed.articles] == [
        1,
        1,
        1,
    ]
    assert len(resolver_runs) == 3


def test_unsafe_schemes_still_go_through_the_resolver(resolver_runs: list[str]) -> None:
    """A javascript: link is not mistaken for an absolute one: the resolver empties it."""
    parsed = parse_feed(
        _rss(['<p><a href="javascript:alert(1)">x</a></p>']), feed_name="ev", base_url=FEED
    )
    assert "javascript" not in parsed.articles[0].excerpt_html
    assert len(resolver_runs) == 1


def test_content_links_resolve_against_xml_base() -> None:
    """Relative links in Atom content resolve against the entry's xml:base, not the feed URL."""
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ev.example/ta/">
<title>EV</title><id>urn:ev</id><updated>2024-03-06T08:00:00Z</updated>
<entry><title>S1</title><id>urn:ev:7</id><link href="ola"/>
<updated>2024-03-06T08:00:00Z</updated>
<content type="html">&lt;p&gt;&lt;a href="price"&gt;price&lt;/a&gt;
&lt;img src="/img/s1.jpg"&gt;&lt;/p&gt;</content>
</entry></feed>"""
    [article] = parse_feed(atom, feed_name="ev", base_url="https://feeds.example/a.atom").articles
    assert 'href="https://ev.example/ta/price"' in article.content_html
    assert 'src="https://ev.example/img/s1.jpg"' in article.content_html
