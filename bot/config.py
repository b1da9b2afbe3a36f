"""Read ``syndbot.toml`` once, at start-up, into frozen typed objects.

Every mistake becomes one ``ConfigError`` naming the file, the key path
(``channels[2].credentials.api_key``) and the fix. Secrets never live in the file: a
channel's ``credentials`` table maps logical names to *environment variable names*, resolved
here for ``publisher = "api"`` channels only. Nothing reads the environment at import time;
the caller passes ``env`` or we read ``os.environ`` when ``load_config`` runs.
"""

from __future__ import annotations

import difflib
import os
import re
import string
import tomllib
import zoneinfo
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dotenv

from bot.durations import EXAMPLES as DURATION_EXAMPLES
from bot.durations import parse_duration
from bot.errors import ConfigError
from bot.models import ChannelStyle

# fmt: off
PLATFORMS = ("x", "mastodon", "bluesky", "threads", "linkedin", "facebook", "instagram",
             "telegram", "discord", "slack")
# fmt: on

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
PLATFORM_ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "bsky": "bluesky"}

# Logical credential names each platform's publisher reads (values are env var names).
CREDENTIALS: dict[str, tuple[str, ...]] = {
    "x": ("api_key", "api_secret", "access_token", "access_token_secret"),
    "facebook": ("page_token",),
    "instagram": ("access_token",),
    "mastodon": ("access_token",),
    "bluesky": ("handle", "app_password"),
    "threads": ("access_token",),
    "linkedin": ("access_token",),
    "telegram": ("bot_token",),
    "discord": ("webhook_url",),
    "slack": ("webhook_url",),
}
REQUIRED_OPTIONS: dict[str, tuple[str, ...]] = {
    "facebook": ("page_id",),
    "instagram": ("ig_user_id",),
    "mastodon": ("instance",),
    "threads": ("user_id",),
    "linkedin": ("organization",),
    "telegram": ("chat_id",),
}
DEFAULT_OPTIONS: dict[str, dict[str, str]] = {"bluesky": {"pds": "https://bsky.social"}}
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
    database: Path = Path("var/syndbot.db")
    outbox: Path = Path("var/outbox.jsonl")
    poll_interval: float = 600.0
    jitter: float = 30.0
    deliver_interval: float = 15.0
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    max_feed_bytes: int = 10_000_000
    allow_private_addresses: bool = False
    timezone: str = "UTC"


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    lang: str | None = None
    interval: float = 600.0
    catch_up: CatchUp = CatchUp()
    full_text: str = "auto"  # "auto" | "always" | "never"
    on_edit: str = "ignore"  # "ignore" | "correction"


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

    def accepts(self, feed_name: str) -> bool:
        """True when this channel posts articles from ``feed_name`` (no list = every feed)."""
        return self.feeds is None or feed_name in self.feeds


