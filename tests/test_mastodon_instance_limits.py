"""The pipeline composes Mastodon posts to the instance's own limit, read from the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from tests.builders import Item, rss
from tests.fakes.loopback import Fault
from tests.fakes.mastodon_api import FakeMastodon

TOKEN = "mastodon-limits-test-token-0123456789"
LONG_BODY = "".join(
    f"<p>Sentence {i} explains how battery prices kept falling across India this year.</p>"
    for i in range(40)
)


def _config(tmp_path: Path, base: str) -> Path:
    feed = tmp_path / "feed.xml"
    items = [
        Item(guid="g1", title="Battery prices", link="https://volt.example/1/", body=LONG_BODY)
    ]
    feed.write_text(rss(items), encoding="utf-8")
    cfg = tmp_path / "syndbot.toml"
    cfg.write_text(
        f"""
[service]
database = "{tmp_path / "state.db"}"
allow_private_addresses = true

[[feeds]]
name = "volt"
url = "{feed}"
catch_up = "all"
full_text = "never"

[[channels]]
name = "masto"
platform = "mastodon"
api_base = "{base}"
[channels.credentials]
access_token = "MASTO_TOKEN"
[channels.options]
instance = "https://masto.example"
""",
        encoding="utf-8",
    )
    return cfg


@pytest.mark.parametrize("limit", [1000, 300])
def test_posts_are_fitted_to_the_instance_limit(tmp_path: Path, limit: int) -> None:
    """The instance's max_characters (not the default 500) is the composed post's limit."""
    with FakeMastodon(token=TOKEN, max_characters=limit) as fake:
        config = load_config(_config(tmp_path, fake.base), env={"MASTO_TOKEN": TOKEN})
        with open_pipeline(config) as pipe:
            pipe.poll("volt")
            (report,) = pipe.deliver()
        assert report.outcome == "sent", report.detail
        assert report.post is not None
        assert report.post.length.limit == limit
        assert report.post.length.value <= limit
        assert len(fake.statuses) == 1


def test_instance_that_cannot_say_its_limits_gets_the_profile_limit(tmp_path: Path) -> None:
    """An instance whose limits read fails (503) still gets the post, fitted to 500."""
    with FakeMastodon(token=TOKEN, max_characters=1000) as fake:
        down = Fault(status=503, body={"error": "Service Unavailable"})
        fake.fail("instance", down, down)
        config = load_config(_config(tmp_path, fake.base), env={"MASTO_TOKEN": TOKEN})
        with open_pipeline(config) as pipe:
            pipe.poll("volt")
            (report,) = pipe.deliver()
        assert report.outcome == "sent", report.detail
        assert report.post is not None
        assert report.post.length.limit == 500
        assert len(fake.statuses) == 1


def test_refused_limits_read_pauses_the_channel_instead_of_crashing(tmp_path: Path) -> None:
    """A 401 on the limits read is reported like any refused token: the channel pauses."""
    with FakeMastodon(token=TOKEN) as fake:
        refused = Fault(status=401, body={"error": "The access token is invalid"})
        fake.fail("instance", refused, refused)
        config = load_config(_config(tmp_path, fake.base), env={"MASTO_TOKEN": TOKEN})
        with open_pipeline(config) as pipe:
            pipe.poll("volt")
            (report,) = pipe.deliver()
            assert report.outcome == "paused", report.detail
            assert pipe.store.channel_paused("masto")
        assert fake.statuses == []
