"""Every platform syndbot can post to, found from the declarations in ``bot.publishers``.

A module ``bot/publishers/<name>.py`` that defines ``PLATFORM`` (a ``bot.platform.Platform``)
is a platform; helper modules define none. The modules are imported on first use, once,
so importing this module costs nothing and ``bot.config`` may call it inside functions.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from bot.platform import Platform

PACKAGE = "bot.publishers"


@functools.cache
def platforms() -> Mapping[str, Platform]:
    """Name -> declaration, in name order."""
    package = importlib.import_module(PACKAGE)
    found: dict[str, Platform] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        declared = module.__dict__.get("PLATFORM")
        if not isinstance(declared, Platform):
            continue
        if declared.name != info.name:
            raise ValueError(f"{module.__name__} declares platform {declared.name!r}")
        found[declared.name] = declared
    return MappingProxyType(found)


def names() -> tuple[str, ...]:
    """The platform names a channel may use."""
    return tuple(platforms())


def get(name: str) -> Platform | None:
    """The declaration of ``name``, or None when no module declares it."""
    return platforms().get(name)


def aliases() -> dict[str, str]:
    """Names people type for a platform ("twitter") -> the name to write ("x")."""
    return {alias: p.name for p in platforms().values() for alias in p.aliases}
