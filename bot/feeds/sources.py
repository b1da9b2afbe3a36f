"""``FeedSource`` implementations: an HTTP feed, a local file, the bundled demo feed.

Only an HTTP feed may fill excerpt-only items from their article pages ("full text"). Those
page URLs come from the feed, not the operator, so every hop of theirs goes through
``bot.netguard``; the operator's own URLs are trusted, their redirects only within reason
(see ``bot.feeds.fetch.fetch``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from importlib import resources
from pathlib import Path

import httpx

from bot.errors import ExtractError, FeedError, FetchError, ParseError
from bot.feeds.extract import article_from_page, extract_page
from bot.feeds.fetch import RawResponse, fetch
from bot.feeds.pagecache import CachedPage, PageCache
from bot.feeds.parse import parse_feed
from bot.feeds.parsepool import ParsePool
from bot.htmltext import inline_text
from bot.models import Article
from bot.protocols import FetchOutcome

FULL_TEXT_MODES = ("auto", "always", "never")
SHORT_EXCERPT_CHARS = 400  # "auto": an excerpt shorter than this is not enough to summarise
MAX_PAGES_PER_POLL = 20  # bounds the work of a first poll of a long excerpt-only feed
PAGE_MAX_BYTES = 5_000_000
PAGE_DEADLINE = 20.0
FEED_DEADLINE = 30.0  # wall time for one feed download, redirects included
PAGES_BUDGET = 60.0  # wall time for all article pages of one poll; the rest wait a poll
BUILTIN_FEEDS = {"demo": "demo/feed.xml"}  # inside the ``bot`` package


class HttpFeedSource:
    """A feed fetched over HTTP(S), with conditional GET and optional full-text pages."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        client: httpx.Client,
        lang: str | None = None,
        full_text: str = "auto",
        max_bytes: int = 10_000_000,
        allow_private: bool = False,
        pages: PageCache | None = None,
        parser: ParsePool | None = None,
    ) -> None:
        if full_text not in FULL_TEXT_MODES:
            raise ValueError(f"full_text must be one of {FULL_TEXT_MODES}, not {full_text!r}")
        self.name = name
        self.url = url
        self.client = client
        self.lang = lang
        self.full_text = full_text
        self.max_bytes = max_bytes
        # Private addresses for redirects and article pages; the feed URL itself is trusted.
        self.allow_private = allow_private
        # Time limits; attributes so a caller (or a future config key) can shorten them.
        self.deadline = FEED_DEADLINE
        self.page_deadline = PAGE_DEADLINE
        self.pages_budget = PAGES_BUDGET
        # Pages already read, so later polls (and, with a file, restarts) do not refetch.
        self._pages = pages
        # Worker processes parsing for every feed of a pipeline; None: in this thread.
        self._parser = parser

    def fetch(self, *, etag: str | None = None, last_modified: str | None = None) -> FetchOutcome:
        raw = fetch(
            self.client,
            self.url,
            etag=etag,
            last_modified=last_modified,
            max_bytes=self.max_bytes,
            deadline=self.deadline,
            allow_private=self.allow_private,
        )
        if raw.not_modified:
            return FetchOutcome(
                etag=raw.etag or etag,
                last_modified=raw.last_modified or last_modified,
                not_modified=True,
            )
        return self.outcome(raw)

    def outcome(self, raw: RawResponse) -> FetchOutcome:
        """Parse a fetched feed document and fill excerpt-only items from their pages."""
        parse = self._parser.parse if self._parser is not None else parse_feed
        parsed = parse(
            raw.body,
            feed_name=self.name,
            base_url=raw.final_url,
            content_type=raw.content_type,
            default_lang=self.lang,
        )
        warnings = list(parsed.warnings)
        return FetchOutcome(
            articles=self._with_pages(parsed.articles, warnings),
            etag=raw.etag,
            last_modified=raw.last_modified,
            warnings=tuple(warnings),
        )

    def _wants_page(self, article: Article) -> bool:
        if self.full_text == "always":
            return True
        if self.full_text == "never" or article.content_html:
            return False
        return len(inline_text(article.excerpt_html)) < SHORT_EXCERPT_CHARS

    def _with_pages(
        self, articles: tuple[Article, ...], warnings: list[str]
    ) -> tuple[Article, ...]:
        budget, postponed = MAX_PAGES_PER_POLL, 0
        # A hostile feed can link 20 pages that each drip until their deadline.
        stop_at = time.monotonic() + self.pages_budget
        result: list[Article] = []
        for article in articles:
            if not self._wants_page(article):
                result.append(article)
                continue
            if self._pages is None:
                self._pages = PageCache()  # this process only
            key = article.item_id + "\0" + _digest(article.excerpt_html + article.content_html)
            cached = self._pages.get(article.url)
            if cached is not None and cached.serves(key):
                result.append(cached.fill(article))
                continue
            remaining = stop_at - time.monotonic()
            if budget == 0 or remaining <= 0:
                postponed += 1
                result.append(article)  # filled on a later poll
                continue
            budget -= 1
            try:
                page = read_page(
                    self.client,
                    article,
                    key=key,
                    cached=cached,
                    allow_private=self.allow_private,
                    deadline=min(self.page_deadline, remaining),
                )
            except (FeedError, ExtractError) as exc:
                warnings.append(f"full text unavailable, using the excerpt: {exc}")
                page = CachedPage(key=key, failed=True)  # do not hammer a broken page
            self._pages.put(article.url, page)
            result.append(page.fill(article))
        if postponed:
            warnings.append(
                f"{postponed} article pages not fetched yet (at most {MAX_PAGES_PER_POLL} "
                f"pages and {self.pages_budget:g} s per poll); they are fetched on later polls"
            )
        return tuple(result)


