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
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import dotenv

from bot.config._channels import parse_channels, unique_name
from bot.config._credentials import MissingCredential
from bot.config._filters import FILTER_KEYS, parse_filters
from bot.config._http import HttpConfig, parse_http
from bot.config._llm import LlmConfig, parse_llm
from bot.config._section import Section, closest
from bot.config.model import (
    _LANG,
    TEMPLATE_FIELDS,
    UNSUPPORTED_PLATFORMS,
    CatchUp,
    ChannelConfig,
    Config,
    FeedConfig,
    Secret,
    ServiceConfig,
)
from bot.durations import format_duration, parse_duration
from bot.errors import ConfigError
from bot.store.url import Database, DatabaseURL, parse_database

__all__ = [
    "TEMPLATE_FIELDS",
    "UNSUPPORTED_PLATFORMS",
    "CatchUp",
    "ChannelConfig",
    "Config",
    "FeedConfig",
    "HttpConfig",
    "LlmConfig",
    "MissingCredential",
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


def load_config(
    path: Path, *, env: Mapping[str, str] | None = None, defer_missing_credentials: bool = False
) -> Config:
    """Parse and validate ``path``; resolve api channels' credentials from ``env``.

    With ``defer_missing_credentials`` a channel whose variable is not set is kept without
    credentials and its error put in ``Config.unresolved`` (for ``channels check``); every
    other mistake, a pasted secret included, still raises.
    """
    file = str(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(
            "file not found; copy config/syndbot.toml and edit it, or pass --config", file=file
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigError(
            "is a directory, not a config file; pass --config the .toml file itself "
            f"(e.g. {path / 'syndbot.toml'})",
            file=file,
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read the file: {exc.strerror or exc}; check its permissions, or pass "
            "--config another file",
            file=file,
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text; save the file as UTF-8", file=file) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_message(exc), file=file) from exc
    root = Section(data, file=file, path="")
    root.check_known(("service", "http", "llm", "feeds", "channels"))
    _check_misplaced_channels(root)
    environ = env if env is not None else os.environ
    service = _service(root.table("service"), environ)
    feeds = _feeds(root, service)
    unresolved: dict[str, MissingCredential] | None = {} if defer_missing_credentials else None
    http = parse_http(root.table("http"), environ)
    llm = parse_llm(root.table("llm"), environ)
    channels = parse_channels(root, service, feeds, environ, unresolved)
    return Config(
        path=path,
        service=service,
        feeds=feeds,
        channels=channels,
        http=http,
        llm=llm,
        unresolved=unresolved or {},
    )


def _check_misplaced_channels(root: Section) -> None:
    """``channels = []`` under a [table] heading belongs to that table in TOML; say so."""
    tables = [root.table("service"), *root.array("feeds")]
    for sec in tables:
        if "channels" in sec and "channels" not in root:
            raise sec.error(
                "channels",
                "channels = [] must come before the first [table] heading, at the top of the "
                "file; TOML puts a key under the heading above it",
            )


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11 only puts the position in the text: "Invalid value (at line 2, column 5)".
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if match:
        reason = text[: match.start()].strip()
        return f"line {match[1]}, column {match[2]}: {reason}; this is not valid TOML syntax"
    return f"{text}; this is not valid TOML syntax"


def _service(sec: Section, environ: Mapping[str, str]) -> ServiceConfig:
    sec.check_known(ServiceConfig.__dataclass_fields__)
    defaults = ServiceConfig()
    timezone = sec.text("timezone", defaults.timezone)
    sec.check_timezone("timezone", timezone)
    database = _database(sec, environ, defaults.database)
    fleet = sec.boolean("fleet", defaults.fleet)
    if fleet and not isinstance(database, DatabaseURL):
        raise sec.error(
            "fleet",
            "several instances need a shared PostgreSQL database: set service.database (or "
            "$SYNDBOT_DATABASE) to a postgresql:// URL, or leave fleet out",
        )
    return ServiceConfig(
        database=database,
        fleet=fleet,
        outbox=Path(sec.text("outbox", str(defaults.outbox))),
        poll_interval=sec.duration("poll_interval", defaults.poll_interval, positive=True),
        max_poll_interval=(
            sec.duration("max_poll_interval", 0.0, positive=True)
            if "max_poll_interval" in sec.data
            else None
        ),
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
        poll_concurrency=sec.integer("poll_concurrency", defaults.poll_concurrency, minimum=1),
        poll_per_host=sec.integer("poll_per_host", defaults.poll_per_host, minimum=1),
    )


def _database(sec: Section, environ: Mapping[str, str], default: Database) -> Database:
    """``$SYNDBOT_DATABASE`` when set (it keeps a PostgreSQL password out of the file),
    else ``service.database``: a file path, or a ``postgresql://`` URL."""
    text = environ.get("SYNDBOT_DATABASE", "").strip() or sec.text("database", str(default))
    try:
        return parse_database(text)
    except ValueError as exc:
        raise sec.error("database", str(exc)) from exc


def _feeds(root: Section, service: ServiceConfig) -> tuple[FeedConfig, ...]:
    sections = root.array("feeds")
    if not sections:
        raise root.error(
            "feeds",
            'no feeds; add a [[feeds]] table with name and url (url = "builtin:demo" to try)',
        )
    feeds: list[FeedConfig] = []
    taken: set[str] = set()
    for sec in sections:
        sec.check_known(
            (
                *("name", "url", "lang", "interval", "max_interval", "catch_up", "full_text"),
                "on_edit",
                *("max_new", *FILTER_KEYS),
            )
        )
        name = unique_name(sec, taken, "feed")
        interval = sec.duration("interval", service.poll_interval, positive=True)
        lang = sec.optional_text("lang")
        if lang is not None and not _LANG.fullmatch(lang):
            raise sec.error("lang", f'"{lang}" is not a language code; use e.g. "en", "hi", "ta"')
        feeds.append(
            FeedConfig(
                name=name,
                url=_feed_url(sec),
                lang=lang,
                interval=interval,
                max_interval=_max_interval(sec, interval, service.max_poll_interval),
                catch_up=_catch_up(sec),
                full_text=sec.choice("full_text", ("auto", "always", "never"), "auto"),
                on_edit=sec.choice("on_edit", ("ignore", "correction"), "ignore"),
                max_new=sec.integer("max_new", 25, minimum=1),
                filters=parse_filters(sec),
            )
        )
    return tuple(feeds)


def _max_interval(sec: Section, interval: float, service_max: float | None) -> float | None:
    """The feed's ``max_interval``, else ``service.max_poll_interval``; None when it is no
    longer than the feed's ``interval`` (the feed is never slowed). The feed's own key
    shorter than its interval is refused."""
    if "max_interval" not in sec.data:
        return service_max if service_max is not None and service_max > interval else None
    longest = sec.duration("max_interval", interval, positive=True)
    if longest < interval:
        raise sec.error(
            "max_interval",
            f"{format_duration(longest)} is shorter than the feed's interval "
            f"({format_duration(interval)}); make it longer, or leave it out",
        )
    return longest if longest > interval else None


def _feed_url(sec: Section) -> str:
    url = sec.required_text("url")
    if url.startswith("builtin:"):
        if url != "builtin:demo":
            raise sec.error("url", f'unknown built-in feed "{url}"; the only one is "builtin:demo"')
    elif "://" in url and not re.match(r"https?://[^/\s]+", url):
        raise sec.error(
            "url", f'"{url}" is not an http(s) URL; use https://..., a file path or builtin:demo'
        )
    elif "://" in url:
        try:
            urlsplit(url).port  # noqa: B018  (a bad port or IPv6 host raises ValueError)
        except ValueError as exc:
            raise sec.error("url", f'"{url}" is not a valid URL ({exc}); correct it') from exc
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
