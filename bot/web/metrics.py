"""Prometheus metrics: the pipeline's ``Observer`` plus gauges read from the store per scrape.

One ``CollectorRegistry`` per ``Metrics`` (never the global one), so two services in one
process, or two tests, never share counters. Families (``_total`` added to counters):

    syndbot_feed_polls{feed,outcome}             ok | not_modified | error
    syndbot_feed_fetch_seconds{feed}             histogram of the time one poll took
    syndbot_feed_not_modified_ratio{feed}        share of polls answered 304 Not Modified
    syndbot_feed_items_new{feed}                 items seen for the first time
    syndbot_feed_last_success_timestamp_seconds{feed}, syndbot_feed_consecutive_errors{feed}
    syndbot_deliveries{channel,outcome}          sent | retry | failed | skipped | paused
    syndbot_delivery_retries{channel}            sends rescheduled after a temporary failure
    syndbot_budget_waits{channel}                delivery runs held back by budget/quiet hours
    syndbot_queue_depth{channel}                 pending deliveries
    syndbot_queue_oldest_pending_age_seconds{channel}
    syndbot_channel_paused{channel}              1 while credentials need a person
    syndbot_scheduler_running                    1 while the job scheduler runs
    syndbot_feed_poll_interval_seconds{feed}     how often the feed is polled now (slower
                                                 while quiet or pushed: bot.engine.pacing)
    syndbot_lease_held{lease}                    with service.fleet: 1 while this instance
                                                 holds the lease (feed:NAME, channel:NAME)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.config import Config
from bot.models import Outcome
from bot.protocols import Store

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
POLL_OUTCOMES = ("ok", "not_modified", "error")
DELIVERY_OUTCOMES = tuple(outcome.value for outcome in Outcome)


class Metrics:
    """Counts what the pipeline reports (an ``Observer``) and renders the text format."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        scheduler_running: Callable[[], bool] = lambda: False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        leases_held: Callable[[], set[str]] | None = None,
        poll_intervals: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._leases_held = leases_held
        self._poll_intervals = poll_intervals
        reg = self.registry
        self._polls = Counter(
            "syndbot_feed_polls", "Feed polls by outcome.", ["feed", "outcome"], registry=reg
        )
        self._fetch = Histogram(
            "syndbot_feed_fetch_seconds",
            "Time one poll of a feed took.",
            ["feed"],
            buckets=BUCKETS,
            registry=reg,
        )
        self._new = Counter(
            "syndbot_feed_items_new", "Items seen for the first time.", ["feed"], registry=reg
        )
        self._deliveries = Counter(
            "syndbot_deliveries",
            "Delivery attempts by outcome.",
            ["channel", "outcome"],
            registry=reg,
        )
        self._retries = Counter(
            "syndbot_delivery_retries",
            "Sends rescheduled after a temporary failure.",
            ["channel"],
            registry=reg,
        )
        self._budget = Counter(
            "syndbot_budget_waits",
            "Delivery runs held back by the channel's budget or quiet hours.",
            ["channel"],
            registry=reg,
        )
        self._llm_gate = Counter(
            "syndbot_llm_gate",
            "LLM summary decisions: pass, reject (fact gate) or unavailable, by reason.",
            ["verdict", "reason"],
            registry=reg,
        )
        self._llm_tokens = Counter(
            "syndbot_llm_tokens",
            "Tokens the LLM endpoint reported using, by kind (prompt, completion).",
            ["kind"],
            registry=reg,
        )
        if config.llm is not None:
            self._llm_gate.labels("pass", "ok")
            for kind in ("prompt", "completion"):
                self._llm_tokens.labels(kind)
        self._lock = threading.Lock()
        self._poll_counts: dict[str, tuple[int, int]] = {}  # feed -> (polls, not modified)
        for feed in config.feeds:
            self._poll_counts[feed.name] = (0, 0)
            self._fetch.labels(feed.name)
            self._new.labels(feed.name)
            for outcome in POLL_OUTCOMES:
                self._polls.labels(feed.name, outcome)
        for channel in config.channels:
            self._retries.labels(channel.name)
            self._budget.labels(channel.name)
            for outcome in DELIVERY_OUTCOMES:
                self._deliveries.labels(channel.name, outcome)
        reg.register(_StateCollector(self, config, store, scheduler_running, clock))

    # ---- Observer ------------------------------------------------------------------------

    def polled(self, feed: str, *, outcome: str, seconds: float, new_items: int) -> None:
        self._polls.labels(feed, outcome).inc()
        self._fetch.labels(feed).observe(seconds)
        if new_items:
            self._new.labels(feed).inc(new_items)
        with self._lock:
            polls, not_modified = self._poll_counts.get(feed, (0, 0))
            self._poll_counts[feed] = (polls + 1, not_modified + (outcome == "not_modified"))

    def delivered(self, channel: str, *, outcome: str) -> None:
        self._deliveries.labels(channel, outcome).inc()
        if outcome == "retry":
            self._retries.labels(channel).inc()

    def budget_wait(self, channel: str) -> None:
        self._budget.labels(channel).inc()

    def llm_gate(self, *, verdict: str, reason: str) -> None:
        self._llm_gate.labels(verdict, reason).inc()

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        self._llm_tokens.labels("prompt").inc(prompt)
        self._llm_tokens.labels("completion").inc(completion)

    # ---- output --------------------------------------------------------------------------

    def leases_held(self) -> set[str] | None:
        """The leases this fleet instance holds; None when not in a fleet."""
        return None if self._leases_held is None else self._leases_held()

    def poll_intervals(self) -> dict[str, float]:
        """Each feed's current poll interval in seconds; {} outside the service."""
        return {} if self._poll_intervals is None else self._poll_intervals()

    def not_modified_ratios(self) -> dict[str, float]:
        with self._lock:
            counts = dict(self._poll_counts)
        return {feed: (nm / polls if polls else 0.0) for feed, (polls, nm) in counts.items()}

    def render(self) -> bytes:
        """The Prometheus text exposition of every family."""
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """Gauges read from the store at scrape time: they survive restarts, counters do not."""

    def __init__(
        self,
        metrics: Metrics,
        config: Config,
        store: Store,
        scheduler_running: Callable[[], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self._metrics = metrics
        self._config = config
        self._store = store
        self._running = scheduler_running
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        return list(self._families())

    def _families(self) -> Iterator[Metric]:
        now = self._clock()
        channels = [c.name for c in self._config.channels]
        ratio = GaugeMetricFamily(
            "syndbot_feed_not_modified_ratio",
            "Share of polls answered 304 Not Modified since start.",
            labels=["feed"],
        )
        for feed, value in sorted(self._metrics.not_modified_ratios().items()):
            ratio.add_metric([feed], value)
        yield ratio
        pace = GaugeMetricFamily(
            "syndbot_feed_poll_interval_seconds",
            "How often the feed is polled now (longer while quiet or pushed).",
            labels=["feed"],
        )
        for feed, seconds in sorted(self._metrics.poll_intervals().items()):
            pace.add_metric([feed], seconds)
        yield pace
        last_ok = GaugeMetricFamily(
            "syndbot_feed_last_success_timestamp_seconds",
            "When the feed was last polled successfully (Unix time).",
            labels=["feed"],
        )
        errors = GaugeMetricFamily(
            "syndbot_feed_consecutive_errors",
            "Polls that failed in a row.",
            labels=["feed"],
        )
        for state in self._store.feed_states():
            if state.last_success is not None:
                last_ok.add_metric([state.feed], state.last_success.timestamp())
            errors.add_metric([state.feed], state.consecutive_errors)
        yield last_ok
        yield errors
        depth = dict.fromkeys(channels, 0)
        oldest: dict[str, datetime] = {}
        for delivery in self._store.deliveries(status="pending"):
            depth[delivery.channel] = depth.get(delivery.channel, 0) + 1
            first, created = oldest.get(delivery.channel), delivery.created
            if created is not None and (first is None or created < first):
                oldest[delivery.channel] = created
        queue = GaugeMetricFamily(
            "syndbot_queue_depth", "Deliveries waiting to be sent.", labels=["channel"]
        )
        age = GaugeMetricFamily(
            "syndbot_queue_oldest_pending_age_seconds",
            "Age of the oldest waiting delivery (0 when none waits).",
            labels=["channel"],
        )
        for name in sorted(depth):
            queue.add_metric([name], depth[name])
            first = oldest.get(name)
            age.add_metric([name], (now - first).total_seconds() if first else 0.0)
        yield queue
        yield age
        paused = self._store.paused_channels()
        family = GaugeMetricFamily(
            "syndbot_channel_paused",
            "1 while the channel is paused until a person fixes its credentials.",
            labels=["channel"],
        )
        for name in channels:
            family.add_metric([name], 1.0 if name in paused else 0.0)
        yield family
        yield GaugeMetricFamily(
            "syndbot_scheduler_running",
            "1 while the job scheduler runs.",
            value=1.0 if self._running() else 0.0,
        )
        held = self._metrics.leases_held()
        if held is not None:
            leases = GaugeMetricFamily(
                "syndbot_lease_held",
                "1 while this instance of the fleet holds the lease.",
                labels=["lease"],
            )
            keys = [f"feed:{f.name}" for f in self._config.feeds] + [
                f"channel:{c}" for c in channels
            ]
            for key in keys:
                leases.add_metric([key], 1.0 if key in held else 0.0)
            yield leases
