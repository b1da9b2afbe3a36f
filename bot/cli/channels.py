"""``syndbot channels check``: prove each channel's credentials work, posting nothing.

Each publisher's ``check()`` makes one cheap read call (X ``GET /2/users/me``, Facebook
``GET /me``, Instagram ``GET /{ig-user-id}?fields=username``; the outbox checks its
directory). A failing channel is reported, with what to do, and the others are still
checked: a channel whose environment variable is not set is one such row, not an abort.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from bot.cli._common import Ctx, console, errors, load, setup_logging
from bot.durations import format_duration
from bot.errors import AuthError, ConfigError, RateLimited, Rejected, SyndbotError, Transient
from bot.words import plural

if TYPE_CHECKING:  # httpx, rich and the publishers load only when the check runs
    import httpx
    from rich.table import Table

    from bot.config import ChannelConfig, Config
    from bot.publishers import PublisherContext

log = logging.getLogger("syndbot")


@dataclass(frozen=True)
class CheckResult:
    """One channel's verdict: the account it posts as, or what is wrong and what to do."""

    channel: str
    platform: str
    account: str = ""
    problem: str | None = None
    advice: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_channels(
    config: Config, channels: Sequence[ChannelConfig], *, http: httpx.Client
) -> list[CheckResult]:
    """Build each channel's publisher and call its ``check()``; never raises for a channel."""
    from bot.publishers import MemoryState, PublisherContext

    service = config.service
    # Checks only read, so state goes to memory: the database is neither created nor touched.
    ctx = PublisherContext(
        http=http,
        state=MemoryState(),
        allow_private_media=service.allow_private_addresses,
        user_agent=service.user_agent,
    )
    return [_check_one(channel, ctx, config.unresolved.get(channel.name)) for channel in channels]


def _check_one(
    channel: ChannelConfig, ctx: PublisherContext, unresolved: ConfigError | None
) -> CheckResult:
    from bot.config import MissingCredential
    from bot.publishers import build_publisher

    name, platform = channel.name, channel.platform
    if isinstance(unresolved, MissingCredential):
        return CheckResult(name, platform, problem=unresolved.problem, advice=unresolved.advice)
    if unresolved is not None:
        return CheckResult(name, platform, problem=unresolved.detail, advice=_FIX_CONFIG)
    try:
        account = build_publisher(channel, ctx).check()
    except Exception as exc:  # one channel's failure, even a bug, must not hide the others
        problem, advice = _explain(exc)
        return CheckResult(name, platform, problem=_scrub(problem, channel), advice=advice)
    return CheckResult(name, platform, account=account)


_FIX_CONFIG = "fix this channel in the config file, then run channels check again"
_AGAIN = "then run channels check again"


_ADVICE: tuple[tuple[type[Exception], str], ...] = (
    (AuthError, f"renew or correct this channel's credentials in .env, {_AGAIN}"),
    (Transient, "the platform had a temporary problem; run channels check again later"),
    (SyndbotError, f"check the account's permissions and [channels.options], {_AGAIN}"),
)


def _explain(exc: Exception) -> tuple[str, str]:
    """(what is wrong, what to do) for a failed ``check()``; library dumps become a sentence."""
    from bot.cli._network import explain_network_error, network_cause

    if isinstance(exc, RateLimited):
        wait = format_duration(max(1.0, exc.retry_after))
        return str(exc), f"the platform asks to wait; run channels check again in {wait}"
    cause = network_cause(exc)
    if cause is not None and not isinstance(exc, AuthError | Rejected):
        return explain_network_error(cause)
    if isinstance(exc, ConfigError):
        return exc.detail, _FIX_CONFIG
    for kind, advice in _ADVICE:
        if isinstance(exc, kind):
            return str(exc), advice
    log.debug("channel check crashed", exc_info=exc)
    return (
        f"unexpected {type(exc).__name__} inside syndbot",
        "this is a bug: run with -vv and report the output",
    )


def _scrub(text: str, channel: ChannelConfig) -> str:
    """Publishers keep secrets out of messages; this makes sure the terminal never sees one."""
    for secret in channel.credentials.values():
        value = secret.get()
        if value:
            text = text.replace(value, "***")
    return text


def results_table(results: Sequence[CheckResult]) -> Table:
    """One row per channel: channel, platform, OK and the account, or the problem and the fix."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Channel check")
    for column in ("channel", "platform", "result", "what to do"):
        table.add_column(column, overflow="fold")
    for r in results:
        # Text, not markup: problems quote server answers such as "[fbtrace_id ...]".
        if r.ok:
            verdict = Text(f"OK · {r.account}" if r.account else "OK", style="green")
        else:
            verdict = Text(r.problem or "", style="red")
        table.add_row(Text(r.channel), Text(r.platform), verdict, Text(r.advice))
    return table


def summary_line(results: Sequence[CheckResult]) -> str:
    """``"2 of 5 channels failed the check."`` or ``"5 channels checked, all OK."``"""
    if not results:
        return "No channels to check."
    failed = sum(not r.ok for r in results)
    if failed:
        return f"{failed} of {plural(len(results), 'channel')} failed the check."
    return f"{plural(len(results), 'channel')} checked, all OK."


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
    import httpx

    with errors():
        config = load(ctx, defer_missing_credentials=True)
        targets = [config.channel(n) for n in names] if names else list(config.channels)
        service = config.service
        with httpx.Client(
            timeout=service.timeout,
            headers={"User-Agent": service.user_agent},
            follow_redirects=False,
        ) as http:
            results = check_channels(config, targets, http=http)
    console().print(results_table(results))
    click.echo(summary_line(results))
    if not all(r.ok for r in results):
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(channels)
