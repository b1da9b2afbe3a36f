"""Initialisms an article supports: "ATSB" after "Australian Transport Safety Bureau".

A summary that shortens a name the article spells out to its initials names nothing new,
so the fact gate lets such an all-capitals word, standing alone, through when its letters
are exactly the initials of consecutive capitalised words of the article up to the last of
them ("Transport Safety Bureau" gives TSB, not ATS); "of", "and", "for", "the", "on", "in"
and "&" between them are skipped ("Federal Bureau of Investigation" gives FBI). Three
letters at least: two-letter ones ("US", "UN") are too easily matched by chance. Pure.
"""

from __future__ import annotations

import regex

MIN_LETTERS = 3
_MAX_WORDS = 12  # a longer stretch of capitalised words is a headline, not a name
_CONNECTORS = frozenset({"of", "and", "for", "the", "on", "in", "&"})
_POSSESSIVE = regex.compile(r"['’]s$")
_EDGE = regex.compile(r"^[^\p{L}\p{N}&]+|[^\p{L}\p{N}&]+$")
_CAPITALISED = regex.compile(r"^\p{Lu}[\p{Latin}\p{M}\p{N}'’.-]*$")
_INITIALISM = regex.compile(r"^(\p{Lu}{3,})(?:['’]s)?$")


def initialisms(text: str) -> frozenset[str]:
    """Every initialism of ``MIN_LETTERS`` or more letters that ``text`` supports."""
    found: set[str] = set()
    for stretch in _stretches(text):
        words = [word for word in stretch if word is not None]
        for start in range(len(words) - MIN_LETTERS + 1):  # a name ends where its run does
            found.add("".join(word[0] for word in words[start:]).upper())
    return frozenset(found)


def initialism(word: str) -> str | None:
    """The letters of ``word`` when it is written as an initialism ("ATSB", "ATSB's")."""
    match = _INITIALISM.match(word)
    return match[1] if match else None


def _stretches(text: str) -> list[list[str | None]]:
    """Runs of capitalised words and connectors (``None``) with nothing but spaces between
    them; punctuation after a word ends its run, before one starts a new run."""
    stretches: list[list[str | None]] = []
    current: list[str | None] = []

    def close() -> None:
        while current and current[-1] is None:  # a connector never ends a name
            current.pop()
        if current:
            stretches.append(current[:_MAX_WORDS])
        current.clear()

    for token in text.split():
        core = _EDGE.sub("", _POSSESSIVE.sub("", token))
        opens = bool(core) and token[0] != core[0]  # "(Australian": a new run starts
        ends = bool(core) and _POSSESSIVE.sub("", token)[-1] != core[-1]  # "Bureau," ends
        if opens:
            close()
        if core and _CAPITALISED.match(core):
            current.append(core)
        elif core.casefold() in _CONNECTORS and current and not opens:
            current.append(None)
        else:
            close()
            continue
        if ends:
            close()
    close()
    return stretches
