"""``syndbot db backup FILE``, ``db check`` and ``db migrate --to URL``: thin layers over
``bot.backup`` and ``bot.store.transfer``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli._common import Ctx, errors, load, setup_logging
from bot.errors import StoreError
from bot.store.url import DatabaseURL


@click.group()
def db() -> None:
    """Back up the database, check it, or move it to PostgreSQL.

    \b
    Examples:
      syndbot db backup /var/backups/syndbot-$(date +%F).db
      syndbot db check
      syndbot db migrate --to postgresql://syndbot@db.internal/syndbot
    """


@db.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.pass_obj
def backup(ctx: Ctx, file: Path, force: bool) -> None:
    """Write a consistent copy of the database to FILE, while the service keeps running.

    The copy is one self-contained SQLite file (mode 0600). To restore it: stop the
    service, copy it over the database, delete the database's -wal and -shm files, start.

    \b
    Example:
      syndbot db backup var/backup.db
    """
    setup_logging(ctx.verbose, service=False)
    from bot.backup import backup as take_backup

    with errors():
        config = load(ctx, defer_missing_credentials=True)  # no channel is used
        if isinstance(config.service.database, DatabaseURL):
            raise StoreError(
                f"{config.service.database}: `db backup` copies a SQLite file; back up a "
                f"PostgreSQL database with its own tool, e.g. `pg_dump -Fc -f {file} DBNAME`"
            )
        report = take_backup(config.service.database, file, force=force)
    click.echo(
        f"backed up {config.service.database} to {report.target} "
        f"({report.size // 1024} KiB, schema version {report.schema_version})"
    )


@db.command()
@click.pass_obj
def check(ctx: Ctx) -> None:
    """Check the database's integrity and schema version; exit 1 when something is wrong.

    Read-only: it never migrates or creates the database.

    \b
    Example:
      syndbot db check && systemctl start syndbot
    """
    setup_logging(ctx.verbose, service=False)
    from bot.backup import check as check_database

    with errors():
        config = load(ctx, defer_missing_credentials=True)  # no channel is used
        if isinstance(config.service.database, DatabaseURL):
            from bot.store.postgres import check_database as check_postgres

            report = check_postgres(config.service.database)
        else:
            report = check_database(config.service.database)
    click.echo(f"database: {report.database}")
    click.echo(f"schema version: {report.schema_version} (this syndbot: {report.code_version})")
    for note in report.notes:
        click.echo(f"note: {note}")
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    click.echo("ok" if report.ok else "NOT OK")
    sys.exit(0 if report.ok else 1)


@db.command()
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The empty PostgreSQL database, postgresql://user@host/dbname "
    "(a password is better in PGPASSWORD or ~/.pgpass than on the command line).",
)
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The SQLite file to copy (default: service.database).",
)
@click.pass_obj
def migrate(ctx: Ctx, target: str, source: Path | None) -> None:
    """Copy the SQLite database into an empty PostgreSQL database, posting nothing twice.

    Copies seen items, deliveries with their states and stored posts, feed state and
    channel state. Stop the service first; afterwards point service.database (or
    $SYNDBOT_DATABASE) at the URL and start it. The SQLite file is left as it was.

    \b
    Example:
      syndbot db migrate --to postgresql://syndbot@db.internal/syndbot
    """
    setup_logging(ctx.verbose, service=False)
    from bot.store.transfer import copy_to_postgres
    from bot.store.url import is_database_url

    with errors():
        if not is_database_url(target):
            raise StoreError(f"--to {target!r} is not a postgresql:// URL")
        url = DatabaseURL(target)
        if source is None:
            database = load(ctx, defer_missing_credentials=True).service.database
            if isinstance(database, DatabaseURL):
                raise StoreError(
                    f"service.database is already {database}; name the SQLite file with --from"
                )
            source = database
        report = copy_to_postgres(source, url)
    counts = ", ".join(f"{n} {status}" for status, n in report.statuses.items()) or "none"
    click.echo(
        f"copied {report.source} to {report.target}: {report.rows['items']} items, "
        f"{report.rows['deliveries']} deliveries ({counts}), {report.rows['feeds']} feeds, "
        f"{report.rows['channels']} channels"
    )
    click.echo(
        "Next: set service.database (or $SYNDBOT_DATABASE) to that URL and start the "
        f"service; keep {report.source} as the backup of the old state."
    )


def register(group: click.Group) -> None:
    group.add_command(db)
