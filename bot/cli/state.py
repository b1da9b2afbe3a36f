"""Commands about stored state: ``status`` and ``retry``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.cli._common import Ctx, console, errors, load, no_database_yet, setup_logging
from bot.durations import format_duration
from bot.status import DEFAULT_LIMIT
from bot.words import plural

if TYPE_CHECKING:  # rich, the config and the store load only when a command runs
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

    from bot.config import Config
    from bot.status import Section, StatusReport


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document (feeds, channels, budgets, waiting/failed deliveries).",
)
@click.option("--channel", default=None, help="Only this channel (its feeds and deliveries).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="Newest failed, skipped and waiting deliveries listed per section.",
)
@click.pass_obj
def status(ctx: Ctx, fmt: str, channel: str | None, limit: int) -> None:
    """Show feeds, channels, and failed, skipped and waiting deliveries with their reasons.

    \b
    Example:
      syndbot -c config/example-site.toml status
      syndbot status --channel x-en --limit 50
      syndbot status --format json | jq '.deliveries[] | select(.status == "failed")'
    """
    setup_logging(ctx.verbose, service=False)
    from bot.status import gather_status
    from bot.store import open_store

    with errors():
        config = load(ctx, defer_missing_credentials=True)  # reads state only
        if channel is not None:
            config.channel(channel)  # unknown name -> ConfigError listing the real ones
        database = config.service.database
        if no_database_yet(config):  # stderr: JSON stays clean
            click.echo(
                f"note: {database} does not exist yet: nothing was polled with this config "
                "(`syndbot poll` or `syndbot run` creates it); check service.database if "
                "the service has run",
                err=True,
            )
        # Read-only: works beside the service and on a read-only file or mount.
        with open_store(config.service.database, read_only=True) as store:
            if fmt == "json":
                from bot.cli.status_json import status_document

                document = status_document(config, store, datetime.now(UTC))
                if config.service.fleet:
                    document["leases"] = _leases(config)
                if channel is not None:
                    document["channels"] = [c for c in document["channels"] if c["name"] == channel]
                    document["deliveries"] = [
                        d for d in document["deliveries"] if d["channel"] == channel
                    ]
                click.echo(json.dumps(document, ensure_ascii=False, indent=2))
                return
            report = gather_status(config, store, datetime.now(UTC), channel=channel, limit=limit)
        leases = _leases(config) if config.service.fleet else None
    out = console()
    for renderable in render_status(report):
        out.print(renderable)
    if leases is not None:
        out.print("Leases (service.fleet): which instance polls each feed, delivers each channel")
        for key, holder in leases.items():
            out.print(f"  {key}: {holder or 'nobody (no instance running)'}", markup=False)


def _leases(config: Config) -> dict[str, str | None]:
    from bot.fleet import lease_holders, lease_keys
    from bot.store.url import DatabaseURL

    assert isinstance(config.service.database, DatabaseURL)  # fleet needs one (config)
    return lease_holders(config.service.database, lease_keys(config))


def render_status(report: StatusReport) -> list[RenderableType]:
    """The report as tables; sections with nothing in them are left out."""
    from rich.text import Text

    from bot.engine.budget import Budget
    from bot.render import budget_cell, channels_table, feeds_table

    now = report.now
    states = [f.state for f in report.feeds]
    out: list[RenderableType] = [feeds_table(states, {f.name: f.url for f in report.feeds}, now)]
    platforms = {c.name: c.platform for c in report.channels if c.platform is not None}
    budgets = {
        c.name: budget_cell(
            Budget(per_hour=c.budget.per_hour, per_day=c.budget.per_day),
            hour=c.budget.hour,
            day=c.budget.day,
            next_at=c.budget.next_at,
            now=now,
        )
        for c in report.channels
        if c.budget is not None
    }
    paused = {c.name: c.paused for c in report.channels}
    out.append(channels_table([c.counts for c in report.channels], platforms, paused, budgets))
    retry = "syndbot retry" + (f" --channel {report.channel}" if report.channel else "")
    sections = (
        ("Failed deliveries", report.failed, f"`{retry}` queues them again"),
        ("Skipped deliveries", report.skipped, "this channel cannot take these articles"),
        ("Waiting deliveries", report.waiting, "they go out when due"),
    )
    for title, section, note in sections:
        if section.total:
            out.append(_deliveries_table(title, section, now))
            out.append(_section_note(section, note))
    if not (report.failed.total or report.skipped.total or report.waiting.total):
        out.append(Text("No failed, skipped or waiting deliveries."))
    return out


# The columns each kind of delivery shows (a skipped one has no attempts or next try).
_COLUMNS = {
    "failed": ("channel", "item", "attempts", "when", "reason"),
    "skipped": ("channel", "item", "when", "reason"),
    "waiting": ("channel", "item", "attempts", "next try", "last error"),
}


def _deliveries_table(title: str, section: Section, now: datetime) -> Table:
    from rich.table import Table
    from rich.text import Text

    from bot.render import ago

    kind = section.rows[0].status if section.rows else "failed"
    table = Table(title=f"{title} ({section.total})")
    for col in _COLUMNS[kind]:
        table.add_column(col, overflow="fold")
    for row in section.rows:
        nxt = "now" if row.next_attempt is not None else "when approved (syndbot queue)"
        if row.next_attempt is not None and row.next_attempt > now:
            nxt = "in " + format_duration(int((row.next_attempt - now).total_seconds()))
        # Text, not markup: reasons quote server answers such as "[fbtrace_id ...]".
        cells = {
            "channel": Text(row.channel),
            "item": Text(row.title),
            "attempts": Text(str(row.attempts)),
            "when": Text(ago(row.updated, now)),
            "next try": Text(nxt),
            "reason": Text(row.reason, style="red" if kind == "failed" else ""),
            "last error": Text(row.reason),
        }
        table.add_row(*(cells[col] for col in _COLUMNS[kind]))
    return table


def _section_note(section: Section, note: str) -> Text:
    from rich.text import Text

    text = note[0].upper() + note[1:] + "."
    if section.hidden:
        text += (
            f" {plural(section.hidden, 'older one')} not shown; "
            f"use --limit {section.total} to list all."
        )
    return Text(text, style="dim")


@click.command()
@click.option("--channel", default=None, help="Only this channel.")
@click.pass_obj
def retry(ctx: Ctx, channel: str | None) -> None:
    """Queue failed deliveries again (and resume a channel paused for credentials).

    \b
    Example:
      syndbot retry --channel x-en
    """
    setup_logging(ctx.verbose, service=False)
    from bot.store import open_store

    with errors():
        config = load(ctx)
        if channel is not None:
            config.channel(channel)  # unknown name -> clear error
        now = datetime.now(UTC)
        database = config.service.database
        if no_database_yet(config):
            # Nothing was ever delivered here; opening it would only create an empty file.
            console().print(
                f"Nothing to retry: {database} does not exist yet (`syndbot poll` or "
                "`syndbot run` creates it); check service.database if the service has run."
            )
            return
        with open_store(database) as store:
            names = [channel] if channel else [c.name for c in config.channels]
            resumed = [n for n in names if store.channel_paused(n)]
            for name in resumed:
                store.resume_channel(name)
            count = store.retry_failed(channel=channel, now=now)
        console().print(
            f"Re-queued {plural(count, 'failed delivery', 'failed deliveries')}"
            + (f"; resumed {', '.join(resumed)}" if resumed else "")
            + "."
        )
        console().print(
            "They go out at the next delivery run (`syndbot poll` or the running service)."
        )


def register(group: click.Group) -> None:
    for command in (status, retry):
        group.add_command(command)
