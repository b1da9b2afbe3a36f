"""One module per platform behind the ``Publisher`` protocol; ``build_publisher`` picks one.

Adding a platform means adding a module here and a line in ``_FACTORIES``; nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.config import ChannelConfig
from bot.errors import ConfigError
from bot.protocols import Publisher
from bot.publishers.outbox import OutboxPublisher

Echo = Callable[[str], None]
Factory = Callable[[ChannelConfig], Publisher]

# Platforms whose real API publisher exists. Others can run with publisher = "outbox".
_FACTORIES: dict[str, Factory] = {}


def build_publisher(channel: ChannelConfig, *, echo: Echo | None = None) -> Publisher:
    """The publisher for ``channel``: the outbox file, or the platform's API client."""
    if channel.publisher == "outbox":
        return OutboxPublisher(
            name=channel.name, platform=channel.platform, path=channel.outbox, echo=echo
        )
    factory = _FACTORIES.get(channel.platform)
    if factory is None:
        raise ConfigError(
            f"publishing to {channel.platform} through its API is not available yet; set "
            f'publisher = "outbox" to collect the posts in a file',
            key=f"channels.{channel.name}.publisher",
        )
    return factory(channel)


__all__ = ["OutboxPublisher", "build_publisher"]
