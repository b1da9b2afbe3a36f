"""The publisher contract: one harness per platform, the same cases for every publisher.

A platform joins by adding ``tests/harnesses/<platform>.py`` with
``make_harness(tmp_path: Path) -> contextlib.AbstractContextManager[Harness]``;
``tests/test_publisher_contract.py`` discovers every module there and runs every case.
"""

from __future__ import annotations

from typing import Literal, Protocol

from bot.models import Post
from bot.protocols import Publisher

Fault = Literal["rate_limit", "auth", "server_error", "timeout", "drop_after_accept", "rejected"]


class Harness(Protocol):
    """A local fake server speaking one platform's documented API, plus a publisher on it."""

    platform: str
    rate_limit_wait: float  # seconds the fake advertises in its scripted 429 answer
    secrets: tuple[str, ...]  # credential values that must never appear in errors or logs
    reconciles: bool  # True if a retry after a lost answer can never post twice
    rejection: str  # the platform's own words in its scripted "rejected" (4xx) answer

    def publisher(self) -> Publisher:
        """A publisher built by ``bot.publishers.build_publisher`` against the fake."""
        ...

    def sample_post(self) -> Post:
        """A post valid for the platform (composed from a Hindi/English article), with an
        image served by the fake and alt text."""
        ...

    def posts_received(self) -> int:
        """How many posts the fake accepted (created) so far."""
        ...

    def fail_next(self, fault: Fault) -> None:
        """Make the next post-creating request fail this way (once). "rejected" is the
        platform's documented 4xx answer for a post it will never take."""
        ...
