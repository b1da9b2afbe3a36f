"""X (Twitter) post length: the twitter-text v3 weighted length.

X counts after NFC normalisation: code points in a few Latin/punctuation ranges weigh 1,
everything else 2; every emoji sequence weighs 2; every URL its parser detects weighs 23,
bare domains such as ``example.com`` included. The URL rules follow twitter-text's
extractor (config/v3.json, conformance/validate.yml and extract.yml of twitter/twitter-text).

Top-level domains come from the Public Suffix List shipped inside the ``tld`` package
(already installed through trafilatura -> courlan). Its ICANN section is the IANA root zone,
kept current by the PSL maintainers; copying twitter-text's 2021 list would freeze retired
brand TLDs in and miss new ones.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from dataclasses import dataclass

import regex

MAX_WEIGHTED_LENGTH = 280
TRANSFORMED_URL_LENGTH = 23
_SCALE = 100
_DEFAULT_WEIGHT = 200
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_FIRST_LIGHT_END = chr(_LIGHT_RANGES[0][1])
_HEAVY = re.compile("[^" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _LIGHT_RANGES) + "]")
DOT_LETTER = re.compile(r"\.[^\W\d_]")  # "." then a letter: where a TLD could start
_INVALID_CHARS = frozenset("\ufffe\ufeff\uffff")
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_MAX_TCO_SLUG = 40
_DEFAULT_PROTOCOL = "https://"

# Character classes of twitter-text's regexes, kept under their upstream names.
_PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$"
_SPACES = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID = r"\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
_LATIN_ACCENTS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_CYRILLIC = r"\u0400-\u04FF"
_DOMAIN_CHAR = rf"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&{_LATIN_ACCENTS}]"
_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
_PATH_END = rf"(?:[\+\-a-z{_CYRILLIC}0-9=_#\/{_LATIN_ACCENTS}]|(?:{_PARENS}))"
_PATH = rf"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"
_PRECEDING = rf"(?:[^A-Za-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"

_NO_PROTOCOL_BAD_BEFORE = re.compile(r"[-_./]$")
_TCO = re.compile(rf"^https?://t\.co/([a-z0-9]+)(?:\?{_QUERY}*{_QUERY_END})?", re.IGNORECASE)

# One emoji: keycap, flag, tag sequence (England...), or a pictograph with optional
# modifier/VS16 and ZWJ continuations. Unicode properties keep this current with the
# regex module's Unicode data instead of a frozen list.
_PICTO = r"(?:\p{Extended_Pictographic}|\p{Emoji_Presentation})(?:\p{Emoji_Modifier}|\uFE0F)?"
# Every code point an ``_EMOJI`` match can start with or needs (the keycap's U+20E3), and
# more: tests/test_compose_fast_measure.py checks it against ``_EMOJI`` over all of Unicode.
MAY_START_EMOJI = re.compile(
    "[\u00a9\u00ae\u203c\u2049\u20e3\u2122\u2139\u2194-\u2bff\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0010ffff]"
)
_EMOJI = regex.compile(
    r"[#*0-9]\uFE0F?\u20E3"
    r"|\p{Regional_Indicator}{1,2}"
    r"|\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F"
    rf"|{_PICTO}(?:\u200D{_PICTO})*"
    r"|\p{Emoji_Modifier}"
)


@dataclass(frozen=True)
class UrlEntity:
    """A URL found by the twitter-text rules: ``text[start:end] == url`` (code points)."""

    url: str
    start: int
    end: int


@functools.cache
def top_level_domains() -> frozenset[str]:
    """Lower-case TLDs of the IANA root zone (the PSL ICANN section), plus ``onion``."""
    resource = importlib.resources.files("tld") / "res" / "effective_tld_names.dat.txt"
    text = resource.read_text(encoding="utf-8")
    icann = text.split("===BEGIN ICANN DOMAINS===", 1)[1].split("===END ICANN DOMAINS===", 1)[0]
    found = {"onion"}  # special-use, linked by twitter-text
    for line in icann.splitlines():
        rule = line.strip()
        if rule and not rule.startswith("//"):
            found.add(rule.rsplit(".", 1)[-1].lstrip("!*").lower())
    found.discard("")
    return frozenset(found)


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Longest first, so a TLD is never shadowed by its own prefix (भारत vs भारतम्).
    names = sorted(top_level_domains(), key=lambda t: (-len(t), t))
    tld = rf"(?:(?:{'|'.join(map(re.escape, names))})(?=[^0-9a-zA-Z@+-]|$))"
    domain = rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}(?:{tld}|{_PUNYCODE}))"
    url = re.compile(
        rf"({_PRECEDING})((https?://)?({domain})(?::[0-9]+)?(/{_PATH}*)?(\?{_QUERY}*{_QUERY_END})?)",
        re.IGNORECASE,
    )
    ascii_domain = re.compile(
        rf"(?:(?:[\-a-z0-9{_LATIN_ACCENTS}]+)\.)+(?:{tld}|{_PUNYCODE})", re.IGNORECASE
    )
    return url, ascii_domain


def extract_urls(text: str) -> list[UrlEntity]:
    """URLs twitter-text would link in ``text``, with or without protocol, in order."""
    return _extract(text, _windows(text) if "." in text else [])


def _windows(text: str) -> list[tuple[int, int]]:
    """Where URLs can be: each run of text without " ", tab or newline that has a dot
    followed by a letter (every URL has a domain, a dot, then a TLD, which starts with a
    letter; none has those three characters), widened by one character on each side so
    the big URL pattern sees what precedes and follows, as it would in the whole text."""
    windows: list[tuple[int, int]] = []
    for found in DOT_LETTER.finditer(text):
        dot = found.start()
        if windows and dot < windows[-1][1]:
            continue  # in the run already taken
        start = max(text.rfind(" ", 0, dot), text.rfind("\t", 0, dot), text.rfind("\n", 0, dot))
        ends = [
            i for i in (text.find(" ", dot), text.find("\t", dot), text.find("\n", dot)) if i >= 0
        ]
        end = min(ends) + 1 if ends else len(text)
        windows.append((max(start, 0), end))
    return windows


def _extract(text: str, windows: list[tuple[int, int]]) -> list[UrlEntity]:
    """``extract_urls`` searching only ``windows`` of ``text`` (pos, endpos)."""
    found: list[UrlEntity] = []
    for pos, endpos in windows:
        # The window with the character before it (the pattern reads nothing before
        # where the search starts, but "^" would match at a window's start), so that the
        # same window in another text (a post's link line on each platform) is found
        # in _window_urls' memory.
        lead = 1 if pos > 0 else 0
        offset = pos - lead
        found.extend(
            UrlEntity(url, start + offset, end + offset)
            for url, start, end in _window_urls(text[offset:endpos], lead)
        )
    return found


@functools.lru_cache(maxsize=1024)
def _window_urls(window: str, pos: int) -> tuple[tuple[str, int, int], ...]:
    """The URLs found searching ``window`` from ``pos``: (url, start, end) in ``window``."""
    url_re, ascii_domain_re = _patterns()
    found: list[tuple[str, int, int]] = []
    for match in url_re.finditer(window, pos):
        before, url, protocol, domain, path = match.group(1, 2, 3, 4, 5)
        end = match.end()
        start = end - len(url)
        if not _valid_length(url, protocol or _DEFAULT_PROTOCOL, domain):
            continue
        if protocol:
            tco = _TCO.match(url)
            if tco:
                if len(tco.group(1)) > _MAX_TCO_SLUG:
                    continue
                url, end = tco.group(0), start + len(tco.group(0))
            found.append((url, start, end))
            continue
        if _NO_PROTOCOL_BAD_BEFORE.search(before):
            continue
        # Without a protocol only ASCII(-ish) domains count, e.g. "example.com" in CJK text.
        last: tuple[str, int, int] | None = None
        for ascii_match in ascii_domain_re.finditer(domain):
            last = (ascii_match.group(0), start + ascii_match.start(), start + ascii_match.end())
            found.append(last)
        if last is not None and path:
            found[-1] = (url.replace(domain, last[0], 1), last[1], end)
    return tuple(found)


def _valid_length(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's isValidUrl: every punycoded label is 1..63 chars, the URL <= 4096."""
    if domain[:4].lower() == "xn--" and not domain.isascii():
        return False
    encoded_length = 0
    for label in domain.split("."):
        encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        if not 1 <= len(encoded) <= _MAX_LABEL_LENGTH:
            return False
        encoded_length += len(encoded) + 1
    url_length = len(url) + (encoded_length - 1) - len(domain)
    return len(protocol) + url_length <= _MAX_URL_LENGTH


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` code point spans of each emoji sequence in ``text``."""
    if text.isascii() or not MAY_START_EMOJI.search(text):
        return []  # Latin, Indic and most text: the standard library rules it out sooner
    return [match.span() for match in _EMOJI.finditer(text)]


def _segment_weight(segment: str) -> int:
    """Summed weights of ``segment``'s characters: all light but the heavy ones."""
    heavy = len(_HEAVY.findall(segment)) if segment and max(segment) > _FIRST_LIGHT_END else 0
    return len(segment) * _SCALE + heavy * (_DEFAULT_WEIGHT - _SCALE)


def _char_weight(char: str) -> int:
    code = ord(char)
    for low, high in _LIGHT_RANGES:
        if low <= code <= high:
            return _SCALE
    return _DEFAULT_WEIGHT


def x_weighted_length(text: str) -> int:
    """twitter-text v3 ``weightedLength`` of ``text`` (NFC applied first)."""
    if not text.isascii():  # ASCII is NFC already
        text = unicodedata.normalize("NFC", text)
    spans = {u.start: (u.end, TRANSFORMED_URL_LENGTH * _SCALE) for u in extract_urls(text)}
    for start, end in emoji_spans(text):
        spans.setdefault(start, (end, _DEFAULT_WEIGHT))
    total, index = 0, 0
    for start in sorted(spans):
        if start < index:
            continue  # inside the URL or emoji before it
        end, weight = spans[start]
        total += _segment_weight(text[index:start]) + weight
        index = end
    return (total + _segment_weight(text[index:])) // _SCALE


def x_has_invalid_characters(text: str) -> bool:
    """U+FFFE, U+FEFF or U+FFFF anywhere makes the post invalid."""
    return any(char in _INVALID_CHARS for char in text)


def x_is_valid(text: str, *, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    """What X accepts: not empty, no invalid characters, weighted length within ``limit``."""
    if x_has_invalid_characters(text):
        return False
    return 0 < x_weighted_length(text) <= limit
