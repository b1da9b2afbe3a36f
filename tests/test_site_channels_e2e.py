"""The EV news site end to end: four language feeds -> X, Facebook and Instagram per language.

The real pipeline (open_pipeline, poll, deliver) runs against a feed server and fake X and
Graph APIs on loopback, configured like config/example-site.toml with ``api_base``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import open_pipeline
from bot.cli import main
from bot.config import load_config
from bot.pipeline import DeliveryReport
from tests.builders import Item, rss
from tests.fakes import graph_api, x_api
from tests.feedserver import FeedServer
from tests.harnesses import jpeg
from tests.harnesses.facebook import graph_fault

LANGS = ("en", "hi", "te", "ta")
X_KEYS = {"API_KEY": x_api.CONSUMER_KEY, "API_SECRET": x_api.CONSUMER_SECRET}
X_KEYS |= {"ACCESS_TOKEN": x_api.ACCESS_TOKEN, "ACCESS_TOKEN_SECRET": x_api.ACCESS_TOKEN_SECRET}


@dataclass(frozen=True)
class Story:
    lang: str
    slug: str
    title: str
    body: str
    alt: str

    @property
    def url(self) -> str:
        return f"https://evnews.example/{self.lang}/2026/11/{self.slug}/"


# fmt: off
FIRST = (
    Story("en", "ather-rizta-price-cut", "Ather cuts Rizta prices by Rs 10,000",
          "Ather Energy has cut the price of its Rizta family scooter by Rs 10,000 across "
          "India. The new prices apply from Monday at every showroom.",
          "A blue Ather Rizta scooter parked outside a showroom"),
    Story("en", "tata-power-highway-chargers", "Tata Power opens 500 highway fast chargers",
          "Tata Power has switched on 500 fast chargers along national highways. Each site "
          "offers at least two 60 kW connectors.",
          "Two cars charging at a highway fast-charging station"),
    Story("hi", "nexon-ev-sasti", "टाटा नेक्सन ईवी एक लाख रुपये सस्ती",
          "टाटा मोटर्स ने नेक्सन ईवी की कीमत में एक लाख रुपये की कटौती की है। नई कीमत "
          "अगले महीने से सभी शहरों में लागू होगी।",
          "चार्जिंग स्टेशन पर खड़ी सफ़ेद टाटा नेक्सन ईवी"),
    Story("te", "hyderabad-charging", "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం",
          "హైదరాబాద్ నగరంలో యాభై కొత్త ఛార్జింగ్ స్టేషన్లు ఈ రోజు ప్రారంభమయ్యాయి. ఇవి "
          "అన్ని ప్రధాన రహదారులపై ఉన్నాయి.",
          "హైదరాబాద్‌లో ఒక కొత్త ఛార్జింగ్ స్టేషన్ వద్ద ఎలక్ట్రిక్ కారు"),
    Story("ta", "ola-s1-pro", "ஓலா எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பு அறிமுகம்",
          "ஓலா நிறுவனம் எஸ்1 ப்ரோ ஸ்கூட்டரின் புதிய பதிப்பை இன்று அறிமுகம் செய்தது. இதன் "
          "பேட்டரி முன்பை விட அதிக தூரம் செல்லும்.",
          "சாலையில் நிற்கும் வெள்ளை நிற ஓலா எஸ்1 ப்ரோ ஸ்கூட்டர்"),
)
LATER = (
    Story("hi", "delhi-200-chargers", "दिल्ली में 200 नए चार्जिंग स्टेशन शुरू",
          "दिल्ली सरकार ने शहर भर में 200 नए सार्वजनिक चार्जिंग स्टेशन शुरू किए हैं। इनमें "
          "से आधे फास्ट चार्जर हैं।",
          "दिल्ली के एक पार्किंग में नया ईवी चार्जिंग स्टेशन"),
    Story("ta", "chennai-e-buses", "சென்னையில் மின்சார பேருந்துகள் சேவை தொடக்கம்",
          "சென்னை மாநகர போக்குவரத்துக் கழகம் நூறு மின்சார பேருந்துகளை இன்று சேவையில் "
          "இணைத்தது. இவை முக்கிய வழித்தடங்களில் இயங்கும்.",
          "சென்னை சாலையில் ஓடும் நீல நிற மின்சார பேருந்து"),
)
# fmt: on


@dataclass
class Site:
    """A feed server, one fake account per (language, platform), and the config."""

    feeds: FeedServer
    x: dict[str, x_api.FakeX]
    facebook: dict[str, graph_api.FakeGraph]
    instagram: dict[str, graph_api.FakeGraph]
    config: Path
    env: dict[str, str] = field(default_factory=dict)
    stories: list[Story] = field(default_factory=list)

    def image(self, story: Story) -> str:
        return self.feeds.url(f"/img/{story.slug}.jpg")

    def publish_feeds(self, stories: tuple[Story, ...]) -> None:
        """Serve ``stories`` (added to those already published) in their language feeds."""
        self.stories.extend(stories)
        for lang in LANGS:
            items = [
                Item(
                    guid=f"{s.lang}-{s.slug}",
                    title=s.title,
                    link=s.url,
                    # The alt text reaches the feed the usual WordPress way: on the <img>.
                    body=f'<p>{s.body}</p><p><img src="{self.image(s)}" alt="{s.alt}"></p>',
                    tags=("EV",),
                    image=self.image(s),
                    lang=lang,
                )
                for s in self.stories
                if s.lang == lang
            ]
            self.feeds.route(f"/{lang}/feed/", body=rss(items, lang=lang).encode())

    def run(self) -> list[DeliveryReport]:
        """One service cycle in a fresh process: open, poll every feed, deliver, close."""
        config = load_config(self.config, env=self.env)
        with open_pipeline(config) as pipe:
            pipe.recover_interrupted()
            for feed in config.feeds:
                assert pipe.poll(feed.name).error is None
            return pipe.deliver(limit=1000)

    def posted(self) -> dict[str, int]:
        """Posts each channel's fake account holds."""
        counts = {f"x-{lang}": len(fake.tweets) for lang, fake in self.x.items()}
        counts |= {f"facebook-{lang}": len(f.page_posts) for lang, f in self.facebook.items()}
        counts |= {f"instagram-{lang}": len(f.media) for lang, f in self.instagram.items()}
        return counts