@dataclass(frozen=True)
class Config:
    path: Path
    service: ServiceConfig
    feeds: tuple[FeedConfig, ...]
    channels: tuple[ChannelConfig, ...]

    def feed(self, name: str) -> FeedConfig:
        """The feed called ``name``; ``ConfigError`` listing the real names otherwise."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise self._unknown("feed", name, [f.name for f in self.feeds], "feeds")

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``; ``ConfigError`` listing the real names otherwise."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise self._unknown("channel", name, [c.name for c in self.channels], "channels")

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


_loaded_dotenv: set[Path] = set()


def load_dotenv_once(path: Path | None = None) -> bool:
    """Load ``path`` (default ``./.env``) into ``os.environ`` once; never override set vars.

    Returns True when a file was read by this call. Missing files are fine: on a server the
    variables usually come from the service manager instead.
    """
    target = (path if path is not None else Path.cwd() / ".env").resolve()
    if target in _loaded_dotenv:
        return False
    _loaded_dotenv.add(target)
    if not target.is_file():
        return False
    return dotenv.load_dotenv(target, override=False)


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Parse and validate ``path``; resolve api channels' credentials from ``env``."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(
            "file not found; copy config/syndbot.toml and edit it, or pass --config", file=file
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text; save the file as UTF-8", file=file) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_message(exc), file=file) from exc
    root = Section(data, file=file, path="")
    root.check_known(("service", "feeds", "channels"))
    service = _service(root.table("service"))
    feeds = _feeds(root, service)
    environ = env if env is not None else os.environ
    channels = _channels(root, service, feeds, environ)
    return Config(path=path, service=service, feeds=feeds, channels=channels)


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11 only puts the position in the text: "Invalid value (at line 2, column 5)".
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if match:
        reason = text[: match.start()].strip()
        return f"line {match[1]}, column {match[2]}: {reason}; this is not valid TOML syntax"
    return f"{text}; this is not valid TOML syntax"


def _service(sec: Section) -> ServiceConfig:
    sec.check_known(ServiceConfig.__dataclass_fields__)
    defaults = ServiceConfig()
    timezone = sec.text("timezone", defaults.timezone)
    sec.check_timezone("timezone", timezone)
    return ServiceConfig(
        database=Path(sec.text("database", str(defaults.database))),
        outbox=Path(sec.text("outbox", str(defaults.outbox))),
        poll_interval=sec.duration("poll_interval", defaults.poll_interval, positive=True),
        jitter=sec.duration("jitter", defaults.jitter),
        deliver_interval=sec.duration("deliver_interval", defaults.deliver_interval, positive=True),
        user_agent=sec.text("user_agent", defaults.user_agent),
        timeout=sec.duration("timeout", defaults.timeout, positive=True),
        max_feed_bytes=sec.integer("max_feed_bytes", defaults.max_feed_bytes, minimum=1),
        allow_private_addresses=sec.boolean(
            "allow_private_addresses", defaults.allow_private_addresses
        ),
        timezone=timezone,
    )


def _feeds(root: Section, service: ServiceConfig) -> tuple[FeedConfig, ...]:
    sections = root.array("feeds")
    if not sections:
        raise root.error(
            "feeds",
            'no feeds; add a [[feeds]] table with name and url (url = "builtin:demo" to try)',
        )
    feeds: list[FeedConfig] = []
    for sec in sections:
        sec.check_known(("name", "url", "lang", "interval", "catch_up", "full_text", "on_edit"))
        name = _unique_name(sec, [f.name for f in feeds], "feed")
        lang = sec.optional_text("lang")
        if lang is not None and not _LANG.fullmatch(lang):
            raise sec.error("lang", f'"{lang}" is not a language code; use e.g. "en", "hi", "ta"')
        feeds.append(
            FeedConfig(
                name=name,
                url=_feed_url(sec),
                lang=lang,
                interval=sec.duration("interval", service.poll_interval, positive=True),
                catch_up=_catch_up(sec),
                full_text=sec.choice("full_text", ("auto", "always", "never"), "auto"),
                on_edit=sec.choice("on_edit", ("ignore", "correction"), "ignore"),
            )
        )
    return tuple(feeds)


def _unique_name(sec: Section, taken: list[str], kind: str) -> str:
    name = sec.required_text("name")
    if not _NAME.fullmatch(name):
        raise sec.error("name", f'"{name}" is not a valid {kind} name; use a-z, 0-9, "_" and "-"')
    if name in taken:
        raise sec.error("name", f'duplicate {kind} name "{name}"; every {kind} needs its own name')
    return name


def _feed_url(sec: Section) -> str:
    url = sec.required_text("url")
    if url.startswith("builtin:"):
        if url != "builtin:demo":
            raise sec.error("url", f'unknown built-in feed "{url}"; the only one is "builtin:demo"')
    elif "://" in url and not re.match(r"https?://[^/\s]+", url):
        raise sec.error(
            "url", f'"{url}" is not an http(s) URL; use https://..., a file path or builtin:demo'
        )
    return url


def _catch_up(sec: Section) -> CatchUp:
    raw = sec.text("catch_up", "newest")
    mode, _, arg = raw.partition(":")
    hint = 'use "newest", "none", "all", "latest:3" or "newer:2d"'
    if mode in ("newest", "none", "all") and not arg:
        return CatchUp(mode=mode)  # type: ignore[arg-type]  # narrowed by the test above
    if mode == "latest" and arg.isdigit() and int(arg) > 0:
        return CatchUp(mode="latest", count=int(arg))
    if mode == "newer" and arg:
        try:
            return CatchUp(mode="newer", seconds=parse_duration(arg))
        except ValueError as exc:
            raise sec.error("catch_up", f"{exc}; {hint}") from exc
    raise sec.error("catch_up", f'"{raw}" is not a catch-up rule; {hint}')


_CHANNEL_KEYS = (
    *("name", "platform", "publisher", "outbox", "feeds", "template", "hashtags", "utm"),
    *("thread", "max_chars", "summary_chars", "link_in_bio", "image", "api_base"),
    *("max_posts_per_hour", "max_posts_per_day", "min_interval", "credentials", "options"),
)


def _channels(
    root: Section, service: ServiceConfig, feeds: tuple[FeedConfig, ...], env: Mapping[str, str]
) -> tuple[ChannelConfig, ...]:
    feed_names = [f.name for f in feeds]
    channels: list[ChannelConfig] = []
    for sec in root.array("channels"):
        sec.check_known(_CHANNEL_KEYS)
        name = _unique_name(sec, [c.name for c in channels], "channel")
        platform = _platform(sec)
        publisher: Publisher = (
            "outbox" if sec.choice("publisher", ("api", "outbox"), "api") == "outbox" else "api"
        )
        if publisher == "api" and "outbox" in sec:
            raise sec.error(
                "outbox",
                'only used with publisher = "outbox"; remove it, or set publisher = "outbox"',
            )
        channels.append(
            ChannelConfig(
                name=name,
                platform=platform,
                publisher=publisher,
                outbox=Path(sec.text("outbox", str(service.outbox))),
                feeds=_channel_feeds(sec, feed_names),
                style=_style(sec, name, platform),
                credentials=_credentials(sec, name, platform, publisher, env),
                options=_options(sec, platform, publisher),
                api_base=_api_base(sec),
                max_posts_per_hour=sec.optional_integer("max_posts_per_hour", minimum=1),
                max_posts_per_day=sec.optional_integer("max_posts_per_day", minimum=1),
                min_interval=sec.duration("min_interval", 0.0),
            )
        )
    return tuple(channels)


def _platform(sec: Section) -> str:
    platform = sec.required_text("platform").strip().lower()
    if platform in UNSUPPORTED_PLATFORMS:
        raise sec.error("platform", UNSUPPORTED_PLATFORMS[platform])
    if platform in PLATFORM_ALIASES:
        raise sec.error("platform", f'write platform = "{PLATFORM_ALIASES[platform]}"')
    if platform not in PLATFORMS:
        hint = closest(platform, PLATFORMS)
        raise sec.error(
            "platform", f'unknown platform "{platform}"{hint}; valid: {", ".join(PLATFORMS)}'
        )
    return platform


def _channel_feeds(sec: Section, feed_names: list[str]) -> tuple[str, ...] | None:
    if "feeds" not in sec:
        return None
    names = sec.text_list("feeds")
    if not names:
        raise sec.error("feeds", "empty list; remove the key to post every feed, or name some")
    for index, name in enumerate(names):
        if name not in feed_names:
            raise ConfigError(
                f'no feed named "{name}"{closest(name, feed_names)}; '
                f"feeds in this file: {', '.join(feed_names)}",
                file=sec.file,
                key=f"{sec.key('feeds')}[{index}]",
            )
    return tuple(names)


def _style(sec: Section, name: str, platform: str) -> ChannelStyle:
    template = sec.optional_text("template")
    if template is not None:
        _check_template(sec, template)
    return ChannelStyle(
        platform=platform,
        name=name,
        template=template,
        max_hashtags=sec.optional_integer("hashtags", minimum=0),
        utm=tuple(sec.string_table("utm").items()),
        thread=sec.boolean("thread", False),
        max_chars=sec.optional_integer("max_chars", minimum=1),
        link_in_bio=sec.text("link_in_bio", "Link in bio"),
        include_image=sec.boolean("image", True),
        summary_chars=sec.optional_integer("summary_chars", minimum=1),
    )


def _check_template(sec: Section, template: str) -> None:
    allowed = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise sec.error("template", f"{exc}; write a literal brace as {{{{ or }}}}") from exc
    for placeholder in fields:
        if placeholder not in TEMPLATE_FIELDS:
            hint = closest(placeholder, TEMPLATE_FIELDS)
            raise sec.error(
                "template", f'unknown placeholder "{{{placeholder}}}"{hint}; use {allowed}'
            )


def _credentials(
    sec: Section, name: str, platform: str, publisher: Publisher, env: Mapping[str, str]
) -> dict[str, Secret]:
    table = sec.table("credentials")
    table.check_known(CREDENTIALS[platform])
    var_names: dict[str, str] = {}
    for key in table:
        value = table.data[key]
        # Never echo the value: a user who pasted the secret itself must not see it in logs.
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
            raise table.error(
                key,
                "must be the NAME of an environment variable (e.g. "
                f"{_env_suggestion(name, key)}), not the secret itself; {DOTENV_HINT}",
            )
        var_names[key] = value
    if publisher == "outbox":
        return {}
    secrets: dict[str, Secret] = {}
    for key in CREDENTIALS[platform]:
        if key not in var_names:
            suggestion = _env_suggestion(name, key)
            raise table.error(
                key,
                f'channel "{name}" ({platform}, publisher "api") needs {key} = "{suggestion}"'
                f" in [channels.credentials]; then {DOTENV_HINT}",
            )
        value = env.get(var_names[key], "")
        if not value.strip():
            raise table.error(
                key,
                f'channel "{name}" reads {key} from the environment variable '
                f"{var_names[key]}, which is not set or empty; {DOTENV_HINT}",
            )
        secrets[key] = Secret(value.strip())
    return secrets


def _env_suggestion(channel: str, key: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", f"{channel}_{key}".upper())


def _options(sec: Section, platform: str, publisher: Publisher) -> dict[str, str]:
    table = sec.table("options")
    options = dict(DEFAULT_OPTIONS.get(platform, {}))
    options.update(table.string_table_here(scalars=True))
    for key in options:
        if any(word in key.lower() for word in ("token", "secret", "password")):
            raise table.error(key, "looks like a secret; move it to [channels.credentials]")
    if publisher == "api":
        for key in REQUIRED_OPTIONS.get(platform, ()):
            if not options.get(key):
                hint = closest(key, list(options))
                raise table.error(
                    key,
                    f"{platform} channels need options.{key}{hint}; add it to [channels.options]",
                )
    return options


def _api_base(sec: Section) -> str | None:
    base = sec.optional_text("api_base")
    if base is not None and not re.match(r"https?://[^/\s]+", base):
        raise sec.error("api_base", f'"{base}" is not an http(s) URL')
    return base.rstrip("/") if base else None


# --- Reading typed values out of a TOML table, with the key path for every error --------


def closest(word: str, candidates: Collection[str]) -> str:
    """``'; did you mean "feeds"?'`` for a near miss, else ``""``."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f'; did you mean "{match[0]}"?' if match else ""


