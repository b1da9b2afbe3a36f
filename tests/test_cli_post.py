"""`syndbot post ARTICLE_URL`: one article now, to the configured channels, never twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.feeds.sources import BuiltinFeedSource
from tests.builders import write_config
from tests.feedserver import FeedServer

PAGE = """<!doctype html><html lang="ta"><head>
<title>சென்னையில் புதிய மின் வாகன சார்ஜிங் மையங்கள்</title>
<meta property="og:title" content="சென்னையில் 120 புதிய சார்ஜிங் மையங்கள்">
<meta property="og:description" content="மாநகராட்சி 120 வேகமான சார்ஜிங் மையங்களை அமைக்கிறது.">
<meta property="og:image" content="https://voltlane.example.com/img/chennai-chargers.jpg">
<meta property="og:image:alt" content="சென்னை கடற்கரை சாலையில் சார்ஜிங் மையம்">
</head><body><article><h1>சென்னையில் 120 புதிய சார்ஜிங் மையங்கள்</h1>
<p>சென்னை மாநகராட்சி அடுத்த ஆறு மாதங்களில் 120 வேகமான சார்ஜிங் மையங்களை அமைக்க உள்ளது.
இதனால் மின்சார கார் மற்றும் இருசக்கர வாகன உரிமையாளர்களுக்கு பெரும் நிம்மதி கிடைக்கும்.</p>
<p>ஒவ்வொரு மையத்திலும் குறைந்தது நான்கு சார்ஜர்கள் இருக்கும் என்று அதிகாரிகள் தெரிவித்தனர்.
கட்டணம் ஒரு யூனிட்டுக்கு பதினெட்டு ரூபாயாக இருக்கும்.</p>
<p>முதல் கட்டமாக மெரினா, அண்ணா நகர், வேளச்சேரி ஆகிய இடங்களில் பணிகள் தொடங்கும்.</p>
</article></body></html>"""


@pytest.fixture
def article_url() -> Iterator[str]:
    with FeedServer() as server:
        server.route("/ta/2026/11/chennai-chargers/", body=PAGE.encode(), content_type="text/html")
        yield server.url("/ta/2026/11/chennai-chargers/")


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    return str(write_config(tmp_path, feeds={"demo": "builtin:demo"}, platforms=("x", "bluesky")))


def _outbox(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_dry_run_shows_posts_and_records_nothing(
    cfg: str, article_url: str, tmp_path: Path
) -> None:
    """--dry-run prints one post per channel and writes no outbox line and no delivery."""
    result = CliRunner().invoke(main, ["-c", cfg, "post", article_url, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "சென்னையில் 120 புதிய சார்ஜிங் மையங்கள்" in result.output
    assert "x · x-out" in result.output
    assert "bluesky · bluesky-out" in result.output
    assert _outbox(tmp_path) == []
    assert not (tmp_path / "state.db").exists()


def test_post_sends_once_per_channel_and_never_twice(
    cfg: str, article_url: str, tmp_path: Path
) -> None:
    """post sends to every channel; a second post of the same URL sends nothing more."""
    runner = CliRunner()
    first = runner.invoke(main, ["-c", cfg, "post", article_url])
    assert first.exit_code == 0, first.output
    lines = _outbox(tmp_path)
    assert sorted(str(line["channel"]) for line in lines) == ["bluesky-out", "x-out"]
    assert {line["lang"] for line in lines} == {"ta"}
    again = runner.invoke(main, ["-c", cfg, "post", article_url])
    assert again.exit_code == 0, again.output
    assert "Already handled earlier" in again.output
    assert len(_outbox(tmp_path)) == 2


def test_post_to_one_channel(cfg: str, article_url: str, tmp_path: Path) -> None:
    """--channel restricts the post to that channel."""
    result = CliRunner().invoke(main, ["-c", cfg, "post", article_url, "--channel", "x-out"])
    assert result.exit_code == 0, result.output
    assert [line["channel"] for line in _outbox(tmp_path)] == ["x-out"]


def test_post_of_an_unreachable_page_is_one_clear_error(cfg: str, tmp_path: Path) -> None:
    """A page that cannot be fetched gives one error line naming the URL, nothing recorded."""
    with FeedServer() as server:
        url = server.url("/missing/")
        result = CliRunner().invoke(main, ["-c", cfg, "post", url])
    assert result.exit_code != 0
    assert "/missing/" in result.output
    assert "Traceback" not in result.output
    assert _outbox(tmp_path) == []


def test_post_sends_now_even_when_the_channel_budget_is_spent(tmp_path: Path) -> None:
    """post is a person asking for it now: a spent hourly budget does not hold it back."""
    cfg = write_config(tmp_path, feeds={"demo": "builtin:demo"}, platforms=("bluesky",))
    cfg.write_text(cfg.read_text(encoding="utf-8") + "max_posts_per_hour = 1\n", "utf-8")
    runner = CliRunner()
    with FeedServer() as server:
        for slug in ("one", "two"):
            server.route(f"/{slug}/", body=PAGE.encode(), content_type="text/html")
            result = runner.invoke(main, ["-c", str(cfg), "post", server.url(f"/{slug}/")])
            assert result.exit_code == 0, result.output
    assert [line["channel"] for line in _outbox(tmp_path)] == ["bluesky-out", "bluesky-out"]


def test_post_of_an_article_a_feed_already_sent_does_not_send_it_again(tmp_path: Path) -> None:
    """post of a URL that a feed item already delivered (the item's id is its guid, not its
    link) reports it as handled earlier and sends nothing: one article, one post per channel."""
    with FeedServer() as server:
        page = "/ta/2026/11/chennai-chargers/"
        server.route(page, body=PAGE.encode(), content_type="text/html")
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Volt Lane</title><link>{server.url('/')}</link><item>"
            "<title>சென்னையில் 120 புதிய சார்ஜிங் மையங்கள்</title>"
            f"<link>{server.url(page)}</link>"
            '<guid isPermaLink="false">https://voltlane.example.com/ta/?p=2201</guid>'
            "<description>மாநகராட்சி 120 வேகமான சார்ஜிங் மையங்களை அமைக்கிறது.</description>"
            "</item></channel></rss>"
        )
        server.route("/feed/", body=feed.encode(), content_type="application/rss+xml")
        cfg = write_config(tmp_path, feeds={"ta": server.url("/feed/")}, platforms=("x",))
        runner = CliRunner()
        polled = runner.invoke(main, ["-c", str(cfg), "poll"])
        assert polled.exit_code == 0, polled.output
        assert [line["channel"] for line in _outbox(tmp_path)] == ["x-out"]
        again = runner.invoke(main, ["-c", str(cfg), "post", server.url(page)])
    assert again.exit_code == 0, again.output
    assert "Already handled earlier" in again.output
    assert len(_outbox(tmp_path)) == 1


def test_a_page_without_article_text_is_one_error_line_without_library_noise(
    cfg: str, tmp_path: Path
) -> None:
    """post of a page with no article text prints syndbot's error only, not the extraction
    library's "discarding data" warning before it (a real process: logging as configured)."""
    with FeedServer() as server:
        server.route("/blank/", body=b"<html><body></body></html>", content_type="text/html")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "-c", cfg, "post", server.url("/blank/"), "--dry-run"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert "no article text found" in result.stderr
    assert "discarding data" not in result.stderr


