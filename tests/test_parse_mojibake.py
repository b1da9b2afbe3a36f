"""Text a publisher's CMS encoded twice is read as the writer wrote it; clean text,
Latin accents and Indic scripts are left exactly as they are."""

from __future__ import annotations

import pytest

from bot.feeds.mojibake import fix_mojibake
from bot.feeds.parse import parse_feed

HINDI = "चार्जिंग स्टेशनों की संख्या बढ़ी"
TAMIL = "சென்னையில் புதிய சார்ஜிங் மையங்கள்"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు"


def _twice(text: str) -> str:
    """What a CMS stores when it reads UTF-8 bytes as Windows-1252 (the five bytes that
    code page leaves undefined as Latin-1) and saves them again."""
    return "".join(_as_cp1252(byte) for byte in text.encode("utf-8"))


def _as_cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


@pytest.mark.parametrize("clean", ["Battery prices fall", "user’s guide", HINDI, TAMIL, TELUGU])
def test_doubly_encoded_text_is_read_as_written(clean: str) -> None:
    """“userâ€™s” is “user’s”, and doubly encoded Devanagari, Tamil and Telugu come back."""
    doubled = clean.encode("utf-8").decode("latin-1")
    assert fix_mojibake(doubled) == clean
    if clean.isascii():
        assert fix_mojibake(clean) is clean  # nothing to do: the text itself, no work


@pytest.mark.parametrize(
    "text", ["naïve café in São Paulo", "SÃO PAULO", "Ölpreis €80", HINDI, TAMIL, TELUGU, "e=mc²"]
)
def test_clean_text_is_left_alone(text: str) -> None:
    """Accents, capitals, currency and Indic scripts written correctly are not touched."""
    assert fix_mojibake(text) == text


def test_a_feed_with_doubly_encoded_items_parses_to_the_written_text() -> None:
    """Title, body, excerpt, author and tags of an item stored twice-encoded read right."""
    bad = _twice
    feed = f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>Volt Lane</title><link>https://voltlane.example/</link>
<item><title>{bad("Tata’s new EV")}</title><link>https://voltlane.example/1/</link>
<guid>1</guid><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">{
        bad("José Núñez")
    }</dc:creator>
<category>{bad("चार्जिंग")}</category>
<description>{bad("<p>It’s here — and cheaper.</p>")}</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[{
        bad("<p>" + HINDI + " — it’s official.</p>")
    }]]></content:encoded></item></channel></rss>""".encode()
    article = parse_feed(feed, feed_name="f", base_url="https://voltlane.example/").articles[0]
    assert article.title == "Tata’s new EV"
    assert HINDI + " — it’s official." in article.content_html
    assert "It’s here — and cheaper." in article.excerpt_html
    assert article.tags == ("चार्जिंग",)
    assert article.author == "José Núñez"