def _kind(value: object) -> str:
    kinds = ((bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "a string"))
    for cls, name in kinds:
        if isinstance(value, cls):
            return name
    if isinstance(value, dict):
        return "a table"
    return "an array" if isinstance(value, list) else "a date/time"


@dataclass(frozen=True)
class Section:
    """One TOML table and where it sits (``channels[2]``); hands out checked values."""

    data: Mapping[str, Any]
    file: str
    path: str

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=self.key(name))

    def check_known(self, known: Collection[str]) -> None:
        for name in self.data:
            if name not in known:
                hint = closest(name, known)
                listed = ", ".join(sorted(known)) or "none"
                raise self.error(name, f'unknown key "{name}"{hint}; known keys here: {listed}')

    def _typed(self, name: str, cls: type | tuple[type, ...], what: str) -> Any:
        value = self.data[name]
        if isinstance(value, bool) != (cls is bool) or not isinstance(value, cls):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise self.error(name, f"expected {what}, got {_kind(value)} {shown}")
        return value

    def text(self, name: str, default: str) -> str:
        return default if name not in self.data else str(self._typed(name, str, "a string"))

    def optional_text(self, name: str) -> str | None:
        return None if name not in self.data else str(self._typed(name, str, "a string"))

    def required_text(self, name: str) -> str:
        if name not in self.data:
            raise self.error(name, f'missing; add {name} = "..."')
        value = str(self._typed(name, str, "a string"))
        if not value.strip():
            raise self.error(name, "is empty")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in choices:
            listed = ", ".join(f'"{c}"' for c in choices)
            raise self.error(
                name, f'"{value}" is not allowed{closest(value, choices)}; use {listed}'
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        return default if name not in self.data else bool(self._typed(name, bool, "true or false"))

    def optional_integer(self, name: str, *, minimum: int) -> int | None:
        if name not in self.data:
            return None
        value = int(self._typed(name, int, "an integer"))
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        return value

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        value = self.optional_integer(name, minimum=minimum)
        return default if value is None else value

    def duration(self, name: str, default: float, *, positive: bool = False) -> float:
        if name not in self.data:
            return default
        try:
            seconds = parse_duration(self.data[name])
        except ValueError as exc:
            raise self.error(name, str(exc)) from exc
        if positive and seconds <= 0:
            raise self.error(name, f"must be longer than zero; write it like {DURATION_EXAMPLES}")
        return seconds

    def text_list(self, name: str) -> list[str]:
        values = self._typed(name, list, 'an array of strings, e.g. ["a", "b"]')
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{name}[{index}]", f"expected a string, got {_kind(value)}")
        return list(values)

    def table(self, name: str) -> Section:
        """The sub-table ``name`` (empty when absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table, got {_kind(value)}")
        return Section(value, file=self.file, path=self.key(name))

    def array(self, name: str) -> list[Section]:
        """The array of tables ``[[name]]`` (empty when absent)."""
        value = self.data.get(name, [])
        if isinstance(value, dict):
            raise self.error(name, f"write [[{name}]] (one per entry), not [{name}]")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, f"expected [[{name}]] tables, got {_kind(value)}")
        key = self.key(name)
        return [Section(v, file=self.file, path=f"{key}[{i}]") for i, v in enumerate(value)]

    def string_table(self, name: str) -> dict[str, str]:
        return self.table(name).string_table_here(scalars=False)

    def string_table_here(self, *, scalars: bool) -> dict[str, str]:
        """This table as ``str -> str``; with ``scalars``, integers and booleans are allowed."""
        result: dict[str, str] = {}
        for key, value in self.data.items():
            if isinstance(value, bool) and scalars:
                result[key] = "true" if value else "false"
            elif isinstance(value, int) and not isinstance(value, bool) and scalars:
                result[key] = str(value)
            else:
                result[key] = str(self._typed(key, str, "a string"))
        return result

    def check_timezone(self, name: str, value: str) -> None:
        if value == "UTC":
            return  # always valid, even where the system has no tz database
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise self.error(
                name, f'unknown time zone "{value}"; use an IANA name like "Asia/Kolkata"'
            ) from exc
