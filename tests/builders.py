"""Small builders for test feeds and configs (our own fixtures, not the shared corpus)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape


@dataclass
class Item:
    guid: str
    title: str
    link: str
    body: str = "<p>Electric vehicles keep getting cheaper as battery prices fall.</p>"
    published: datetime | None = None
    tags: tuple[str, ...] = ()
    image: str | None = None
    lang: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def rss(items: list[Item], *, title: str = "Volt Lane", lang: str = "en") -> str:
    """An RSS 2.0 document with content:encoded, categories and media:content."""
    parts = []
    for it in items:
        cats = "".join(f"<category>{escape(t)}</category>" for t in it.tags)
        date = f"<pubDate>{format_datetime(it.published)}</pubDate>" if it.published else ""
        media = f'<media:content url="{escape(it.image)}" medium="image"/>' if it.image else ""
        dclang = f"<dc:language>{it.lang}</dc:language>" if it.lang else ""
        parts.append(
            f"<item><title>{escape(it.title)}</title><link>{escape(it.link)}</link>"
            f'<guid isPermaLink="false">{escape(it.guid)}</guid>{date}{cats}{media}{dclang}'
            f"<description>{escape(it.body[:120])}</description>"
            f"<content:encoded><![CDATA[{it.body}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{escape(title)}</title><link>https://volt.example/</link>"
        f"<language>{lang}</language>{''.join(parts)}</channel></rss>"
    )


def write_config(
    tmp_path: Path,
    *,
    feeds: dict[str, str],
    platforms: tuple[str, ...] = ("x", "bluesky"),
    catch_up: str = "newest",
    extra_service: str = "",
) -> Path:
    """A syndbot.toml with one outbox channel per platform, state under tmp_path."""
    lines = [
        "[service]",
        f'database = "{tmp_path / "state.db"}"',
        f'outbox = "{tmp_path / "outbox.jsonl"}"',
        'poll_interval = "1m"',
        'jitter = "0s"',
        'deliver_interval = "1s"',
        "allow_private_addresses = true",
        extra_service,
    ]
    for name, url in feeds.items():
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', f'catch_up = "{catch_up}"']
        lines += ['full_text = "never"']
    for platform in platforms:
        lines += [
            "[[channels]]",
            f'name = "{platform}-out"',
            f'platform = "{platform}"',
            'publisher = "outbox"',
        ]
    path = tmp_path / "syndbot.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
