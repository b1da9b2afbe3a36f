"""One declaration per platform: complete, the only place that names platforms, and the
abilities it declares are the ones its publisher has."""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import registry
from bot.compose.profiles import Profile
from bot.config import ChannelConfig
from bot.models import ChannelStyle, Post, PublishResult
from bot.platform import ABILITIES, InstanceLimits, Platform, Reconciles, ability_mismatch
from bot.publishers.base import PublisherContext

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
NAMES = registry.names()


def _env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def _example_channels() -> list[dict[str, Any]]:
    text = (ROOT / "config" / "example-all-platforms.toml").read_text(encoding="utf-8")
    channels: list[dict[str, Any]] = tomllib.loads(text)["channels"]
    return channels


def test_the_ten_platforms_are_declared() -> None:
    """Discovery finds every platform module (and no helper module) in bot/publishers."""
    assert set(NAMES) == {
        *("x", "mastodon", "bluesky", "threads", "linkedin"),
        *("facebook", "instagram", "telegram", "discord", "slack"),
    }


@pytest.mark.parametrize("name", NAMES)
def test_declaration_is_complete(name: str) -> None:
    """Each platform has its profile, factory, contract harness, guide, README row, a
    channel in the all-platforms example and its credentials in .env.example."""
    platform = registry.platforms()[name]
    assert isinstance(platform.profile, Profile)
    assert platform.profile.name == name
    assert callable(platform.build)
    assert platform.credentials, "a platform without credentials cannot authenticate"
    harness = importlib.import_module(f"tests.harnesses.{name}")
    assert callable(harness.make_harness), f"tests/harnesses/{name}.py needs make_harness"
    assert (ROOT / "docs" / "platforms" / f"{name}.md").is_file()
    row = next(
        line
        for line in (ROOT / "docs" / "platforms" / "README.md").read_text("utf-8").splitlines()
        if f"[{name}.md]({name}.md)" in line
    )
    for key in (*platform.credentials, *platform.required_options):
        assert f"`{key}`" in row, f"docs/platforms/README.md: {name} row lacks {key}"
    channels = [c for c in _example_channels() if c["platform"] == name]
    assert channels, f"config/example-all-platforms.toml has no {name} channel"
    env_names = _env_example_names()
    for channel in channels:
        assert set(channel["credentials"]) == set(platform.credentials)
        missing = set(channel["credentials"].values()) - env_names
        assert not missing, f".env.example lacks {sorted(missing)}"


def test_aliases_name_no_platform_twice() -> None:
    """An alias is not itself a platform name and points at one platform only."""
    seen: list[str] = [a for p in registry.platforms().values() for a in p.aliases]
    assert len(seen) == len(set(seen))
    assert not set(seen) & set(NAMES)
    assert registry.aliases()["twitter"] == "x"


# ---- abilities --------------------------------------------------------------------------


class _Plain:
    name = "plain"
    platform = "plain"

    def publish(self, post: Post, *, idempotency_key: str) -> PublishResult:
        raise NotImplementedError

    def check(self) -> str:
        return "plain"


class _Looks(_Plain):
    def reconcile(self, post: Post, *, idempotency_key: str) -> PublishResult | None:
        return None


def _platform(build: Any, abilities: tuple[type, ...]) -> Platform:
    profile = registry.platforms()["discord"].profile
    return Platform(
        name="discord",
        profile=profile,
        build=build,
        credentials=("webhook_url",),
        abilities=abilities,
    )


def _channel() -> ChannelConfig:
    return ChannelConfig(
        name="c",
        platform="discord",
        publisher="api",
        outbox=Path("outbox.jsonl"),
        feeds=None,
        style=ChannelStyle(platform="discord"),
    )


@pytest.mark.parametrize(
    ("publisher", "abilities", "problem"),
    [
        (_Plain, (Reconciles,), "declares Reconciles but does not implement it"),
        (_Looks, (), "implements Reconciles without declaring it"),
    ],
)
def test_build_refuses_a_publisher_whose_abilities_differ(
    publisher: type, abilities: tuple[type, ...], problem: str
) -> None:
    """A publisher must offer exactly the abilities its platform declares, checked when
    it is built, so the delivery engine can trust the declaration."""
    with httpx.Client() as http, pytest.raises(TypeError, match=problem):
        _platform(lambda c, x: publisher(), abilities).build_checked(
            _channel(), PublisherContext(http=http)
        )


