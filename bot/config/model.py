"""Typed config objects; built only by ``bot.config.load_config``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Literal

from bot.config._http import HttpConfig
from bot.config._llm import LlmConfig
from bot.config._section import closest
from bot.engine.approval import Approval
from bot.engine.filters import Filters
from bot.errors import ConfigError
from bot.models import ChannelStyle
from bot.store.url import Database

# The platforms, their aliases, credentials and options are declared by each platform
# (``bot/publishers/<platform>.py``, collected by ``bot.registry``).

# Platforms people ask for that have no posting API. Saying so beats a vague "unknown".
UNSUPPORTED_PLATFORMS = {
    "youtube": (
        "YouTube has no API for community posts, so syndbot cannot post there; list the "
        "channel in a comment, or post to X, Facebook, Instagram, Threads, Mastodon, "
        "Bluesky or Telegram instead."
    ),
    "whatsapp": (
        "WhatsApp has no API for posting to WhatsApp Channels, so syndbot cannot post "
        "there; list the channel in a comment, or post to Telegram, X, Facebook, Instagram, "
        "Threads, Mastodon or Bluesky instead."
    ),
}
TEMPLATE_FIELDS = ("title", "summary", "url", "hashtags", "author", "feed", "lang")
DEFAULT_USER_AGENT = "syndbot/0.1 (+https://github.com/syndbot/syndbot)"
DOTENV_HINT = "add it to .env (see .env.example)"

_NAME = re.compile(r"[a-z0-9_-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")

CatchUpMode = Literal["newest", "none", "latest", "newer", "all"]
Publisher = Literal["api", "outbox"]


class Secret:
    """A credential value that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class CatchUp:
    """What the first successful poll of a feed queues (see config-spec)."""

    mode: CatchUpMode = "newest"
    count: int = 0  # for "latest"
    seconds: float = 0.0  # for "newer"


@dataclass(frozen=True)
class ServiceConfig:
    database: Database = Path("var/syndbot.db")  # a file, or a postgresql:// URL
    outbox: Path = Path("var/outbox.jsonl")
    poll_interval: float = 600.0
    # A feed without a new or edited item for long is polled less often, up to this; None:
    # every feed at its interval (``bot.engine.pacing``).
    max_poll_interval: float | None = None
    jitter: float = 30.0
    deliver_interval: float = 15.0
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    max_feed_bytes: int = 10_000_000
    feed_deadline: float = 60.0  # a whole feed download, however the server drips it
    allow_private_addresses: bool = False
    timezone: str = "UTC"
    fleet: bool = False  # several instances share a PostgreSQL database (bot.fleet)
    poll_concurrency: int = 64  # feed polls in flight at once
    poll_per_host: int = 4  # of those, at most this many to one host


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    lang: str | None = None
    interval: float = 600.0
    max_interval: float | None = None  # a quiet feed slows down to this; None: never
    catch_up: CatchUp = CatchUp()
    full_text: str = "auto"  # "auto" | "always" | "never"
    on_edit: str = "ignore"  # "ignore" | "correction"
    max_new: int = 25  # more new items in one poll than this looks like a feed reset
    # What its channels take of it (besides their own filters).
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    platform: str
    publisher: Publisher
    outbox: Path
    feeds: tuple[str, ...] | None
    style: ChannelStyle
    credentials: dict[str, Secret] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    api_base: str | None = None
    max_posts_per_hour: int | None = None
    max_posts_per_day: int | None = None
    min_interval: float = 0.0
    quiet_hours: tuple[time, time] | None = None  # local [start, end) when nothing is posted
    timezone: str = "UTC"  # for quiet_hours and the daily budget
    filters: Filters = field(default_factory=Filters)  # the rest are recorded as skipped
    slots: tuple[time, ...] = ()  # local times at which posts go out, one per slot
    approval: Approval = field(default_factory=Approval)  # auto, hold:<duration> or manual

    def secret(self, key: str) -> str:
        """The value of credential ``key`` (config validation checked it is set), or a
        ``ConfigError`` naming the key: the one credential lookup every publisher uses."""
        secret = self.credentials.get(key)
        value = secret.get().strip() if secret is not None else ""
        if not value:
            raise ConfigError(
                "missing; set it to the name of the environment variable holding the value, "
                "and the value in .env",
                key=f"channels.{self.name}.credentials.{key}",
            )
        return value

    def accepts(self, feed_name: str) -> bool:
        """True when this channel posts articles from ``feed_name`` (no list = every feed)."""
        return self.feeds is None or feed_name in self.feeds


@dataclass(frozen=True)
class Config:
    path: Path
    service: ServiceConfig
    feeds: tuple[FeedConfig, ...]
    channels: tuple[ChannelConfig, ...]
    http: HttpConfig | None = None  # [http]: off unless listen is set
    llm: LlmConfig | None = None  # [llm]: off unless base_url is set
    # Only filled by load_config(defer_missing_credentials=True): channel name -> why it has
    # no credentials. A ConfigError (subclass), so the service never runs with one.
    unresolved: Mapping[str, ConfigError] = field(default_factory=dict)
    # Name -> entry, built once: the pipeline looks feeds and channels up on every poll.
    _feeds_by_name: dict[str, FeedConfig] = field(init=False, repr=False, compare=False)
    _channels_by_name: dict[str, ChannelConfig] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_feeds_by_name", {f.name: f for f in self.feeds})
        object.__setattr__(self, "_channels_by_name", {c.name: c for c in self.channels})

    def feed(self, name: str) -> FeedConfig:
        """The feed called ``name``; ``ConfigError`` listing the real names otherwise."""
        found = self._feeds_by_name.get(name)
        if found is None:
            raise self._unknown("feed", name, [f.name for f in self.feeds], "feeds")
        return found

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``; ``ConfigError`` listing the real names otherwise."""
        found = self._channels_by_name.get(name)
        if found is None:
            raise self._unknown("channel", name, [c.name for c in self.channels], "channels")
        return found

    def channels_for(self, feed_name: str) -> list[ChannelConfig]:
        """Channels that post articles of ``feed_name``, in config order."""
        return [c for c in self.channels if c.accepts(feed_name)]

    def _unknown(self, kind: str, name: str, names: list[str], key: str) -> ConfigError:
        hint = closest(name, names)
        known = ", ".join(names) or "none"
        return ConfigError(
            f'no {kind} named "{name}"{hint}; {kind}s in this file: {known}',
            file=str(self.path),
            key=key,
        )
