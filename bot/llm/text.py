"""What the model reads and what comes back: the article's text, language and budget in
characters, and the summary inside a model's answer. Pure."""

from __future__ import annotations

from collections.abc import Callable

import regex

from bot.models import Article
from bot.summarise import html_to_text

Measure = Callable[[str], int]

_THINKING = regex.compile(r"<think>.*?</think>", regex.DOTALL | regex.IGNORECASE)
_LABEL = regex.compile(r"^\s*(?:summary|सारांश|சுருக்கம்|సారాంశం)\s*[:：-]\s*", regex.IGNORECASE)
_WRAPPED = regex.compile(r"^[\"“«](.*)[\"”»]$", regex.DOTALL)
_SCRIPTS = (("hi", regex.compile(r"\p{Devanagari}")), ("ta", regex.compile(r"\p{Tamil}")),
            ("te", regex.compile(r"\p{Telugu}")))  # fmt: skip


def clean_answer(text: str) -> str:
    """The summary in a model's answer: no thinking block, label, wrapping quotes or breaks."""
    text = _LABEL.sub("", _THINKING.sub("", text)).strip()
    wrapped = _WRAPPED.match(text)
    if wrapped and not regex.search(r"[\"“”«»]", wrapped[1]):
        text = wrapped[1]
    return " ".join(text.split())


def article_language(article: Article) -> str:
    """The article's primary language subtag; from its script when the feed gives none
    (the title and the start of the summary's text: markup and image alt-less figures
    say nothing about the language)."""
    if article.lang:
        return article.lang.split("-")[0].casefold()
    sample = article.title + " " + html_to_text(article.excerpt_html or article.content_html)[:500]
    for lang, script in _SCRIPTS:
        if script.search(sample):
            return lang
    return "en"


def characters_for(budget: int, measure: Measure, sample: str) -> int:
    """``budget`` in characters, for the prompt: where ``measure`` counts a character as
    more than one (X counts Indic letters twice), the model is asked for fewer."""
    sample = sample[:200]
    measured = measure(sample) if sample else 0
    ratio = min(4.0, max(1.0, measured / len(sample))) if measured > 0 else 1.0
    return max(1, int(budget / ratio))


def source_text(article: Article) -> tuple[str, str]:
    """(what the model reads, what the gate checks against): the body; title, excerpt,
    body and author."""
    body = html_to_text(article.content_html or article.excerpt_html)
    excerpt = html_to_text(article.excerpt_html) if article.content_html else ""
    facts = "\n\n".join(p for p in (article.title, excerpt, body, article.author or "") if p)
    return body, facts
