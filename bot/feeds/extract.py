"""Article pages to text (trafilatura), plus the small HTML helpers feeds share.

``text_to_html`` and ``first_image`` use only the standard library so
parsing a feed does not import trafilatura; ``extract_page`` imports it when first used.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.errors import ExtractError
from bot.htmltext import inline_text
from bot.models import PAGE_FEED, Article, Media
from bot.urls import normalise_url

_SPACES = re.compile(r"\s+")
MIN_TEXT_CHARS = 80  # less than this is a menu or a teaser, not an article
# Share buttons and view counters that feeds embed in item bodies: never a featured image.
_TRACKER_IMAGE = re.compile(
    r"feeds\.feedburner\.com|/~ff/|/~r/|pheedo\.com|feeds\.wordpress\.com|stats\.wordpress"
    r"|doubleclick\.net|gravatar\.com/avatar|feedsportal\.com",
    re.IGNORECASE,
)


def text_to_html(text: str) -> str:
    """Plain text as ``<p>`` paragraphs (blank lines split paragraphs), HTML-escaped."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def absolute_http_url(url: str, base: str = "") -> str | None:
    """``url`` made absolute against ``base``; None unless the result is http(s) with a host."""
    url = url.strip()
    if not url:
        return None
    if url.startswith("//") and not base:
        url = "https:" + url
    try:
        joined = urljoin(base, url) if base else url
        parts = urlsplit(joined)
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            return joined
    except ValueError:  # a malformed host such as http://[::1 or http://[zz]/
        return None
    return None


def derive_title(text: str, *, max_words: int = 12, max_chars: int = 90) -> str:
    """A title made of the first words of ``text``, ending in an ellipsis when cut."""
    words = text.split()
    title = ""
    for word in words[:max_words]:
        if len(title) + len(word) + 1 > max_chars:
            break
        title = f"{title} {word}" if title else word
    if not title and words:
        title = words[0][:max_chars]
    return title + ("…" if len(title) < len(" ".join(words)) else "")


# An image URL with a scheme other than http(s) (data:, javascript:...): never the picture,
# like a data: placeholder of a lazy-loaded image; a relative URL is resolved later.
_NOT_HTTP = re.compile(r"\s*(?!https?:)[a-zA-Z][a-zA-Z0-9+.-]*:", re.IGNORECASE)
_PIECE = 2048  # characters of HTML given to ``_ImageFinder`` at a time


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img" or self.found is not None:
            return
        values = {name: value or "" for name, value in attrs}
        if any(values.get(dim, "").strip() in ("0", "1") for dim in ("width", "height")):
            return  # tracking pixel
        src = values.get("src", "")
        if not src or _NOT_HTTP.match(src):
            src = values.get("data-src", "") or values.get("data-lazy-src", "")
        if src and not _NOT_HTTP.match(src) and not _TRACKER_IMAGE.search(src):
            self.found = (src, values.get("alt", ""))


def first_image(fragment: str, *, base: str = "") -> Media | None:
    """The first real ``<img>`` in an HTML fragment, with its alt text, or None."""
    if "<img" not in fragment.lower():
        return None
    finder = _ImageFinder()
    # In pieces, stopping at the first image: the parser is incremental, so what it finds
    # is what one pass over the whole fragment finds.
    for start in range(0, len(fragment), _PIECE):
        finder.feed(fragment[start : start + _PIECE])
        if finder.found is not None:
            break
    else:
        finder.close()
    if finder.found is None:
        return None
    url = absolute_http_url(finder.found[0], base)
    return Media(url=url, alt=_SPACES.sub(" ", finder.found[1]).strip()) if url else None


@dataclass(frozen=True)
class ExtractedPage:
    """The useful parts of an article page."""

    title: str
    text_html: str  # main text as simple <p> paragraphs
    image: Media | None = None
    lang: str | None = None
    description: str = ""
    author: str | None = None
    published: datetime | None = None


def extract_page(page: bytes | str, *, url: str) -> ExtractedPage:
    """Main text and metadata of an article page; ``ExtractError`` when there is no text."""
    import trafilatura
    from trafilatura.utils import load_html

    tree = load_html(page)
    if tree is None:
        raise ExtractError(f"{url}: the page is not readable HTML")
    text = trafilatura.extract(
        page, url=url, output_format="txt", include_comments=False, include_tables=False
    )
    if not text or len(text.strip()) < MIN_TEXT_CHARS:
        raise ExtractError(
            f"{url}: no article text found on the page (is it a front page, a paywall "
            "or a JavaScript-only site?)"
        )
    meta = trafilatura.extract_metadata(tree, default_url=url, extensive=False)
    tags = _meta_tags(tree)
    image = None
    image_url = absolute_http_url(tags.get("og:image", "") or tags.get("twitter:image", ""), url)
    if image_url:
        image = Media(url=image_url, alt=tags.get("og:image:alt", "").strip())
    lang = tree.get("lang") or tags.get("og:locale") or None
    return ExtractedPage(
        title=inline_text(getattr(meta, "title", None) or tags.get("og:title", "")),
        text_html=text_to_html(text.replace("\n", "\n\n")),
        image=image,
        lang=lang.strip().replace("_", "-").lower() if lang and lang.strip() else None,
        description=inline_text(tags.get("og:description") or tags.get("description") or ""),
        author=getattr(meta, "author", None) or None,
        published=_page_date(getattr(meta, "date", None)),
    )


def _meta_tags(tree: Any) -> dict[str, str]:
    """``<meta property|name=... content=...>`` values, the first of each name winning."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = element.get("content")
        if key and content is not None and key not in found:
            found[key] = content
    return found


def _page_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def article_from_page(page: ExtractedPage, *, url: str, feed_name: str = PAGE_FEED) -> Article:
    """An ``Article`` for a page fetched on its own; ``item_id`` is the normalised URL."""
    return Article(
        feed=feed_name,
        item_id=normalise_url(url),
        url=url,
        title=page.title or derive_title(inline_text(page.text_html)),
        content_html=page.text_html,
        excerpt_html=f"<p>{html.escape(page.description)}</p>" if page.description else "",
        lang=page.lang,
        published=page.published,
        image=page.image,
        author=page.author,
    )
