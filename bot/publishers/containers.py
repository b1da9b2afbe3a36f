"""The media-container steps Instagram and Threads share (both are Meta Graph APIs).

A post is a container created under the account, polled until the platform has fetched
and processed it, then published. Each step here is one Graph call and its failure
handling; what to remember between attempts (the container id in the delivery notes) and
how to resume stays in each publisher, because the two keep different notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.errors import PublishError, RateLimited, Transient
from bot.publishers.base import DeliveryNotes
from bot.publishers.graph import GraphClient

DEFAULT_QUOTA_WAIT = 3600.0
SETTLED = ("FINISHED", "EXPIRED", "PUBLISHED")  # the statuses polling stops at

# (usage field, config field, what it counts) of one publishing quota.
Quota = tuple[str, str, str]


class ContainerSteps:
    """Create, poll, publish and read back containers under one account."""

    def __init__(
        self,
        graph: GraphClient,
        user: str,
        *,
        label: str,
        status_fields: tuple[str, str],
        sleep: Callable[[float], None],
        tries: int,
        max_pause: float,
    ) -> None:
        self._graph = graph
        self._user = user
        self._label = label  # "Instagram" / "Threads", as messages name the platform
        self._status_fields = status_fields  # (status field, its explanation field)
        self._sleep = sleep
        self._tries = tries
        self._max_pause = max_pause
        self._channel = graph.channel.name

    def create(self, edge: str, form: Mapping[str, str]) -> str:
        """``POST /{user}/{edge}``: the new container's id (Transient when none comes)."""
        body = self._graph.post(self._user, edge, data=form)
        container = str(body.get("id") or "")
        if not container:
            raise Transient(
                f"{self._label} answered POST /{self._user}/{edge} without an id",
                channel=self._channel,
            )
        return container

    def status(self, container: str) -> tuple[str, str]:
        """The container's status (IN_PROGRESS when unsaid) and the text explaining it."""
        state_field, text_field = self._status_fields
        body = self._graph.get(container, params={"fields": f"{state_field},{text_field}"})
        return str(body.get(state_field) or "IN_PROGRESS"), str(body.get(text_field) or "")

    def wait(self, container: str, on_error: Callable[[str], PublishError]) -> str:
        """Poll until a settled status; ERROR raises ``on_error(text)``; too long -> Transient."""
        for attempt in range(self._tries):
            status, text = self.status(container)
            if status == "ERROR":
                raise on_error(text)
            if status in SETTLED:
                return status
            if attempt + 1 < self._tries:
                self._sleep(min(2.0**attempt, self._max_pause))
        raise Transient(
            f"{self._label} container {container} still IN_PROGRESS after {self._tries} "
            "checks; the next attempt resumes from it",
            channel=self._channel,
        )

    def publish(self, edge: str, container: str) -> str:
        """``POST /{user}/{edge}?creation_id=``: the published media id ("" when unsaid)."""
        body = self._graph.post(self._user, edge, params={"creation_id": container})
        return str(body.get("id") or "")

    def permalink(self, media: str) -> str | None:
        try:  # the post is out: failing to read its link must not fail the delivery
            body = self._graph.get(media, params={"fields": "permalink"})
        except PublishError:
            return None
        link = body.get("permalink")
        return str(link) if link else None

    def check_quota(
        self, edge: str, quotas: Sequence[Quota], *, notes: DeliveryNotes, now: datetime
    ) -> None:
        """RateLimited when one of ``quotas`` is used up, read before creating anything."""
        if not quotas:
            return
        fields = ",".join(f"{usage},{config}" for usage, config, _ in quotas)
        body = self._graph.get(self._user, edge, params={"fields": fields})
        rows = body.get("data")
        row: dict[str, Any] = rows[0] if isinstance(rows, list) and rows else {}
        for usage_key, config_key, what in quotas:
            config = row.get(config_key) or {}
            usage, total = row.get(usage_key), config.get("quota_total")
            if isinstance(usage, int) and isinstance(total, int) and usage >= total:
                window = float(config.get("quota_duration") or 86400)
                wait = quota_wait(notes, now, window)
                raise RateLimited(
                    f"{self._label} publishing quota used up ({usage}/{total} {what} in "
                    f"{window / 3600:.0f} h); next slot in about {wait / 60:.0f} min",
                    retry_after=wait,
                    channel=self._channel,
                )


def quota_wait(notes: DeliveryNotes, now: datetime, window: float) -> float:
    """Until our oldest post inside the window leaves it; 1 h when we know none."""
    inside = []
    for note in notes.all().values():
        try:
            published = datetime.fromisoformat(note["published"])
        except (TypeError, KeyError, ValueError):
            continue
        if published > now - timedelta(seconds=window):
            inside.append(published)
    if not inside:
        return DEFAULT_QUOTA_WAIT
    return max(60.0, (min(inside) + timedelta(seconds=window) - now).total_seconds())
