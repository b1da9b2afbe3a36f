"""``syndbot``: the service (``run``) and one-off commands. Each command is a thin layer."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from bot import __version__
from bot.cli._common import DEFAULT_CONFIG, Ctx, console, errors, fail, load, setup_logging
from bot.words import plural

if TYPE_CHECKING:  # the store package loads only when a command needs it
    from bot.store.url import Database


def _sole_service(database: Database, *, fleet: bool = False) -> ExitStack:
    """Hold the database's service lock until the returned stack closes; another service
    on the same database (other than a peer of a fleet) means exit 1 with one sentence."""
    from bot.lock import ServiceLocked, service_lock

    stack = ExitStack()
    try:
        stack.enter_context(service_lock(database, shared=fleet))
    except ServiceLocked as exc:
        fail(exc, code=1)
    return stack


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("SYNDBOT_CONFIG", DEFAULT_CONFIG),
    show_default=DEFAULT_CONFIG,
    help="Config file (env SYNDBOT_CONFIG).",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Credentials file loaded into the environment (existing variables win); "
    "the default may be absent, a file named here must exist.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=lambda: os.environ.get("SYNDBOT_LOG_FORMAT", "text"),
    show_default="text",
    help="json: one JSON object per log line (env SYNDBOT_LOG_FORMAT).",
)
@click.version_option(__version__, prog_name="syndbot")
@click.pass_context
def main(
    ctx: click.Context, config_path: Path, env_file: Path, verbose: int, log_format: str
) -> None:
    """Watch a news site's feeds and publish platform-sized posts to its channels.

    \b
    Quick start:
      syndbot run                      # the service, on config/syndbot.toml
      syndbot preview https://example.com/feed/ --platform x,bluesky
    """
    if ctx.get_parameter_source("env_file") is not ParameterSource.DEFAULT:
        _check_env_file(env_file)
    ctx.obj = Ctx(
        config_path=config_path, env_file=env_file, verbose=verbose, log_format=log_format
    )


def _check_env_file(path: Path) -> None:
    """A named --env-file must exist: silently running without its secrets misleads.

    The default ``.env`` may be absent (on a server the service manager sets the variables).
    """
    if not path.exists():
        raise click.BadParameter(
            f"{path}: no such file; create it (see .env.example) or leave out --env-file",
            param_hint="--env-file",
        )
    if path.is_dir():
        raise click.BadParameter(f"{path} is a directory, not a file", param_hint="--env-file")


@main.command()
@click.pass_obj
def run(ctx: Ctx) -> None:
    """Run the service: poll every feed on its interval, deliver due posts.

    Stops cleanly on Ctrl-C or SIGTERM; a restart picks up where it stopped.

    \b
    Example:
      syndbot -c config/example-site.toml run
    """
    setup_logging(ctx.verbose, service=True)
    import threading

    from bot.stopping import install_stop_signals

    # Catch a stop request before the heavy imports, so a signal during start-up also
    # ends the service cleanly.
    stop = threading.Event()
    install_stop_signals(stop)
    from rich.console import Console

    from bot.app import open_pipeline, run_service

    with errors():
        config = load(ctx)
        # One log line per post (channel, title, link, length); -v adds each post's full text.
        out = Console(soft_wrap=True, highlight=False)
        echo = (lambda text: out.print(text + "\n", markup=False)) if ctx.verbose else None
        sole = _sole_service(config.service.database, fleet=config.service.fleet)
        with sole, open_pipeline(config, echo=echo) as pipe:
            click.echo(
                f"syndbot {__version__}: {plural(len(config.feeds), 'feed')} -> "
                f"{plural(len(config.channels), 'channel')}, state in {config.service.database}",
                err=True,
            )
            run_service(pipe, stop=stop, install_signals=False)


@main.command()
@click.option("--feed", "feeds", multiple=True, help="Only this feed (repeatable).")
@click.option(
    "--deliver/--no-deliver", default=True, show_default=True, help="Send due posts after polling."
)
@click.pass_obj
def poll(ctx: Ctx, feeds: Sequence[str], deliver: bool) -> None:
    """Poll feeds once, queue what is new, send what is due, then exit.

    \b
    Example:
      syndbot poll --feed ev-en
    """
    setup_logging(ctx.verbose, service=False)
    from rich.progress import Progress

    from bot.app import open_pipeline, recover_interrupted
    from bot.engine.polling import HostLimits, poll_many
    from bot.render import delivery_table, poll_table

    with errors():
        config = load(ctx)
        names = list(dict.fromkeys(feeds)) or [f.name for f in config.feeds]  # each once
        for name in names:
            config.feed(name)  # unknown name -> ConfigError naming it
        with _sole_service(config.service.database), open_pipeline(config) as pipe:
            recover_interrupted(pipe)
            term = console()
            service = config.service
            with Progress(console=term, transient=True, disable=not term.is_terminal) as progress:
                task = progress.add_task("polling", total=len(names))
                reports = poll_many(
                    names,
                    pipe.poll,
                    urls=lambda name: config.feed(name).url,
                    in_flight=service.poll_concurrency,
                    limits=HostLimits(service.poll_per_host),
                    done=lambda _name: progress.advance(task),
                )
            console().print(poll_table(reports))
            if deliver:
                sent = []
                for channel in config.channels:
                    sent.extend(pipe.deliver(channel.name, limit=1000))
                if sent:
                    console().print(delivery_table(sent))
        if any(r.error for r in reports):
            sys.exit(1)


from bot.cli import oneoff, state  # noqa: E402  (commands live in small modules)

oneoff.register(main)
state.register(main)

from bot.cli import channels  # noqa: E402

channels.register(main)

from bot.cli import db, health  # noqa: E402

main.add_command(health.health)
db.register(main)

from bot.cli import queue as queue_commands  # noqa: E402

queue_commands.register(main)
