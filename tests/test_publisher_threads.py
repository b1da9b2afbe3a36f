"""Threads publisher against the fake Threads API: containers, quota, chains, retry safety."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.compose import compose
from bot.compose.counting import threads_length
from bot.config import ChannelConfig
from bot.errors import AuthError, ConfigError, PublishError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Length, Media, Post, PostPart
from bot.publishers import build_publisher
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.threads import ThreadsPublisher
from bot.summarise import ExtractiveSummariser
from tests.fakes.images import jpeg_bytes
from tests.fakes.threads_api import TOKEN, FakeThreads, Fault, channel, threads_error
from tests.publisher_helpers import api_channel, error_texts

KEY = "ev-ta:item-1:threads-hi"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
URL = "https://evnews.example/ta/2026/03/ola-s1-range/"
TAMIL = "ஓலா S1 மின் ஸ்கூட்டர் 190 கி.மீ. வரம்பு பெற்றது"
TELUGU = "హైదరాబాద్‌లో కొత్త ఛార్జింగ్ స్టేషన్లు ప్రారంభం"
HINDI = "टाटा नेक्सन ईवी एक लाख रुपये सस्ती"


@pytest.fixture
def threads() -> Iterator[FakeThreads]:
    with FakeThreads() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=1.0) as client:
        yield client


class Rig:
    """A publisher wired to the fake, with recorded sleeps and a shared state store."""

    def __init__(self, threads: FakeThreads, http: httpx.Client) -> None:
        self.fake = threads
        self.sleeps: list[float] = []
        self.state = MemoryState()
        self.ctx = PublisherContext(
            http=http, state=self.state, clock=lambda: NOW, allow_private_media=True
        )
        self.pub = self.make()

    def make(self) -> ThreadsPublisher:
        return ThreadsPublisher(channel(self.fake), self.ctx, sleep=self.sleeps.append)

    def image(self) -> str:
        return self.fake.add_image("/img/a.jpg", jpeg_bytes(1200, 675))


@pytest.fixture
def rig(threads: FakeThreads, http: httpx.Client) -> Rig:
    return Rig(threads, http)


def post_of(*texts: str, image: str | None = None, link: str | None = URL) -> Post:
    """A post with one part per text; the first carries the image (alt text in Tamil)."""
    media = (Media(url=image, alt="சார்ஜிங் நிலையத்தில் ஸ்கூட்டர்"),) if image else ()
    parts = [PostPart(text=texts[0], media=media, link=link)]
    parts += [PostPart(text=t) for t in texts[1:]]
    return Post(
        platform="threads",
        channel="threads-hi",
        item_id="item-1",
        article_url=URL,
        title=TAMIL,
        lang="ta",
        summary=texts[0],
        hashtags=(),
        parts=tuple(parts),
        length=Length("characters", max(threads_length(t) for t in texts), 500),
    )


def composed(title: str, body: str, *, lang: str, image: str | None, thread: bool = False) -> Post:
    article = Article(
        feed=f"ev-{lang}",
        item_id="item-1",
        url=URL,
        title=title,
        content_html=body,
        lang=lang,
        image=Media(url=image, alt="") if image else None,
        tags=("EV",),
    )
    style = ChannelStyle(platform="threads", name="threads-hi", thread=thread)
    return compose(article, style, summariser=ExtractiveSummariser(), now=NOW)


def routes(fake: FakeThreads) -> list[str]:
    return [c.route for c in fake.calls if c.route != "image"]


def form_of(call_form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in call_form.items() if k != "access_token"}


def test_publishes_one_image_post_with_alt_text(rig: Rig) -> None:
    """Quota, one IMAGE container with image_url/text/alt_text, status, one publish, permalink."""
    image = rig.image()
    post = composed(HINDI, "<p>कीमत में एक लाख रुपये की कटौती हुई है।</p>", lang="hi", image=image)
    result = rig.pub.publish(post, idempotency_key=KEY)
    fake = rig.fake
    assert routes(fake) == ["quota", "create", "status", "publish", "permalink"]
    assert fake.calls_to("quota")[0].query == {"fields": "quota_usage,config"}
    [create] = fake.calls_to("create")
    assert create.version == "v1.0"
    assert form_of(create.form) == {
        "media_type": "IMAGE",
        "image_url": image,
        "text": post.parts[0].text,
        "alt_text": HINDI,
    }
    assert create.form["access_token"] == TOKEN
    assert TOKEN not in create.path
    assert "access_token" not in create.query
    [publish] = fake.calls_to("publish")
    assert publish.query == {"creation_id": next(iter(fake.containers))}
    [posted] = fake.posts
    assert (result.remote_id, result.url) == (posted["id"], posted["permalink"])


def test_text_without_url_gets_the_article_as_link_attachment(rig: Rig) -> None:
    """A text post whose text shows no URL carries the article as link_attachment."""
    rig.pub.publish(post_of(TAMIL, link=None), idempotency_key=KEY)
    [create] = rig.fake.calls_to("create")
    assert form_of(create.form) == {"media_type": "TEXT", "text": TAMIL, "link_attachment": URL}


def test_image_without_link_in_text_becomes_a_link_post(rig: Rig) -> None:
    """Threads takes links only on TEXT posts: no URL in the text means TEXT + attachment."""
    rig.pub.publish(post_of(TELUGU, image=rig.image()), idempotency_key=KEY)
    [create] = rig.fake.calls_to("create")
    assert form_of(create.form) == {"media_type": "TEXT", "text": TELUGU, "link_attachment": URL}
    assert len(rig.fake.posts) == 1


def test_emoji_heavy_compose_fits_threads_byte_count(rig: Rig) -> None:
    """compose fits emoji by their UTF-8 bytes; the fake's own count accepts the post."""
    title = "⚡🚗🔋 " * 12 + TELUGU
    body = "<p>" + ("కొత్త ఛార్జింగ్ స్టేషన్లు 🔌 ప్రారంభమయ్యాయి. " * 20) + "</p>"
    post = composed(title, body, lang="te", image=None)
    text = post.parts[0].text
    assert len(text) < threads_length(text) <= 500  # emoji made it count more
    rig.pub.publish(post, idempotency_key=KEY)
    assert [p["text"] for p in rig.fake.posts] == [text]


