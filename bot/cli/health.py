"""``syndbot health``: exit 0 when the service is healthy, 1 when not (container probes)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.cli._common import Ctx, errors, load, setup_logging

if TYPE_CHECKING:
    from bot.config import Config


@click.command()
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the service.")
@click.pass_obj
def health(ctx: Ctx, timeout: float) -> None:
    """Exit 0 when the service is healthy, 1 when not; print why.

    With ``[http] listen`` in the config, ask the running service's ``/healthz`` (scheduler
    running, database writable, every feed polled successfully within ``stale_after``).
    Without it, check the database and the feeds' last successful polls directly.

    \b
    Example (a container HEALTHCHECK, or a monitor):
      syndbot health || echo "syndbot needs attention"
    """
    setup_logging(ctx.verbose, service=False)
    with errors():
        config = load(ctx, defer_missing_credentials=True)  # reads state only
    ok, report = _ask_service(config, timeout) if config.http else _check_database(config)
    click.echo(("healthy" if ok else "unhealthy") + (f": {report}" if report else ""))
    sys.exit(0 if ok else 1)


def _ask_service(config: Config, timeout: float) -> tuple[bool, str]:
    import httpx

    assert config.http is not None
    url = config.http.url("/healthz")
    try:
        # No proxy from the environment: the service is on this machine.
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        return False, f"the service does not answer on {url} ({type(exc).__name__})"
    try:
        reasons = json.loads(response.text).get("reasons", [])
    except (ValueError, AttributeError):
        reasons = [f"unexpected answer from {url}: HTTP {response.status_code}"]
    return response.status_code == 200, "; ".join(str(r) for r in reasons)


def _check_database(config: Config) -> tuple[bool, str]:
    from bot.store import open_store
    from bot.web.health import database_writable, evaluate

    problem = database_writable(config.service.database)
    if problem is not None:
        return False, problem
    with errors(), open_store(config.service.database) as store:
        states = store.feed_states()
    verdict = evaluate(
        config,
        states,
        now=datetime.now(UTC),
        started_at=None,
        scheduler_running=None,
        database_problem=None,
    )
    return verdict.ok, "; ".join(verdict.reasons)
