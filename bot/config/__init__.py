"""Read ``syndbot.toml`` once, at start-up, into frozen typed objects.

Every mistake becomes one ``ConfigError`` naming the file, the key path
(``channels[2].credentials.api_key``) and the fix. Secrets never live in the file: a
channel's ``credentials`` table maps logical names to *environment variable names*, resolved
here for ``publisher = "api"`` channels only. Nothing reads the environment at import time;
the caller passes ``env`` or we read ``os.environ`` when ``load_config`` runs.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path

import dotenv

# fmt: offfrom bot.config._section import Section, closest
from bot.config._section import Section, closest
from bot.config.model import (
    _ENV_NAME,
    _LANG,
    _NAME,
    CREDENTIALS,
    DEFAULT_OPTIONS,
    DOTENV_HINT,
    PLATFORM_ALIASES,
    PLATFORMS,
    REQUIRED_OPTIONS,
    TEMPLATE_FIELDS,
    UNSUPPORTED_PLATFORMS,
    CatchUp,
    ChannelConfig,
    Config,
    FeedConfig,
    Publisher,
    Secret,
    ServiceConfig,
)
from bot.durations import parse_duration
from bot.errors import ConfigError
from bot.models import ChannelStyle

__all__ = [
    "CREDENTIALS",
    "DEFAULT_OPTIONS",
    "PLATFORMS",
    "REQUIRED_OPTIONS",
    "TEMPLATE_FIELDS",
    "UNSUPPORTED_PLATFORMS",
    "CatchUp",
    "ChannelConfig",
    "Config",
    "FeedConfig",
    "Secret",
    "ServiceConfig",
    "closest",
    "load_config",
    "load_dotenv_once",
]


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
        feed_deadline=sec.duration("feed_deadline", defaults.feed_deadline, positive=True),
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
        sec.check_known(
            ("name", "url", "lang", "interval", "catch_up", "full_text", "on_edit", "max_new")
        )
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
                max_new=sec.integer("max_new", 25, minimum=1),
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
    *("quiet_hours", "timezone"),
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
                quiet_hours=_quiet_hours(sec),
                timezone=_channel_timezone(sec, service),
            )
        )
    return tuple(channels)


def _quiet_hours(sec: Section) -> tuple[time, time] | None:
    raw = sec.optional_text("quiet_hours")
    if raw is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", raw)
    hint = 'write it as "HH:MM-HH:MM" in the channel\'s timezone, e.g. "22:30-06:00"'
    if match is None:
        raise sec.error("quiet_hours", f'"{raw}" is not a time range; {hint}')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise sec.error("quiet_hours", f'"{raw}" has an impossible time; {hint}')
    if (h1, m1) == (h2, m2):
        raise sec.error("quiet_hours", f'"{raw}" starts and ends at the same time; {hint}')
    return time(h1, m1), time(h2, m2)


def _channel_timezone(sec: Section, service: ServiceConfig) -> str:
    zone = sec.text("timezone", service.timezone)
    sec.check_timezone("timezone", zone)
    return zone


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
