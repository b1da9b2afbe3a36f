"""compose: one article and a channel's style in, a post sized for that platform out.

Pure: no I/O, the clock is the ``now`` argument. The fitting order is the promise made to
users: the link is never cut; hashtags go before the title is shortened; a hashtag goes
before the whole summary would; whatever is left is filled with the best summary that fits
*in context*, measured by the platform's own count on the text exactly as sent.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import datetime

from bot.compose.counting import LINE_PARTS, SIMPLE_TEXT_FIELD
from bot.compose.facets import Span, build_facets, strip_marks
from bot.compose.hashtags import make_hashtags
from bot.compose.links import add_utm, ascii_url, drop_urls
from bot.compose.profiles import BROKEN, ESCAPED_CHARS, PROFILES, Profile, profile_for
from bot.compose.simple import simple_text
from bot.compose.summaries import Summaries
from bot.compose.template import check_template, clean_block, clean_inline, render
from bot.compose.xlength import extract_urls
from bot.models import Article, ChannelStyle, Length, Limits, Media, Post, PostPart
from bot.protocols import Summariser
from bot.textfit import ELLIPSIS, fit_text, grapheme_count

__all__ = ["PROFILES", "Summaries", "add_utm", "compose"]

MAX_THREAD_PARTS = 4  # keeps "i/n" three characters wide, and threads readable
DESCRIPTION_GRAPHEMES = 300  # link-card description (Bluesky external embed, LinkedIn)
_NUMBER_WIDTH = "\n0/0"  # stands in for "\n1/3" while fitting: same length in every count
_SPLIT_LEAD = " \t\n,;:"


@dataclasses.dataclass(frozen=True)
class _Draft:
    """A post being fitted: everything but the summary. Text fields are plain, unescaped."""

    profile: Profile
    template: str
    limit: int
    title: str
    link: str  # the link as formatted for the text, "" once it moved to an attachment
    tags: tuple[str, ...]
    author: str
    feed: str
    lang: str

    def render(self, summary: str, suffix: str = "") -> tuple[str, list[Span]]:
        return self._render(self.profile.escape(summary), suffix)

    def _render(self, summary: str, suffix: str = "") -> tuple[str, list[Span]]:
        """The post with ``summary`` (already escaped) in its place."""
        escape = self.profile.escape
        values = {
            "title": escape(self.title),
            "summary": summary,
            "url": self.link,
            "hashtags": self.profile.format_hashtags(self.tags),
            "author": escape(self.author),
            "feed": escape(self.feed),
            "lang": escape(self.lang),
        }
        return strip_marks(render(self.template, values) + suffix)

    def measure(self, summary: str, suffix: str = "") -> int:
        if not summary and not suffix:
            return self._bare_length
        escaped = self.profile.escape(summary)
        frame = None if suffix else self._frame
        if frame is not None and _keeps_shape(escaped):
            # Exactly what rendering gives (see _keeps_shape), without rendering: the
            # summariser asks this for every candidate summary.
            if self._line_frame is not None:  # the summary between line breaks
                return self._line_frame.measure(f"\n{escaped}\n")
            return self.profile.fit_measure(frame[0] + escaped + frame[1])
        return self.profile.fit_measure(self._render(escaped, suffix)[0])

    @functools.cached_property
    def _bare_length(self) -> int:
        """The post without a summary: fitting asks it of each draft again and again."""
        line, frame = self._line_frame, self._frame
        if line is not None and frame is not None:
            return line.bare(frame)  # the frame is counted already (and needed anyway)
        return self.profile.fit_measure(self._render(self.profile.escape(""))[0])

    @functools.cached_property
    def _line_frame(self) -> _LineFrame | None:
        """The frame counted once, when the summary sits on a line of its own and the
        platform's counts add up over a line break (``counting.LINE_PARTS``)."""
        frame, profile = self._frame, self.profile
        parts = LINE_PARTS.get(profile.measure)
        if frame is None or parts is None:
            return None
        before, after = frame
        if not (before.endswith("\n") and after.startswith("\n")):
            return None
        counts, combine = parts
        links = None if profile.max_links is None else len(extract_urls(before + after))
        frame_counts = tuple(count(before + after) - count("\n\n") for count in counts)
        return _LineFrame(frame_counts, counts, combine, links, profile.max_links)

    @functools.cached_property
    def _frame(self) -> tuple[str, str] | None:
        """The rendered post around its summary: (before, after); None when the template
        has no single {summary}."""
        text = self._render(_SLOT)[0]
        if text.count(_SLOT) != 1:
            return None
        before, _, after = text.partition(_SLOT)
        return before, after

    def plain(self, text: str) -> str:
        """Article text as this platform shows it: plain, and without links it cannot
        make clickable."""
        return _plain(self.profile, text)


