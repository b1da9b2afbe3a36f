"""What each platform allows, in one place: how it counts, its limits, how text is escaped.

Publishers and ``validate_post`` read the same profiles compose fits posts to, so "fits"
means one thing everywhere.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.compose import counting
from bot.compose.facets import display_url, mark_link, mark_tag
from bot.compose.xlength import extract_urls, x_weighted_length
from bot.models import ChannelStyle

Markup = Literal["text", "html", "mrkdwn", "little"]
LinkStyle = Literal["plain", "facet", "html", "slack", "bio", "escaped"]
TagStyle = Literal["plain", "facet", "linkedin"]

_LITTLE_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")


def identity(text: str) -> str:
    return text


def escape_little(text: str) -> str:
    r"""LinkedIn "little text": backslash before each of \ | { } @ [ ] ( ) < > # * _ ~."""
    return _LITTLE_RESERVED.sub(r"\\\1", text)


def escape_html(text: str) -> str:
    """Telegram HTML parse mode needs only & < > escaped."""
    return html.escape(text, quote=False)


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn control characters: & < >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BROKEN = 10**9
_DEFAULT_TEMPLATE = "{title}\n\n{summary}\n\n{url} {hashtags}"
_BLOCK_TEMPLATE = "{title}\n\n{summary}\n\n{url}\n\n{hashtags}"


@dataclass(frozen=True)
class Profile:
    """One platform's text rules. ``limit`` is in ``unit`` as counted by ``measure``."""

    name: str
    unit: str
    measure: Callable[[str], int]
    limit: int
    default_template: str = _DEFAULT_TEMPLATE
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
            return _BROKEN
        return self.measure(text)

    def format_link(self, url: str, style: ChannelStyle) -> str:
        """The article link as it appears in the text (possibly marked for facets)."""
        if self.link_style == "facet":
            return mark_link(display_url(url))
        if self.link_style == "html":
            return f'<a href="{html.escape(url)}">{html.escape(display_url(url))}</a>'
        if self.link_style == "slack":
            return f"<{slack_url(url)}|{escape_mrkdwn(display_url(url))}>"
        if self.link_style == "bio":
            return self.escape(style.link_in_bio)
        return self.escape(url)

    def format_hashtags(self, bodies: tuple[str, ...]) -> str:
        if self.tag_style == "linkedin":
            return " ".join("{hashtag|\\#|" + escape_little(b) + "}" for b in bodies)
        if self.tag_style == "facet":
            return " ".join(mark_tag(f"#{b}") for b in bodies)
        return " ".join(self.escape(f"#{b}") for b in bodies)


def slack_url(url: str) -> str:
    """A URL inside Slack's <url|text>: control characters escaped, '|' percent-encoded."""
    return escape_mrkdwn(url).replace("|", "%7C")


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("x", "weighted", x_weighted_length, 280, supports_thread=True),
        Profile(
            "mastodon",
            "graphemes",
            counting.mastodon_length,
            500,
            default_template=_BLOCK_TEMPLATE,
            max_hashtags=3,
            alt_limit=1500,
            limit_overridable=True,
            supports_thread=True,
        ),
        Profile(
            "bluesky",
            "graphemes",
            counting.bluesky_length,
            counting.BLUESKY_MAX_GRAPHEMES,
            link_style="facet",
            link_attachment=True,
            tag_style="facet",
            max_hashtags=2,
            hashtag_cap=8,
            alt_limit=2000,
            supports_thread=True,
        ),
        Profile(
            "threads",
            "characters",
            counting.threads_length,
            500,
            link_attachment=True,
            max_hashtags=1,
            hashtag_cap=1,
            alt_limit=1000,
            supports_thread=True,
            max_links=5,
        ),
        Profile(
            "linkedin",
            "characters",
            counting.utf16_units,
            3000,
            default_template=_BLOCK_TEMPLATE,
            link_style="escaped",
            link_attachment=True,
            tag_style="linkedin",
            max_hashtags=3,
            max_images=9,
            alt_limit=4086,
            escape=escape_little,
            markup="little",
        ),
        Profile(
            "facebook",
            "characters",
            counting.utf16_units,
            63206,
            default_template=_BLOCK_TEMPLATE,
            link_attachment=True,
            soft_limit=1500,
            max_images=10,
        ),
        Profile(
            "instagram",
            "characters",
            counting.utf16_units,
            2200,
            default_template=_BLOCK_TEMPLATE,
            link_allowed=False,
            link_clickable=False,
            link_style="bio",
            max_hashtags=5,
            hashtag_cap=30,
            max_images=1,
            image_required=True,
        ),
        Profile(
            "telegram",
            "utf16",
            counting.telegram_html_length,
            4096,
            default_template=_BLOCK_TEMPLATE,
            link_style="html",
            max_images=1,
            caption_limit=1024,
            escape=escape_html,
            markup="html",
        ),
        Profile(
            "discord",
            "characters",
            counting.utf16_units,
            2000,
            default_template="{title}\n\n{summary}\n\n{url}",
            link_attachment=True,
            max_hashtags=0,
            max_images=10,
        ),
        Profile(
            "slack",
            "characters",
            counting.utf16_units,
            3000,
            default_template="{title}\n\n{summary}\n\n{url}",
            link_style="slack",
            link_attachment=True,
            max_hashtags=0,
            max_images=1,
            alt_limit=2000,
            escape=escape_mrkdwn,
            markup="mrkdwn",
        ),
    )
}


def profile_for(platform: str) -> Profile:
    """The profile of ``platform``; ValueError lists the known ones."""
    try:
        return PROFILES[platform]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown platform {platform!r}; use one of {known}") from None
