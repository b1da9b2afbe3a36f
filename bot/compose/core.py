"""The compose pipeline itself (``bot.compose.compose``): template, fixed part, summary in
context, thread parts and media. Imported on first use through ``bot.compose``."""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime

from bot.compose.draft import _Draft, _InContext, _plain
from bot.compose.facets import build_facets
from bot.compose.hashtags import make_hashtags
from bot.compose.links import add_utm, ascii_url
from bot.compose.profiles import BROKEN, Profile, profile_for
from bot.compose.summaries import Summaries
from bot.compose.template import check_template, clean_block, clean_inline
from bot.models import Article, ChannelStyle, Length, Limits, Media, Post, PostPart
from bot.protocols import Summariser
from bot.textfit import ELLIPSIS, fit_text, grapheme_count, unspaced

MAX_THREAD_PARTS = 4  # keeps "i/n" three characters wide, and threads readable
DESCRIPTION_GRAPHEMES = 300  # link-card description (Bluesky external embed, LinkedIn)
_NUMBER_WIDTH = "\n0/0"  # stands in for "\n1/3" while fitting: same length in every count
_SPLIT_LEAD = " \t\n,;:"
# A summary cut to fit ("…") shorter than this says nothing ("सरकार ने…"): left out instead.
# Graphemes, not characters: a Devanagari grapheme is a syllable ("टाटा मोटर्स ने" is 8).
MIN_CUT_WORDS = 3
MIN_CUT_GRAPHEMES = 15


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
    summary, draft, in_context = _fit_summary(draft, article, style, summaries)
    chunks = [summary]
    if style.thread and profile.supports_thread:
        chunks = _thread_chunks(draft, article, summaries, summary)
    parts = _parts(draft, chunks, url, media)
    description = _clean_description(
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
        length=Length(profile.unit, _length(parts, profile, summary, in_context), draft.limit),
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
) -> tuple[str, _Draft, _InContext | None]:
    """The best summary for the room left; hashtags are dropped one by one when keeping
    them would leave no summary at all (and the article has one to give). With them the
    draft, and the measure the summary was fitted with (None when there was no room).
    When even without hashtags no summary fits (or only a stub would, ``_is_stub``), the
    hashtags stay: dropping them gained nothing."""
    has_summary: bool | None = None
    first = draft
    while True:
        summary, in_context = _summary_in_context(draft, article, style, summaries)
        if summary or not draft.tags:
            break
        if has_summary is None:
            probe = summaries.summarise(article, budget=draft.limit, measure=draft.profile.measure)
            has_summary = bool(draft.plain(probe))
        if not has_summary:
            break
        draft = dataclasses.replace(draft, tags=draft.tags[:-1])
    if not summary and draft is not first:
        return "", first, None
    return summary, draft, in_context


def _summary_in_context(
    draft: _Draft, article: Article, style: ChannelStyle, summaries: Summaries
) -> tuple[str, _InContext | None]:
    fixed = draft.measure("")
    budget = draft.limit - fixed
    if budget <= 0:
        return "", None
    in_context = _InContext(draft, fixed, style.summary_chars)
    summary = draft.plain(summaries.summarise(article, budget=budget, measure=in_context))
    if summary and in_context(summary) > budget:  # a summariser that overshot
        summary = fit_text(summary, budget, in_context)
    if summary and _is_stub(summary) and summary != _uncut(draft, article, summaries):
        return "", in_context
    return summary, in_context


def _is_stub(summary: str) -> bool:
    """A fragment cut with "…" too short to say anything: fewer than MIN_CUT_WORDS words
    or MIN_CUT_GRAPHEMES graphemes before the "…". Text in a script written without spaces
    (one "word" however long) is judged by its graphemes alone."""
    if not summary.endswith(ELLIPSIS):
        return False
    body = summary.removesuffix(ELLIPSIS).strip()
    if grapheme_count(body) < MIN_CUT_GRAPHEMES:
        return True
    return len(body.split()) < MIN_CUT_WORDS and not unspaced(body)


def _uncut(draft: _Draft, article: Article, summaries: Summaries) -> str:
    """The article's summary with the whole post's room: a text ending in "…" that is the
    same there was not cut to fit (the feed's own "Read more…"), and is kept."""
    return draft.plain(
        summaries.summarise(article, budget=draft.limit, measure=draft.profile.measure)
    )


def _length(
    parts: tuple[PostPart, ...], profile: Profile, summary: str, in_context: _InContext | None
) -> int:
    """The longest part's length, as the platform counts it. A one-part post's length is
    known already when its summary was measured in context (the summary's last check):
    ``fit_measure`` of the post, which is ``measure`` unless a rule broke (``BROKEN``)."""
    if len(parts) == 1 and summary and in_context is not None:
        known = in_context.post_length(summary)
        if known is not None and known < BROKEN:
            return known
    return max(profile.measure(p.text) for p in parts)


def _thread_chunks(
    draft: _Draft, article: Article, summaries: Summaries, summary: str
) -> list[str]:
    """The summary split over up to MAX_THREAD_PARTS posts, or ``[summary]`` when one
    post holds all of it. When the first post has room only for a stub, its chunk is ""
    and the text starts in the second."""
    profile = draft.profile
    room = draft.limit * MAX_THREAD_PARTS
    full = draft.plain(summaries.summarise(article, budget=room, measure=profile.measure))
    if not full or full == summary:
        return [summary]
    first = fit_text(full, draft.limit, lambda s: draft.measure(s, _NUMBER_WIDTH))
    if not first:
        return [summary]
    if _is_stub(first):  # no opening on a stub ("सरकार ने…\n1/3"): the text starts in part 2
        first = ""
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


# The same description for every platform: cleaned once (an Indic text's NFC check is most
# of what cleaning clean text costs).
_clean_description = functools.lru_cache(maxsize=64)(clean_block)


def _media(article: Article, style: ChannelStyle, profile: Profile) -> tuple[Media, ...]:
    """The article image with alt text (its own, else the title), when wanted and allowed."""
    image = article.image
    if image is None or not style.include_image or profile.max_images < 1:
        return ()
    alt = clean_inline(image.alt) or clean_inline(article.title) or "Article image"
    alt = fit_text(alt, profile.alt_limit, len) or alt[: profile.alt_limit]
    return (Media(url=image.url, alt=alt, mime=image.mime),)
