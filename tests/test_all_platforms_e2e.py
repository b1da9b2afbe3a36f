"""One article to all ten platforms: config/example-all-platforms.toml, end to end.

The shipped example is rewritten to point every channel at a local server (``api_base``):
the fake X, Graph (Facebook, Instagram), Mastodon, Threads, LinkedIn, Telegram and webhook
(Discord, Slack) servers in ``tests/fakes``, and a real local Bluesky PDS (``tests/pds.py``).
``syndbot post ARTICLE_URL`` then runs through the CLI, against an article page served on
loopback with og:image, og:title and og:description.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dotenv
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import load_config
from bot.registry import names as platform_names
from bot.store import SQLiteStore
from tests.fakes import (
    graph_api,
    linkedin_api,
    mastodon_api,
    telegram_api,
    threads_api,
    webhooks,
    x_api,
)
from tests.feedserver import FeedServer
from tests.harnesses import jpeg
from tests.harnesses.bluesky import fresh_account, records
from tests.pds import PdsInfo, pds

__all__ = ["pds"]  # the session-scoped fixture from tests/pds.py

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "example-all-platforms.toml"
ENV_EXAMPLE = REPO / ".env.example"

ARTICLE_PATH = "/en/2026/11/tata-nexon-ev-price-cut/"
IMAGE_PATH = "/wp-content/uploads/2026/11/nexon-ev-charging.jpg"
TITLE = "Tata cuts Nexon EV prices by Rs 1 lakh"
ALT = "A white Tata Nexon EV plugged in at a public fast charger"
DESCRIPTION = "The Nexon EV now starts at Rs 11.5 lakh, its lowest price since launch."
ARTICLE_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{TITLE} | EV News</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{TITLE}">
<meta property="og:description" content="{DESCRIPTION}">
<meta property="og:image" content="{{image}}">
<meta property="og:image:alt" content="{ALT}">
</head><body><header><nav><a href="/">EV News</a></nav></header>
<article><h1>{TITLE}</h1>
<p>Tata Motors has cut the price of the Nexon EV by Rs 1 lakh across India. The new prices
apply from Monday at every dealership, and buyers who booked last week get the difference
back.</p>
<p>The company says cheaper battery cells made the cut possible. The long range version
keeps its 465 km certified range and its 60 kW fast charging.</p>
<p>Dealers expect waiting times to grow in the big cities before the festive season, when
demand for electric cars usually peaks.</p>
</article><footer>EV News</footer></body></html>
"""


# --- the local world ---------------------------------------------------------------------


@dataclass
class Tokens:
    """The credential values every fake accepts (tests may pick distinctive ones)."""

    facebook: str = graph_api.TOKEN
    instagram: str = "IGQfakeEnglishInstagramToken7c21"
    mastodon: str = mastodon_api.TOKEN
    threads: str = threads_api.TOKEN
    linkedin: str = linkedin_api.TOKEN
    telegram: str = telegram_api.TOKEN


@dataclass
class World:
    """Every local server the all-platforms config talks to."""

    site: FeedServer  # the news site: article page, image, feed
    x: x_api.FakeX
    facebook: graph_api.FakeGraph
    instagram: graph_api.FakeGraph
    mastodon: mastodon_api.FakeMastodon
    threads: threads_api.FakeThreads
    linkedin: linkedin_api.FakeLinkedIn
    telegram: telegram_api.FakeTelegram
    hooks: webhooks.FakeWebhooks  # Discord and Slack
    bluesky_base: str = ""

    @property
    def article_url(self) -> str:
        return self.site.url(ARTICLE_PATH)

    @property
    def image_url(self) -> str:
        return self.site.url(IMAGE_PATH)

    def endpoint(self, platform: str) -> tuple[str, dict[str, str]]:
        """``(api_base, options to override)`` for a channel of ``platform``."""
        table: dict[str, tuple[str, dict[str, str]]] = {
            "x": (self.x.base, {}),
            "facebook": (self.facebook.base, {"page_id": self.facebook.page_id}),
            "instagram": (self.instagram.base, {"ig_user_id": self.instagram.ig_user_id}),
            "mastodon": (self.mastodon.base, {}),
            "bluesky": (self.bluesky_base, {}),
            "threads": (self.threads.base, {"user_id": self.threads.user_id}),
            "linkedin": (self.linkedin.base, {"organization": self.linkedin.org_id}),
            "telegram": (self.telegram.base, {"chat_id": telegram_api.CHAT_ID}),
            "discord": (self.hooks.base, {}),
            "slack": (self.hooks.base, {}),
        }
        return table[platform]

    def requests_seen(self) -> dict[str, int]:
        """Requests each platform fake has received (images they serve excluded)."""
        return {
            "x": len(self.x.api_requests()),
            "facebook": len([c for c in self.facebook.calls if c.route != "image"]),
            "instagram": len([c for c in self.instagram.calls if c.route != "image"]),
            "mastodon": len([c for c in self.mastodon.calls if c.route != "image"]),
            "threads": len([c for c in self.threads.calls if c.route != "image"]),
            "linkedin": len([c for c in self.linkedin.calls if c.route != "image"]),
            "telegram": len([c for c in self.telegram.calls if c.route != "image"]),
            "webhooks": len([c for c in self.hooks.calls if c.route != "image"]),
        }