def read_page(
    client: httpx.Client,
    article: Article,
    *,
    key: str,
    cached: CachedPage | None,
    allow_private: bool,
    deadline: float = PAGE_DEADLINE,
) -> CachedPage:
    """The article page's text for item version ``key``; a 304 to the validators of
    ``cached`` (an earlier version) reuses what was extracted then."""
    usable = cached if cached is not None and not cached.failed else None
    raw = fetch(
        client,
        article.url,
        etag=usable.etag if usable else None,
        last_modified=usable.last_modified if usable else None,
        max_bytes=PAGE_MAX_BYTES,
        deadline=deadline,
        trusted=False,
        allow_private=allow_private,
    )
    if raw.not_modified and usable is not None:
        return dataclasses.replace(
            usable,
            key=key,
            etag=raw.etag or usable.etag,
            last_modified=raw.last_modified or usable.last_modified,
        )
    if not _is_html(raw):
        raise ExtractError(f"{article.url}: not an HTML page ({raw.content_type})")
    page = extract_page(raw.body, url=raw.final_url)
    filled = dataclasses.replace(
        article,
        content_html=page.text_html,
        image=article.image or page.image,
        lang=article.lang or page.lang,
        author=article.author or page.author,
    )
    return CachedPage.of(key, filled, etag=raw.etag, last_modified=raw.last_modified)


class FileFeedSource:
    """A feed read from a local file; relative links resolve against the feed's own link."""

    def __init__(self, name: str, path: str | Path, *, lang: str | None = None) -> None:
        self.name = name
        self.path = Path(path).expanduser()
        self.url = str(path)
        self.lang = lang

    def read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise FetchError(
                f"cannot read feed file ({exc.strerror}): check the path (for a configured "
                "feed: its url in the config file)",
                url=self.url,
            ) from exc

    def fetch(self, *, etag: str | None = None, last_modified: str | None = None) -> FetchOutcome:
        parsed = parse_feed(
            self.read(), feed_name=self.name, base_url=self.url, default_lang=self.lang
        )
        return FetchOutcome(articles=parsed.articles, warnings=parsed.warnings)


