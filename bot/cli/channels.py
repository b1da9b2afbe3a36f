"""``syndbot channels check``: prove each channel's credentials work, posting nothing.

Each publisher's ``check()`` makes one cheap read call (X ``GET /2/users/me``, Facebook
``GET /me``, Instagram ``GET /{ig-user-id}?fields=username``; the outbox checks its
directory). A failing channel is reported and the others are still checked.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import click
import httpx
from rich.table import Table
from rich.text import Text

from bot.cli._common import Ctx, console, errors, load, setup_logging
from bot.config import ChannelConfig, Config
from bot.errors import SyndbotError
from bot.publishers import MemoryState, PublisherContext, build_publisher


@dataclass(frozen=True)
class CheckResult:
    """One channel's verdict: the account it posts as, or what is wrong."""

    channel: str
    platform: str
    account: str = ""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_channels(
    config: Config, channels: Sequence[ChannelConfig], *, http: httpx.Client
) -> list[CheckResult]:
    """Build each channel's publisher and call its ``check()``; never raises for a channel."""
    service = config.service
    # Checks only read, so state goes to memory: the database is neither created nor touched.
    ctx = PublisherContext(
        http=http,
        state=MemoryState(),
        allow_private_media=service.allow_private_addresses,
        user_agent=service.user_agent,
    )
    return [_check_one(channel, ctx) for channel in channels]


def _check_one(channel: ChannelConfig, ctx: PublisherContext) -> CheckResult:
    name, platform = channel.name, channel.platform
    try:
        account = build_publisher(channel, ctx).check()
    except SyndbotError as exc:  # PublishError from the call, ConfigError from building
        return CheckResult(name, platform, problem=_scrub(str(exc), channel))
    except Exception as exc:  # a publisher bug must not hide the other channels' results
        problem = f"unexpected {type(exc).__name__}: {exc}"
        return CheckResult(name, platform, problem=_scrub(problem, channel))
    return CheckResult(name, platform, account=account)


def _scrub(text: str, channel: ChannelConfig) -> str:
    """Publishers keep secrets out of messages; this makes sure the terminal never sees one."""
    for secret in channel.credentials.values():
        value = secret.get()
        if value:
            text = text.replace(value, "***")
    return text


def results_table(results: Sequence[CheckResult]) -> Table:
    table = Table(title="Channel check")
    for column in ("channel", "platform", "account", "result"):
        table.add_column(column, overflow="fold")
    for r in results:
        # Text, not markup: problems quote server answers such as "[fbtrace_id ...]".
        verdict = Text("OK", style="green") if r.ok else Text(r.problem or "", style="red")
        table.add_row(Text(r.channel), Text(r.platform), Text(r.account), verdict)
    return table


@click.group()
def channels() -> None:
    """Commands about the configured channels.

    \b
    Example:
      syndbot -c config/example-site.toml channels check
    """


@channels.command()
@click.option(
    "--channel", "names", multiple=True, help="Only this channel (repeatable). Default: all."
)
@click.pass_obj
def check(ctx: Ctx, names: Sequence[str]) -> None:
    """Verify each channel's credentials with one read call; posts nothing.

    Prints the account each channel posts as, or the exact problem (expired token,
    missing permission, unreachable API). Exits with 1 when any channel failed.

    \b
    Example:
      syndbot -c config/example-site.toml channels check
      syndbot channels check --channel x-en --channel facebook-en
    """
    setup_logging(ctx.verbose, service=False)
    with errors():
        config = load(ctx)
        targets = [config.channel(n) for n in names] if names else list(config.channels)
        service = config.service
        with httpx.Client(
            timeout=service.timeout,
            headers={"User-Agent": service.user_agent},
            follow_redirects=False,
        ) as http:
            results = check_channels(config, targets, http=http)
    console().print(results_table(results))
    if not all(r.ok for r in results):
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(channels)