@contextmanager
def running_world(tokens: Tokens | None = None) -> Iterator[World]:
    """Start the site and every platform fake; the article page and its image are served."""
    tokens = tokens or Tokens()
    with ExitStack() as stack:
        site = stack.enter_context(FeedServer())
        threads = threads_api.FakeThreads(token=tokens.threads)
        stack.enter_context(threads)  # (its __enter__ is typed as the FakeGraph base's)
        world = World(
            site=site,
            x=stack.enter_context(x_api.FakeX()),
            facebook=stack.enter_context(graph_api.FakeGraph(token=tokens.facebook)),
            instagram=stack.enter_context(graph_api.FakeGraph(token=tokens.instagram)),
            mastodon=stack.enter_context(mastodon_api.FakeMastodon(token=tokens.mastodon)),
            threads=threads,
            linkedin=stack.enter_context(linkedin_api.FakeLinkedIn(token=tokens.linkedin)),
            telegram=stack.enter_context(telegram_api.FakeTelegram(token=tokens.telegram)),
            hooks=stack.enter_context(webhooks.FakeWebhooks()),
        )
        page = ARTICLE_HTML.replace("{image}", world.image_url).encode()
        site.route(ARTICLE_PATH, body=page, content_type="text/html; charset=utf-8")
        site.route(IMAGE_PATH, body=jpeg(), content_type="image/jpeg")
        # The Telegram fake, like Telegram, only takes photo URLs it can fetch: same path.
        world.telegram.add_image(IMAGE_PATH, jpeg())
        yield world


# --- the config: the shipped example, pointed at the world --------------------------------


def toml_value(value: Any) -> str:
    """``value`` as TOML (the subset the example uses: strings, ints, bools, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def to_toml(data: dict[str, Any]) -> str:
    """A config document: top-level tables and arrays of tables, sub-tables inline."""
    lines: list[str] = []
    for name, value in data.items():
        tables = value if isinstance(value, list) else [value]
        for table in tables:
            lines.append(f"[[{name}]]" if isinstance(value, list) else f"[{name}]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in table.items())
            lines.append("")
    return "\n".join(lines)


def example_data() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def local_config(
    world: World, tmp_path: Path, data: dict[str, Any] | None = None, *, timeout: str = "10s"
) -> Path:
    """The example (or ``data``) with state under ``tmp_path`` and every URL on loopback."""
    data = data if data is not None else example_data()
    data["service"] |= {
        "database": str(tmp_path / "state.db"),
        "outbox": str(tmp_path / "outbox.jsonl"),
        "timeout": timeout,
        "allow_private_addresses": True,  # every server here listens on 127.0.0.1
    }
    for feed in data["feeds"]:
        feed["url"] = world.site.url(f"/{feed.get('lang', 'en')}/feed/")
    for channel in data["channels"]:
        base, options = world.endpoint(channel["platform"])
        if channel.get("publisher", "api") == "api":
            channel["api_base"] = base
        channel["options"] = channel.get("options", {}) | options
    path = tmp_path / "syndbot.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def credential_env(data: dict[str, Any], values: dict[str, dict[str, str]]) -> dict[str, str]:
    """Environment for the config's credential variables: ``values[platform][key]``."""
    return {
        var: values[channel["platform"]][key]
        for channel in data["channels"]
        for key, var in channel.get("credentials", {}).items()
    }


def fake_credentials(
    world: World, tokens: Tokens, bluesky: tuple[str, str]
) -> dict[str, dict[str, str]]:
    """What each platform's fake accepts, by credential key."""
    return {
        "x": {
            "api_key": x_api.CONSUMER_KEY,
            "api_secret": x_api.CONSUMER_SECRET,
            "access_token": x_api.ACCESS_TOKEN,
            "access_token_secret": x_api.ACCESS_TOKEN_SECRET,
        },
        "facebook": {"page_token": tokens.facebook},
        "instagram": {"access_token": tokens.instagram},
        "mastodon": {"access_token": tokens.mastodon},
        "bluesky": {"handle": bluesky[0], "app_password": bluesky[1]},
        "threads": {"access_token": tokens.threads},
        "linkedin": {"access_token": tokens.linkedin},
        "telegram": {"bot_token": tokens.telegram},
        "discord": {"webhook_url": webhooks.DISCORD_URL},
        "slack": {"webhook_url": webhooks.SLACK_URL},
    }