def _channels(lang: str, x: str, fb: graph_api.FakeGraph, ig: graph_api.FakeGraph) -> str:
    up = lang.upper()
    return f"""
[[channels]]
name = "x-{lang}"
platform = "x"
feeds = ["ev-{lang}"]
hashtags = 2
utm = {{ utm_source = "x", utm_medium = "social", utm_campaign = "syndbot-{lang}" }}
api_base = "{x}"
[channels.credentials]
api_key = "X_{up}_API_KEY"
api_secret = "X_{up}_API_SECRET"
access_token = "X_{up}_ACCESS_TOKEN"
access_token_secret = "X_{up}_ACCESS_TOKEN_SECRET"

[[channels]]
name = "facebook-{lang}"
platform = "facebook"
feeds = ["ev-{lang}"]
hashtags = 2
api_base = "{fb.base}"
[channels.credentials]
page_token = "FB_{up}_PAGE_TOKEN"
[channels.options]
page_id = "{fb.page_id}"
graph_version = "v25.0"

[[channels]]
name = "instagram-{lang}"
platform = "instagram"
feeds = ["ev-{lang}"]
hashtags = 8
api_base = "{ig.base}"
[channels.credentials]
access_token = "IG_{up}_ACCESS_TOKEN"
[channels.options]
ig_user_id = "{ig.ig_user_id}"
graph_version = "v25.0"
"""


