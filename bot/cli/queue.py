"""``syndbot queue``: what waits per channel, and approve / skip / edit. A thin layer over
``bot.engine.queue``, which a web page calls the same way."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from bot.cli._common import Ctx, console, errors, load, setup_logging

if TYPE_CHECKING:  # ``syndbot --help`` loads this module: rich, config and store wait
    from bot.config import Config
    from bot.models import Length
    from bot.store.ledger import LedgerStore


def _when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "when approved"
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"


def _length(length: Length | None) -> str:
    return (
        "composed when sent" if length is None else f"{length.value}/{length.limit} {length.unit}"
    )


@contextmanager
def _store(ctx: Ctx, *, read_only: bool = False) -> Iterator[tuple[Config, LedgerStore]]:
    """The config and the store; reading (``read_only``) needs no channel's secrets."""
    with errors():
        config = load(ctx, defer_missing_credentials=read_only)
        from bot.store import open_store

        with open_store(config.service.database, read_only=read_only) as store:
            yield config, store


@click.group(invoke_without_command=True)
@click.option("--channel", default=None, help="Only this channel.")
@click.pass_context
def queue(click_ctx: click.Context, channel: str | None) -> None:
    """List the posts waiting per channel: due time, review state, length used / limit.

    States: held (goes when its veto window ends unless skipped), awaiting (needs
    `queue approve`), approved, waiting (an approval = "auto" channel). Recently skipped
    posts are listed with their reason.

    \b
    Examples:
      syndbot queue
      syndbot queue --channel x-en
      syndbot queue approve 12 13
      syndbot queue edit 12 --text "Shorter headline https://site.example/a/"
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Ctx = click_ctx.obj
    setup_logging(ctx.verbose, service=False)
    from rich.markup import escape
    from rich.table import Table

    from bot.engine.queue import list_queue

    out = console()
    with _store(ctx, read_only=True) as (config, store):
        if channel is not None:
            config.channel(channel)
        queues = list_queue(store, config, datetime.now(UTC), channel=channel)
    idle = [chan for chan in queues if not chan.entries and not chan.skipped]
    for chan in queues:
        if chan in idle:
            continue  # listed on one line below, not as an empty table each
        zone = config.channel(chan.channel).timezone
        table = Table(title=f"{chan.channel} (approval {chan.approval})", title_justify="left")
        for col in ("id", "item", "title", "state", "due", "length"):
            table.add_column(col, overflow="fold")
        for entry in chan.entries:
            d = entry.delivery
            table.add_row(
                str(d.id),
                escape(d.item_id),
                escape(d.article.title),
                entry.state,
                _when(entry.due, zone),
                _length(entry.length),
            )
        if not chan.entries:
            table.add_row("", "", "nothing waits", "", "", "")
        out.print(table)
        for d in chan.skipped:
            out.print(f"  skipped {d.id} {escape(d.item_id)}: {escape(d.last_error or '')}")
    if idle:
        names = ", ".join(f"{chan.channel} ({chan.approval})" for chan in idle)
        out.print(escape(f"Nothing waits on {names}."))


@queue.command()
@click.argument("delivery_id", type=int)
@click.pass_obj
def show(ctx: Ctx, delivery_id: int) -> None:
    """Show one waiting post: its text as it will be sent, length, media, state and due time.

    \b
    Example:
      syndbot queue show 12
    """
    setup_logging(ctx.verbose, service=False)
    from bot.engine.queue import show as show_entry

    with _store(ctx, read_only=True) as (config, store):
        entry = show_entry(store, config, delivery_id, datetime.now(UTC))
        zones = {c.name: c.timezone for c in config.channels}
        zone = zones.get(entry.delivery.channel, config.service.timezone)
    d = entry.delivery
    lines = [
        f"{d.id} {d.channel} {d.feed}/{d.item_id}: {d.article.title}",
        f"state {entry.state}, due {_when(entry.due, zone)}, length {_length(entry.length)}",
    ]
    if entry.post is not None:
        for number, part in enumerate(entry.post.parts, start=1):
            if len(entry.post.parts) > 1:
                lines.append(f"--- part {number}")
            lines.append(part.text)
            lines += [f"[image {m.url} alt: {m.alt}]" for m in part.media]
    click.echo("\n".join(lines))


@queue.command()
@click.argument("delivery_ids", type=int, nargs=-1, required=True)
@click.pass_obj
def approve(ctx: Ctx, delivery_ids: Sequence[int]) -> None:
    """Approve held or awaiting posts: each goes at its channel's next free time.

    \b
    Example:
      syndbot queue approve 12 13
    """
    setup_logging(ctx.verbose, service=False)
    from bot.engine.queue import QueueError
    from bot.engine.queue import approve as approve_one

    failed = False
    with _store(ctx) as (_config, store):
        for delivery_id in delivery_ids:
            try:
                d = approve_one(store, delivery_id, datetime.now(UTC))
            except QueueError as exc:
                click.echo(f"error: {exc}", err=True)
                failed = True
                continue
            click.echo(f"approved {d.id} ({d.channel}): {d.article.title}")
    if failed:
        sys.exit(1)


@queue.command()
@click.argument("delivery_id", type=int)
@click.option("--reason", default="", help="Why; kept with the delivery and shown by status.")
@click.pass_obj
def skip(ctx: Ctx, delivery_id: int, reason: str) -> None:
    """Never send this waiting post; it is recorded as skipped with the reason.

    \b
    Example:
      syndbot queue skip 12 --reason "wrong photo"
    """
    setup_logging(ctx.verbose, service=False)
    from bot.engine.queue import skip as skip_one

    with _store(ctx) as (_config, store):
        d = skip_one(store, delivery_id, datetime.now(UTC), reason=reason)
    click.echo(f"skipped {d.id} ({d.channel}): {d.article.title}")


@queue.command()
@click.argument("delivery_id", type=int)
@click.option("--text", default=None, help="The new text (default: open $EDITOR).")
@click.pass_obj
def edit(ctx: Ctx, delivery_id: int, text: str | None) -> None:
    """Edit a held or awaiting post's text; an edit approves it.

    The text is counted the platform's way and refused, with the count and the limit, when
    too long; Bluesky links and hashtags are rebuilt from the new text. In $EDITOR the parts
    of a thread are separated by lines of ---.

    \b
    Examples:
      syndbot queue edit 12
      syndbot queue edit 12 --text "Battery prices fall 20% https://site.example/a/ #EV"
    """
    setup_logging(ctx.verbose, service=False)
    from bot.compose.edit import editable_text
    from bot.engine.queue import edit as edit_one
    from bot.engine.queue import show as show_entry

    with _store(ctx) as (config, store):
        if text is None:
            entry = show_entry(store, config, delivery_id, datetime.now(UTC))
            if entry.post is None:
                text = ""  # edit_one explains why there is nothing to edit
            else:
                text = click.edit(editable_text(entry.post), extension=".txt")
                if text is None:
                    click.echo("no change; the post was not approved")
                    return
        post = edit_one(store, delivery_id, text, datetime.now(UTC))
    length = post.length
    click.echo(f"edited and approved {delivery_id}: {length.value}/{length.limit} {length.unit}")


def register(group: click.Group) -> None:
    group.add_command(queue)