def cli(config: Path, *args: str) -> Result:
    """``syndbot -c CONFIG ARGS`` in-process; credentials come from os.environ."""
    base = ["-c", str(config), "--env-file", os.devnull]
    return CliRunner().invoke(main, [*base, *args], catch_exceptions=False)


# --- the example itself ------------------------------------------------------------------


def test_example_all_platforms_loads_with_every_platform() -> None:
    """The example loads when its variables are set: one api channel per platform."""
    env = {name: f"value-of-{name}" for name in dotenv.dotenv_values(ENV_EXAMPLE)}
    config = load_config(EXAMPLE, env=env)

    assert sorted(c.platform for c in config.channels) == sorted(platform_names())
    assert {c.publisher for c in config.channels} == {"api"}
    assert [f.name for f in config.feeds] == ["ev-en"]
    assert all(c.feeds == ("ev-en",) for c in config.channels)
    bluesky = config.channel("bluesky-en")
    assert bluesky.credentials["app_password"].get() == "value-of-BLUESKY_EN_APP_PASSWORD"
    assert config.channel("x-en").quiet_hours is not None
    assert config.channel("mastodon-en").style.thread is True
    assert ("utm_source", "linkedin") in config.channel("linkedin-en").style.utm


def test_every_variable_in_example_all_platforms_is_documented() -> None:
    """Each env var named in example-all-platforms.toml is a variable in .env.example."""
    named = {v for c in example_data()["channels"] for v in c["credentials"].values()}
    documented = set(dotenv.dotenv_values(ENV_EXAMPLE))

    assert len(named) == 14  # X 4, Bluesky 2, one for each of the other eight
    assert named - documented == set()


def test_example_all_platforms_fails_naming_a_missing_variable() -> None:
    """Without SLACK_EN_WEBHOOK_URL the example refuses to load and names it."""
    env = {name: f"value-of-{name}" for name in dotenv.dotenv_values(ENV_EXAMPLE)}
    del env["SLACK_EN_WEBHOOK_URL"]
    with pytest.raises(Exception, match="SLACK_EN_WEBHOOK_URL"):
        load_config(EXAMPLE, env=env)


# --- post --dry-run ----------------------------------------------------------------------


def test_dry_run_prints_one_post_per_platform_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`post URL --dry-run` shows all 10 channels' posts; no file, delivery or API call."""
    with running_world() as world, webhooks.FakeWebhooks() as bluesky_trap:
        # The dry run must not log in anywhere: a recording server stands in for the PDS.
        world.bluesky_base = bluesky_trap.base
        data = example_data()
        config = local_config(world, tmp_path, data)
        creds = fake_credentials(world, Tokens(), ("evnews.test", "abcd-efgh-ijkl-mnop"))
        for name, value in credential_env(data, creds).items():
            monkeypatch.setenv(name, value)

        result = cli(config, "post", world.article_url, "--dry-run")

        assert result.exit_code == 0, result.output
        assert world.requests_seen() == dict.fromkeys(world.requests_seen(), 0)
        assert bluesky_trap.calls == []
    out = result.output
    for channel in data["channels"]:
        head = f"{channel['platform']} · {channel['name']}"
        assert out.count(head) == 1, (head, out)
    assert out.count(TITLE) >= len(platform_names())
    assert world.article_url in out
    assert f"(alt: {ALT})" in out  # the og:image with its og:image:alt
    assert not (tmp_path / "outbox.jsonl").exists()
    assert not (tmp_path / "state.db").exists()  # not even created, so no deliveries


# --- post, for real ----------------------------------------------------------------------


def posts_on_each_platform(world: World, pds: PdsInfo, handle: str) -> dict[str, int]:
    """Top-level posts each account holds (a Mastodon thread's replies not counted)."""
    return {
        "x": len(world.x.tweets),
        "facebook": len(world.facebook.page_posts),
        "instagram": len(world.instagram.media),
        "mastodon": len([s for s in world.mastodon.statuses if not s["in_reply_to_id"]]),
        "bluesky": len(records(pds, handle)),
        "threads": len(world.threads.posts),
        "linkedin": len(world.linkedin.posts),
        "telegram": len(world.telegram.messages),
        "discord": len(world.hooks.discord),
        "slack": len(world.hooks.slack),
    }


