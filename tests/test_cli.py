"""The CLI through click's runner: preview, summarise, poll, status, retry, post, help."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.builders import Item, rss, write_config

HINDI_BODY = (
    "<p>भारत में इलेक्ट्रिक दोपहिया वाहनों की बिक्री नवंबर में तीस प्रतिशत बढ़ी। "
    "नई सब्सिडी योजना से खरीदारों को सीधा लाभ मिला।</p>"
)


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    items = [
        Item(
            guid="en-1",
            title="Battery prices fall 12% & keep falling",
            link="https://volt.example/2026/11/battery-prices/",
            body="<p>Battery pack prices fell 12% this year.</p><p>Analysts expect more.</p>",
            tags=("Batteries", "Charging Infrastructure"),
        ),
        Item(
            guid="hi-1",
            title="इलेक्ट्रिक दोपहिया बिक्री में उछाल",
            link="https://volt.example/hi/2026/11/e2w-sales/",
            body=HINDI_BODY,
            lang="hi",
        ),
    ]
    path.write_text(rss(items), encoding="utf-8")
    return path


def test_preview_json_has_the_documented_shape(feed_file: Path) -> None:
    """preview --format json prints one array; each post has the documented keys."""
    result = CliRunner().invoke(
        main, ["preview", str(feed_file), "--platform", "x,bluesky", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    posts = json.loads(result.output)
    assert len(posts) == 4
    keys = {
        "platform",
        "channel",
        "item_id",
        "article_url",
        "title",
        "lang",
        "summary",
        "hashtags",
        "parts",
        "length",
    }
    for post in posts:
        assert keys <= set(post)
        assert post["channel"] is None
        assert set(post["length"]) == {"unit", "value", "limit"}
        assert post["length"]["value"] <= post["length"]["limit"]
        for part in post["parts"]:
            assert {"text", "media"} <= set(part)
            if post["platform"] == "bluesky":
                assert "facets" in part
    hindi = [p for p in posts if p["item_id"] == "hi-1"]
    assert {p["lang"] for p in hindi} == {"hi"}


def test_preview_writes_nothing(feed_file: Path, tmp_path: Path) -> None:
    """preview needs no config or credentials and creates no files."""
    before = set(tmp_path.rglob("*"))
    result = CliRunner().invoke(main, ["preview", str(feed_file)])
    assert result.exit_code == 0, result.output
    assert "Battery prices" in result.output
    assert set(tmp_path.rglob("*")) == before


def test_preview_unknown_platform_is_a_clear_error(feed_file: Path) -> None:
    """An unknown --platform names the value and the valid choices."""
    result = CliRunner().invoke(main, ["preview", str(feed_file), "--platform", "myspace"])
    assert result.exit_code == 2
    assert "myspace" in result.output
    assert "mastodon" in result.output


@pytest.mark.parametrize("spec", ["", " , "])
def test_preview_with_no_platform_named_is_a_clear_error(feed_file: Path, spec: str) -> None:
    """--platform "" (or only commas) is an error listing the choices, not an empty preview
    that exits 0."""
    result = CliRunner().invoke(main, ["preview", str(feed_file), "--platform", spec])
    assert result.exit_code == 2
    assert "no platform named" in result.output
    assert "mastodon" in result.output


def test_preview_names_each_platform_once(feed_file: Path) -> None:
    """--platform x,twitter,X previews X once per article (the alias and case name it too)."""
    result = CliRunner().invoke(
        main, ["preview", str(feed_file), "--platform", "x,twitter,X", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert [p["platform"] for p in json.loads(result.output)] == ["x", "x"]  # two articles


def test_preview_takes_a_platform_alias(feed_file: Path) -> None:
    """--platform twitter,bsky previews for x and bluesky, the platforms the aliases name."""
    result = CliRunner().invoke(
        main, ["preview", str(feed_file), "--platform", "twitter,bsky", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert sorted({p["platform"] for p in json.loads(result.output)}) == ["bluesky", "x"]


def test_preview_of_a_missing_file_names_it(tmp_path: Path) -> None:
    """A SOURCE that cannot be read is one error line naming it, not a traceback."""
    result = CliRunner().invoke(main, ["preview", str(tmp_path / "missing.xml")])
    assert result.exit_code != 0
    assert "missing.xml" in result.output
    assert "Traceback" not in result.output


def test_summarise_respects_max_chars(feed_file: Path) -> None:
    """summarise --max-chars 60 gives summaries of at most 60 characters."""
    result = CliRunner().invoke(
        main, ["summarise", str(feed_file), "--max-chars", "60", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["item_id"] for r in rows] == ["en-1", "hi-1"]
    assert all(0 < len(r["summary"]) <= 60 for r in rows)
    assert "&amp;" not in result.output
    assert "<p>" not in result.output


def test_poll_status_retry_round_trip(feed_file: Path, tmp_path: Path) -> None:
    """poll queues and sends, status shows feeds and channels, retry reports a count."""
    cfg = str(write_config(tmp_path, feeds={"volt": str(feed_file)}, catch_up="all"))
    runner = CliRunner()
    polled = runner.invoke(main, ["-c", cfg, "poll"])
    assert polled.exit_code == 0, polled.output
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 4
    status = runner.invoke(main, ["-c", cfg, "status"])
    assert status.exit_code == 0, status.output
    assert "volt" in status.output
    assert "x-out" in status.output
    assert "bluesky-out" in status.output
    again = runner.invoke(main, ["-c", cfg, "poll"])
    assert again.exit_code == 0
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 4
    retried = runner.invoke(main, ["-c", cfg, "retry", "--channel", "x-out"])
    assert retried.exit_code == 0, retried.output
    assert "Re-queued 0" in retried.output


def test_poll_unknown_feed_names_it(feed_file: Path, tmp_path: Path) -> None:
    """poll --feed with an unknown name is a clear error."""
    cfg = str(write_config(tmp_path, feeds={"volt": str(feed_file)}))
    result = CliRunner().invoke(main, ["-c", cfg, "poll", "--feed", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_config_error_names_file_and_key(tmp_path: Path) -> None:
    """A broken config gives one error line with the file and key path, no traceback."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[[feeds]]\nname = "demo"\nurl = "builtin:demo"\n'
        '[[channels]]\nname = "yt"\nplatform = "youtube"\npublisher = "outbox"\n'
    )
    result = CliRunner().invoke(main, ["-c", str(cfg), "status"])
    assert result.exit_code == 2
    assert "bad.toml" in result.output
    assert "YouTube has no API" in result.output


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, cmd in group.commands.items():
        found.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            found.extend(_commands(cmd, prefix + name + " "))
    return found