@dataclasses.dataclass(frozen=True)
class _LineFrame:
    """A post's frame, counted: each count of before + "\\n" + s + "\\n" + after is the
    frame's plus that of "\\n" + s + "\\n" less the two line breaks counted twice."""

    frame_counts: tuple[int, ...]
    counts: tuple[Callable[[str], int], ...]
    combine: Callable[..., int]
    links: int | None  # URLs in the frame, when the platform limits them
    max_links: int | None

    def bare(self, frame: tuple[str, str]) -> int:
        """``profile.fit_measure`` of the post without a summary, from the frame's counts.

        Without one, the summary's line goes and the line breaks around it become one
        blank line: the ``k`` line breaks ending ``before`` and the ``m`` starting ``after``
        become two (every such count counts a line break as one).
        """
        if self.links is not None and self.max_links is not None and self.links > self.max_links:
            return BROKEN
        before, after = frame
        breaks = len(before) - len(before.rstrip("\n")) + len(after) - len(after.lstrip("\n"))
        return int(self.combine(*(base + 4 - breaks for base in self.frame_counts)))

    def measure(self, line: str) -> int:
        """``profile.fit_measure`` of the post whose summary line is ``line``."""
        if self.links is not None and self.max_links is not None:
            links = self.links + len(extract_urls(line))
            if links > self.max_links:
                return BROKEN
        if len(self.counts) == 1:  # one count, as most platforms have: no combining
            return self.combine(self.frame_counts[0] + self.counts[0](line))
        pairs = zip(self.frame_counts, self.counts, strict=True)
        return self.combine(*(base + count(line) for base, count in pairs))


def _plain(profile: Profile, text: str) -> str:
    return _plain_text(text, profile.link_allowed)


@functools.lru_cache(maxsize=4096)
def _plain_text(text: str, link_allowed: bool) -> str:
    # Cached: every platform asks for the same candidate summaries of an article.
    text = clean_block(text)
    return text if link_allowed else drop_urls(text)


# Candidates up to about a sentence long try the simple-text shortcut: every platform asks
# about the same sentences, so the check is made once and pays ten times. A longer one is
# sentences joined for one platform's budget; checking it costs more than it saves
# (callgrind over the bench articles: 80.0 million instructions per article with this
# limit, 85.8 without).
_SIMPLE_MAX = 400

_SLOT = "\x00"  # stands for the summary in ``_Draft._frame``; article text never has it


def _keeps_shape(summary: str) -> bool:
    """True when the template's tidying (``template.collapse``) and ``strip_marks`` leave
    ``summary`` as it is and see the same line shape as with ``_SLOT`` in its place: one
    non-empty line, nothing to trim at either end, no run of spaces, no marker."""
    # isprintable is False for "\n", tabs, the slot and the (private-use) markers; a
    # summary it refuses (e.g. an emoji with a ZWJ) is measured by rendering.
    return (
        bool(summary)
        and summary.isprintable()
        and summary.strip() == summary
        and "  " not in summary
    )


def compose(
    article: Article,
    style: ChannelStyle,
    *,
    summariser: Summariser,
    now: datetime,
    limits: Limits | None = None,
) -> Post:
    """The post for ``article`` on ``style``'s platform. ValueError when the channel's
    limit cannot hold even the link. ``limits`` are the server's own (a Mastodon
    instance's); the channel's ``max_chars`` wins over them.

    Pass a ``Summaries`` as ``summariser`` when composing one article for many channels:
    each summary is then asked for once, whichever channel needs it first.
    """
    summaries = Summaries.of(summariser)
    profile = profile_for(style.platform)
    if limits is not None and limits.characters is not None and style.max_chars is None:
        style = dataclasses.replace(style, max_chars=limits.characters)
    template = style.template or profile.default_template
    check_template(template)
    media = _media(article, style, profile)
    url = add_utm(ascii_url(article.url), style.utm)
    max_tags = profile.max_hashtags if style.max_hashtags is None else style.max_hashtags
    draft = _Draft(
        profile=profile,
        template=template,
        limit=profile.text_limit(style, has_image=bool(media)),
        title=" ".join(_plain(profile, article.title).split()),
        link=profile.format_link(url, style),
        tags=make_hashtags(article.tags, min(max_tags, profile.hashtag_cap)),
        author=clean_inline(article.author or ""),
        feed=clean_inline(article.feed),
        lang=article.lang or "",
    )
    draft = _fit_fixed_part(draft, url)
    summary, draft = _fit_summary(draft, article, style, summaries)
    chunks = [summary]
    if style.thread and profile.supports_thread:
        chunks = _thread_chunks(draft, article, summaries, summary)
    parts = _parts(draft, chunks, url, media)
    description = clean_block(
        summaries.summarise(article, budget=DESCRIPTION_GRAPHEMES, measure=grapheme_count)
    )
    return Post(
        platform=profile.name,
        channel=style.name,
        item_id=article.item_id,
        article_url=url,
        title=draft.title,
        lang=article.lang,
        summary=_joined(chunks),
        hashtags=draft.tags,
        parts=parts,
        length=Length(profile.unit, max(profile.measure(p.text) for p in parts), draft.limit),
        description=description,
        composed_at=now,
        image_missing=profile.image_required and not media,
        with_facets=profile.facets,
    )