def _write_config(tmp_path: Path, site: Site) -> None:
    text = f"""
[service]
database = "{tmp_path / "state.db"}"
outbox = "{tmp_path / "outbox.jsonl"}"
timeout = "5s"
timezone = "Asia/Kolkata"
allow_private_addresses = true   # every fake listens on 127.0.0.1
"""
    for lang in LANGS:
        text += f"""
[[feeds]]
name = "ev-{lang}"
url = "{site.feeds.url(f"/{lang}/feed/")}"
lang = "{lang}"
catch_up = "all"
"""
    for lang in LANGS:
        text += _channels(lang, site.x[lang].base, site.facebook[lang], site.instagram[lang])
    site.config.write_text(text, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with ExitStack() as stack:
        feeds = stack.enter_context(FeedServer())
        x = {lang: stack.enter_context(x_api.FakeX()) for lang in LANGS}
        fb = {lang: stack.enter_context(graph_api.FakeGraph(token=f"EAAG-{lang}-page-tok-51c"))
              for lang in LANGS}  # fmt: skip
        ig = {lang: stack.enter_context(graph_api.FakeGraph(token=f"IGQ-{lang}-user-tok-9de"))
              for lang in LANGS}  # fmt: skip
        made = Site(feeds, x, fb, ig, tmp_path / "syndbot.toml")
        for lang in LANGS:
            up = lang.upper()
            made.env |= {f"X_{up}_{key}": value for key, value in X_KEYS.items()}
            made.env[f"FB_{up}_PAGE_TOKEN"] = fb[lang].token
            made.env[f"IG_{up}_ACCESS_TOKEN"] = ig[lang].token
        for story in FIRST + LATER:
            feeds.route(f"/img/{story.slug}.jpg", body=jpeg(), content_type="image/jpeg")
        _write_config(tmp_path, made)
        made.publish_feeds(FIRST)
        yield made
    assert all(fake.errors == [] for fake in x.values())


def _assert_posted_once_each(site: Site, stories: list[Story]) -> None:
    """Every account holds exactly one well-formed post per story of its language."""
    for lang in LANGS:
        mine = [s for s in stories if s.lang == lang]
        _assert_x(site.x[lang], mine)
        _assert_facebook(site.facebook[lang], mine, site)
        _assert_instagram(site.instagram[lang], mine, site)


def _assert_x(fake: x_api.FakeX, stories: list[Story]) -> None:
    assert len(fake.tweets) == len(stories)
    for story in stories:
        [tweet] = [t for t in fake.tweets if story.url in t["text"]]
        assert story.title in tweet["text"]
        assert "utm_source=x" in tweet["text"]
        [media_id] = tweet["media_ids"]
        assert fake.media[media_id]["alt"] == story.alt
        assert fake.media[media_id]["data"].startswith(b"\xff\xd8")  # the JPEG itself


def _assert_facebook(fake: graph_api.FakeGraph, stories: list[Story], site: Site) -> None:
    photos = fake.calls_to("photos")
    assert len(fake.page_posts) == len(photos) == len(stories)
    for story in stories:
        [call] = [c for c in photos if c.form["url"] == site.image(story)]
        assert call.form["alt_text_custom"] == story.alt
        assert story.url in call.form["message"]
        assert story.title in call.form["message"]


def _assert_instagram(fake: graph_api.FakeGraph, stories: list[Story], site: Site) -> None:
    assert len(fake.media) == len(fake.calls_to("publish")) == len(stories)
    for story in stories:
        [call] = [c for c in fake.calls_to("create") if c.form["image_url"] == site.image(story)]
        assert call.form["alt_text"] == story.alt
        assert story.title in call.form["caption"]
        assert any(m["caption"] == call.form["caption"] for m in fake.media)


def test_first_run_posts_each_article_once_per_channel(site: Site) -> None:
    """catch_up=all: every article goes to its language's three accounts, with image and alt."""
    reports = site.run()

    assert [r.outcome for r in reports] == ["sent"] * (len(FIRST) * 3)
    _assert_posted_once_each(site, list(FIRST))
    assert site.posted()["x-en"] == 2
    assert site.posted()["instagram-hi"] == 1


def test_rerun_and_restart_post_nothing_new(site: Site) -> None:
    """Polling again, in the same or a restarted process, sends nothing a second time."""
    site.run()
    before = site.posted()
    with open_pipeline(load_config(site.config, env=site.env)) as pipe:
        for feed in pipe.config.feeds:
            pipe.poll(feed.name)
        assert pipe.deliver(limit=1000) == []
        for feed in pipe.config.feeds:  # a second poll in the same process
            pipe.poll(feed.name)
        assert pipe.deliver(limit=1000) == []

    assert site.run() == []  # and once more after a restart
    assert site.posted() == before
    _assert_posted_once_each(site, list(FIRST))


def _trouble_run(site: Site) -> tuple[int, dict[str, int], list[DeliveryReport]]:
    """New Hindi and Tamil articles while x-hi is rate limited and facebook-ta's token expired.

    Returns X's reset time, the post counts before, and the delivery reports."""
    site.run()
    before = site.posted()
    reset = int(time.time() + 900)
    site.x["hi"].script(
        "POST",
        "/2/tweets",
        x_api.Fault(status=429, body=x_api.TOO_MANY, headers={"x-rate-limit-reset": str(reset)}),
    )
    site.facebook["ta"].fail("photos", graph_fault("auth", wait_minutes=0))
    site.publish_feeds(LATER)
    return reset, before, site.run()


def test_rate_limit_and_expired_token_hold_only_their_channels(site: Site) -> None:
    """A 429 reschedules after X's reset, an expired token pauses its channel, others post."""
    reset, before, reports = _trouble_run(site)

    outcomes = {r.channel: r.outcome for r in reports}
    assert outcomes == {
        "x-hi": "retry",
        "facebook-hi": "sent",
        "instagram-hi": "sent",
        "x-ta": "sent",
        "facebook-ta": "paused",
        "instagram-ta": "sent",
    }
    config = load_config(site.config, env=site.env)
    with open_pipeline(config) as pipe:
        [waiting] = [d for d in pipe.store.deliveries(status="pending") if d.channel == "x-hi"]
        assert waiting.attempts == 1
        assert waiting.next_attempt is not None
        reset_at = datetime.fromtimestamp(reset, UTC)
        assert reset_at <= waiting.next_attempt
        assert waiting.next_attempt <= reset_at + timedelta(seconds=900 * 0.15)
        assert (waiting.last_error or "").startswith("rate limited")
        paused = pipe.store.channel_paused("facebook-ta")
        assert paused is not None
        assert "190" in paused
        assert "expired" in paused
        assert pipe.store.channel_paused("x-hi") is None

    after = site.posted()
    grew = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert grew == {"facebook-hi": 1, "instagram-hi": 1, "x-ta": 1, "instagram-ta": 1}
    everything = [*FIRST, *LATER]
    _assert_x(site.x["ta"], [s for s in everything if s.lang == "ta"])
    _assert_facebook(site.facebook["hi"], [s for s in everything if s.lang == "hi"], site)
    for lang in ("hi", "ta"):
        _assert_instagram(site.instagram[lang], [s for s in everything if s.lang == lang], site)
    tweet_calls = len(site.x["hi"].api_requests())
    assert site.run() == []  # not due yet / paused: nothing is tried again at once
    assert len(site.facebook["ta"].calls_to("photos")) == 2  # the first run's post + the 190
    assert len(site.x["hi"].api_requests()) == tweet_calls


def _squashed(text: str) -> str:
    """Table text with borders and line breaks removed, so folded cells read as one."""
    return re.sub(r"[\s│┃|]", "", text)


def test_status_shows_the_paused_reason_and_the_waiting_delivery(site: Site) -> None:
    """`syndbot status` names the paused channel's reason and the rate-limited delivery."""
    _trouble_run(site)
    args = ["-c", str(site.config), "--env-file", os.devnull]

    result = CliRunner().invoke(main, [*args, "status"], env=site.env)

    assert result.exit_code == 0, result.output
    flat = _squashed(result.output)
    assert "paused:" in result.output
    assert "Grapherror190/463" in flat
    assert "Sessionhasexpired" in flat
    waiting = result.output.split("Waiting deliveries")[1]
    [x_hi] = [line for line in waiting.splitlines() if " x-hi " in line]
    wait = re.search(r"in (\d+)m(?:(\d+)s)?", x_hi)
    assert wait is not None, x_hi
    assert 850 <= int(wait[1]) * 60 + int(wait[2] or 0) < 1100, x_hi
    assert "ratelimited" in flat
