"""Article in, summary that fits a budget out: plain-text cleaning, sentences, extraction."""

from bot.summarise.extractive import ExtractiveSummariser, ScoreWeights, summarise_text
from bot.summarise.sentences import split_sentences
from bot.summarise.text import clean_paragraphs, html_to_text

__all__ = [
    "ExtractiveSummariser",
    "ScoreWeights",
    "clean_paragraphs",
    "html_to_text",
    "split_sentences",
    "summarise_text",
]
