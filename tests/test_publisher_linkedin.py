"""LinkedIn publisher against the fake LinkedIn API: article posts, thumbnails, escaping,
reconcile after a lost answer, error mapping, no secret anywhere."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.compose import compose
from bot.config import ChannelConfig
from bot.errors import AuthError, ConfigError, PublishError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Media, Post, PostPart
from bot.publishers import build_publisher
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.linkedin import LinkedInPublisher
from bot.summarise import ExtractiveSummariser
from tests.fakes.images import jpeg_bytes
from tests.fakes.linkedin_api import (
    ORG_ID,
    RESERVED,
    TOKEN,
    FakeLinkedIn,
    Fault,
    channel,
    li_error,
    shown_commentary,
)
from tests.publisher_helpers import error_texts

KEY = "ev-en:item-1:linkedin-en"
NOW = datetime(2026, 5, 4, 6, 30, tzinfo=UTC)
URL = "https://evnews.example/en/2026/05/ev_prices/"
TITLE = "EVs (2026) [India] <fast> #1 @Tata_Motors {x} *new* ~50% | a\\b"
BODY = (
    "<p>Range went from 300 km &lt; 400 km &gt; 250 km. Prices fall as batteries get cheaper.</p>"
)
ARTICLES = {
    "hi": (
        "टाटा नेक्सन ईवी एक लाख रुपये सस्ती",
        "<p>कंपनी ने कीमत घटाई है। नई कीमत अगले महीने से लागू होगी।</p>",
    ),
    "ta": ("ஓலா S1 ஸ்கூட்டர் புதிய வரம்பு", "<p>புதிய பேட்டரி 190 கி.மீ. தரும். விலை மாறவில்லை.</p>"),
    "te": ("హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు", "<p>నగరంలో 50 కొత్త స్టేషన్లు ప్రారంభమయ్యాయి. ఛార్జింగ్ వేగంగా ఉంటుంది.</p>"),
}


@pytest.fixture
def linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=1.0) as client:
        yield client


class Rig:
    def __init__(self, fake: FakeLinkedIn, http: httpx.Client, **options: str) -> None:
        self.fake = fake
        self.state = MemoryState()
        self.ctx = PublisherContext(
            http=http, state=self.state, clock=lambda: NOW, allow_private_media=True
        )
        self.channel = channel(fake, **options)
        self.pub = self.make()

    def make(self) -> LinkedInPublisher:
        return LinkedInPublisher(self.channel, self.ctx)

    def image(self, data: bytes | None = None) -> str:
        return self.fake.add_image("/img/a.jpg", data or jpeg_bytes(1200, 627))


@pytest.fixture
def rig(linkedin: FakeLinkedIn, http: httpx.Client) -> Rig:
    return Rig(linkedin, http)


def composed(title: str = TITLE, body: str = BODY, *, image: str | None, lang: str = "en") -> Post:
    article = Article(
        feed=f"ev-{lang}",
        item_id="item-1",
        url=URL,
        title=title,
        content_html=body,
        lang=lang,
        image=Media(url=image, alt="A white EV at a charging station") if image else None,
        tags=("EV", "India"),
    )
    style = ChannelStyle(platform="linkedin", name="linkedin-en")
    return compose(article, style, summariser=ExtractiveSummariser(), now=NOW)


def test_publishes_one_article_post_with_thumbnail(rig: Rig) -> None:
    """Image upload (init + PUT of the image bytes), then one post with the article card."""
    image = jpeg_bytes(1200, 627)
    post = composed(image=rig.image(image))
    result = rig.pub.publish(post, idempotency_key=KEY)
    fake = rig.fake
    assert [c.route for c in fake.calls] == ["image", "init_upload", "upload", "create"]
    [init] = fake.calls_to("init_upload")
    assert init.body == {"initializeUploadRequest": {"owner": f"urn:li:organization:{ORG_ID}"}}
    assert list(fake.uploads.values()) == [image]
    [create] = fake.calls_to("create")
    assert create.headers["linkedin-version"] == "202510"
    assert create.headers["x-restli-protocol-version"] == "2.0.0"
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.body == {
        "author": f"urn:li:organization:{ORG_ID}",
        "commentary": post.parts[0].text,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": {
            "article": {
                "source": URL,
                "title": post.title,
                "description": post.description,
                "thumbnail": next(iter(fake.image_urns.values())),
            }
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    [posted] = fake.posts
    assert result.remote_id == posted["id"]
    assert result.url == f"https://www.linkedin.com/feed/update/{posted['id']}"


def test_every_reserved_character_is_escaped_in_the_commentary(rig: Rig) -> None:
    """Each of \\ | { } @ [ ] ( ) < > # * _ ~ from the title and text is backslash-escaped,
    so LinkedIn shows the whole post instead of cutting it at the first one."""
    post = composed(image=None)
    rig.pub.publish(post, idempotency_key=KEY)
    commentary = rig.fake.calls_to("create")[0].body["commentary"]
    escaped = {commentary[i + 1] for i, c in enumerate(commentary) if c == "\\"}
    assert set(RESERVED) <= escaped  # "<" and ">" come from the body: compose drops <fast>
    [posted] = rig.fake.posts
    shown = posted["shown"]
    assert shown.startswith("EVs (2026) [India] #1 @Tata_Motors {x} *new* ~50% | a\\b\n\n")
    assert "300 km < 400 km > 250 km." in shown
    assert shown.endswith(f"{URL}\n\n#EV #India")
    assert (
        posted["content"]["article"]["title"]
        == "EVs (2026) [India] #1 @Tata_Motors {x} *new* ~50% | a\\b"
    )


def test_unescaped_commentary_is_rejected_before_any_call(rig: Rig) -> None:
    """A hand-made post with a raw '(' would be cut by LinkedIn: refused, nothing sent."""
    raw = dataclasses.replace(
        composed(image=None), parts=(PostPart(text=f"EVs (2026) {URL}", link=URL),)
    )
    with pytest.raises(Rejected, match="unescaped '\\('"):
        rig.pub.publish(raw, idempotency_key=KEY)
    assert rig.fake.calls == []


def test_commentary_over_3000_is_rejected_before_any_call(rig: Rig) -> None:
    """More than 3,000 characters is refused with the count, before any request."""
    post = composed(image=None)
    long = dataclasses.replace(post, parts=(PostPart(text="क" * 3001, link=URL),))
    with pytest.raises(Rejected, match="3001"):
        rig.pub.publish(long, idempotency_key=KEY)
    assert rig.fake.calls == []


@pytest.mark.parametrize("lang", sorted(ARTICLES))
def test_indian_language_posts_are_shown_whole(rig: Rig, lang: str) -> None:
    """Hindi, Tamil and Telugu posts go out once, shown in full, title on the card."""
    title, body = ARTICLES[lang]
    post = composed(title, body, image=rig.image(), lang=lang)
    rig.pub.publish(post, idempotency_key=KEY)
    [posted] = rig.fake.posts
    assert posted["shown"].startswith(f"{title}\n\n")
    assert posted["shown"].endswith("#EV #India")
    assert posted["content"]["article"]["title"] == title
    assert posted["content"]["article"]["thumbnail"]


def test_failed_upload_posts_without_thumbnail(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """The image PUT fails: the post still goes out, once, without a thumbnail, with a warning."""
    rig.fake.fail("upload", Fault(status=500, body=li_error(500, "INTERNAL", "boom")))
    rig.pub.publish(composed(image=rig.image()), idempotency_key=KEY)
    [posted] = rig.fake.posts
    assert "thumbnail" not in posted["content"]["article"]
    assert "without a thumbnail" in caplog.text


def test_unreachable_image_posts_without_thumbnail(rig: Rig) -> None:
    """An article image that is not there (404) costs the thumbnail, not the post."""
    post = composed(image=rig.fake.base + "/img/missing.jpg")
    rig.pub.publish(post, idempotency_key=KEY)
    assert len(rig.fake.posts) == 1
    assert rig.fake.calls_to("init_upload") == []


def test_png_thumbnail_is_uploaded_as_png(rig: Rig) -> None:
    """A PNG article image is fine for LinkedIn and is uploaded unchanged."""
    from tests.fakes.images import png_bytes

    data = png_bytes(800, 418)
    rig.fake.add_image("/img/a.png", data, "image/png")
    rig.pub.publish(composed(image=rig.fake.base + "/img/a.png"), idempotency_key=KEY)
    assert list(rig.fake.uploads.values()) == [data]
    assert rig.fake.calls_to("upload")[0].headers["content-type"] == "image/png"


def test_lost_answer_is_reconciled_not_reposted(rig: Rig) -> None:
    """LinkedIn made the post but the answer was lost: the retry finds it by article URL."""
    fake = rig.fake
    fake.fail("create", Fault(drop_after=True))
    post = composed(image=rig.image())
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    assert len(fake.posts) == 1
    result = rig.make().publish(post, idempotency_key=KEY)
    assert len(fake.calls_to("create")) == 1
    assert result.remote_id == fake.posts[0]["id"]
    [find] = fake.calls_to("find")
    assert find.query == {"author": f"urn:li:organization:{ORG_ID}", "q": "author", "count": "20"}
    assert rig.make().publish(post, idempotency_key=KEY) == result
    assert len(fake.calls_to("find")) == 1  # the note answers now


def test_reconcile_finds_the_post_or_none(rig: Rig) -> None:
    """reconcile() is None before the post exists and the post (by card source) after."""
    post = composed(image=None)
    assert rig.pub.reconcile(post, idempotency_key=KEY) is None
    rig.fake.fail("create", Fault(drop_after=True))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    found = rig.make().reconcile(post, idempotency_key=KEY)
    assert found is not None
    assert found.remote_id == rig.fake.posts[0]["id"]


def test_read_back_without_the_read_permission_names_it(rig: Rig) -> None:
    """LinkedIn's posts finder needs r_organization_social: a token with only the write
    scope gets 403 on the read-back, an AuthError that names the missing permission."""
    rig.fake.scopes.discard("r_organization_social")
    with pytest.raises(AuthError, match="r_organization_social"):
        rig.pub.reconcile(composed(image=None), idempotency_key=KEY)


def test_request_lost_before_linkedin_acted_is_sent_again_once(rig: Rig) -> None:
    """The connection dropped before LinkedIn acted: the retry looks, finds nothing, posts."""
    rig.fake.fail("create", Fault(drop=True))
    post = composed(image=None)
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    rig.make().publish(post, idempotency_key=KEY)
    assert len(rig.fake.posts) == 1
    assert len(rig.fake.calls_to("find")) == 1


@pytest.mark.parametrize(
    ("status", "kind", "hint"),
    [
        (401, AuthError, "60 days"),
        (403, AuthError, "w_organization_social"),
        (400, Rejected, "LinkedIn says no"),
        (422, Rejected, "LinkedIn says no"),
        (426, Rejected, "linkedin_version"),
        (500, Transient, "LinkedIn says no"),
        (503, Transient, "LinkedIn says no"),
    ],
)
def test_errors_are_mapped(rig: Rig, status: int, kind: type[PublishError], hint: str) -> None:
    """LinkedIn status codes map onto our error tree, quoting LinkedIn and saying what to do."""
    rig.fake.fail("create", Fault(status=status, body=li_error(status, "X", "LinkedIn says no")))
    with pytest.raises(kind, match=hint) as info:
        rig.pub.publish(composed(image=None), idempotency_key=KEY)
    assert "LinkedIn says no" in str(info.value)


def test_429_without_headers_waits_an_hour(rig: Rig) -> None:
    """LinkedIn's 429 has no reset header: RateLimited with the 1 h default."""
    rig.fake.fail("create", Fault(status=429, body=li_error(429, "THROTTLED", "slow down")))
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(composed(image=None), idempotency_key=KEY)
    assert info.value.retry_after == 3600.0
    assert rig.fake.posts == []


