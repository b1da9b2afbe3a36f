"""What the pipeline tells an observer (metrics) as it works; it never imports one.

``Pipeline.observer`` defaults to ``NullObserver``; ``bot.web.metrics.Metrics`` turns the
calls into Prometheus families. Each call is made after the state change it describes.
"""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def polled(self, feed: str, *, outcome: str, seconds: float, new_items: int) -> None:
        """One poll ended; ``outcome`` is ``ok``, ``not_modified`` or ``error``."""
        ...

    def delivered(self, channel: str, *, outcome: str) -> None:
        """One delivery attempt ended: ``sent``, ``retry``, ``failed``, ``skipped``, ``paused``."""
        ...

    def budget_wait(self, channel: str) -> None:
        """A due post waits because the channel's budget or quiet hours do not allow it yet."""
        ...

    def llm_gate(self, *, verdict: str, reason: str) -> None:
        """The LLM summariser decided: ``verdict`` is ``pass``, ``reject`` (the fact gate
        refused the answer) or ``unavailable`` (not asked, or no answer); see ``Reason``."""
        ...

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        """One answer from the LLM endpoint used this many tokens (its own usage counts)."""
        ...


class NullObserver:
    """Observes nothing (one-off commands, tests)."""

    def polled(self, feed: str, *, outcome: str, seconds: float, new_items: int) -> None:
        pass

    def delivered(self, channel: str, *, outcome: str) -> None:
        pass

    def budget_wait(self, channel: str) -> None:
        pass

    def llm_gate(self, *, verdict: str, reason: str) -> None:
        pass

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        pass