class BuiltinFeedSource(FileFeedSource):
    """A feed bundled with syndbot, e.g. ``builtin:demo`` (``bot/demo/feed.xml``)."""

    def __init__(self, name: str, url: str = "builtin:demo", *, lang: str | None = None) -> None:
        key = url.removeprefix("builtin:")
        if key not in BUILTIN_FEEDS:
            known = ", ".join(f"builtin:{k}" for k in BUILTIN_FEEDS)
            raise FetchError(f"unknown built-in feed; the built-in feeds are {known}", url=url)
        super().__init__(name, url, lang=lang)
        self.url = url
        self.resource = BUILTIN_FEEDS[key]

    def read(self) -> bytes:
        try:
            return resources.files("bot").joinpath(self.resource).read_bytes()
        except OSError as exc:
            raise FetchError(
                f"the bundled feed bot/{self.resource} is missing: reinstall syndbot",
                url=self.url,
            ) from exc


def open_source(
    name: str,
    url: str,
    *,
    client: httpx.Client,
    lang: str | None = None,
    full_text: str = "auto",
    max_bytes: int = 10_000_000,
    allow_private: bool = False,
    deadline: float = FEED_DEADLINE,
    pages: PageCache | None = None,
    parser: ParsePool | None = None,
) -> HttpFeedSource | FileFeedSource:
    """The ``FeedSource`` for a config ``url``: http(s), ``builtin:NAME``, else a file path.

    ``deadline`` bounds a whole feed download (a server that drips bytes forever);
    ``pages`` is where article pages read for full text are kept (shared by all feeds);
    ``parser`` parses the feed documents in worker processes (shared by all feeds)."""
    if url.startswith(("http://", "https://")):
        source = HttpFeedSource(
            name,
            url,
            client=client,
            lang=lang,
            full_text=full_text,
            max_bytes=max_bytes,
            allow_private=allow_private,
            pages=pages,
            parser=parser,
        )
        source.deadline = deadline
        return source
    if url.startswith("builtin:"):
        return BuiltinFeedSource(name, url, lang=lang)
    if _OTHER_SCHEME.match(url) and not url.startswith("file://"):
        raise FetchError(
            "only http and https URLs can be fetched: give an https:// URL, a file path or "
            "builtin:demo",
            url=url,
        )
    return FileFeedSource(name, url.removeprefix("file://"), lang=lang)


_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # ftp://, feed://, gopher://...


def fetch_article(client: httpx.Client, url: str, *, allow_private: bool = False) -> Article:
    """Fetch and extract one article page (``syndbot preview/post ARTICLE_URL``).

    The operator typed ``url``, so it is trusted; its redirects are checked like a feed's."""
    raw = fetch(client, url, max_bytes=PAGE_MAX_BYTES, allow_private=allow_private)
    if not _is_html(raw):
        raise ExtractError(f"{url}: not an HTML page ({raw.content_type or 'no content type'})")
    page = extract_page(raw.body, url=raw.final_url)
    return article_from_page(page, url=raw.final_url)


def load_source_articles(source: str, *, client: httpx.Client) -> list[Article]:
    """Articles for ``syndbot preview SOURCE``: a feed URL or file, or an article URL."""
    feed = open_source("preview", source, client=client)
    if not isinstance(feed, HttpFeedSource):
        return list(feed.fetch().articles)
    raw = fetch(client, source)
    try:
        return list(feed.outcome(raw).articles)
    except ParseError:
        if not _is_html(raw):
            raise
    page = extract_page(raw.body, url=raw.final_url)
    return [article_from_page(page, url=raw.final_url)]


def _is_html(raw: RawResponse) -> bool:
    if raw.content_type:
        return raw.content_type.split(";")[0].strip().lower() in (
            "text/html",
            "application/xhtml+xml",
        )
    head = raw.body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
