"""One module per platform behind the ``Publisher`` protocol; ``build_publisher`` picks one.

A platform module ``bot/publishers/<platform>.py`` declares ``PLATFORM`` (see
``bot.platform``): its name, credentials, options, compose profile, publisher factory and
abilities. ``bot.registry`` finds it; adding a platform means adding that module (with its
fake server, harness and guide), nothing else in ``bot/``.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import registry
from bot.config import ChannelConfig
from bot.errors import ConfigError
from bot.protocols import Publisher
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.outbox import OutboxPublisher

Echo = Callable[[str], None]


def build_publisher(
    channel: ChannelConfig, ctx: PublisherContext, *, echo: Echo | None = None
) -> Publisher:
    """The publisher for ``channel``: the outbox file, or the platform's API client."""
    if channel.publisher == "outbox":
        return OutboxPublisher(
            name=channel.name, platform=channel.platform, path=channel.outbox, echo=echo
        )
    platform = registry.get(channel.platform)
    if platform is None:
        raise ConfigError(
            f"publishing to {channel.platform} through its API is not available in this "
            'version; set publisher = "outbox" to collect its posts in a file',
            key=f"channels.{channel.name}.publisher",
        )
    return platform.build_checked(channel, ctx)


__all__ = [
    "MemoryState",
    "OutboxPublisher",
    "PublisherContext",
    "build_publisher",
]
