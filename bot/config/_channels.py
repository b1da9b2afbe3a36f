"""The ``[[channels]]`` tables of ``syndbot.toml``: platform, style, credentials, options.

Split from ``bot.config`` (which reads the file and the other tables) to keep each module
small; errors name the file and key path like every other config error.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import time
from pathlib import Path

from bot.config._credentials import MissingCredential, resolve_credentials
from bot.config._filters import FILTER_KEYS, parse_filters
from bot.config._section import Section, closest
from bot.config.model import (
    _NAME,
    TEMPLATE_FIELDS,
    UNSUPPORTED_PLATFORMS,
    ChannelConfig,
    FeedConfig,
    Publisher,
    Secret,
    ServiceConfig,
)
from bot.engine.approval import Approval
from bot.errors import ConfigError
from bot.models import ChannelStyle

_CHANNEL_KEYS = (
    *("name", "platform", "publisher", "outbox", "feeds", "template", "hashtags", "utm"),
    *("thread", "max_chars", "summary_chars", "link_in_bio", "image", "api_base"),
    *("max_posts_per_hour", "max_posts_per_day", "min_interval", "credentials", "options"),
    *("quiet_hours", "timezone", "slots", "approval"),
    *FILTER_KEYS,
)


def unique_name(sec: Section, taken: set[str], kind: str) -> str:
    """The table's ``name``, checked for shape and against the names ``taken`` before;
    added to ``taken`` (a set: thousands of feeds are checked in linear time)."""
    name = sec.required_text("name")
    if not _NAME.fullmatch(name):
        raise sec.error("name", f'"{name}" is not a valid {kind} name; use a-z, 0-9, "_" and "-"')
    if name in taken:
        raise sec.error("name", f'duplicate {kind} name "{name}"; every {kind} needs its own name')
    taken.add(name)
    return name


def parse_channels(
    root: Section,
    service: ServiceConfig,
    feeds: tuple[FeedConfig, ...],
    env: Mapping[str, str],
    unresolved: dict[str, MissingCredential] | None = None,
) -> tuple[ChannelConfig, ...]:
    """Every ``[[channels]]`` table, checked, with api channels' secrets read from ``env``.

    With ``unresolved``, a channel whose credentials are missing is kept (without them) and
    its error recorded there instead of raised, so ``channels check`` can report every one.
    """
    feed_names = dict.fromkeys(f.name for f in feeds)  # ordered, O(1) membership
    if "channels" not in root:
        # Without channels every new item would be marked seen and posted nowhere.
        raise root.error(
            "channels",
            "no channels; add a [[channels]] table with name and platform "
            '(publisher = "outbox" to try without credentials), or write channels = [] '
            "at the top of the file to only record items as seen",
        )
    channels: list[ChannelConfig] = []
    taken: set[str] = set()
    for sec in root.array("channels"):
        sec.check_known(_CHANNEL_KEYS)
        name = unique_name(sec, taken, "channel")
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
                credentials=_secrets(sec, name, platform, publisher, env, unresolved=unresolved),
                options=_options(sec, platform, publisher),
                api_base=_api_base(sec),
                max_posts_per_hour=sec.optional_integer("max_posts_per_hour", minimum=1),
                max_posts_per_day=sec.optional_integer("max_posts_per_day", minimum=1),
                min_interval=sec.duration("min_interval", 0.0),
                quiet_hours=_quiet_hours(sec),
                timezone=_channel_timezone(sec, service),
                filters=parse_filters(sec),
                slots=_slots(sec),
                approval=_approval(sec),
            )
        )
    return tuple(channels)


def _secrets(
    sec: Section,
    name: str,
    platform: str,
    publisher: Publisher,
    env: Mapping[str, str],
    *,
    unresolved: dict[str, MissingCredential] | None,
) -> dict[str, Secret]:
    try:
        return resolve_credentials(sec.table("credentials"), name, platform, publisher, env)
    except MissingCredential as exc:
        if unresolved is None:
            raise
        unresolved[name] = exc
        return {}


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


def _approval(sec: Section) -> Approval:
    try:
        return Approval.parse(sec.text("approval", "auto"))
    except ValueError as exc:
        raise sec.error("approval", str(exc)) from exc


def _slots(sec: Section) -> tuple[time, ...]:
    """``slots = ["08:30", "18:00"]``: sorted local times, each at most once."""
    if "slots" not in sec:
        return ()
    hint = 'write each as "HH:MM" in the channel\'s timezone, e.g. ["08:30", "12:30", "18:00"]'
    found: set[time] = set()
    for index, raw in enumerate(sec.text_list("slots")):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise sec.error(f"slots[{index}]", f'"{raw}" is not a time of day; {hint}')
        slot = time(int(match[1]), int(match[2]))
        if slot in found:
            raise sec.error(f"slots[{index}]", f'"{raw}" is listed twice; {hint}')
        found.add(slot)
    if not found:
        raise sec.error("slots", f"empty list; remove the key to post any time, or {hint}")
    return tuple(sorted(found))


def _channel_timezone(sec: Section, service: ServiceConfig) -> str:
    zone = sec.text("timezone", service.timezone)
    sec.check_timezone("timezone", zone)
    return zone


def _platform(sec: Section) -> str:
    from bot import registry  # the platform modules import this package

    platform = sec.required_text("platform").strip().lower()
    if platform in UNSUPPORTED_PLATFORMS:
        raise sec.error("platform", UNSUPPORTED_PLATFORMS[platform])
    aliases = registry.aliases()
    if platform in aliases:
        raise sec.error("platform", f'write platform = "{aliases[platform]}"')
    names = registry.names()
    if platform not in names:
        hint = closest(platform, names)
        raise sec.error(
            "platform", f'unknown platform "{platform}"{hint}; valid: {", ".join(names)}'
        )
    return platform


def _channel_feeds(sec: Section, feed_names: dict[str, None]) -> tuple[str, ...] | None:
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


def _options(sec: Section, platform: str, publisher: Publisher) -> dict[str, str]:
    from bot import registry

    declared = registry.platforms()[platform]
    table = sec.table("options")
    options = dict(declared.default_options)
    options.update(table.string_table_here(scalars=True))
    for key in options:
        if any(word in key.lower() for word in ("token", "secret", "password")):
            raise table.error(key, "looks like a secret; move it to [channels.credentials]")
    if publisher == "api":
        for key in declared.required_options:
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