def _tagged(platform: str) -> str:
    """The article URL as the example's utm settings make it for ``platform``."""
    return f"?utm_source={platform}&utm_medium=social&utm_campaign=syndbot-en"


def assert_well_formed(world: World, pds: PdsInfo, handle: str) -> None:
    """Each post carries the article link (text, card or facet), image and alt text."""
    url, image = world.article_url, world.image_url
    [tweet] = world.x.tweets
    assert url + _tagged("x") in tweet["text"]
    [media_id] = tweet["media_ids"]
    assert world.x.media[media_id]["alt"] == ALT
    assert world.x.media[media_id]["data"].startswith(b"\xff\xd8")

    [photo] = world.facebook.calls_to("photos")
    assert (photo.form["url"], photo.form["alt_text_custom"]) == (image, ALT)
    assert url + _tagged("facebook") in photo.form["message"]

    [create] = world.instagram.calls_to("create")
    assert (create.form["image_url"], create.form["alt_text"]) == (image, ALT)
    assert TITLE in create.form["caption"]  # captions hold no links: "link in bio"
    assert "Full story: link in bio" in world.instagram.media[0]["caption"]

    [status] = [s for s in world.mastodon.statuses if not s["in_reply_to_id"]]
    assert url + _tagged("mastodon") in status["text"]
    assert status["language"] == "en"
    [attachment] = status["media_attachments"]
    assert attachment["description"] == ALT

    [record] = [r["value"] for r in records(pds, handle)]
    card = record["embed"]["external"]
    assert card["uri"] == url + _tagged("bluesky")
    assert card["title"] == TITLE
    assert card["thumb"]["mimeType"] == "image/jpeg"
    assert [f["features"][0]["uri"] for f in record["facets"]] == [card["uri"]]
    assert record["langs"] == ["en"]

    [thread_post] = world.threads.posts
    assert (thread_post["image_url"], thread_post["alt_text"]) == (image, ALT)
    assert url + _tagged("threads") in thread_post["text"]

    [share] = world.linkedin.posts
    article = share["content"]["article"]
    assert article["source"] == url + _tagged("linkedin")
    assert article["thumbnail"] in world.linkedin.image_urns.values()
    assert all(data.startswith(b"\xff\xd8") for data in world.linkedin.uploads.values())

    [message] = world.telegram.messages
    assert message["sent"]["photo"] == image  # Telegram photos take no alt text
    assert url + _tagged("telegram").replace("&", "&amp;") in message["sent"]["caption"]

    [discord] = world.hooks.discord
    [embed] = discord["embeds"]  # Discord embeds have no alt text field
    assert (embed["url"], embed["image"]["url"]) == (url + _tagged("discord"), image)

    [slack] = world.hooks.slack
    assert url + _tagged("slack").replace("&", "&amp;") in slack["text"]
    [picture] = [b for b in slack["blocks"] if b["type"] == "image"]
    assert (picture["image_url"], picture["alt_text"]) == (image, ALT)


@pytest.mark.timeout(900)  # the first Bluesky test of a run may install the PDS
def test_post_goes_out_once_to_every_platform_and_never_twice(
    pds: PdsInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`post URL` sends one well-formed post to each of the 10 servers; again sends none."""
    with running_world() as world:
        world.bluesky_base = pds.pds_url
        handle, password = fresh_account(pds)
        data = example_data()
        config = local_config(world, tmp_path, data)
        creds = fake_credentials(world, Tokens(), (handle, password))
        for name, value in credential_env(data, creds).items():
            monkeypatch.setenv(name, value)
        names = sorted(c["name"] for c in data["channels"])

        first = cli(config, "post", world.article_url)

        assert first.exit_code == 0, first.output
        assert posts_on_each_platform(world, pds, handle) == dict.fromkeys(platform_names(), 1)
        assert_well_formed(world, pds, handle)
        with SQLiteStore.open(tmp_path / "state.db") as store:
            assert sorted(d.channel for d in store.deliveries(status="sent")) == names
            assert store.deliveries(status="pending") == []
        asked = world.requests_seen()

        second = cli(config, "post", world.article_url)

        assert second.exit_code == 0, second.output
        handled = re.search(
            r"Already handled earlier \(see `syndbot status`\): (.*)", second.output
        )
        assert handled is not None, second.output
        assert handled.group(1).split(", ") == names
        assert " sent " not in second.output
        assert posts_on_each_platform(world, pds, handle) == dict.fromkeys(platform_names(), 1)
        assert world.requests_seen() == asked  # no platform was even asked
        assert world.x.errors == []
