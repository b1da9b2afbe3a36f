"""Human output for the CLI: tables and readable posts. No logic, no I/O beyond the console."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.markup import escape as esc
from rich.table import Table

from bot.models import FeedState
from bot.protocols import DeliveryCounts
from bot.words import plural

if TYPE_CHECKING:  # ``syndbot status`` renders without loading the pipeline
    from rich.console import Console

    from bot.engine.budget import Budget
    from bot.models import Post
    from bot.pipeline import DeliveryReport, PollReport


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def post_block(post: Post) -> str:
    head = f"[bold]{post.platform}[/bold]" + (f" · {post.channel}" if post.channel else "")
    length = post.length
    lines = [f"{head}  ({length.value}/{length.limit} {length.unit})"]
    for i, part in enumerate(post.parts, start=1):
        if len(post.parts) > 1:
            lines.append(f"[dim]part {i}/{len(post.parts)}[/dim]")
        lines.append(esc(part.text))
        lines.extend(f"[dim]image: {esc(m.url)} (alt: {esc(m.alt)})[/dim]" for m in part.media)
    if post.image_missing:  # the service skips it: say so instead of showing it as postable
        lines.append(
            f"[yellow]would be skipped: {esc(post.platform)} needs an image and this article "
            "has none; give it a featured image (media:content, enclosure or og:image)[/yellow]"
        )
    return "\n".join(lines)


def print_posts(console: Console, posts: Sequence[Post]) -> None:
    current = None
    for post in posts:
        if post.item_id != current:
            current = post.item_id
            console.rule(f"{esc(post.title)}  [dim]{esc(post.article_url)}[/dim]")
        console.print(post_block(post), markup=True, highlight=False, soft_wrap=True)
        console.print()


POLL_ROWS = 40  # beyond this many feeds, the poll table lists only those worth a look


def poll_table(reports: Sequence[PollReport], *, max_rows: int = POLL_ROWS) -> Table:
    """One row per feed; for many feeds, only feeds with news, warnings or errors (errors
    first, at most ``max_rows``) and a caption counting them all."""
    shown = list(reports)
    caption = None
    if len(reports) > max_rows:
        notable = [r for r in reports if r.error or r.new or r.queued or r.edited or r.warnings]
        notable.sort(key=lambda r: not r.error)  # stable: errors first, then feed order
        shown = notable[:max_rows]
        caption = _poll_summary(reports, hidden=len(reports) - len(shown))
    table = Table(title="Poll", caption=caption)
    for col in ("feed", "new", "queued", "edited", "result"):
        table.add_column(col)
    for r in shown:
        if r.error:
            result = f"[red]{'backing off: ' if r.skipped else ''}{esc(r.error)}[/red]"
        elif r.not_modified:
            result = "not modified (304)"
        else:
            result = "ok" + (f" ({plural(len(r.warnings), 'warning')})" if r.warnings else "")
        table.add_row(esc(r.feed), str(r.new), str(r.queued), str(r.edited), result)
    return table


def _poll_summary(reports: Sequence[PollReport], *, hidden: int) -> str:
    """'10,000 feeds: 9,990 not modified, 7 ok, 3 failed; 12 new, 24 queued (9,990 rows
    not shown)'."""
    failed = sum(1 for r in reports if r.error)
    unchanged = sum(1 for r in reports if r.not_modified and not r.error)
    parts = [f"{unchanged:,} not modified", f"{len(reports) - failed - unchanged:,} ok"]
    parts.append(f"{failed:,} failed")
    new = sum(r.new for r in reports)
    queued = sum(r.queued for r in reports)
    return (
        f"{len(reports):,} feeds: {', '.join(parts)}; {new:,} new, {queued:,} queued "
        f"({hidden:,} unremarkable rows not shown)"
    )


def delivery_table(reports: Sequence[DeliveryReport]) -> Table:
    table = Table(title="Deliveries")
    for col in ("channel", "item", "outcome", "detail"):
        table.add_column(col, overflow="fold")
    colours = {"sent": "green", "retry": "yellow", "paused": "yellow", "taken": "dim"}
    colours["held"] = "cyan"
    for r in reports:
        colour = colours.get(r.outcome, "red")
        outcome = f"[{colour}]{r.outcome}[/{colour}]"
        table.add_row(esc(r.channel), esc(r.item_id), outcome, esc(r.detail))
    return table


def feeds_table(states: Sequence[FeedState], urls: dict[str, str], now: datetime) -> Table:
    table = Table(title="Feeds")
    for col in ("feed", "url", "last poll", "last success", "errors", "last error"):
        table.add_column(col, overflow="fold")
    by_name = {s.feed: s for s in states}
    for name, url in urls.items():
        s = by_name.get(name, FeedState(feed=name))
        errors = f"[red]{s.consecutive_errors}[/red]" if s.consecutive_errors else "0"
        table.add_row(
            esc(name),
            esc(url),
            ago(s.last_poll, now),
            ago(s.last_success, now),
            errors,
            esc(s.last_error or ""),
        )
    return table


def channels_table(
    counts: Sequence[DeliveryCounts],
    channels: dict[str, str],
    paused: dict[str, str | None],
    budgets: dict[str, str] | None = None,
) -> Table:
    table = Table(title="Channels")
    columns = ("channel", "platform", "pending", "sending", "sent", "failed", "skipped")
    for col in (*columns, "budget", "state"):
        table.add_column(col, overflow="fold")
    by_name = {c.channel: c for c in counts}
    for name in sorted(set(channels) | set(by_name)):
        c = by_name.get(name, DeliveryCounts(channel=name))
        platform = channels.get(name, "[dim](not in config)[/dim]")
        reason = paused.get(name)
        state = f"[red]paused: {esc(reason)}[/red]" if reason else "active"
        table.add_row(
            name,
            platform,
            str(c.pending),
            str(c.sending),
            str(c.sent),
            f"[red]{c.failed}[/red]" if c.failed else "0",
            str(c.skipped),
            (budgets or {}).get(name, ""),
            state,
        )
    return table


def budget_cell(
    budget: Budget, *, hour: int, day: int, next_at: datetime | None, now: datetime
) -> str:
    """'3/10 per hour · 12/50 per day · next post in 14m' (only the parts that apply)."""
    parts = []
    if budget.per_hour:
        parts.append(f"{hour}/{budget.per_hour} per hour")
    if budget.per_day:
        parts.append(f"{day}/{budget.per_day} per day")
    if next_at is not None:
        wait = int((next_at - now).total_seconds())
        parts.append(f"[yellow]next post in {wait // 60}m{wait % 60:02d}s[/yellow]")
    return " · ".join(parts) or "unlimited"
