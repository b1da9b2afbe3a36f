"""The service's HTTP listener (``[http]``), wired onto its job queue.

``start_http`` serves /healthz and /metrics (the pipeline reports to the metrics through
``attach_observer``), pushes that poll a feed early (``[http] push``), and WebSub
subscriptions for feeds that name a hub (``[http] public_url``), which slow the polling
of the feeds a hub pushes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from bot.config import Config
from bot.pipeline import Pipeline
from bot.scheduler import JobQueue

if TYPE_CHECKING:
    from bot.engine.pacing import PollPacing
    from bot.fleet import Leases
    from bot.observe import Observer
    from bot.push import Nudger
    from bot.web.server import HttpService
    from bot.websub_feeds import Subscriptions


def attach_observer(pipeline: Pipeline, observer: Observer) -> None:
    """Report what ``pipeline`` does, its LLM summariser's verdicts and tokens included."""
    pipeline.observer = observer
    if pipeline.config.llm is not None:
        from bot.llm import LlmSummariser

        if isinstance(pipeline.summariser, LlmSummariser):
            pipeline.summariser.observer = observer


def start_http(
    pipeline: Pipeline, jobs: JobQueue, leases: Leases | None, pacing: PollPacing
) -> HttpService:
    """Serve /healthz and /metrics; the pipeline reports to the metrics from now on. A
    feed whose hub pushes is polled less often (``pacing``)."""
    from bot.web.metrics import Metrics
    from bot.web.server import HttpService, build_app

    config = pipeline.config
    assert config.http is not None
    metrics = Metrics(
        config,
        pipeline.store,
        scheduler_running=lambda: jobs.running,
        leases_held=None if leases is None else leases.held,
        poll_intervals=pacing.intervals,
    )
    attach_observer(pipeline, metrics)
    nudger = _nudger(config, jobs)
    websub = (
        _subscriptions(config, nudger, pacing, pipeline.store) if config.http.public_url else None
    )
    app = build_app(
        config,
        pipeline.store,
        metrics,
        scheduler_running=lambda: jobs.running,
        started_at=datetime.now(UTC),
        push=nudger if config.http.push else None,
        websub=None if websub is None else websub.subscriber,
    )
    service = HttpService.start(config.http, app)
    if websub is not None:
        jobs.run_repeating(websub.tick, every=60.0, first_in=1.0, name="websub")
        service.before_stop.append(websub.close)  # hubs verify the unsubscribe through us
    return service


def _nudger(config: Config, jobs: JobQueue) -> Nudger:
    """Pushes poll the named feed early through its own poll job (``poll:<feed>``)."""
    from bot.push import Nudger

    assert config.http is not None
    return Nudger(
        [(feed.name, feed.url) for feed in config.feeds],
        schedule=lambda feed, delay: jobs.run_soon(f"poll:{feed}", delay=delay),
        debounce=config.http.push_debounce,
    )


def _subscriptions(
    config: Config, nudger: Nudger, pacing: PollPacing, store: object
) -> Subscriptions:
    """WebSub subscriptions for feeds that name a hub; a verified notice nudges the feed.
    With ``websub_key`` they are kept in ``store`` and re-used after a restart."""
    from bot.store import LedgerStore
    from bot.websub import Subscriber
    from bot.websub_feeds import Subscriptions

    assert config.http is not None
    assert config.http.public_url is not None
    service = config.service
    http = httpx.Client(timeout=service.timeout, headers={"User-Agent": service.user_agent})
    subscriber = Subscriber(
        config.http.public_url,
        http=http,
        nudge=lambda feed: nudger.nudge_feed(feed, source=f"websub:{feed}"),
        allow_private=service.allow_private_addresses,
        key=None if config.http.websub_key is None else config.http.websub_key.get().encode(),
        store=store if isinstance(store, LedgerStore) else None,
    )
    feeds = [(f.name, f.url) for f in config.feeds]
    return Subscriptions(subscriber, feeds, http, pace=pacing.pushed)
