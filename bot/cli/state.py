"""Commands about stored state: ``status`` and ``retry``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.cli._common import Ctx, console, errors, load, setup_logging
from bot.config import ChannelConfig
from bot.protocols import Store


@click.command()
@click.pass_obj
def status(ctx: Ctx) -> None:
    """Show each feed's last poll and errors, and each channel's deliveries.

    \b
    Example:
      syndbot -c config/example-site.toml status
    """
    setup_logging(ctx.verbose, service=False)
    from bot.render import channels_table, feeds_table, problems_table
    from bot.store import SQLiteStore

    with errors():
        config = load(ctx)
        now = datetime.now(UTC)
        # Read-only: works beside the service and on a read-only file or mount.
        with SQLiteStore.open(config.service.database, read_only=True) as store:
            urls = {f.name: f.url for f in config.feeds}
            console().print(feeds_table(store.feed_states(), urls, now))
            platforms = {c.name: c.platform for c in config.channels}
            paused = {name: store.channel_paused(name) for name in platforms}
            budgets = {c.name: _budget(store, c, now) for c in config.channels}
            console().print(channels_table(store.delivery_counts(), platforms, paused, budgets))
            waiting = [
                d for d in store.deliveries(status="pending") if d.attempts > 0
            ] + store.deliveries(status="failed")
            if waiting:
                console().print(problems_table(waiting, now))


def _budget(store: Store, channel: ChannelConfig, now: datetime) -> str:
    from bot.budget import Budget, budget_status
    from bot.render import budget_cell

    budget = Budget.for_channel(channel)
    sent = store.sent_times(channel.name, since=now - budget.lookback)
    hour, day, next_at = budget_status(budget, sent, now)
    return budget_cell(budget, hour=hour, day=day, next_at=next_at, now=now)


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
    from bot.store import SQLiteStore

    with errors():
        config = load(ctx)
        if channel is not None:
            config.channel(channel)  # unknown name -> clear error
        now = datetime.now(UTC)
        with SQLiteStore.open(config.service.database) as store:
            names = [channel] if channel else [c.name for c in config.channels]
            resumed = [n for n in names if store.channel_paused(n)]
            for name in resumed:
                store.resume_channel(name)
            count = store.retry_failed(channel=channel, now=now)
        console().print(
            f"Re-queued {count} failed deliveries"
            + (f"; resumed {', '.join(resumed)}" if resumed else "")
            + "."
        )
        console().print(
            "They go out at the next delivery run (`syndbot poll` or the running service)."
        )


def register(group: click.Group) -> None:
    for command in (status, retry):
        group.add_command(command)
