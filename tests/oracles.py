"""Independent counters and checkers for the platforms' text rules (test oracles).

Nothing here imports ``bot``: every rule is re-derived from the platforms' own documents
(see /work/shared/PLATFORMS.md) with the standard library, ``regex`` and the twitter-text
port on PyPI (``twitter-text-parser``), so a mistake in ``bot.compose``'s counting cannot
confirm itself. Each checker returns a list of problems (empty: fine).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

import regex
from twitter_text import parse_tweet
from twitter_text.extract_urls import extract_urls_with_indices

ELLIPSIS = "…"
MASTODON_URL_WEIGHT = 23
THREADS_MAX_LINKS = 5
INSTAGRAM_MAX_HASHTAGS = 30

_GRAPHEME = regex.compile(r"\X")
_EMOJI_GRAPHEME = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_HTML_TAG = regex.compile(r"<[A-Za-z/!?][^<>]*>")
_ENTITY = regex.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_HASHTAG = regex.compile(r"(?<![\p{L}\p{M}\p{N}_&])#[\p{L}\p{M}\p{N}_]+")
_HTTP_URL = regex.compile(r"https?://", regex.IGNORECASE)
# Format characters feeds carry that a post legitimately drops (soft hyphen, zero-width
# space, BOM, bidi marks); ZWJ/ZWNJ shape Indic conjuncts and emoji, so they stay.
_DROPPABLE = regex.compile(r"[[\p{Cf}\p{Cc}]--[\u200c\u200d\n\t ]]", regex.VERSION1)


@dataclass(frozen=True)
class Found:
    """A URL the twitter-text extractor finds: ``text[start:end] == url``."""

    url: str
    start: int
    end: int


# ---------------------------------------------------------------- counting


def graphemes(text: str) -> int:
    """Extended grapheme clusters, as ``regex``'s \\X sees them."""
    return len(_GRAPHEME.findall(text))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def urls(text: str) -> list[Found]:
    """URLs as twitter-text's extractor (the PyPI port) finds them, bare domains included."""
    return [
        Found(u["url"], u["indices"][0], u["indices"][1]) for u in extract_urls_with_indices(text)
    ]


def x_result(text: str) -> Any:
    """The port's ``ParsedResult`` (``weightedLength``, ``valid``)."""
    return parse_tweet(text)


def mastodon_length(text: str) -> int:
    """Mastodon's StatusLengthValidator: graphemes, each twitter-text URL that starts with
    http:// or https:// counted as 23."""
    total, cursor = 0, 0
    for found in urls(text):
        if _HTTP_URL.match(found.url):
            total += graphemes(text[cursor : found.start]) + MASTODON_URL_WEIGHT
            cursor = found.end
    return total + graphemes(text[cursor:])


def threads_length(text: str) -> int:
    """Threads: characters, except an emoji counts its UTF-8 byte length."""
    return sum(
        utf8_bytes(g) if _EMOJI_GRAPHEME.search(g) else len(g) for g in _GRAPHEME.findall(text)
    )


# ---------------------------------------------------------------- markup


class _TelegramText(HTMLParser):
    """Telegram HTML parse mode: the visible text, and any tag Telegram does not know."""

    ALLOWED = frozenset(
        {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
         "blockquote", "tg-spoiler", "span"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.bad_tags: list[str] = []
        self.hrefs: list[str] = []
        self.link_texts: list[tuple[str, str]] = []
        self._open_href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.bad_tags.append(tag)
        if tag == "a":
            self._open_href = dict(attrs).get("href") or ""
            self.hrefs.append(self._open_href)
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_href is not None:
            self.link_texts.append((self._open_href, "".join(self._link_text)))
            self._open_href = None

    def handle_data(self, data: str) -> None:
        self.visible.append(data)
        if self._open_href is not None:
            self._link_text.append(data)


def telegram_parse(text: str) -> _TelegramText:
    parser = _TelegramText()
    parser.feed(text)
    parser.close()
    return parser


_SLACK_LINK = regex.compile(r"<([^<>|\s]+)\|([^<>]*)>")
_LITTLE_HASHTAG = regex.compile(r"\{hashtag\|\\#\|((?:[^\\{}]|\\.)*)\}")
_LITTLE_ESCAPE = regex.compile(r"\\(.)")


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def linkedin_plain(text: str) -> str:
    """LinkedIn little text as a reader sees it: hashtag templates become #tag, escapes go."""
    text = _LITTLE_HASHTAG.sub(lambda m: "#" + _LITTLE_ESCAPE.sub(r"\1", m[1]), text)
    return _LITTLE_ESCAPE.sub(r"\1", text)


# ---------------------------------------------------------------- article text


_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr",
     "table", "blockquote", "pre", "hr", "section", "article", "figure", "figcaption", "dd",
     "dt", "header", "footer", "img"}
)  # fmt: skip