def test_over_limit_is_rejected_before_any_call(rig: Rig) -> None:
    """470 characters plus 10 emoji is 480 code points but 510 as Threads counts: refused."""
    text = "அ" * 470 + "🔋" * 10
    assert len(text) <= 500 < threads_length(text)
    with pytest.raises(Rejected, match="UTF-8 bytes"):
        rig.pub.publish(post_of(text), idempotency_key=KEY)
    assert rig.fake.calls == []


def test_more_than_five_links_is_rejected_before_any_call(rig: Rig) -> None:
    """Five links in the text plus a different link attachment make six: refused."""
    text = " ".join(f"https://evnews.com/{n}" for n in range(5))
    with pytest.raises(Rejected, match="6 links"):
        rig.pub.publish(post_of(text, link="https://evnews.com/other"), idempotency_key=KEY)
    assert rig.fake.calls == []


def test_quota_used_up_is_rate_limited_without_a_container(rig: Rig) -> None:
    """quota_usage >= quota_total: RateLimited for 1 h and nothing created."""
    rig.fake.quota_usage = 250
    with pytest.raises(RateLimited, match="250/250") as info:
        rig.pub.publish(post_of(TAMIL), idempotency_key=KEY)
    assert info.value.retry_after == 3600.0
    assert routes(rig.fake) == ["quota"]


def test_quota_wait_ends_when_our_oldest_post_leaves_the_window(rig: Rig) -> None:
    """With a post of ours 20 h ago in the notes, the wait is the 4 h until it turns 24 h."""
    old = (NOW - timedelta(hours=20)).isoformat()
    notes = {"old": {"id": "1", "published": old, "at": old}}
    rig.state.set_channel_state("threads-hi", {"deliveries": notes})
    rig.fake.quota_usage = 250
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(post_of(TAMIL), idempotency_key=KEY)
    assert info.value.retry_after == 4 * 3600.0


def test_container_polled_with_backoff_until_finished(rig: Rig) -> None:
    """IN_PROGRESS is polled again after growing pauses; then exactly one publish."""
    rig.fake.container_steps = ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    rig.pub.publish(post_of(TAMIL), idempotency_key=KEY)
    assert rig.sleeps == [1.0, 2.0, 4.0]
    assert len(rig.fake.calls_to("publish")) == 1


def test_in_progress_container_is_saved_and_resumed(rig: Rig) -> None:
    """The container id is stored at once; the retry reuses it instead of creating another."""
    fake = rig.fake
    fake.container_steps = ["IN_PROGRESS"] * 10 + ["FINISHED"]
    post = post_of(TAMIL)
    with pytest.raises(Transient, match="still IN_PROGRESS"):
        rig.pub.publish(post, idempotency_key=KEY)
    notes = rig.state.channel_state("threads-hi")["deliveries"]
    assert notes[KEY]["containers"] == {"0": next(iter(fake.containers))}
    result = rig.make().publish(post, idempotency_key=KEY)
    assert len(fake.calls_to("create")) == 1
    assert [p["id"] for p in fake.posts] == [result.remote_id]


