"""What a platform declares about itself, once, in ``bot/publishers/<platform>.py``.

Each platform module holds ``PLATFORM = Platform(...)``: its name and aliases, the
credentials and options a channel gives it, the compose ``Profile`` its posts are fitted
to, the factory that builds its publisher, and the optional abilities that publisher
offers. ``bot.registry`` collects the declarations; config validation, compose, the CLI
and ``build_publisher`` read them there, so nothing else keeps a list of platforms.

Abilities are typed protocols. A platform names the ones it offers in ``abilities``, and
``Platform.build_checked`` refuses a publisher that does not match that list either way,
so ``isinstance(publisher, Reconciles)`` in the delivery engine is the declaration.

This module imports only value types: no config loading, no HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.compose.profiles import Profile
from bot.models import Limits, Post, PublishResult

if TYPE_CHECKING:  # only for annotations: bot.config imports the registry lazily
    from bot.config import ChannelConfig
    from bot.protocols import Publisher
    from bot.publishers.base import PublisherContext


@runtime_checkable
class Reconciles(Protocol):
    """Can tell whether a post with this idempotency key already went out (a read-back
    or a remembered id), so a lost answer or a crash never leads to a second post."""

    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None: ...


@runtime_checkable
class InstanceLimits(Protocol):
    """Its limits depend on the server (a Mastodon instance may allow 5,000 characters).
    ``limits`` is fetched from the server and cached by the publisher; None when the
    server cannot say now (compose then uses the profile's own limits)."""

    def limits(self) -> Limits | None: ...


ABILITIES: tuple[type, ...] = (Reconciles, InstanceLimits)

Factory = Callable[["ChannelConfig", "PublisherContext"], "Publisher"]


@dataclass(frozen=True)
class Platform:
    """One platform, as every part of syndbot sees it."""

    name: str
    profile: Profile  # the compose rules: counting, limits, link and hashtag style
    build: Factory  # the publisher for one channel
    credentials: tuple[str, ...]  # logical names; the config maps each to an env var
    aliases: tuple[str, ...] = ()  # names people type that mean this platform
    required_options: tuple[str, ...] = ()  # [channels.options] an API channel must set
    default_options: Mapping[str, str] = field(default_factory=dict)
    abilities: tuple[type, ...] = ()  # from ABILITIES; checked by build_checked

    def __post_init__(self) -> None:
        if self.profile.name != self.name:
            raise ValueError(f"{self.name}: the profile is named {self.profile.name!r}")
        unknown = [a for a in self.abilities if a not in ABILITIES]
        if unknown:
            raise ValueError(f"platform {self.name!r}: unknown abilities {unknown}")

    def build_checked(self, channel: ChannelConfig, ctx: PublisherContext) -> Publisher:
        """``build``, then the check that the publisher offers exactly the declared
        abilities (a mismatch is a bug in the platform module, found at start-up)."""
        publisher = self.build(channel, ctx)
        problems = ability_mismatch(self, publisher)
        if problems:
            raise TypeError(f"{self.name} publisher: {'; '.join(problems)}")
        return publisher


def ability_mismatch(platform: Platform, publisher: Any) -> list[str]:
    """What differs between the abilities ``platform`` declares and those ``publisher``
    implements (empty when they agree)."""
    problems: list[str] = []
    for ability in ABILITIES:
        declared = ability in platform.abilities
        offered = isinstance(publisher, ability)
        if declared and not offered:
            problems.append(f"declares {ability.__name__} but does not implement it")
        elif offered and not declared:
            problems.append(f"implements {ability.__name__} without declaring it")
    return problems
