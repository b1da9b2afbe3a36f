"""A composed post with text a person edited: counted and checked by the platform's rules.

Pure. ``edit_post`` keeps everything but the text (media, link card, hashtags list), rebuilds
Bluesky facets from the new text and refuses a text the platform would refuse, saying by how
much it is too long in the platform's own unit.
"""

from __future__ import annotations

import dataclasses

from bot.compose.facets import facets_for_text
from bot.compose.profiles import PROFILES
from bot.compose.validate import validate_post
from bot.models import Length, Post, PostPart

PART_SEPARATOR = "\n---\n"  # between the parts of a thread in the editable text


class EditRefused(ValueError):
    """The edited text cannot be posted; ``problems`` says why, in the platform's terms."""

    def __init__(self, problems: list[str], *, length: Length | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.length = length  # set when a part is over the limit: its count and the limit


def editable_text(post: Post) -> str:
    """The text a person edits: the parts of a thread separated by a line ``---``."""
    return PART_SEPARATOR.join(part.text for part in post.parts)


def edit_post(post: Post, text: str) -> Post:
    """``post`` with ``text`` as its text; ``EditRefused`` when the platform would refuse it."""
    texts = [t.strip() for t in _split(text)]
    if len(texts) != len(post.parts):
        raise EditRefused(
            [
                f"the post has {len(post.parts)} parts separated by lines of ---, "
                f"the edited text has {len(texts)}; keep {len(post.parts)}"
            ]
        )
    profile = PROFILES[post.platform]
    limit = post.length.limit
    parts: list[PostPart] = []
    for part, new_text in zip(post.parts, texts, strict=True):
        facets = facets_for_text(new_text, link_uri=post.article_url) if profile.facets else ()
        parts.append(dataclasses.replace(part, text=new_text, facets=facets))
    for number, part in enumerate(parts, start=1):
        part_limit = limit
        if part.media and profile.caption_limit is not None:
            part_limit = min(limit, profile.caption_limit)
        count = profile.measure(part.text)
        if count > part_limit:
            where = f"part {number}: " if len(parts) > 1 else ""
            raise EditRefused(
                [f"{where}{count} {profile.unit}, over the {post.platform} limit of {part_limit}"],
                length=Length(profile.unit, count, part_limit),
            )
    value = max(profile.measure(p.text) for p in parts)
    edited = dataclasses.replace(
        post, parts=tuple(parts), length=Length(post.length.unit, value, limit)
    )
    problems = validate_post(edited)
    if problems:
        raise EditRefused(problems)
    return edited


def _split(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    parts: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == "---":
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(p) for p in parts]
