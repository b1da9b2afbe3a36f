"""Set-up the publisher tests, fakes and contract harnesses share.

``api_channel`` builds a ``publisher = "api"`` channel pointed at a fake server;
``error_texts`` collects everything a failing publish shows (the error, its repr and its
cause), for the checks that no secret appears in any of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from bot.config import ChannelConfig, Secret
from bot.errors import PublishError
from bot.models import ChannelStyle


def api_channel(
    platform: str,
    name: str,
    credentials: Mapping[str, str],
    *,
    options: Mapping[str, str] | None = None,
    api_base: str | None = None,
    outbox: Path = Path("unused.jsonl"),
) -> ChannelConfig:
    """An api channel for ``platform`` named ``name``; ``credentials`` maps each key to
    the secret itself (tests skip the environment), ``api_base`` points it at a fake."""
    return ChannelConfig(
        name=name,
        platform=platform,
        publisher="api",
        outbox=outbox,
        feeds=None,
        style=ChannelStyle(platform=platform, name=name),
        credentials={key: Secret(value) for key, value in credentials.items()},
        options=dict(options or {}),
        api_base=api_base,
    )


def error_texts(
    attempt: Callable[[], object],
    times: int,
    expected: type[Exception] | tuple[type[Exception], ...] = PublishError,
) -> list[str]:
    """Call ``attempt`` ``times`` times, each expected to raise ``expected``: the str and
    repr of every error and of its cause (a chained library error may quote a secret)."""
    texts: list[str] = []
    for _ in range(times):
        with pytest.raises(expected) as info:
            attempt()
        cause = info.value.__cause__
        texts += [str(info.value), repr(info.value), str(cause or ""), repr(cause or "")]
    return texts
