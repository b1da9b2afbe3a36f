"""Publisher contract harnesses, one module per platform (see ``tests/contract.py``).

Each module ``<platform>.py`` exposes ``make_harness(tmp_path)``; the helpers here give
every harness the same sample article (Hindi, with an image and alt text) composed by the
real ``bot.compose``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from bot.compose import compose
from bot.models import Article, ChannelStyle, Media, Post
from bot.summarise import ExtractiveSummariser

ARTICLE_URL = "https://evnews.example/hi/2026/11/tata-nexon-ev-price-cut/"
ALT_TEXT = "चार्जिंग स्टेशन पर खड़ी सफ़ेद टाटा नेक्सन ईवी"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# Harnesses give their publishers short timeouts so the "timeout" case stays fast.
CLIENT_TIMEOUT = 1.5  # generous: the suite runs on 2 busy cores under xdist
SLOW_ANSWER = 4.0  # seconds a scripted "timeout" answer waits: well past CLIENT_TIMEOUT


def jpeg(width: int = 1200, height: int = 675) -> bytes:
    """A plain JPEG of a shape every platform takes (16:9)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 110, 70)).save(out, "JPEG", quality=85)
    return out.getvalue()


def sample_article(image_url: str) -> Article:
    """A Hindi EV-news article with an image and alt text."""
    body = (
        "<p>टाटा मोटर्स ने नेक्सन ईवी की कीमत में एक लाख रुपये की कटौती की है। "
        "नई कीमत अगले महीने से सभी शहरों में लागू होगी।</p>"
        "<p>कंपनी का कहना है कि बैटरी सस्ती होने से यह संभव हुआ।</p>"
    )
    return Article(
        feed="ev-hi",
        item_id="hi-contract-1",
        url=ARTICLE_URL,
        title="टाटा नेक्सन ईवी एक लाख रुपये सस्ती",
        content_html=body,
        lang="hi",
        published=NOW,
        tags=("EV", "Tata"),
        image=Media(url=image_url, alt=ALT_TEXT),
    )


def sample_post(platform: str, channel: str, image_url: str) -> Post:
    """The sample article composed for ``platform`` exactly as the pipeline would."""
    style = ChannelStyle(platform=platform, name=channel)
    return compose(sample_article(image_url), style, summariser=ExtractiveSummariser(), now=NOW)