@pytest.mark.parametrize("name", [n for n, _ in _commands(main)])
def test_every_command_documents_an_example(name: str) -> None:
    """Every command's --help shows a usage example."""
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_status_shows_server_text_with_brackets_verbatim(feed_file: Path, tmp_path: Path) -> None:
    """Error text like '[fbtrace_id A1]' or '[/x]' is shown as is, never read as markup."""
    from datetime import UTC, datetime

    from bot.store import SQLiteStore

    cfg = str(write_config(tmp_path, feeds={"volt": str(feed_file)}, catch_up="all"))
    runner = CliRunner()
    assert runner.invoke(main, ["-c", cfg, "poll", "--no-deliver"]).exit_code == 0
    with SQLiteStore.open(tmp_path / "state.db") as store:
        reason = "Error validating access token (code 190) [fbtrace_id A1b2] [/oops]"
        store.pause_channel("x-out", reason=reason, now=datetime.now(UTC))
    status = runner.invoke(main, ["-c", cfg, "status"])
    assert status.exit_code == 0, status.output
    assert "[fbtrace_id A1b2]" in status.output
    assert "[/oops]" in status.output


def test_preview_says_an_imageless_article_would_be_skipped_where_an_image_is_required(
    feed_file: Path,
) -> None:
    """preview of an article without an image says Instagram would skip it (the service
    does), and says nothing of the kind for X, which posts text alone."""
    result = CliRunner().invoke(
        main, ["preview", str(feed_file), "--platform", "instagram,x", "--limit", "1"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("would be skipped") == 1
    assert "instagram needs an image" in result.output


def test_source_errors_do_not_send_the_user_to_a_config_file_they_did_not_use(
    tmp_path: Path,
) -> None:
    """preview/post of a SOURCE typed on the command line that cannot be read tells to check
    that path or URL, never only "check the path in config" (no config names it)."""
    from tests.feedserver import FeedServer

    missing = CliRunner().invoke(main, ["preview", str(tmp_path / "missing.xml")])
    assert missing.exit_code == 2
    assert "check the path (for a configured feed" in missing.output
    assert "check the path in config" not in missing.output
    with FeedServer() as server:
        gone = CliRunner().invoke(main, ["summarise", server.url("/nothing-here/")])
    assert gone.exit_code == 2
    assert "HTTP 404" in gone.output
    assert "check the URL (for a configured feed" in gone.output
    assert "Traceback" not in gone.output


@pytest.mark.parametrize("command", ["preview", "summarise"])
def test_a_feed_without_items_says_so(tmp_path: Path, command: str) -> None:
    """preview/summarise of a valid feed with no items print a note naming the source on
    stderr (not an empty screen); JSON output stays "[]"."""
    path = tmp_path / "empty.xml"
    path.write_text(rss([]), encoding="utf-8")
    result = CliRunner().invoke(main, [command, str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert f"{path}: the feed has no items" in result.stderr


def test_a_feed_or_channel_named_twice_is_used_once(tmp_path: Path, feed_file: Path) -> None:
    """poll --feed f --feed f polls f once; post --dry-run --channel c --channel c shows
    one post for c."""
    from tests.feedserver import FeedServer

    cfg = str(write_config(tmp_path, feeds={"volt": str(feed_file)}, platforms=("x",)))
    polled = CliRunner().invoke(
        main, ["-c", cfg, "poll", "--feed", "volt", "--feed", "volt", "--no-deliver"]
    )
    assert polled.exit_code == 0, polled.output
    assert polled.output.count("│ volt ") == 1
    page = b"<html><body><article><h1>Volt</h1><p>" + b"Battery prices fell. " * 20
    with FeedServer() as server:
        server.route("/a/", body=page + b"</p></article></body></html>", content_type="text/html")
        twice = ["--channel", "x-out", "--channel", "x-out"]
        posted = CliRunner().invoke(
            main, ["-c", cfg, "post", server.url("/a/"), "--dry-run", *twice]
        )
    assert posted.exit_code == 0, posted.output
    assert posted.output.count("x · x-out") == 1


@pytest.mark.parametrize("command", ["preview", "summarise"])
def test_a_source_url_that_cannot_be_parsed_is_one_error_line(command: str) -> None:
    """A SOURCE like "http://[::1" (unbalanced IPv6 bracket) is an error naming it, exit 2,
    not a ValueError traceback."""
    result = CliRunner().invoke(main, [command, "http://[::1"])
    assert result.exit_code == 2, result.output
    assert "http://[::1: not a valid URL" in result.output
