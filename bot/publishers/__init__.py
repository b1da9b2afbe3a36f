"""One module per platform behind the ``Publisher`` protocol; ``build_publisher`` picks one.

A platform module ``bot/publishers/<platform>.py`` exposes ``build(channel, ctx)``. Adding
a platform means adding that module; nothing else changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bot.config import ChannelConfig
from bot.errors import ConfigError
from bot.protocols import Publisher
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.outbox import OutboxPublisher

Echo = Callable[[str], None]


def api_available(platform: str) -> bool:
    """Whether a real API publisher exists for ``platform``."""
    try:
        module = importlib.import_module(f"bot.publishers.{platform}")
    except ModuleNotFoundError:
        return False
    return hasattr(module, "build")


def build_publisher(
    channel: ChannelConfig, ctx: PublisherContext, *, echo: Echo | None = None
) -> Publisher:
    """The publisher for ``channel``: the outbox file, or the platform's API client."""
    if channel.publisher == "outbox":
        return OutboxPublisher(
            name=channel.name, platform=channel.platform, path=channel.outbox, echo=echo
        )
    if not api_available(channel.platform):
        raise ConfigError(
            f"publishing to {channel.platform} through its API is not available in this "
            'version; set publisher = "outbox" to collect its posts in a file',
            key=f"channels.{channel.name}.publisher",
        )
    module = importlib.import_module(f"bot.publishers.{channel.platform}")
    publisher: Publisher = module.build(channel, ctx)
    return publisher


__all__ = [
    "MemoryState",
    "OutboxPublisher",
    "PublisherContext",
    "api_available",
    "build_publisher",
]
