"""How a platform's text is fitted: how it counts, its limits, how text is escaped.

``Profile`` and its building blocks live here; each platform declares its own profile in
``bot/publishers/<platform>.py`` (``PLATFORM.profile``), and ``PROFILES`` reads them from
``bot.registry``. Publishers and ``validate_post`` read the same profiles compose fits
posts to, so "fits" means one thing everywhere.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.compose.facets import display_url, mark_link, mark_tag
from bot.compose.xlength import extract_urls
from bot.models import ChannelStyle

Markup = Literal["text", "html", "mrkdwn", "little"]
LinkStyle = Literal["plain", "facet", "html", "mrkdwn", "bio", "escaped"]
TagStyle = Literal["plain", "facet", "little"]

_LITTLE_CHARS = "\\|{}@[]()<>#*_~"  # the backslash first


def identity(text: str) -> str:
    return text


def escape_little(text: str) -> str:
    r"""LinkedIn "little text": backslash before each of \ | { } @ [ ] ( ) < > # * _ ~.

    One ``str.replace`` per character, the backslash first (no later one adds or moves
    a backslash): each absent character costs a fast scan, where a regex tested every
    character against the set (tests/test_fast_paths.py compares the two).
    """
    for char in _LITTLE_CHARS:
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


def escape_html(text: str) -> str:
    """Telegram HTML parse mode needs only & < > escaped."""
    return html.escape(text, quote=False)


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn control characters: & < >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The characters each escape changes; text without them comes out as it went in.
ESCAPED_CHARS: dict[Callable[[str], str], str] = {
    identity: "",
    escape_little: "\\|{}@[]()<>#*_~",
    escape_html: "&<>",
    escape_mrkdwn: "&<>",
}

BROKEN = 10**9
DEFAULT_TEMPLATE = "{title}\n\n{summary}\n\n{url} {hashtags}"
BLOCK_TEMPLATE = "{title}\n\n{summary}\n\n{url}\n\n{hashtags}"


@dataclass(frozen=True)
class Profile:
    """One platform's text rules. ``limit`` is in ``unit`` as counted by ``measure``."""

    name: str
    unit: str
    measure: Callable[[str], int]
    limit: int
    default_template: str = DEFAULT_TEMPLATE
    link_allowed: bool = True  # the article URL may appear in the text
    link_clickable: bool = True
    link_style: LinkStyle = "plain"
    link_attachment: bool = False  # the link can also travel as a card (PostPart.link)
    tag_style: TagStyle = "plain"
    max_hashtags: int = 2  # default when the channel does not say
    hashtag_cap: int = 30  # the platform's (or our sane) hard maximum
    max_images: int = 4
    alt_limit: int = 1000
    image_required: bool = False
    caption_limit: int | None = None  # text limit when an image is attached
    soft_limit: int | None = None  # readable target below the hard limit
    limit_overridable: bool = False  # ChannelStyle.max_chars may raise the limit
    supports_thread: bool = False
    escape: Callable[[str], str] = identity
    markup: Markup = "text"
    max_links: int | None = None
    facets: bool = False  # links and tags travel as rich-text facets (byte ranges)
    # Rules beyond the fields above, each returning its problems with one part's text
    # (X refuses some code points, Instagram counts caption hashtags).
    text_checks: tuple[Callable[[str], list[str]], ...] = ()

    def text_limit(self, style: ChannelStyle, *, has_image: bool) -> int:
        """The limit compose fits to for ``style``; ``max_chars`` may only lower a hard one."""
        limit = self.limit
        if has_image and self.caption_limit is not None:
            limit = min(limit, self.caption_limit)
        if style.max_chars is not None:
            return style.max_chars if self.limit_overridable else min(limit, style.max_chars)
        return min(limit, self.soft_limit) if self.soft_limit else limit

    def fit_measure(self, text: str) -> int:
        """``measure`` for fitting: beyond any limit when the text breaks a rule other than
        length (Threads rejects more than 5 links), so fitting cuts until it holds."""
        if self.max_links is not None and len(extract_urls(text)) > self.max_links:
            return BROKEN
        return self.measure(text)

    def format_link(self, url: str, style: ChannelStyle) -> str:
        """The article link as it appears in the text (possibly marked for facets)."""
        if self.link_style == "facet":
            return mark_link(display_url(url))
        if self.link_style == "html":
            return f'<a href="{html.escape(url)}">{html.escape(display_url(url))}</a>'
        if self.link_style == "mrkdwn":
            return f"<{slack_url(url)}|{escape_mrkdwn(display_url(url))}>"
        if self.link_style == "bio":
            return self.escape(style.link_in_bio)
        return self.escape(url)

    def format_hashtags(self, bodies: tuple[str, ...]) -> str:
        if self.tag_style == "little":
            return " ".join("{hashtag|\\#|" + escape_little(b) + "}" for b in bodies)
        if self.tag_style == "facet":
            return " ".join(mark_tag(f"#{b}") for b in bodies)
        return " ".join(self.escape(f"#{b}") for b in bodies)


def slack_url(url: str) -> str:
    """A URL inside Slack's <url|text>: control characters escaped, '|' percent-encoded."""
    return escape_mrkdwn(url).replace("|", "%7C")


class _Profiles(Mapping[str, Profile]):
    """Platform name -> profile, read from each platform's declaration (``bot.registry``)."""

    def __getitem__(self, name: str) -> Profile:
        from bot import registry  # the declarations import this module

        platform = registry.get(name)
        if platform is None:
            raise KeyError(name)
        return platform.profile

    def __iter__(self) -> Iterator[str]:
        from bot import registry

        return iter(registry.names())

    def __len__(self) -> int:
        from bot import registry

        return len(registry.names())


PROFILES: Mapping[str, Profile] = _Profiles()


def profile_for(platform: str) -> Profile:
    """The profile of ``platform``; ValueError lists the known ones."""
    try:
        return PROFILES[platform]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown platform {platform!r}; use one of {known}") from None
