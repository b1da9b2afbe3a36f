"""A post being fitted, and the room a summary takes in it, counted the platform's way.

``_Draft`` is everything of a post but its summary; ``_InContext`` is the measure compose
hands the summariser: a candidate summary's cost in the draft, counted on the text exactly
as sent. Counting candidates is most of what composing costs, so both take shortcuts, each
checked against rendering and counting in tests/test_compose_fast_measure.py and
tests/test_fast_paths.py: the frame around the summary is counted once, and a simple
candidate sentence is counted once for every platform (``bot.compose.simple``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from bot.compose.counting import LINE_FRAME_CHECKS, LINE_PARTS, SIMPLE_TEXT_FIELD, same_total
from bot.compose.facets import Span, strip_marks
from bot.compose.links import drop_urls
from bot.compose.profiles import BROKEN, ESCAPED_CHARS, Profile
from bot.compose.simple import simple_text
from bot.compose.template import clean_block, render
from bot.compose.xlength import extract_urls
from bot.textfit import grapheme_count


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
        escape = self.profile.escape
        escaped = escape(summary)
        marked = None if suffix else self._marked_frame
        if marked is not None and _escaped_keeps_shape(escape, summary, escaped):
            # The frame around the summary, as _Draft.measure counts it: the spans after
            # the summary move by its length (the slot stood for it as one character).
            before, after, spans = marked
            shift, slot = len(escaped) - 1, len(before)
            moved = [
                span if span.start < slot else Span(span.kind, span.start + shift, span.end + shift)
                for span in spans
            ]
            return before + escaped + after, moved
        return self._render(escaped, suffix)

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
        if frame is not None and _escaped_keeps_shape(self.profile.escape, summary, escaped):
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
        check = LINE_FRAME_CHECKS.get(profile.measure)
        if check is not None and not check(before, profile.escape):
            return None
        counts, combine = parts
        links = None if profile.max_links is None else len(extract_urls(before + after))
        frame_counts = tuple(count(before + after) - count("\n\n") for count in counts)
        return _LineFrame(frame_counts, counts, combine, links, profile.max_links)

    @functools.cached_property
    def _frame(self) -> tuple[str, str] | None:
        """The rendered post around its summary: (before, after); None when the template
        has no single {summary}."""
        marked = self._marked_frame
        return None if marked is None else marked[:2]

    @functools.cached_property
    def _marked_frame(self) -> tuple[str, str, list[Span]] | None:
        """``_frame`` with the marked spans (link, tags) of the post with ``_SLOT``."""
        text, spans = self._render(_SLOT)
        if text.count(_SLOT) != 1:
            return None
        before, _, after = text.partition(_SLOT)
        return before, after, spans

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
    # Cached: every platform asks for the same candidate summaries of an article. Without
    # links, the cleaned text (remembered for the platforms with them) less its links.
    return clean_block(text) if link_allowed else drop_urls(_plain_text(text, True))


# Candidates up to about a sentence long try the simple-text shortcut: every platform asks
# about the same sentences, so the check is made once and pays ten times. A longer one is
# sentences joined for one platform's budget; checking it costs more than it saves
# (callgrind over the bench articles: 80.0 million instructions per article with this
# limit, 85.8 without).
_SIMPLE_MAX = 400

_SLOT = "\x00"  # stands for the summary in ``_Draft._frame``; article text never has it


def _escaped_keeps_shape(escape: Callable[[str], str], text: str, escaped: str) -> bool:
    """``_keeps_shape(escaped)``, where ``escaped`` is ``escape(text)``: for the known
    escapes (``ESCAPED_CHARS``) the answer for ``text`` itself, remembered, as every
    platform asks it of the same candidate. They only put printable non-space characters
    before or in place of printable non-space ones, so they neither make nor mend a
    non-printable character, a double space or a space at either end."""
    if escape in ESCAPED_CHARS:
        return _plain_keeps_shape(text)
    return _keeps_shape(escaped)


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


# Remembered: each candidate is asked on every platform (tests/test_fast_paths.py checks
# _escaped_keeps_shape against _keeps_shape of the escaped text).
_plain_keeps_shape = functools.lru_cache(maxsize=4096)(_keeps_shape)


@dataclasses.dataclass(frozen=True)
class _InContext:
    """The room a summary takes in ``draft``: the post's length beyond its fixed part, as
    the platform counts the text exactly as sent; over budget when longer than ``cap``.
    A value, not a closure, so ``Summaries`` knows the same question when it recurs."""

    draft: _Draft
    fixed: int  # draft.measure(""): title, link and hashtags
    cap: int | None  # the channel's summary_chars
    # Answers given, by candidate: compose asks again about the summary it was given.
    _answers: dict[str, int] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __call__(self, candidate: str) -> int:
        answers = self._answers
        found = answers.get(candidate)
        if found is None:
            found = answers[candidate] = self._cost(candidate)
        return found

    def post_length(self, summary: str) -> int | None:
        """``profile.fit_measure`` of the post with ``summary`` (plain, as ``draft.plain``
        gives it) when it was asked before and its answer was the post's length, else None."""
        if self.cap is not None or _plain_text(summary, self.draft.profile.link_allowed) != summary:
            return None  # capped answers are not lengths; a summary measured as another text
        found = self._answers.get(summary)
        return None if found is None else found + self.fixed

    def _cost(self, candidate: str) -> int:
        simple_cost = self._simple_cost
        if simple_cost is not None and len(candidate) <= _SIMPLE_MAX:
            found = simple_text(candidate)
            if found is not None:
                escapes, cost = simple_cost
                if escapes.isdisjoint(found[1]):
                    return cost(found[0])
        draft = self.draft
        plain = _plain_text(candidate, draft.profile.link_allowed)
        line = self._line_count
        if line is not None and plain:
            escape = draft.profile.escape
            escaped = escape(plain)
            if _escaped_keeps_shape(escape, plain, escaped):  # _Draft.measure, in fewer steps
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
        if combine is same_total:  # one count (all but Bluesky): no combining
            base, field = pairs[0]
            start = base + 2 - fixed

            def one(counts: tuple[int, ...]) -> int:
                return start + counts[field]

            return frozenset(escaped), one

        def cost(counts: tuple[int, ...]) -> int:  # "\n" + candidate + "\n" in the frame
            return int(combine(*(base + counts[field] + 2 for base, field in pairs))) - fixed

        return frozenset(escaped), cost
