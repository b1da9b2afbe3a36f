"""Build a running pipeline from a config, and the background service around it.

The service's HTTP listener (health, metrics, pushes, WebSub) is ``bot.service_http``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from bot.config import Config
from bot.engine.pacing import PollPacing
from bot.engine.polling import HostLimits
from bot.feeds import make_http_client, open_source
from bot.feeds.pagecache import PageCache, pages_path
from bot.feeds.parsepool import ParsePool
from bot.lock import nobody_sending
from bot.netguard import install_guard, pinned_transport
from bot.pipeline import Pipeline, PollReport
from bot.publishers import PublisherContext, build_publisher
from bot.scheduler import JobQueue
from bot.service_http import start_http
from bot.stopping import install_stop_signals
from bot.store import DatabaseDamaged, DatabaseReadOnly, open_store
from bot.summarise import ExtractiveSummariser
from bot.words import plural

if TYPE_CHECKING:
    from bot.fleet import Leases
    from bot.llm import LlmSummariser
    from bot.protocols import Summariser

log = logging.getLogger("syndbot")
FIRST_POLLS_PER_SECOND = 50.0
# Feeds from which a pipeline parses big feed documents in worker processes.
PARSE_WORKERS_FROM = 50


@contextmanager
def open_pipeline(
    config: Config,
    *,
    echo: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
) -> Iterator[Pipeline]:
    """Wire store, feed sources, publishers and summariser; close them afterwards."""
    service = config.service
    own_client = client is None
    http = client or make_http_client(
        user_agent=service.user_agent, timeout=service.timeout, in_flight=service.poll_concurrency
    )
    store = open_store(service.database)
    # Article pages read for full text, kept beside the database across restarts.
    full_text = any(f.full_text != "never" and "://" in f.url for f in config.feeds)
    pages = PageCache(pages_path(service.database)) if full_text else None
    # With many feeds, big feed documents are parsed in worker processes (started on
    # first use), so a poll cycle parses on every core; a site's handful of feeds is
    # parsed in the poll threads, without a process per core to start and keep.
    parser = ParsePool() if len(config.feeds) >= PARSE_WORKERS_FROM else None
    # Publishers get their own client: feed fetching applies stricter size/address rules.
    api_http = httpx.Client(
        timeout=service.timeout,
        headers={"User-Agent": service.user_agent},
        follow_redirects=False,
        # Article images are fetched through it: guarded requests connect to checked IPs.
        transport=pinned_transport(),
    )
    install_guard(api_http)
    ctx = PublisherContext(
        http=api_http,
        state=store,
        allow_private_media=service.allow_private_addresses,
        user_agent=service.user_agent,
    )
    summariser: Summariser = ExtractiveSummariser()
    llm: LlmSummariser | None = None
    try:
        if config.llm is not None:
            from bot.llm import LlmSummariser

            llm = LlmSummariser.from_config(config.llm, fallback=summariser)
            summariser = llm
        sources = {
            feed.name: open_source(
                feed.name,
                feed.url,
                client=http,
                lang=feed.lang,
                full_text=feed.full_text,
                max_bytes=service.max_feed_bytes,
                allow_private=service.allow_private_addresses,
                deadline=service.feed_deadline,
                pages=pages,
                parser=parser,
            )
            for feed in config.feeds
        }
        publishers = {c.name: build_publisher(c, ctx, echo=echo) for c in config.channels}
        yield Pipeline(
            config=config,
            store=store,
            sources=sources,
            publishers=publishers,
            summariser=summariser,
        )
    finally:
        if llm is not None:
            llm.close()
        if parser is not None:
            parser.close()
        store.close()
        if pages is not None:
            pages.close()
        api_http.close()
        if own_client:
            http.close()


def recover_interrupted(pipeline: Pipeline, *, wait: float = 120.0) -> int:
    """Resolve deliveries a crash left in ``sending``, once no ``syndbot post`` is sending
    (its claims are ``sending`` too, and must not be taken for a crash's leftovers)."""

    def waiting() -> None:
        log.info("waiting for a one-off `syndbot post` to finish before resolving deliveries")

    with nobody_sending(pipeline.config.service.database, wait=wait, on_wait=waiting) as free:
        if not free:
            log.warning(
                "a one-off `syndbot post` is still sending after %.0f s; deliveries left in "
                "'sending' are resolved at the next start",
                wait,
            )
            return 0
        recovered = pipeline.recover_interrupted()
    if recovered:
        log.info("resolved %d deliveries interrupted by the last shutdown", recovered)
    return recovered


def run_service(
    pipeline: Pipeline,
    *,
    stop: threading.Event | None = None,
    install_signals: bool = True,
) -> None:
    """Poll every feed on its interval and deliver due posts until SIGINT/SIGTERM or ``stop``.

    A damaged or read-only database stops the service: the error is raised once the jobs
    have stopped (the CLI prints its sentence and exits 2) instead of failing every interval.
    """
    config = pipeline.config
    stop = stop or threading.Event()
    if install_signals:
        install_stop_signals(stop)
    leases = _fleet_leases(config)
    if leases is None:
        recover_interrupted(pipeline)  # a fleet resolves leftovers per channel, under its lease
    fatal: list[BaseException] = []

    def stop_for(exc: BaseException) -> None:
        if not fatal:
            fatal.append(exc)
            what = "damaged" if isinstance(exc, DatabaseDamaged) else "read-only"
            log.error("stopping the service: the database is %s", what)
        stop.set()

    service = config.service
    polls = min(service.poll_concurrency, len(config.feeds))
    jobs = JobQueue(
        workers=max(4, polls + min(8, len(config.channels))),
        fatal=(DatabaseDamaged, DatabaseReadOnly),
        on_fatal=stop_for,
    )
    poll, deliver = _work(pipeline, leases)
    deliveries = ChannelDeliveries(pipeline, deliver)
    hosts = HostLimits(service.poll_per_host)
    pacing = PollPacing(
        {feed.name: feed for feed in config.feeds},
        lambda feed, every: jobs.set_interval(f"poll:{feed}", every=every, jitter=service.jitter),
    )

    def poll_then_deliver(feed_name: str) -> None:
        with hosts.hold(config.feed(feed_name).url):  # one site is never hammered
            report = poll(feed_name)
        if not isinstance(report, PollReport):
            return  # another instance of the fleet holds this feed
        # What a poll queues leaves at once, not at the channel's next delivery run.
        if report.queued:
            deliveries.start([c.name for c in config.channels_for(feed_name)])
        pacing.polled(
            feed_name,
            changed=bool(report.new or report.edited),
            ok=report.error is None and not report.skipped,
        )

    # First polls spread at about FIRST_POLLS_PER_SECOND (never beyond a feed's interval),
    # so thousands of feeds do not all start at once and stay spread after.
    spread = len(config.feeds) / FIRST_POLLS_PER_SECOND
    for feed in config.feeds:
        jobs.run_repeating(
            poll_then_deliver,
            every=feed.interval,
            jitter=service.jitter,
            first_in=random.uniform(0, min(max(spread, min(2.0, service.jitter)), feed.interval)),
            name=f"poll:{feed.name}",
            args=(feed.name,),
        )
    for channel in config.channels:
        # One job per channel: a slow or failing channel never delays the others.
        jobs.run_repeating(
            deliveries.run,
            every=config.service.deliver_interval,
            first_in=1.0,
            name=f"deliver:{channel.name}",
            args=(channel.name,),
        )
    http = start_http(pipeline, jobs, leases, pacing) if config.http is not None else None
    jobs.start()
    log.info(
        "syndbot running: %s, %s (Ctrl-C to stop)",
        plural(len(config.feeds), "feed"),
        plural(len(config.channels), "channel"),
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if http is not None:
            http.stop()
        jobs.stop(wait=True)
        deliveries.stop()
        if leases is not None:
            leases.close()
        log.info("stopped")
    if fatal:
        raise fatal[0]


def _work(
    pipeline: Pipeline, leases: Leases | None
) -> tuple[Callable[[str], object], Callable[[str], object]]:
    """(poll a feed, deliver a channel): the pipeline's own, or under a fleet only the
    feeds and channels this instance holds the lease of."""
    if leases is None:
        return pipeline.poll_due, pipeline.deliver
    from bot.fleet import deliver_if_held, poll_if_held

    held = leases

    def poll(feed: str) -> object:
        return poll_if_held(pipeline, held, feed)

    def deliver(channel: str) -> object:
        return deliver_if_held(pipeline, held, channel)

    return poll, deliver


class ChannelDeliveries:
    """Runs ``pipeline.deliver`` for a channel on its timer or as soon as a poll queued
    something, never twice at once for one channel: a request made while that channel's
    run is busy makes the run go round once more."""

    def __init__(self, pipeline: Pipeline, deliver: Callable[[str], object]) -> None:
        self._deliver = deliver  # pipeline.deliver, or under a fleet only while leased
        names = [c.name for c in pipeline.config.channels]
        self._busy = {name: threading.Lock() for name in names}
        self._wanted = {name: threading.Event() for name in names}
        # Poll jobs hand deliveries over instead of sending from their own thread.
        self._kicks = ThreadPoolExecutor(
            max_workers=max(1, min(8, len(names))), thread_name_prefix="syndbot-deliver"
        )

    def start(self, channel_names: list[str]) -> None:
        """Deliver these channels soon, on the delivery threads."""
        for name in channel_names:
            if name in self._busy:
                self._wanted[name].set()
                with contextlib.suppress(RuntimeError):  # stopping: the next run sends it
                    self._kicks.submit(_logged, self.run, name)

    def run(self, channel_name: str) -> None:
        """Deliver ``channel_name`` now, unless its run is busy (which then goes again)."""
        busy, wanted = self._busy[channel_name], self._wanted[channel_name]
        wanted.set()
        while wanted.is_set():
            if not busy.acquire(blocking=False):
                return  # the running delivery sees ``wanted`` after its round
            try:
                while wanted.is_set():
                    wanted.clear()
                    self._deliver(channel_name)
            finally:
                busy.release()

    def stop(self) -> None:
        self._kicks.shutdown(wait=True, cancel_futures=True)


def _logged(func: Callable[[str], None], name: str) -> None:
    try:
        func(name)
    except Exception:
        log.exception("delivery for channel=%s failed; it runs again at its next time", name)


def _fleet_leases(config: Config) -> Leases | None:
    """This instance's leases when it is one of a fleet (``service.fleet``), else None."""
    if not config.service.fleet:
        return None
    from bot.fleet import Leases
    from bot.store.url import DatabaseURL

    assert isinstance(config.service.database, DatabaseURL)  # checked by the config
    return Leases(config.service.database)