def _fit_fixed_part(draft: _Draft, url: str) -> _Draft:
    """Make title + link + hashtags fit with an empty summary: hashtags go first, then
    the title is shortened; the link is never cut (it may move to the link card)."""
    if draft.measure("") <= draft.limit:
        return draft  # the usual case: all of it fits (and so would less of it)
    bare = dataclasses.replace(draft, title="", tags=(), author="", feed="", lang="")
    if bare.measure("") > draft.limit:
        if not (draft.profile.link_attachment and draft.link):
            raise ValueError(
                f"{draft.profile.name}: a limit of {draft.limit} {draft.profile.unit} cannot "
                f"hold the link {url}; raise the channel's max_chars"
            )
        draft = dataclasses.replace(draft, link="")
    while draft.tags and draft.measure("") > draft.limit:
        draft = dataclasses.replace(draft, tags=draft.tags[:-1])
    if draft.measure("") > draft.limit:
        title = fit_text(
            draft.title, draft.limit, lambda t: dataclasses.replace(draft, title=t).measure("")
        )
        draft = dataclasses.replace(draft, title=title)
    if draft.measure("") > draft.limit:  # author/feed placeholders of a custom template
        draft = dataclasses.replace(draft, title="", author="", feed="", lang="")
    return draft


def _fit_summary(
    draft: _Draft, article: Article, style: ChannelStyle, summaries: Summaries
) -> tuple[str, _Draft]:
    """The best summary for the room left; hashtags are dropped one by one when keeping
    them would leave no summary at all (and the article has one to give)."""
    has_summary: bool | None = None
    while True:
        summary = _summary_in_context(draft, article, style, summaries)
        if summary or not draft.tags:
            return summary, draft
        if has_summary is None:
            probe = summaries.summarise(article, budget=draft.limit, measure=draft.profile.measure)
            has_summary = bool(draft.plain(probe))
        if not has_summary:
            return summary, draft
        draft = dataclasses.replace(draft, tags=draft.tags[:-1])


@dataclasses.dataclass(frozen=True)
class _InContext:
    """The room a summary takes in ``draft``: the post's length beyond its fixed part, as
    the platform counts the text exactly as sent; over budget when longer than ``cap``.
    A value, not a closure, so ``Summaries`` knows the same question when it recurs."""

    draft: _Draft
    fixed: int  # draft.measure(""): title, link and hashtags
    cap: int | None  # the channel's summary_chars

    def __call__(self, candidate: str) -> int:
        simple_cost = self._simple_cost
        if simple_cost is not None and len(candidate) <= _SIMPLE_MAX:
            found = simple_text(candidate)
            if found is not None:
                escapes, cost = simple_cost
                if not found[1] & escapes:
                    return cost(found[0])
        draft = self.draft
        plain = _plain_text(candidate, draft.profile.link_allowed)
        line = self._line_count
        if line is not None and plain:
            escaped = draft.profile.escape(plain)
            if _keeps_shape(escaped):  # what _Draft.measure does, in fewer steps
                return line.measure(f"\n{escaped}\n") - self.fixed
        if self.cap is not None and grapheme_count(plain) > self.cap:
            return draft.limit - self.fixed + 1  # just over the budget
        return draft.measure(plain) - self.fixed

    @functools.cached_property
    def _line_count(self) -> _LineFrame | None:
        """The draft's counted frame, when a summary on a line of its own is counted by
        adding up (asked for every candidate summary: the hot path of composing)."""
        return self.draft._line_frame if self.cap is None else None

    @functools.cached_property
    def _simple_cost(self) -> tuple[frozenset[str], Callable[[tuple[int, ...]], int]] | None:
        """For a simple candidate (``bot.compose.simple``) with none of the characters the
        platform escapes: the cost from the candidate's counts, when each count of the
        platform reads one of them (``SIMPLE_TEXT_FIELD``). Cleaning leaves such text as
        it is, and no link limit can be crossed by it."""
        line = self._line_count
        escaped = ESCAPED_CHARS.get(self.draft.profile.escape)
        if line is None or escaped is None:
            return None
        fields = tuple(SIMPLE_TEXT_FIELD.get(count, -1) for count in line.counts)
        if -1 in fields:
            return None
        if line.links is not None and line.max_links is not None and line.links > line.max_links:
            return None
        bases, combine, fixed = line.frame_counts, line.combine, self.fixed
        pairs = tuple(zip(bases, fields, strict=True))

        def cost(counts: tuple[int, ...]) -> int:  # "\n" + candidate + "\n" in the frame
            return int(combine(*(base + counts[field] + 2 for base, field in pairs))) - fixed

        return frozenset(escaped), cost