def test_container_error_is_rejected_with_threads_reason(rig: Rig) -> None:
    """A container in ERROR is refused quoting error_message; nothing is published."""
    rig.fake.container_steps = ["ERROR"]
    with pytest.raises(Rejected, match="FAILED_DOWNLOADING_IMAGE"):
        rig.pub.publish(post_of(TAMIL + " " + URL, image=rig.image()), idempotency_key=KEY)
    assert rig.fake.calls_to("publish") == []
    assert rig.state.channel_state("threads-hi")["deliveries"][KEY]["containers"] == {}


def test_lost_publish_answer_never_publishes_twice(rig: Rig) -> None:
    """The answer to threads_publish is lost; the retry sees PUBLISHED and reports that post."""
    fake = rig.fake
    fake.fail("publish", Fault(drop_after=True))
    post = post_of(TAMIL)
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    assert len(fake.posts) == 1
    result = rig.make().publish(post, idempotency_key=KEY)
    assert len(fake.calls_to("publish")) == 1
    assert len(fake.calls_to("create")) == 1
    assert result.remote_id == fake.posts[0]["id"]
    assert rig.make().publish(post, idempotency_key=KEY) == result


def test_reconcile_after_a_lost_answer(rig: Rig) -> None:
    """reconcile() is None before anything happened, and the post once its container is out."""
    fake = rig.fake
    post = post_of(TAMIL)
    assert rig.pub.reconcile(post, idempotency_key=KEY) is None
    fake.fail("publish", Fault(drop_after=True))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    found = rig.make().reconcile(post, idempotency_key=KEY)
    assert found is not None
    assert (found.remote_id, found.url) == (fake.posts[0]["id"], fake.posts[0]["permalink"])


def test_reconcile_finds_the_article_on_the_profile_without_notes(rig: Rig) -> None:
    """With no notes (state lost), the profile's recent posts are searched by article URL."""
    rig.pub.publish(post_of(f"{TAMIL}\n\n{URL}"), idempotency_key=KEY)
    fresh = Rig(rig.fake, rig.ctx.http)
    found = fresh.pub.reconcile(post_of(f"{TAMIL} (edited)\n\n{URL}"), idempotency_key=KEY)
    assert found is not None
    assert found.remote_id == rig.fake.posts[0]["id"]
    assert fresh.fake.calls_to("read_threads")[-1].query["fields"] == "id,text,permalink"


def test_parts_become_a_reply_chain(rig: Rig) -> None:
    """Three parts: the root, then replies each with reply_to_id of the one before."""
    post = post_of(f"{TAMIL} 1/3 {URL}", "இரண்டாம் பகுதி 2/3", "மூன்றாம் பகுதி 3/3")
    result = rig.pub.publish(post, idempotency_key=KEY)
    fake = rig.fake
    assert fake.calls_to("quota")[0].query["fields"] == (
        "quota_usage,config,reply_quota_usage,reply_config"
    )
    root, second, third = fake.posts
    assert "reply_to_id" not in root
    assert second["reply_to_id"] == root["id"]
    assert third["reply_to_id"] == second["id"]
    assert result.remote_id == root["id"]
    assert (fake.quota_usage, fake.reply_quota_usage) == (1, 2)


def test_reply_chain_resumes_where_it_stopped(rig: Rig) -> None:
    """A failure on the second part: the retry continues the chain, the root is not redone."""
    fake = rig.fake
    error = threads_error(2, "Service temporarily unavailable")
    fake.fail("publish", Fault(), Fault(status=503, error=error))
    post = post_of(f"{TAMIL} {URL}", "இரண்டாம் பகுதி", "மூன்றாம் பகுதி")
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    assert rig.pub.reconcile(post, idempotency_key=KEY) is None  # only partly out
    rig.make().publish(post, idempotency_key=KEY)
    assert [p["text"] for p in fake.posts] == [p.text for p in post.parts]
    assert fake.posts[1]["reply_to_id"] == fake.posts[0]["id"]
    assert len(fake.calls_to("create")) == 3


