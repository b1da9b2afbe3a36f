"""Which articles a channel (or a feed) takes: keywords, tags, authors, patterns, age.

Pure: an article, the rules and ``now`` in, the rule that refused it (or None) out. A
refused article is never dropped silently: the pipeline records its delivery as skipped with
``Refusal.reason``, which ``syndbot status`` and ``syndbot queue`` show.

Keywords match whole words, case-insensitively, in the title and the summary (the body when
the feed gives no summary). "Whole word" must hold for Hindi, Tamil and Telugu too, where a
word goes on with combining vowel signs and viramas (``\\p{M}``) and joiners (ZWJ/ZWNJ): a
keyword may not be preceded or followed by a letter, mark, digit or joiner, so "भारत" does
not match inside "भारतीय" and "சென்னை" not inside "சென்னையில்".
"""

from __future__ import annotations

import functools
import html
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import regex

from bot.durations import format_duration
from bot.htmltext import html_to_text
from bot.models import Article

_WORD_CHAR = r"[\p{L}\p{M}\p{N}\u200c\u200d_]"
_SPACE = regex.compile(r"\s+")
REGEX_TIMEOUT = 0.5  # seconds; feed text is hostile, a pattern must not hang the service


@dataclass(frozen=True)
class Filters:
    """One table's filter keys; empty tuples and None mean "no rule"."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    include_authors: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    include_regex: tuple[str, ...] = ()
    exclude_regex: tuple[str, ...] = ()
    max_age: float | None = None  # seconds

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Refusal:
    """Why an article was filtered out: the key and value that matched (or did not)."""

    rule: str  # e.g. "exclude", "include_tags", "max_age"
    detail: str
    where: str = ""  # "channel x-en" / "feed ev-en"

    @property
    def reason(self) -> str:
        place = f" ({self.where})" if self.where else ""
        return f"filtered by {self.rule}{place}: {self.detail}"


@functools.lru_cache(maxsize=512)
def keyword_pattern(keyword: str) -> regex.Pattern[str]:
    """A case-insensitive whole-word pattern; spaces in ``keyword`` match any whitespace."""
    words = [regex.escape(w) for w in _normal(keyword).split()]
    body = r"\s+".join(words)
    return regex.compile(
        rf"(?<!{_WORD_CHAR}){body}(?!{_WORD_CHAR})", regex.IGNORECASE | regex.FULLCASE
    )


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> regex.Pattern[str]:
    """``pattern`` compiled case-insensitively; raises ``regex.error`` when invalid."""
    return regex.compile(pattern, regex.IGNORECASE | regex.V1)


def refusal(
    article: Article, filters: Filters, *, now: datetime, where: str = ""
) -> Refusal | None:
    """The first rule of ``filters`` that refuses ``article``, or None when it passes.

    Age first, then excludes, then includes; each include list that is set must match at
    least one of its entries (lists of different kinds must all match).
    """
    if filters.empty:
        return None
    if filters.max_age is not None:
        published = article.published or article.updated
        if published is not None and now - published > timedelta(seconds=filters.max_age):
            age = format_duration((now - published).total_seconds() // 60 * 60)
            limit = format_duration(filters.max_age)
            return Refusal("max_age", f"published {age} ago, more than {limit}", where)
    found = _Searched.of(article)
    for rule, detail in (*_excluded(found, filters), *_not_included(found, filters)):
        return Refusal(rule, detail, where)
    return None


@dataclass(frozen=True)
class _Searched:
    """The parts of an article the rules look at, normalised once."""

    text: str
    tags: frozenset[str]
    authors: frozenset[str]
    haystack: str  # for patterns: the text and the link

    @classmethod
    def of(cls, article: Article) -> _Searched:
        text = searchable_text(article)
        return cls(
            text=text,
            tags=frozenset(_fold(t) for t in article.tags),
            authors=frozenset(_fold(a) for a in author_names(article.author)),
            haystack=f"{text}\n{article.url}",
        )


def _excluded(found: _Searched, filters: Filters) -> Iterator[tuple[str, str]]:
    text, tags, authors, haystack = found.text, found.tags, found.authors, found.haystack
    for keyword in filters.exclude:
        if keyword_pattern(keyword).search(text):
            yield "exclude", f'the keyword "{keyword}" appears'
    for tag in filters.exclude_tags:
        if _fold(tag) in tags:
            yield "exclude_tags", f'tagged "{tag}"'
    for author in filters.exclude_authors:
        if _fold(author) in authors:
            yield "exclude_authors", f'written by "{author}"'
    for pattern in filters.exclude_regex:
        hit = _search(pattern, haystack)
        if hit is not False:  # a pattern too slow for this text refuses it, to be safe
            yield "exclude_regex", f'"{pattern}" ' + ("matches" if hit else "timed out")


def _not_included(found: _Searched, filters: Filters) -> Iterator[tuple[str, str]]:
    text, tags, authors, haystack = found.text, found.tags, found.authors, found.haystack
    if filters.include and not any(keyword_pattern(k).search(text) for k in filters.include):
        yield "include", "none of the keywords " + _listed(filters.include) + " appears"
    if filters.include_tags and not any(_fold(t) in tags for t in filters.include_tags):
        yield "include_tags", "not tagged " + _listed(filters.include_tags)
    if filters.include_authors and not any(_fold(a) in authors for a in filters.include_authors):
        yield "include_authors", "not written by " + _listed(filters.include_authors)
    if filters.include_regex and not any(_search(p, haystack) for p in filters.include_regex):
        yield "include_regex", "no pattern matches: " + _listed(filters.include_regex)


def searchable_text(article: Article) -> str:
    """Title and summary as plain NFC text (the body when there is no summary).

    The summary is read as ``html_to_text`` reads it for a post: inline tags join the
    letters around them ("Tes<b>la</b>" is "Tesla"), block ends separate words, and
    scripts, styles, comments and captions (feed HTML is not sanitised) are not words.
    """
    summary = article.excerpt_html or article.content_html
    return _normal(f"{html.unescape(article.title)}\n{html_to_text(summary)}")


def author_names(author: str | None) -> list[str]:
    """The names in a byline such as "A. Rao, B. Iyer and C. Das"."""
    if not author:
        return []
    parts = regex.split(r"\s*(?:,|&|;|\band\b)\s*", author)
    return [p for p in (_SPACE.sub(" ", part).strip() for part in parts) if p]


def _search(pattern: str, text: str) -> bool | None:
    """Whether ``pattern`` is found in ``text``; None when it ran out of time."""
    try:
        return compile_regex(pattern).search(text, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        return None


def _normal(text: str) -> str:
    return str(_SPACE.sub(" ", unicodedata.normalize("NFC", text))).strip()


def _fold(text: str) -> str:
    return _normal(text).casefold()


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{v}"' for v in values)