def test_429_with_retry_after_uses_it(rig: Rig) -> None:
    """Should LinkedIn ever send Retry-After, its value wins over the default."""
    fault = Fault(status=429, body=li_error(429, "T", "slow"), headers={"Retry-After": "120"})
    rig.fake.fail("create", fault)
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(composed(image=None), idempotency_key=KEY)
    assert info.value.retry_after == 120.0


def test_timeout_is_transient(rig: Rig) -> None:
    """No answer within the client timeout is Transient."""
    rig.fake.fail("create", Fault(delay=1.5))
    with pytest.raises(Transient):
        rig.pub.publish(composed(image=None), idempotency_key=KEY)


def test_version_option_is_sent_and_checked(linkedin: FakeLinkedIn, http: httpx.Client) -> None:
    """options.linkedin_version sets the header; a malformed one is a ConfigError."""
    rig = Rig(linkedin, http, linkedin_version="202601")
    rig.pub.check()
    assert linkedin.calls_to("organization")[0].headers["linkedin-version"] == "202601"
    with pytest.raises(ConfigError, match="linkedin_version"):
        LinkedInPublisher(channel(linkedin, linkedin_version="2025-10"), rig.ctx)


def test_organization_may_be_an_urn(linkedin: FakeLinkedIn, http: httpx.Client) -> None:
    """organization = "urn:li:organization:<id>" works like the bare id; junk is refused."""
    rig = Rig(linkedin, http, organization=f"urn:li:organization:{ORG_ID}")
    rig.pub.publish(composed(image=None), idempotency_key=KEY)
    assert linkedin.posts[0]["author"] == f"urn:li:organization:{ORG_ID}"
    with pytest.raises(ConfigError, match="organization"):
        LinkedInPublisher(channel(linkedin, organization="evnews-india"), rig.ctx)