def test_build_accepts_a_publisher_matching_its_declaration() -> None:
    """Declared and implemented abilities agree: the publisher is returned as built."""
    with httpx.Client() as http:
        built = _platform(lambda c, x: _Looks(), (Reconciles,)).build_checked(
            _channel(), PublisherContext(http=http)
        )
    assert isinstance(built, _Looks)


@pytest.mark.parametrize("name", NAMES)
def test_every_real_publisher_matches_its_declared_abilities(name: str) -> None:
    """The publisher classes themselves offer exactly what their platform declares."""
    platform = registry.platforms()[name]
    module = importlib.import_module(f"bot.publishers.{name}")
    classes = [
        v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__
    ]
    publisher_class = next(c for c in classes if getattr(c, "platform", None) == name)
    # Checked on the class: isinstance on a protocol looks at methods only.
    stand_in = object.__new__(publisher_class)
    assert ability_mismatch(platform, stand_in) == []
    assert set(platform.abilities) <= set(ABILITIES)


def test_mastodon_declares_instance_limits() -> None:
    """The one platform whose limits depend on the server declares InstanceLimits."""
    with_limits = [p.name for p in registry.platforms().values() if InstanceLimits in p.abilities]
    assert with_limits == ["mastodon"]


# ---- no getattr ability probes ------------------------------------------------------------

# Each remaining getattr() in bot/ and why it is not an ability probe.
GETATTR_ALLOWED = {
    "bot/feeds/extract.py": (3, "trafilatura's metadata object may lack title/author/date"),
    "bot/feeds/parse.py": (1, "strips control characters from a list of named fields"),
    "bot/publishers/x_media.py": (1, "urllib3 wraps the cause of a failed connection in .reason"),
    "bot/cli/status_json.py": (1, "reads the count field named by each delivery status"),
    "bot/store/opening.py": (2, "sqlite3 errors carry sqlite_errorname since Python 3.11"),
    "bot/models.py": (1, "serialises the datetime fields of Article by name"),
    "bot/compose/__init__.py": (1, "the package's names, imported on first use (PEP 562)"),
}


def _calls(tree: ast.AST, name: str) -> int:
    return sum(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(tree)
    )


def test_no_getattr_ability_probes() -> None:
    """Abilities are typed protocols checked at build time: no module asks a publisher
    with getattr/hasattr whether it has a method."""
    found: dict[str, int] = {}
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count = _calls(tree, "getattr") + _calls(tree, "hasattr")
        if count:
            found[path.relative_to(ROOT).as_posix()] = count
    assert found == {path: count for path, (count, _) in GETATTR_ALLOWED.items()}


# ---- platform names only in their own modules -------------------------------------------

# Modules a platform's publisher is split into besides bot/publishers/<platform>.py.
PLATFORM_HELPERS = {
    "bot/publishers/x_media.py": "x",
    "bot/publishers/bluesky_session.py": "bluesky",
    "bot/publishers/mastodon_media.py": "mastodon",
    "bot/publishers/graph.py": "facebook, instagram, threads",
    "bot/publishers/containers.py": "instagram, threads",
    "bot/publishers/webhook.py": "discord, slack",
}


def _platform_literals(source: str) -> list[tuple[int, str]]:
    """(line, name) of each string literal in ``source`` that is a platform name or alias
    (f-string text and docstrings aside: they describe, they do not branch)."""
    words = set(NAMES) | set(registry.aliases())
    tree = ast.parse(source)
    in_fstring = {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for value in node.values
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in words
        and id(node) not in in_fstring
    ]


def test_the_literal_finder_sees_a_platform_branch() -> None:
    """The finder below flags a comparison with a platform name or alias, not prose."""
    source = 'def f(p):\n    """For x."""\n    return p == "bluesky" or p in ("ig",) or f"{p}x"\n'
    assert _platform_literals(source) == [(3, "bluesky"), (3, "ig")]


def test_no_module_branches_on_a_platform_name() -> None:
    """Outside a platform's own modules, no code in bot/ names a platform: it asks the
    platform's declaration (profile flags, abilities) instead."""
    own = {f"bot/publishers/{name}.py" for name in NAMES} | set(PLATFORM_HELPERS)
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in own:
            continue
        literals = _platform_literals(path.read_text(encoding="utf-8"))
        if literals:
            found[relative] = literals
    assert found == {}