def _rss(server: FeedServer, items: list[tuple[str, str]]) -> bytes:
    """An RSS feed of (guid, page path) items, newest first, pages on ``server``."""
    entries = "".join(
        f"<item><title>Story {guid}</title><link>{server.url(path)}</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        f"<description>Battery story {guid} in a sentence.</description></item>"
        for guid, path in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Volt</title><link>{server.url('/')}</link>{entries}</channel></rss>"
    ).encode()


def test_an_article_posted_by_hand_is_not_posted_again_when_the_feed_lists_it(
    tmp_path: Path,
) -> None:
    """`syndbot post URL --channel x-out` before the feed lists that page: when the feed
    then lists it (under its own guid), x-out is not sent it a second time; the channel
    that was left out (bluesky-out) still gets it."""
    with FeedServer() as server:
        server.route("/old/", body=PAGE.encode(), content_type="text/html")
        server.route("/new/", body=PAGE.encode(), content_type="text/html")
        server.route("/feed/", body=_rss(server, [("p1", "/old/")]), content_type="text/xml")
        cfg = str(write_config(tmp_path, feeds={"volt": server.url("/feed/")}))
        runner = CliRunner()
        assert runner.invoke(main, ["-c", cfg, "poll"]).exit_code == 0
        assert len(_outbox(tmp_path)) == 2  # the first poll posts the newest, p1
        by_hand = runner.invoke(
            main, ["-c", cfg, "post", server.url("/new/"), "--channel", "x-out"]
        )
        assert by_hand.exit_code == 0, by_hand.output
        feed = _rss(server, [("p2", "/new/"), ("p1", "/old/")])
        server.route("/feed/", body=feed, content_type="text/xml")
        polled = runner.invoke(main, ["-c", cfg, "poll"])
        assert polled.exit_code == 0, polled.output
    new = [(line["channel"], line["item_id"]) for line in _outbox(tmp_path)][2:]
    page_id = server.url("/new/").rstrip("/")  # a page's id is its normalised URL
    assert new == [("x-out", page_id), ("bluesky-out", "p2")]


def test_an_article_a_feed_recorded_is_posted_as_recorded_without_fetching_it(
    tmp_path: Path,
) -> None:
    """post of a link a configured feed recorded but did not post (the first poll posts only
    the newest) sends the article as the feed gave it, with no request for the page: the
    demo's links lead nowhere, and the tests allow no traffic beyond loopback."""
    cfg = str(write_config(tmp_path, feeds={"demo": "builtin:demo"}, platforms=("x",)))
    runner = CliRunner()
    assert runner.invoke(main, ["-c", cfg, "poll"]).exit_code == 0
    posted = {line["item_id"] for line in _outbox(tmp_path)}
    demo = BuiltinFeedSource("demo", "builtin:demo").fetch().articles
    waiting = next(a for a in demo if a.item_id not in posted)
    dry = runner.invoke(main, ["-c", cfg, "post", waiting.url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "using the article as feed demo recorded it" in dry.stderr
    sent = runner.invoke(main, ["-c", cfg, "post", waiting.url])
    assert sent.exit_code == 0, sent.output
    lines = _outbox(tmp_path)
    assert [line["item_id"] for line in lines][-1] == waiting.item_id
    again = runner.invoke(main, ["-c", cfg, "post", waiting.url])
    assert "Already handled earlier" in again.output
    assert len(_outbox(tmp_path)) == len(lines)
