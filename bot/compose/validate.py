"""Check a composed post against its platform's rules before anything is sent.

``validate_post`` lists every problem it finds (empty list: fine). compose's own output must
always come back clean; publishers and ``syndbot preview`` use it to explain a rejection.
"""

from __future__ import annotations

import html
import re

from bot.compose.facets import facet_problems
from bot.compose.profiles import PROFILES, Profile, escape_little, slack_url
from bot.compose.template import HTML_TAG
from bot.compose.xlength import extract_urls
from bot.models import Post, PostPart
from bot.words import plural

_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_TELEGRAM_TAGS = re.compile(
    r'<a href="[^"<>]*">|</a>|</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote)>'
)
_TELEGRAM_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);)")
_SLACK_LINK = re.compile(r"<[^<>\s]+>")
_SLACK_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
# markup -> (its name, the markup it may hold, an "&" it must not hold)
_ESCAPED_MARKUP = {
    "html": ("Telegram HTML", _TELEGRAM_TAGS, _TELEGRAM_AMP),
    "mrkdwn": ("Slack mrkdwn", _SLACK_LINK, _SLACK_AMP),
}
_LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\#\|(?:[^\\{}]|\\.)*\}")
_LITTLE_RESERVED = "\\|{}@[]()<>#*_~"
_WRITTEN_LINK = re.compile(r"https?://", re.IGNORECASE)


def validate_post(post: Post) -> list[str]:
    """Every reason ``post`` would be rejected or mangled by its platform."""
    profile = PROFILES.get(post.platform)
    if profile is None:
        return [f"unknown platform {post.platform!r}"]
    if not post.parts:
        return [f"{post.platform}: the post has no parts"]
    problems: list[str] = []
    limit = post.length.limit
    if limit > profile.limit and not profile.limit_overridable:
        problems.append(f"{post.platform}: limit {limit} is above the platform's {profile.limit}")
    for number, part in enumerate(post.parts, start=1):
        where = f"{post.platform} part {number}"
        problems += [f"{where}: {p}" for p in _part_problems(post, profile, part, limit)]
    problems += _link_problems(post, profile)
    if len(post.hashtags) > profile.hashtag_cap:
        problems.append(
            f"{post.platform}: {plural(len(post.hashtags), 'hashtag')}, "
            f"at most {profile.hashtag_cap}"
        )
    if profile.image_required and not post.parts[0].media:
        problems.append(f"{post.platform}: an image is required and the article has none")
    return problems


def _part_problems(post: Post, profile: Profile, part: PostPart, limit: int) -> list[str]:
    problems: list[str] = []
    text = part.text
    if part.media and profile.caption_limit is not None:
        limit = min(limit, profile.caption_limit)
    length = profile.measure(text)
    if length > limit:
        problems.append(f"{length} {profile.unit}, over the limit of {limit}")
    if not text.strip() and not part.media:
        problems.append("empty text and no media")
    for check in profile.text_checks:
        problems += check(text)
    if profile.facets:
        problems += facet_problems(text, part.facets)
    elif part.facets:
        problems.append(f"facets are not used on {post.platform}")
    if profile.max_links is not None and len(extract_urls(text)) > profile.max_links:
        problems.append(f"more than {profile.max_links} links")
    problems += _media_problems(profile, part)
    return problems + _markup_problems(profile, text, post.article_url)


def _media_problems(profile: Profile, part: PostPart) -> list[str]:
    problems: list[str] = []
    if len(part.media) > profile.max_images:
        problems.append(f"{plural(len(part.media), 'image')}, at most {profile.max_images}")
    for media in part.media:
        if not media.alt.strip():
            problems.append(f"image {media.url} has no alt text")
        elif len(media.alt) > profile.alt_limit:
            problems.append(f"alt text of {media.url} is over {profile.alt_limit} characters")
    return problems


def _markup_problems(profile: Profile, text: str, url: str) -> list[str]:
    """Leftover HTML in plain text, or text the platform's markup would misread."""
    problems: list[str] = []
    if profile.markup in _ESCAPED_MARKUP:
        name, markup, loose_amp = _ESCAPED_MARKUP[profile.markup]
        text = markup.sub("", text)
        if "<" in text or ">" in text:
            problems.append(f"a '<' or '>' is not escaped for {name}")
        if loose_amp.search(text):
            problems.append(f"an '&' is not escaped for {name}")
        text = html.unescape(text)
    elif profile.markup == "little":
        text, bad = _unescape_little(_LITTLE_HASHTAG.sub(" ", text))
        if bad:
            problems.append(f"unescaped {bad!r} would make LinkedIn cut the post there")
    text = text.replace(url, " ")  # a query string may look like an entity (&copy=1)
    tag = HTML_TAG.search(text)
    if tag:
        problems.append(f"leftover HTML tag {tag.group(0)!r}")
    entity = next((m for m in _ENTITY.finditer(text) if html.unescape(m[0]) != m[0]), None)
    if entity:
        problems.append(f"leftover HTML entity {entity.group(0)!r}")
    return problems


def _unescape_little(text: str) -> tuple[str, str]:
    """LinkedIn little text to plain text, and the first unescaped reserved char ("" if none)."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            out.append(next(chars, ""))
        elif char in _LITTLE_RESERVED:
            return "".join(out), char
        else:
            out.append(char)
    return "".join(out), ""


def _link_problems(post: Post, profile: Profile) -> list[str]:
    url = post.article_url
    texts = [part.text for part in post.parts]
    if not profile.link_allowed:
        if any(url in text or _WRITTEN_LINK.search(text) for text in texts):
            return [f"{post.platform}: links are not clickable here; the URL must not be posted"]
        return []
    if profile.link_attachment and any(part.link == url for part in post.parts):
        return []
    shown = {
        "html": f'href="{html.escape(url)}"',
        "mrkdwn": f"<{slack_url(url)}|",
        "escaped": escape_little(url),
    }.get(profile.link_style, url)
    if profile.link_style == "facet":
        found = any(f.kind == "link" and f.value == url for p in post.parts for f in p.facets)
    else:
        found = any(shown in text for text in texts)
    return [] if found else [f"{post.platform}: the article link {url} is missing"]