def test_reply_quota_used_up_is_rate_limited(rig: Rig) -> None:
    """No replies left in 24 h: a thread waits instead of posting a broken chain."""
    rig.fake.reply_quota_usage = 1000
    with pytest.raises(RateLimited, match="replies"):
        rig.pub.publish(post_of(TAMIL, "இரண்டாம் பகுதி"), idempotency_key=KEY)
    assert rig.fake.posts == []


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 190, AuthError),
        (400, 4, RateLimited),
        (400, 17, RateLimited),
        (400, 613, RateLimited),
        (500, 2, Transient),
        (400, 100, Rejected),
    ],
)
def test_graph_errors_are_mapped(
    rig: Rig, status: int, code: int, kind: type[PublishError]
) -> None:
    """Threads' Graph error codes map onto syndbot's error tree; Rejected quotes Threads."""
    rig.fake.fail("create", Fault(status=status, error=threads_error(code, "Threads says no")))
    with pytest.raises(kind) as info:
        rig.pub.publish(post_of(TAMIL), idempotency_key=KEY)
    assert "Threads says no" in str(info.value)


def test_rate_limit_wait_comes_from_usage_header(rig: Rig) -> None:
    """The wait is the usage header's estimated_time_to_regain_access (minutes)."""
    usage = '{"1": [{"estimated_time_to_regain_access": 7}]}'
    error = threads_error(4, "Application request limit reached")
    rig.fake.fail("create", Fault(status=400, error=error, headers={"x-app-usage": usage}))
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(post_of(TAMIL), idempotency_key=KEY)
    assert info.value.retry_after == 420.0


def test_timeout_is_transient_and_the_retry_resumes(rig: Rig) -> None:
    """No answer within the client timeout is Transient; the retry posts exactly once."""
    rig.fake.fail("publish", Fault(delay=1.5))
    post = post_of(TAMIL)
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    rig.make().publish(post, idempotency_key=KEY)
    assert len(rig.fake.posts) == 1


def test_check_names_the_profile(rig: Rig) -> None:
    """check() reads GET /me?fields=username and answers @username."""
    assert rig.pub.check() == "@evnews.hi"
    assert rig.fake.calls_to("me")[0].query == {"fields": "username"}


def test_check_with_a_bad_token_is_an_auth_error(threads: FakeThreads, http: httpx.Client) -> None:
    """A token Threads does not know (error 190) is an AuthError saying what to do."""
    ctx = PublisherContext(http=http)
    pub = ThreadsPublisher(channel(threads, token="wrong-token-123"), ctx)
    with pytest.raises(AuthError, match="long-lived token") as info:
        pub.check()
    assert "wrong-token-123" not in str(info.value)


def test_default_base_is_graph_threads_net() -> None:
    """Without api_base the calls go to https://graph.threads.net/v1.0."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"username": "evnews"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        config = dataclasses.replace(channel_stub(), api_base=None)
        build_publisher(config, PublisherContext(http=client)).check()
    assert seen == ["https://graph.threads.net/v1.0/me?fields=username"]


def channel_stub(**options: str) -> ChannelConfig:
    return api_channel(
        "threads", "threads-hi", {"access_token": TOKEN}, options={"user_id": "1", **options}
    )


def test_missing_user_id_is_a_config_error(http: httpx.Client) -> None:
    """A channel without options.user_id fails at build time naming the key."""
    config = dataclasses.replace(channel_stub(), options={})
    with pytest.raises(ConfigError, match=r"options\.user_id"):
        ThreadsPublisher(config, PublisherContext(http=http))


def test_no_secret_in_errors_logs_or_repr(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """The token never shows in error messages, logs or the publisher's repr."""
    caplog.set_level(logging.DEBUG)
    rig.fake.fail(
        "create",
        Fault(status=400, error=threads_error(190, f"token {TOKEN} expired")),
        Fault(status=500, error=threads_error(2, f"oops {TOKEN}")),
    )
    messages = error_texts(lambda: rig.pub.publish(post_of(TAMIL), idempotency_key=KEY), 2)
    messages += [repr(rig.pub), caplog.text]
    assert messages[0].count("***") == 1
    assert not [m for m in messages if TOKEN in m]


@pytest.mark.parametrize("edge", ["threads", "replies"])
def test_fake_refuses_fields_threads_media_does_not_have(threads: FakeThreads, edge: str) -> None:
    """Like the Threads API, the fake answers error #100 to a read naming a field Threads
    Media does not have (``caption`` is Instagram's), so read-backs use real fields."""
    with httpx.Client() as http:
        response = http.get(
            f"{threads.base}/v1.0/{threads.user_id}/{edge}",
            params={"fields": "id,caption,permalink"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