class _Plain(HTMLParser):
    """Text a reader sees; block elements separate words, inline ones (<b>E</b>V) do not."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.hrefs.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_plain(markup: str, *, nested: bool = True) -> tuple[str, list[str]]:
    """Visible text of ``markup`` (tags gone, entities decoded), NFC, invisible format
    characters removed; and every href/src in it. ``nested``: also undo double escaping
    ("&amp;amp;" is "&" to a reader), which loses escaped code such as "&lt;?php … =&gt;"."""
    parser = _Plain()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    for _ in range(5 if nested else 0):
        again = html.unescape(_HTML_TAG.sub(" ", text))
        if again == text:
            break
        text = again
    text = _DROPPABLE.sub("", unicodedata.normalize("NFC", text))
    return text, parser.hrefs


def words(text: str) -> list[str]:
    found: list[str] = _WORD.findall(unicodedata.normalize("NFC", text).casefold())
    return found


def cut_word_problems(shown: str, source_words: set[str], *, what: str) -> list[str]:
    """Every word of ``shown`` is a whole word of the source, except that the last may be a
    prefix when ``shown`` ends with an ellipsis (a visible cut)."""
    tokens = words(shown)
    if not tokens:
        return []
    cut = shown.rstrip().endswith(ELLIPSIS)
    problems = [f"{what}: word {w!r} is not a whole word of the article" for w in tokens[:-1]
                if w not in source_words]  # fmt: skip
    last = tokens[-1]
    if last not in source_words and not (cut and any(s.startswith(last) for s in source_words)):
        problems.append(f"{what}: last word {last!r} is cut without an ellipsis")
    return problems


def leftover_markup(text: str, *, ignore: Iterable[str] = ()) -> list[str]:
    """HTML tags or entities in text a reader sees (``ignore``: strings to blank first)."""
    for piece in ignore:
        if piece:
            text = text.replace(piece, " ")
    problems = [f"leftover HTML tag {m[0]!r}" for m in _HTML_TAG.finditer(text)]
    problems += [
        f"leftover HTML entity {m[0]!r}"
        for m in _ENTITY.finditer(text)
        if html.unescape(m[0]) != m[0]
    ]
    return problems


def hashtags(text: str) -> list[str]:
    found: list[str] = _HASHTAG.findall(text)
    return found


def bluesky_facet_problems(
    text: str, facets: Sequence[Mapping[str, Any]], article_url: str
) -> list[str]:
    """Each facet's byte slice decodes and shows its link/tag; links carry the full URL."""
    data = text.encode("utf-8")
    problems: list[str] = []
    for facet in facets:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        feature = facet["features"][0]
        if not 0 <= start < end <= len(data):
            problems.append(f"facet [{start},{end}) outside the {len(data)}-byte text")
            continue
        try:
            shown = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"facet [{start},{end}) cuts a UTF-8 character")
            continue
        kind = feature["$type"].rsplit("#", 1)[-1]
        if kind == "tag" and shown != "#" + feature["tag"]:
            problems.append(f"tag facet shows {shown!r}, not #{feature['tag']}")
        if kind == "link":
            if feature["uri"] != article_url:
                problems.append(f"link facet uri {feature['uri']!r} is not {article_url!r}")
            if not shows_url(shown, article_url):
                problems.append(f"link facet shows {shown!r}, which is not {article_url!r}")
    return problems


def shows_url(shown: str, url: str) -> bool:
    """``shown`` is the URL, or a display form of it: scheme/www dropped, maybe cut with '…'."""
    if shown == url:
        return True
    parts = urlsplit(url)
    bare = url.split("://", 1)[1] if parts.scheme and "://" in url else url
    bare = bare.removeprefix("www.")
    forms = {bare, unquote(bare), url}  # a display may decode %-escapes, as browsers do
    stem = shown.removesuffix(ELLIPSIS)
    if shown.endswith(ELLIPSIS):
        return bool(stem) and any(form.startswith(stem) for form in forms)
    return any(stem in (form, form.rstrip("/")) for form in forms)
