"""Where articles come from: fetch a feed, parse it, fill excerpt-only items from their pages.

Layers, each usable on its own: ``fetch`` (HTTP with limits) -> ``parse`` / ``jsonfeed``
(bytes to ``Article``) -> ``extract`` (article pages) -> ``sources`` (``FeedSource``s).
"""

from bot.feeds.extract import ExtractedPage, article_from_page, extract_page
from bot.feeds.fetch import RawResponse, fetch, make_http_client
from bot.feeds.parse import ParsedFeed, parse_feed
from bot.feeds.sources import (
    BuiltinFeedSource,
    FileFeedSource,
    HttpFeedSource,
    fetch_article,
    load_source_articles,
    open_source,
)
from bot.urls import normalise_url

__all__ = [
    "BuiltinFeedSource",
    "ExtractedPage",
    "FileFeedSource",
    "HttpFeedSource",
    "ParsedFeed",
    "RawResponse",
    "article_from_page",
    "extract_page",
    "fetch",
    "fetch_article",
    "load_source_articles",
    "make_http_client",
    "normalise_url",
    "open_source",
    "parse_feed",
]
