"""Feed HTML to clean plain-text paragraphs.

Feeds hand us article bodies and excerpts as HTML full of things a post must never carry:
tags, entities, captions, share widgets and "The post … appeared first on …" footers.
"""

from __future__ import annotations

import regex

from bot.htmltext import BLANK_LINES, html_to_text, normalise_text

__all__ = ["clean_paragraphs", "html_to_text", "normalise_text", "split_truncation"]

_TRUNCATION_TAIL = regex.compile(r"\s*(?:\[\s*(?:…|\.{3})\s*\]|\(\s*(?:…|\.{3})\s*\)|…|\.{3})\s*$")
_BRACKET_TAIL = regex.compile(r"\s*\[\s*(?:…|\.{2,}|&hellip;)\s*\]\s*$")
_READ_MORE_TAIL = regex.compile(
    r"(?:(?<=[.!?…।])|^)\s*(?:[^\w\s]\s*)?"
    r"(?:continue reading|read more|read (?:the )?full (?:story|article|post)|permalink|"
    r"और पढ़ें|आगे पढ़ें|மேலும் படிக்க|మరింత చదవండి)\b[^.!?।]*$",
    regex.IGNORECASE,
)
_SENTENCE_ENDS = ".!?।"
# Whole lines that are feed furniture, not article text.
_BOILERPLATE_LINE = regex.compile(
    r"""^\W*(?:
        the\ post\ .+\ (?:appeared\ first|first\ appeared)\ on\ .+
      | this\ (?:post|article)\ (?:was\ )?(?:originally\ )?(?:appeared|published)
        \ (?:first\ )?on\ .+
      | (?:also\ read|read\ also|also\ see|see\ also
        |related(?:\ articles?|\ posts?|\ stories)?)\s*[:\-–—|].*
      | (?:read\ more|continue\ reading|read\ (?:the\ )?full\ (?:story|article|post))\b.*
      | permalink\b.*
      | (?:share\ this|share\ on|share\ via)\b.*
      | follow\ us\ on\b.*
      | click\ here\b.*
      | subscribe\b.*
      | sign\ up\ for\ our\b.*
      | (?:photo|image|picture|pic|video|featured\ image|representational\ image|file\ photo)
        (?:\ credits?|\ courtesy|\ source)?\s*[:\-–—|].*
      | (?:credits?|courtesy|source)\s*:.*
      | (?:यह|ये|इसे)\ भी\ पढ़ें.*
      | (?:और|आगे)\ पढ़ें.*
      | (?:फोटो|फ़ोटो|तस्वीर|चित्र)(?:\ साभार|\ क्रेडिट)?\s*[:\-–—|].*
      | (?:हमें\ )?फॉलो\ करें.*
      | இதையும்\ (?:படிக்க|படிங்க|பாருங்க|வாசிக்க).*
      | மேலும்\ படிக்க.*
      | (?:ఇది|ఇవి)\ కూడా\ (?:చదవండి|చూడండి).*
      | మరింత\ చదవండి.*
    )$""",
    regex.IGNORECASE | regex.VERBOSE,
)
# The first two letters (case-folded) of every ASCII line ``_BOILERPLATE_LINE`` can match:
# a line opening on two other ASCII letters or digits is not searched.
_BOILERPLATE_HEADS = frozenset(
    {
        "al", "cl", "co", "cr", "fe", "fi", "fo", "im", "pe", "ph", "pi", "re", "se", "sh",
        "si", "so", "su", "th", "vi",
    }
)  # fmt: skip
_BRACKETED_CREDIT = regex.compile(
    r"\s*[(\[](?:photo|image|picture|pic|credit|courtesy|फोटो|फ़ोटो)\b[^)\]]{0,80}[)\]]\s*$",
    regex.IGNORECASE,
)


def split_truncation(text: str) -> tuple[str, bool]:
    """``text`` without a trailing ellipsis marker ("[…]", "...", "…"), and whether it had one.

    Feeds mark an excerpt they cut short this way (WordPress: first 55 words + " […]"),
    often followed by "Continue reading" or a "The post … appeared first on …" line:
    those trailing lines and tails are looked past, and dropped.
    """
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or is_boilerplate(lines[-1])):
        lines.pop()
    tail = _without_read_more("\n".join(lines)).rstrip()
    # Each marker ends in one of these (then only spaces): the quick test before the scan.
    if not tail.endswith(("]", ")", "…", "...")):
        return text, False
    stripped, count = _TRUNCATION_TAIL.subn("", tail)
    return (stripped, True) if count else (text, False)


def clean_paragraphs(text: str, *, normalised: bool = False) -> list[str]:
    """Paragraphs of ``text`` without feed boilerplate, each on one line.

    Drops "The post … appeared first on …", "Also read: …" (and its Hindi, Tamil, Telugu
    equivalents), share/follow/subscribe prompts and photo credits, and strips "[…]" and
    "Continue reading" tails. ``normalised``: ``text`` is ``normalise_text``'s (or
    ``html_to_text``'s) output already, so it is not normalised again.
    """
    out: list[str] = []
    for paragraph in BLANK_LINES.split(text if normalised else normalise_text(text)):
        lines = [_clean_line(line) for line in paragraph.split("\n")]
        joined = " ".join(line for line in lines if line)
        if joined:
            out.append(joined)
    return out


def is_boilerplate(line: str) -> bool:
    """True for a line or sentence that is feed furniture ("Also read: …", "Photo: …")."""
    line = line.strip()
    head = line[:2].lower()
    if len(head) == 2 and head.isascii() and head.isalnum() and head not in _BOILERPLATE_HEADS:
        return False  # most lines: none of the phrases opens on these two letters
    return bool(_BOILERPLATE_LINE.match(line))


def _without_read_more(text: str) -> str:
    """``text`` without a "Continue reading"-style tail (``_READ_MORE_TAIL``).

    Such a tail has at most one of ". ! ? ।" in it (a mark before the phrase), so only
    what follows the second-last of them is searched: a long excerpt is not scanned whole.
    """
    last = max(text.rfind(mark) for mark in _SENTENCE_ENDS)
    start = max(text.rfind(mark, 0, last) for mark in _SENTENCE_ENDS) + 1 if last > 0 else 0
    # At ``start`` the pattern's look-behind sees a mark, as "^" does at the slice's start.
    tail = text[start:]
    if not _may_read_more(tail):
        return text
    kept: str = _READ_MORE_TAIL.sub("", tail)
    return text[:start] + kept


def _may_read_more(line: str) -> bool:
    """Could ``_READ_MORE_TAIL`` match? Each of its phrases holds one of these (case
    folded: no other character folds to the ASCII letters in them); most lines hold none,
    and the test is far cheaper than the search."""
    folded = line.casefold()
    return (
        "read" in folded
        or "perma" in folded
        or (not line.isascii() and ("पढ़ें" in line or "படிக்க" in line or "చదవండి" in line))
    )


def _clean_line(line: str) -> str:
    line = line.strip()
    if not line or is_boilerplate(line):
        return ""
    # The bracketed tails end a line with "]" or ")" (then only spaces): most lines cannot
    # match, and the test is cheaper than the search.
    if line.endswith("]"):
        line = _BRACKET_TAIL.sub("", line)
    if _may_read_more(line):  # a line is short: searched whole
        line = _READ_MORE_TAIL.sub("", line)
    if line.rstrip().endswith((")", "]")):
        line = _BRACKETED_CREDIT.sub("", line)
    return line.strip()