def test_check_names_the_page(rig: Rig) -> None:
    """check() reads the organization and answers its localizedName."""
    assert rig.pub.check() == "EV News India"
    assert rig.fake.calls_to("organization")[0].path == f"/rest/organizations/{ORG_ID}"


def test_check_with_a_bad_token_is_an_auth_error(
    linkedin: FakeLinkedIn, http: httpx.Client
) -> None:
    """A token LinkedIn refuses (401) is an AuthError that mentions the 60-day lifetime."""
    pub = LinkedInPublisher(channel(linkedin, token="bad-token-xyz"), PublisherContext(http=http))
    with pytest.raises(AuthError, match="60 days") as info:
        pub.check()
    assert "bad-token-xyz" not in str(info.value)


def test_default_base_is_api_linkedin_com() -> None:
    """Without api_base the calls go to https://api.linkedin.com/rest/..."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"localizedName": "EV News India"})

    with FakeLinkedIn() as fake, httpx.Client(transport=httpx.MockTransport(handler)) as client:
        config: ChannelConfig = dataclasses.replace(channel(fake), api_base=None)
        build_publisher(config, PublisherContext(http=client)).check()
    assert seen == [f"https://api.linkedin.com/rest/organizations/{ORG_ID}"]


def test_no_secret_in_errors_logs_or_repr(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """The token never shows in error messages, warnings or the publisher's repr."""
    caplog.set_level(logging.DEBUG)
    rig.fake.fail("upload", Fault(status=500, body=li_error(500, "X", f"bad {TOKEN}")))
    rig.fake.fail(
        "create",
        Fault(status=401, body=li_error(401, "X", f"token {TOKEN} expired")),
        Fault(status=500, body=li_error(500, "X", f"oops {TOKEN}")),
    )
    post = composed(image=rig.image())
    messages = error_texts(lambda: rig.pub.publish(post, idempotency_key=KEY), 2)
    messages += [repr(rig.pub), caplog.text]
    assert "***" in messages[0]
    assert not [m for m in messages if TOKEN in m]


def test_fake_shows_commentary_like_linkedin() -> None:
    """The fake's display rule: escapes resolved, hashtags shown, cut at a raw reserved char."""
    assert shown_commentary("a \\(b\\) {hashtag|\\#|EV} c (d) e") == "a (b) #EV c "
