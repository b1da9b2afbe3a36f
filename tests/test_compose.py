"""compose: posts fitted per platform (counting, escaping, links, hashtags, threads, media)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from bot.compose import PROFILES, add_utm, compose, counting
from bot.compose.profiles import escape_little
from bot.compose.template import check_template, clean_block, render
from bot.compose.validate import validate_post
from bot.compose.xlength import extract_urls, x_weighted_length
from bot.models import Article, ChannelStyle, Facet, Media, Post, PostPart
from bot.summarise import ExtractiveSummariser
from bot.textfit import fit_text, graphemes

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
SUMMARISER = ExtractiveSummariser()
PLATFORMS = sorted(PROFILES)

_BODIES = {
    "en": (
        "Tata Motors launched a long-range version of the Nexon EV on Monday. "
        "The new 45 kWh battery gives a claimed range of 489 km on a single charge. "
        "Fast charging from 10 to 80 percent takes 40 minutes on a 60 kW charger. "
        "The company also announced 500 new public chargers across Indian highways. "
        "Prices start at 13.99 lakh rupees, ex-showroom, and deliveries begin next month."
    ),
    "hi": (
        "टाटा मोटर्स ने सोमवार को नेक्सन ईवी का लंबी रेंज वाला संस्करण लॉन्च किया। "
        "नई 45 kWh बैटरी एक बार चार्ज करने पर 489 किलोमीटर की दावा की गई रेंज देती है। "
        "60 kW चार्जर पर 10 से 80 प्रतिशत चार्जिंग में 40 मिनट लगते हैं। "
        "कंपनी ने राष्ट्रीय राजमार्गों पर 500 नए सार्वजनिक चार्जर लगाने की घोषणा भी की। "
        "कीमत 13.99 लाख रुपये से शुरू होती है और डिलीवरी अगले महीने शुरू होगी।"
    ),
    "ta": (
        "டாடா மோட்டார்ஸ் திங்கள்கிழமை நெக்ஸான் மின்சார வாகனத்தின் நீண்ட தூர பதிப்பை அறிமுகப்படுத்தியது. "
        "புதிய 45 kWh பேட்டரி ஒரு முறை சார்ஜ் செய்தால் 489 கிலோமீட்டர் தூரம் செல்லும். "
        "60 kW சார்ஜரில் 10 முதல் 80 சதவீதம் சார்ஜ் செய்ய 40 நிமிடங்கள் ஆகும். "
        "நெடுஞ்சாலைகளில் 500 புதிய பொது சார்ஜர்களை நிறுவுவதாக நிறுவனம் அறிவித்தது."
    ),
    "te": (
        "టాటా మోటార్స్ సోమవారం నెక్సాన్ ఈవీ యొక్క లాంగ్ రేంజ్ వెర్షన్‌ను విడుదల చేసింది. "
        "కొత్త 45 kWh బ్యాటరీ ఒక్క ఛార్జ్‌తో 489 కిలోమీటర్ల పరిధిని ఇస్తుంది. "
        "60 kW ఛార్జర్‌పై 10 నుండి 80 శాతం ఛార్జింగ్‌కు 40 నిమిషాలు పడుతుంది. "
        "జాతీయ రహదారులపై 500 కొత్త పబ్లిక్ ఛార్జర్లను ఏర్పాటు చేస్తామని కంపెనీ ప్రకటించింది."
    ),
}
_TITLES = {
    "en": "Tata Nexon EV gets a 489 km battery & 500 new chargers",
    "hi": "टाटा नेक्सन ईवी को मिली 489 किमी रेंज वाली बैटरी",
    "ta": "டாடா நெக்ஸான் மின்சார வாகனத்திற்கு 489 கிமீ பேட்டரி",
    "te": "టాటా నెక్సాన్ ఈవీకి 489 కిమీ బ్యాటరీ",
}
_TAGS = {
    "en": ("Electric Vehicles", "Tata Motors", "charging infrastructure"),
    "hi": ("इलेक्ट्रिक वाहन", "टाटा मोटर्स", "चार्जिंग"),
    "ta": ("மின்சார வாகனம்", "டாடா"),
    "te": ("విద్యుత్ వాహనం", "టాటా"),
}


def article(lang: str = "en", **changes: object) -> Article:
    base = Article(
        feed=f"ev-{lang}",
        item_id=f"nexon-{lang}",
        url=f"https://evnews.example.com/{lang}/2025/03/tata-nexon-ev-long-range",
        title=_TITLES[lang],
        content_html="".join(
            f"<p>{s.strip()}</p>" for s in re.split(r"(?<=[.।])\s", _BODIES[lang])
        ),
        lang=lang,
        tags=_TAGS[lang],
        image=Media("https://evnews.example.com/img/nexon.jpg", alt="Blue Nexon EV charging"),
        author="Asha Rao",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def make(art: Article, platform: str, **style: object) -> Post:
    return compose(art, ChannelStyle(platform=platform, **style), summariser=SUMMARISER, now=NOW)  # type: ignore[arg-type]


def _many_sentences(count: int) -> str:
    """Distinct English sentences, plain text."""
    cities = ["Pune", "Chennai", "Hyderabad", "Delhi", "Kochi", "Indore"]
    return " ".join(
        f"Charging hub {i} in {cities[i % 6]} adds {i + 2} fast chargers for electric buses "
        f"and cars, the operator said on day {i}."
        for i in range(count)
    )


class FixedSummariser:
    """Returns ``text`` cut to the budget, or (``overshoot``) ignores the budget entirely."""

    def __init__(self, text: str, *, overshoot: bool = False) -> None:
        self.text, self.overshoot = text, overshoot

    def summarise(
        self, article: Article, *, budget: int, measure: Callable[[str], int] = len
    ) -> str:
        return self.text if self.overshoot else fit_text(self.text, budget, measure)


@pytest.mark.parametrize("lang", ["en", "hi", "ta", "te"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_and_language_validates(platform: str, lang: str) -> None:
    """English, Hindi, Tamil and Telugu posts fit every platform and validate clean."""
    post = make(article(lang), platform, utm=(("utm_source", platform),))
    assert validate_post(post) == []
    assert post.summary, "the article has a body: some of it must be posted"
    assert post.length.value <= post.length.limit
    assert post.parts[0].media[0].alt == "Blue Nexon EV charging"


def test_x_counts_cjk_double_and_indic_single() -> None:
    """X: Devanagari weighs 1 per code point (below U+10FF), CJK 2, so CJK fits fewer."""
    zh = article(
        "en",
        title="塔塔汽车发布长续航电动车" * 3,
        content_html="<p>" + "电池续航很长。" * 80 + "</p>",
    )
    hi = article("hi", content_html="<p>" + "बैटरी की रेंज बहुत लंबी है। " * 40 + "</p>")
    zh_text, hi_text = make(zh, "x").parts[0].text, make(hi, "x").parts[0].text
    assert x_weighted_length(zh_text) <= 280
    assert x_weighted_length(hi_text) <= 280
    assert len(zh_text) < 160 < len(hi_text)


def test_utm_parameters_are_added_once_and_keep_the_fragment() -> None:
    """UTM goes into the query before '#', existing parameters (and existing utm_*) stay."""
    url = "https://evnews.example.com/a?id=7&utm_source=rss#top"
    tagged = add_utm(url, [("utm_source", "x"), ("utm_medium", "social")])
    assert tagged == "https://evnews.example.com/a?id=7&utm_source=rss&utm_medium=social#top"
    assert add_utm("https://e.com/a", []) == "https://e.com/a"
    post = make(article(), "mastodon", utm=(("utm_source", "mastodon"),))
    assert post.article_url.endswith("?utm_source=mastodon")
    assert post.article_url in post.parts[0].text


def test_template_placeholders_are_checked() -> None:
    """Unknown placeholders, format specs and stray braces are ValueErrors naming the problem."""
    check_template("{title} — {author} ({feed}, {lang})\n{summary}\n{url} {hashtags}")
    with pytest.raises(ValueError, match=r"unknown placeholder \{titel\}"):
        check_template("{titel} {url}")
    with pytest.raises(ValueError, match=r"unknown placeholder \{\}"):
        check_template("{} {url}")
    with pytest.raises(ValueError, match="no format spec"):
        check_template("{title:>20}")
    with pytest.raises(ValueError, match="literal brace"):
        check_template("{title")
    with pytest.raises(ValueError, match="unknown placeholder"):
        make(article(), "x", template="{headline}")


def test_render_collapses_what_empty_fields_leave() -> None:
    """Empty fields leave no blank-line runs, double spaces or dangling spaces."""
    out = render("{title}\n\n{summary}\n\n{url}  {hashtags}", {"title": "T", "url": "u"})
    assert out == "T\n\nu"
    assert render("{{literal}} {title}", {"title": "x"}) == "{literal} x"


def test_custom_template_with_author_and_feed() -> None:
    """A channel template is used as given, author and feed filled in."""
    post = make(article(), "mastodon", template="{feed}: {title} by {author}\n{url}")
    assert post.parts[0].text.startswith("ev-en: Tata Nexon EV gets")
    assert " by Asha Rao\nhttps://" in post.parts[0].text
    assert validate_post(post) == []


def test_instagram_has_no_url_and_needs_an_image() -> None:
    """Instagram: link-in-bio wording instead of the URL; a missing image is marked and flagged."""
    post = make(article(), "instagram", link_in_bio="Link in bio 👆")
    text = post.parts[0].text
    assert "https://" not in text
    assert "evnews.example.com" not in text
    assert "Link in bio 👆" in text
    assert post.image_missing is False
    assert validate_post(post) == []
    bare = make(article(image=None), "instagram")
    assert bare.image_missing is True
    assert validate_post(bare) == ["instagram: an image is required and the article has none"]


def test_linkedin_escapes_little_text_and_keeps_hashtags() -> None:
    """Every reserved character is backslash-escaped; our hashtags use {hashtag|\\#|tag}."""
    title = r"EV (2025) [new] #1 @Tata *best* _x_ ~y~ {a} | b \ c"
    post = make(article(title=title), "linkedin")
    text = post.parts[0].text
    assert text.startswith(escape_little(title))
    assert r"\(2025\) \[new\] \#1 \@Tata \*best\* \_x\_ \~y\~ \{a\} \| b \\ c" in text
    assert "{hashtag|\\#|ElectricVehicles}" in text
    assert escape_little(post.article_url) in text
    assert validate_post(post) == []
    raw = dataclasses.replace(post, parts=(PostPart(text=title + " " + post.article_url),))
    assert any("LinkedIn cut" in p for p in validate_post(raw))


def test_telegram_escapes_html_and_links_with_a_tag() -> None:
    """Telegram HTML: only & < > escaped; the link is <a href>; caption limit with an image."""
    post = make(article(title="Tata & Mahindra: 5 < 7 > 3"), "telegram")
    text = post.parts[0].text
    assert text.startswith("Tata &amp; Mahindra: 5 &lt; 7 &gt; 3")
    assert f'<a href="{post.article_url}">evnews.example.com/' in text
    assert post.length.limit == 1024
    assert make(article(image=None), "telegram").length.limit == 4096
    assert validate_post(post) == []
    broken = dataclasses.replace(post, parts=(PostPart(text="5 < 7 & " + text),))
    assert len(validate_post(broken)) == 2


def test_slack_escapes_mrkdwn() -> None:
    """Slack: & < > become entities; the link is <url|shown>."""
    post = make(article(title="Tata & Mahindra <EV>"), "slack")
    assert post.parts[0].text.startswith("Tata &amp; Mahindra")  # "<EV>" read as a tag: removed
    assert f"<{post.article_url}|evnews.example.com/" in post.parts[0].text
    assert validate_post(post) == []


def test_bluesky_shortens_the_link_and_facets_point_at_the_full_url() -> None:
    """The visible link is short, the facet carries the full URL; tag facets cover '#tag'."""
    post = make(
        article("hi", title="⚡ टाटा नेक्सन 🚗 ईवी"), "bluesky", utm=(("utm_source", "bsky"),)
    )
    part = post.parts[0]
    data = part.text.encode("utf-8")
    links = [f for f in part.facets if f.kind == "link"]
    assert [f.value for f in links] == [post.article_url]
    shown = data[links[0].byte_start : links[0].byte_end].decode()
    assert shown.startswith("evnews.example.com/hi/")
    assert shown.endswith("…")
    assert post.article_url not in part.text
    for tag in (f for f in part.facets if f.kind == "tag"):
        assert data[tag.byte_start : tag.byte_end].decode() == f"#{tag.value}"
    assert part.link == post.article_url
    assert validate_post(post) == []
    shifted = Facet(links[0].byte_start + 1, links[0].byte_end + 1, "link", post.article_url)
    moved = dataclasses.replace(post, parts=(dataclasses.replace(part, facets=(shifted,)),))
    assert validate_post(moved)


def test_mastodon_counts_urls_as_23_and_honours_the_instance_limit() -> None:
    """A 200-character URL costs 23 on Mastodon; max_chars raises the limit there only."""
    long_url = "https://evnews.example.com/" + "a" * 180
    post = make(article(url=long_url), "mastodon")
    assert counting.mastodon_length(post.parts[0].text) == post.length.value <= 500
    assert make(article(), "mastodon", max_chars=1000).length.limit == 1000
    assert make(article(), "x", max_chars=1000).length.limit == 280
    assert make(article(), "x", max_chars=200).length.limit == 200


def test_thread_parts_are_numbered_and_each_valid() -> None:
    """A long summary on X becomes a numbered reply chain; each part fits; link in part 1."""
    long, wordy = article(), FixedSummariser(_many_sentences(6))
    single = compose(long, ChannelStyle(platform="x"), summariser=wordy, now=NOW)
    thread = compose(long, ChannelStyle(platform="x", thread=True), summariser=wordy, now=NOW)
    assert len(single.parts) == 1
    count = len(thread.parts)
    assert 2 <= count <= 4
    for number, part in enumerate(thread.parts, start=1):
        assert part.text.endswith(f"\n{number}/{count}")
        assert x_weighted_length(part.text) <= 280
    assert thread.article_url in thread.parts[0].text
    assert thread.parts[0].media
    assert not thread.parts[1].media
    assert validate_post(thread) == []
    telegram = compose(long, ChannelStyle("telegram", thread=True), summariser=wordy, now=NOW)
    assert len(telegram.parts) == 1  # no reply chains on Telegram: one post


def test_media_alt_falls_back_to_the_title_and_can_be_turned_off() -> None:
    """No alt on the image: the title is the alt text; include_image=False: no media."""
    art = article(image=Media("https://evnews.example.com/i.jpg"))
    assert make(art, "mastodon").parts[0].media[0].alt == art.title
    assert make(art, "mastodon", include_image=False).parts[0].media == ()
    assert make(art, "discord").parts[0].media[0].url == "https://evnews.example.com/i.jpg"


def test_a_title_too_long_is_cut_but_the_url_never_is() -> None:
    """A 400-character title is shortened with '…'; the URL stays whole; tags go first."""
    post = make(article(title="Very long headline " * 25), "x")
    text = post.parts[0].text
    assert post.title.endswith("…")
    assert post.title in text
    assert post.article_url in text
    assert post.hashtags == ()
    assert validate_post(post) == []


def test_hashtags_are_dropped_before_the_summary() -> None:
    """When tags would leave no room for any summary, tags go one by one first."""
    art = article(tags=("Electric Vehicles", "Charging Infrastructure", "Battery Technology"))
    post = make(art, "mastodon", max_chars=140, max_hashtags=3)
    assert post.summary
    assert len(post.hashtags) < 3
    assert validate_post(post) == []
    empty = make(article(content_html=""), "mastodon", max_chars=140, max_hashtags=3)
    assert empty.summary == ""
    assert len(empty.hashtags) == 3


def test_summary_chars_caps_the_summary() -> None:
    """ChannelStyle.summary_chars caps the summary below what the platform allows."""
    post = make(article(), "facebook", summary_chars=90)
    assert 0 < len(post.summary) <= 90


def test_facebook_stays_readable() -> None:
    """Facebook allows 63,206 characters; compose keeps posts to about 1,500."""
    wordy = FixedSummariser(_many_sentences(60))
    post = compose(article(), ChannelStyle(platform="facebook"), summariser=wordy, now=NOW)
    assert post.length.limit == 1500
    assert 1000 < post.length.value <= 1500


def test_html_entities_and_tags_never_reach_plain_text_platforms() -> None:
    """Double-escaped entities and tags in titles are decoded or stripped; validate flags them."""
    post = make(article(title="Tata &amp;amp; Mahindra <b>EV</b> &lt;i&gt;news"), "x")
    assert post.parts[0].text.startswith("Tata & Mahindra EV news")
    assert validate_post(post) == []
    leftover = dataclasses.replace(post, parts=(PostPart(text="A &amp; B " + post.article_url),))
    assert validate_post(leftover) == ["x part 1: leftover HTML entity '&amp;'"]
    tagged = dataclasses.replace(post, parts=(PostPart(text="A <b>B</b> " + post.article_url),))
    assert validate_post(tagged) == ["x part 1: leftover HTML tag '<b>'"]


def test_a_summariser_that_overshoots_is_cut_to_fit() -> None:
    """Even a summariser ignoring the budget cannot push a post over the limit."""
    wordy = FixedSummariser("word " * 400, overshoot=True)
    post = compose(article(), ChannelStyle(platform="bluesky"), summariser=wordy, now=NOW)
    assert validate_post(post) == []
    assert post.summary.endswith("…")


def test_validate_reports_each_problem() -> None:
    """Over the limit, missing link, too many hashtags, URL on Instagram: each is named."""
    post = make(article(), "x")
    over = dataclasses.replace(post, parts=(PostPart(text="x" * 300 + " " + post.article_url),))
    assert validate_post(over)[0].startswith("x part 1: 324 weighted, over the limit of 280")
    no_link = dataclasses.replace(post, parts=(PostPart(text="no link"),))
    assert validate_post(no_link) == [f"x: the article link {post.article_url} is missing"]
    tags = dataclasses.replace(make(article(), "threads"), hashtags=("a", "b"))
    assert "threads: 2 hashtags, at most 1" in validate_post(tags)
    insta = make(article(), "instagram")
    leaked = dataclasses.replace(
        insta, parts=(PostPart(text=insta.article_url, media=insta.parts[0].media),)
    )
    assert any("must not be posted" in p for p in validate_post(leaked))
    assert validate_post(dataclasses.replace(post, platform="myspace")) == [
        "unknown platform 'myspace'"
    ]


def test_unknown_platform_and_unfittable_link_are_clear_errors() -> None:
    """An unknown platform lists the known ones; a limit below the link's size says so."""
    with pytest.raises(ValueError, match="unknown platform 'myspace'; use one of bluesky"):
        make(article(), "myspace")
    with pytest.raises(ValueError, match="cannot hold the link"):
        make(article(), "x", max_chars=10)


def test_compose_is_pure() -> None:
    """The same article, style and time give the same post, named after its channel."""
    styles = [ChannelStyle(platform=p, name=f"{p}-en") for p in ("x", "bluesky", "telegram")]
    first = [compose(article(), s, summariser=SUMMARISER, now=NOW) for s in styles]
    again = [compose(article(), s, summariser=SUMMARISER, now=NOW) for s in styles]
    assert [p.channel for p in first] == ["x-en", "bluesky-en", "telegram-en"]
    assert first == again
    assert first[0].composed_at == NOW
    assert first[1].description
    assert [p.with_facets for p in first] == [False, True, False]


@pytest.mark.parametrize(
    ("measure", "text", "expected"),
    [
        (counting.graphemes, "नमस्ते 👨‍👩‍👧", 5),
        (counting.mastodon_length, "read https://e.com/" + "x" * 100 + " now", 5 + 23 + 4),
        (counting.mastodon_length, "e.com/" + "x" * 30, 36),  # no scheme: counted in full
        (counting.utf8_bytes, "aक😀", 1 + 3 + 4),
        (counting.utf16_units, "aक😀", 1 + 1 + 2),
        (counting.code_points, "aक😀", 3),
        (counting.threads_length, "EV 🚗", 3 + 4),
        (counting.threads_length, "👨‍👩‍👧", 18),
        (counting.telegram_html_length, '<a href="https://e.com">e.com</a> &amp; 😀', 5 + 3 + 2),
        (counting.bluesky_length, "क" * 290, 290),
        (counting.bluesky_length, "😀" * 200, 200),
        (counting.bluesky_length, "👨‍👩‍👧‍👦" * 120, 300),  # 25 bytes each: bytes bind
    ],
)
def test_measures(measure: Callable[[str], int], text: str, expected: int) -> None:
    """Each platform measure counts the way its platform documents."""
    assert measure(text) == expected


def test_clean_block_removes_what_platforms_reject() -> None:
    """Control, private-use and noncharacters go; entities decode; NFC applies."""
    assert clean_block("a\x00b\ue000c\ufffe\ufeffd &amp;amp; e\u0301") == "abcd & \u00e9"
    # Markup goes through the one HTML-to-text function: a paragraph stays a paragraph.
    assert clean_block("<p>One</p><p>Two</p>\r\n\r\n\r\nThree") == "One\n\nTwo\n\nThree"
    assert clean_block("a\u00a0b\tc\u200dd e\u0301") == "a\u00a0b c\u200dd \u00e9"  # kept / tab


def test_a_non_ascii_article_url_is_posted_percent_encoded() -> None:
    """X and Mastodon link only ASCII paths: a Devanagari slug is sent %-encoded, and
    Bluesky still shows it readable while its facet carries the encoded URL."""
    url = "https://evnews.example.com/hi/2025/03/टाटा-नेक्सन"
    encoded = "https://evnews.example.com/hi/2025/03/" + quote("टाटा-नेक्सन")
    for platform in ("x", "mastodon", "threads", "telegram"):
        post = make(article("hi", url=url), platform)
        assert post.article_url == encoded
        if platform != "telegram":
            assert [u.url for u in extract_urls(post.parts[0].text)] == [encoded]
        assert validate_post(post) == []
    sky = make(article("hi", url=url), "bluesky").parts[0]
    link = next(f for f in sky.facets if f.kind == "link")
    assert link.value == encoded
    shown = sky.text.encode("utf-8")[link.byte_start : link.byte_end].decode("utf-8")
    assert shown.startswith("evnews.example.com/hi/2025/03/टा")


def test_instagram_caption_drops_links_written_in_the_article() -> None:
    """Links in an Instagram caption cannot be followed: URLs from the article text go,
    the sentence around them stays; validate flags any URL left in a caption."""
    body = (
        "<p>Tata opened bookings for the Nexon EV on Monday. Book a test drive at "
        "https://tatamotors.example/book today, or visit www.tatamotors.example.</p>"
    )
    post = make(article(content_html=body), "instagram")
    text = post.parts[0].text
    assert "Book a test drive at today, or visit." in text
    assert "://" not in text
    assert "www." not in text
    assert validate_post(post) == []
    leaked = dataclasses.replace(
        post, parts=(dataclasses.replace(post.parts[0], text=text + " https://t.example/x"),)
    )
    assert any("must not be posted" in p for p in validate_post(leaked))


def test_uncategorized_category_gives_no_hashtag_on_x() -> None:
    """A WordPress item filed under "Uncategorized" is posted without #Uncategorized."""
    post = make(article("en", tags=("Uncategorized", "Electric Vehicles")), "x")
    assert post.hashtags == ("ElectricVehicles",)
    assert "#Uncategorized" not in post.parts[0].text


_LONG_TITLES = {
    "en": "Government announces a new national charging policy for electric vehicles with "
    "a public charger every fifty kilometres on highways " * 5,
    "hi": "सरकार ने देश भर में इलेक्ट्रिक वाहनों के लिए नई चार्जिंग नीति की घोषणा की जिसमें "
    "राजमार्गों पर हर पचास किलोमीटर पर एक सार्वजनिक चार्जर लगाने का लक्ष्य रखा गया है " * 4,
}


def _stub(summary: str) -> bool:
    body = summary.removesuffix("…").strip()
    return summary.endswith("…") and (len(body.split()) < 3 or len(graphemes(body)) < 15)


@pytest.mark.parametrize("lang", ["en", "hi"])
def test_long_title_leaves_no_stub_summary_on_threads(lang: str) -> None:
    """On Threads a title of ~380-440 characters leaves little room: the summary is then
    either a real fragment (3+ words, 15+ graphemes before the "…") or left out, never a
    stub like "सरकार ने…" or "Tata…"."""
    seen_omitted = False
    for length in range(380, 442, 2):
        title = _LONG_TITLES[lang][:length].strip()
        post = make(article(lang, title=title), "threads")
        assert not _stub(post.summary), (length, post.summary)
        assert validate_post(post) == []
        seen_omitted |= post.summary == ""
    assert seen_omitted  # the range reaches titles with no room for a real summary


def test_hindi_summary_omitted_keeps_the_hashtags() -> None:
    """A Hindi Threads post whose title leaves room only for a stub posts title, link and
    hashtag with no summary: dropping the hashtag would not have made room for a real one."""
    post = make(article("hi", title=_LONG_TITLES["hi"][:416].strip()), "threads")
    assert post.summary == ""
    assert post.hashtags == ("इलेक्ट्रिकवाहन",)
    assert "#इलेक्ट्रिकवाहन" in post.parts[0].text
    assert "…" not in post.parts[0].text


def test_english_stub_gives_way_to_a_real_summary_without_hashtags() -> None:
    """When a stub ("Tata…") is all that fits beside the hashtags but dropping them makes
    room for a real fragment, the hashtags go (summary before hashtags, as ever)."""
    post = make(article("en", title=_LONG_TITLES["en"][:408].strip()), "threads")
    assert post.summary == "Tata Motors launched a…"
    assert post.hashtags == ()


def test_thread_does_not_open_on_a_stub() -> None:
    """An X thread whose first post has room only for a stub starts its text in the second
    post; the first holds title, link and hashtags, and no text is lost."""
    post = make(article("en", title=_LONG_TITLES["en"][:198].strip()), "x", thread=True)
    assert len(post.parts) > 1
    first = post.parts[0].text
    assert first.endswith("#ElectricVehicles #TataMotors\n1/3"), first
    assert post.parts[1].text.startswith("Tata Motors launched")
    assert post.summary.startswith("Tata Motors launched")


def test_a_feed_summary_ending_in_ellipsis_is_not_a_stub() -> None:
    """A short summary that ends in "…" of its own (not cut to fit) is posted as is."""
    post = compose(
        article("en"),
        ChannelStyle(platform="threads"),
        summariser=FixedSummariser("Read more…"),
        now=NOW,
    )
    assert post.summary == "Read more…"