def _summary_in_context(
    draft: _Draft, article: Article, style: ChannelStyle, summaries: Summaries
) -> str:
    fixed = draft.measure("")
    budget = draft.limit - fixed
    if budget <= 0:
        return ""
    in_context = _InContext(draft, fixed, style.summary_chars)
    summary = draft.plain(summaries.summarise(article, budget=budget, measure=in_context))
    if summary and in_context(summary) > budget:  # a summariser that overshot
        summary = fit_text(summary, budget, in_context)
    return summary


def _thread_chunks(
    draft: _Draft, article: Article, summaries: Summaries, summary: str
) -> list[str]:
    """The summary split over up to MAX_THREAD_PARTS posts, or ``[summary]`` when one
    post holds all of it."""
    profile = draft.profile
    room = draft.limit * MAX_THREAD_PARTS
    full = draft.plain(summaries.summarise(article, budget=room, measure=profile.measure))
    if not full or full == summary:
        return [summary]
    first = fit_text(full, draft.limit, lambda s: draft.measure(s, _NUMBER_WIDTH))
    if not first:
        return [summary]
    chunks, rest = [first], _after(full, first)
    while rest and len(chunks) < MAX_THREAD_PARTS:
        piece = fit_text(
            rest, draft.limit, lambda s: profile.fit_measure(profile.escape(s) + _NUMBER_WIDTH)
        )
        if not piece:
            break
        chunks.append(piece)
        rest = _after(rest, piece)
    return chunks if len(chunks) > 1 else [summary]


def _joined(chunks: list[str]) -> str:
    """The summary as posted over all parts, without the '…' at each split."""
    inner = [c.removesuffix(ELLIPSIS).rstrip() for c in chunks[:-1]]
    return " ".join([*inner, chunks[-1]]).strip()


def _after(text: str, piece: str) -> str:
    """What is left of ``text`` once ``piece`` (a prefix, maybe ending in '…') is posted."""
    text = text.strip()
    body = piece.removesuffix(ELLIPSIS).rstrip()
    if piece == text or not text.startswith(body):
        return ""
    return text[len(body) :].lstrip(_SPLIT_LEAD)


def _parts(
    draft: _Draft, chunks: list[str], url: str, media: tuple[Media, ...]
) -> tuple[PostPart, ...]:
    profile = draft.profile
    link = url if profile.link_attachment and profile.link_allowed else None
    count = len(chunks)
    parts: list[PostPart] = []
    for number, chunk in enumerate(chunks, start=1):
        suffix = f"\n{number}/{count}" if count > 1 else ""
        if number == 1:
            text, spans = draft.render(chunk, suffix)
            facets = build_facets(text, spans, link_uri=url) if profile.facets else ()
            parts.append(PostPart(text=text, media=media, facets=facets, link=link))
        else:
            parts.append(PostPart(text=profile.escape(chunk) + suffix))
    return tuple(parts)


def _media(article: Article, style: ChannelStyle, profile: Profile) -> tuple[Media, ...]:
    """The article image with alt text (its own, else the title), when wanted and allowed."""
    image = article.image
    if image is None or not style.include_image or profile.max_images < 1:
        return ()
    alt = clean_inline(image.alt) or clean_inline(article.title) or "Article image"
    alt = fit_text(alt, profile.alt_limit, len) or alt[: profile.alt_limit]
    return (Media(url=image.url, alt=alt, mime=image.mime),)
