"""Shared plumbing for CLI commands: context, config loading, error display, logging."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.errors import SyndbotError

if TYPE_CHECKING:  # rich and the config load only when a command runs: fast --help
    from rich.console import Console

    from bot.config import Config

DEFAULT_CONFIG = "config/syndbot.toml"


def no_database_yet(config: Config) -> bool:
    """True when ``service.database`` is a SQLite file that does not exist: nothing was
    polled with this config (or the path is mistyped). Opening it would create it empty."""
    database = config.service.database
    return isinstance(database, Path) and not database.exists()


def console() -> Console:
    """A console on the current stdout; wide when piped so tables stay greppable."""
    from rich.console import Console

    tty = sys.stdout.isatty()
    return Console(soft_wrap=True, width=None if tty else 200, highlight=tty)


@dataclasses.dataclass
class Ctx:
    config_path: Path
    env_file: Path | None
    verbose: int
    log_format: str = "text"  # --log-format / SYNDBOT_LOG_FORMAT: "text" or "json"


def setup_logging(verbose: int, *, service: bool) -> None:
    from bot.logfmt import formatter

    level = (
        logging.DEBUG if verbose > 1 else logging.INFO if (verbose or service) else logging.WARNING
    )
    click_ctx = click.get_current_context(silent=True)
    obj = click_ctx.find_object(Ctx) if click_ctx is not None else None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(obj.log_format if obj is not None else "text"))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs full request URLs at INFO; some platforms put tokens in the path.
    for noisy in (
        "httpx",
        "httpcore",
        "apscheduler",
        "trafilatura",
        "urllib3",
        "requests_oauthlib",
        "oauthlib",  # logs the consumer key and access token at DEBUG
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # trafilatura warns "discarding data: URL" for a page without article text, just before
    # syndbot's own error says so in words: the line only confuses.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def fail(exc: BaseException, code: int = 2) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Our own errors become one clear line on stderr and a non-zero exit."""
    try:
        yield
    except SyndbotError as exc:
        fail(exc)


def load(ctx: Ctx, *, defer_missing_credentials: bool = False) -> Config:
    """The config, after loading the env file; see ``load_config`` for the deferral."""
    from bot.config import load_config, load_dotenv_once

    load_dotenv_once(ctx.env_file)
    return load_config(ctx.config_path, defer_missing_credentials=defer_missing_credentials)
