"""Instagram publisher against the fake Graph API: containers, polling, quota, retry safety."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bot.errors import AuthError, RateLimited, Rejected, Transient
from bot.images import aspect_ok, fetch_image
from bot.models import Post
from bot.publishers import instagram
from bot.publishers.base import MemoryState, PublisherContext
from bot.publishers.instagram import InstagramPublisher
from tests.fakes.graph_api import TOKEN, FakeGraph, Fault, channel, meta_post
from tests.fakes.images import jpeg_bytes, png_bytes
from tests.publisher_helpers import error_texts

KEY = "feed:item-1:instagram-main"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CAPTION = "EV बैटरी सस्ती हुई | மின்கல விலை சரிவு | బ్యాటరీ ధర తగ్గింది #EV"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


class Rig:
    """A publisher wired to the fake, with recorded sleeps and a shared state store."""

    def __init__(self, graph: FakeGraph, http: httpx.Client, **options: str) -> None:
        self.graph = graph
        self.sleeps: list[float] = []
        self.state = MemoryState()
        self.ctx = PublisherContext(
            http=http, state=self.state, clock=lambda: NOW, allow_private_media=True
        )
        self.pub = InstagramPublisher(
            channel("instagram", graph, **options), self.ctx, sleep=self.sleeps.append
        )

    def post(
        self, image: bytes | None = None, *, alt: str = "Charging an EV", ctype: str = "image/jpeg"
    ) -> Post:
        """A post whose image (when given) the fake serves at /img/a."""
        url = self.graph.add_image("/img/a", image, ctype) if image is not None else None
        return meta_post("instagram", CAPTION, image=url, alt=alt)


@pytest.fixture
def rig(graph: FakeGraph, http: httpx.Client) -> Rig:
    return Rig(graph, http)


def _routes(graph: FakeGraph) -> list[str]:
    return [c.route for c in graph.calls]


def test_publishes_one_post_with_image_caption_and_alt(rig: Rig) -> None:
    """Quota, one container with image_url/caption/alt_text, status, one publish, permalink."""
    post = rig.post(jpeg_bytes(1080, 1350))
    result = rig.pub.publish(post, idempotency_key=KEY)
    graph = rig.graph
    assert _routes(graph) == ["image", "quota", "create", "status", "publish", "permalink"]
    [create] = graph.calls_to("create")
    assert create.form == {
        "image_url": graph.url("/img/a"),
        "caption": CAPTION,
        "alt_text": "Charging an EV",
        "access_token": TOKEN,
    }
    [publish] = graph.calls_to("publish")
    container = next(iter(graph.containers))
    assert publish.query == {"creation_id": container}
    assert result.remote_id == graph.media[0]["id"]
    assert result.url == graph.media[0]["permalink"]


def test_container_id_saved_before_polling(rig: Rig) -> None:
    """The container id is in the channel state as soon as it exists."""
    rig.graph.container_steps = ["IN_PROGRESS"]
    with pytest.raises(Transient, match="still IN_PROGRESS"):
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    notes = rig.state.channel_state("instagram-main")["deliveries"]
    assert notes[KEY]["container"] == next(iter(rig.graph.containers))


def test_polls_with_backoff_until_finished(rig: Rig) -> None:
    """IN_PROGRESS is polled again with growing pauses until FINISHED."""
    rig.graph.container_steps = ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert rig.sleeps == [1.0, 2.0, 4.0]
    assert len(rig.graph.calls_to("publish")) == 1


def test_in_progress_retry_resumes_from_stored_container(rig: Rig) -> None:
    """After the poll bound, the next attempt reuses the container instead of making another."""
    graph = rig.graph
    graph.container_steps = ["IN_PROGRESS"] * 10 + ["FINISHED"]
    post = rig.post(jpeg_bytes(1080, 1080))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    result = rig.pub.publish(post, idempotency_key=KEY)
    assert len(graph.calls_to("create")) == 1
    assert len(graph.calls_to("publish")) == 1
    assert result.remote_id == graph.media[0]["id"]


def test_container_error_is_rejected(rig: Rig) -> None:
    """A container in ERROR is a rejection quoting Instagram's status; nothing is published."""
    rig.graph.container_steps = ["ERROR"]
    with pytest.raises(Rejected, match="2207052"):
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert rig.graph.calls_to("publish") == []
    assert KEY not in rig.state.channel_state("instagram-main").get("deliveries", {})


def test_expired_container_replaced(rig: Rig) -> None:
    """An EXPIRED stored container is replaced by a new one, which is published."""
    graph = rig.graph
    graph.container_steps = ["IN_PROGRESS"]
    post = rig.post(jpeg_bytes(1080, 1080))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    first = next(iter(graph.containers))
    graph.containers[first]["steps"] = ["EXPIRED"]
    graph.container_steps = ["FINISHED"]
    rig.pub.publish(post, idempotency_key=KEY)
    assert len(graph.calls_to("create")) == 2
    [publish] = graph.calls_to("publish")
    assert publish.query["creation_id"] != first


def test_dropped_publish_answer_never_publishes_twice(rig: Rig) -> None:
    """Connection lost after media_publish: the retry sees PUBLISHED and reports that post."""
    graph = rig.graph
    graph.fail("publish", Fault(drop_after=True))
    post = rig.post(jpeg_bytes(1080, 1080))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    assert len(graph.media) == 1
    result = rig.pub.publish(post, idempotency_key=KEY)
    assert len(graph.calls_to("publish")) == 1
    assert len(graph.calls_to("create")) == 1
    assert result.remote_id == graph.media[0]["id"]
    assert rig.pub.publish(post, idempotency_key=KEY) == result


def test_unfound_media_id_is_none_with_a_reason_not_the_container_id(rig: Rig) -> None:
    """The answer to media_publish is lost and the media list cannot be read: the post is
    out, recorded with no id and a note naming the container, never the container id
    posing as the media id; a later attempt reports the same and publishes nothing."""
    graph = rig.graph
    graph.fail("publish", Fault(drop_after=True))
    server_error = {"message": "Please retry your request later.", "code": 2, "type": "X"}
    graph.fail("media", Fault(status=500, error=server_error))
    post = rig.post(jpeg_bytes(1080, 1080))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    (container,) = graph.containers

    result = rig.pub.publish(post, idempotency_key=KEY)

    assert result.remote_id is None
    assert container in result.note
    assert rig.pub.publish(post, idempotency_key=KEY) == result
    assert rig.pub.reconcile(post, idempotency_key=KEY) == result
    assert len(graph.calls_to("publish")) == 1


def test_lost_publish_request_resumes_finished_container(rig: Rig) -> None:
    """The publish call never arrived: the retry publishes the stored FINISHED container."""
    graph = rig.graph
    graph.fail("publish", Fault(drop=True))
    post = rig.post(jpeg_bytes(1080, 1080))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    assert graph.media == []
    result = rig.pub.publish(post, idempotency_key=KEY)
    assert len(graph.calls_to("create")) == 1
    assert len(graph.media) == 1
    assert result.remote_id == graph.media[0]["id"]


def test_reconcile_uses_stored_container(rig: Rig) -> None:
    """reconcile() is None before anything happened and the media once the container is out."""
    graph = rig.graph
    post = rig.post(jpeg_bytes(1080, 1080))
    assert rig.pub.reconcile(post, idempotency_key=KEY) is None
    graph.fail("publish", Fault(drop_after=True))
    with pytest.raises(Transient):
        rig.pub.publish(post, idempotency_key=KEY)
    found = rig.pub.reconcile(post, idempotency_key=KEY)
    assert found is not None
    assert found.remote_id == graph.media[0]["id"]


def test_quota_reached_without_history_waits_an_hour(rig: Rig) -> None:
    """quota_usage >= quota_total: RateLimited for 1 h, and no container is created."""
    rig.graph.quota_usage = 50
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert info.value.retry_after == 3600.0
    assert rig.graph.calls_to("create") == []


def test_quota_wait_until_oldest_post_leaves_the_window(rig: Rig) -> None:
    """The wait ends when our oldest post of the last 24 h turns 24 h old."""
    old = (NOW - timedelta(hours=20)).isoformat()
    rig.state.set_channel_state(
        "instagram-main",
        {"deliveries": {"k0": {"media": "1", "published": old, "at": NOW.isoformat()}}},
    )
    rig.graph.quota_usage = 50
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert info.value.retry_after == 4 * 3600.0


def test_rate_limit_code_4_uses_usage_header(rig: Rig) -> None:
    """Error 4 on container creation waits as long as the usage header says."""
    usage = '{"call_count": 100, "estimated_time_to_regain_access": 12}'
    error = {"code": 4, "message": "Application request limit reached", "type": "OAuthException"}
    rig.graph.fail(
        "create", Fault(status=400, error=error, headers={"X-Business-Use-Case-Usage": usage})
    )
    with pytest.raises(RateLimited) as info:
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert info.value.retry_after == 720.0


def test_server_error_is_transient(rig: Rig) -> None:
    """A 5xx from the container endpoint is retried later."""
    rig.graph.fail("create", Fault(status=500, error={"code": 2, "message": "Service unavailable"}))
    with pytest.raises(Transient):
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)


def test_no_image_is_skipped(rig: Rig) -> None:
    """A post without an image is refused with a 'skipped:' reason and no API call."""
    with pytest.raises(Rejected, match=r"^skipped: .*needs an image"):
        rig.pub.publish(rig.post(None), idempotency_key=KEY)
    assert rig.graph.calls == []


def test_caption_is_counted_in_utf16_units_like_compose(rig: Rig) -> None:
    """A caption of 1,200 emoji (1,200 code points, 2,400 UTF-16 units) is over the
    2,200 limit as the profile counts it: refused before any API call."""
    post = meta_post(
        "instagram", "🔋" * 1200, image=rig.graph.add_image("/img/a", jpeg_bytes(1080, 1080))
    )
    with pytest.raises(Rejected, match="caption is 2400 characters; Instagram allows 2200"):
        rig.pub.publish(post, idempotency_key=KEY)
    assert rig.graph.calls == []


def test_png_is_skipped_with_an_actionable_reason(rig: Rig) -> None:
    """A PNG is refused before any container, naming JPEG and the media_dir option."""
    with pytest.raises(Rejected, match=r"^skipped: .*image/png, not JPEG.*options\.media_dir"):
        rig.pub.publish(rig.post(png_bytes(1080, 1080), ctype="image/png"), idempotency_key=KEY)
    assert rig.graph.calls_to("create") == []


def test_odd_ratio_is_skipped(rig: Rig) -> None:
    """A panorama outside 4:5..1.91:1 is refused with its size in the reason."""
    with pytest.raises(Rejected, match=r"^skipped: .*2000x500, outside 4:5\.\.1\.91:1"):
        rig.pub.publish(rig.post(jpeg_bytes(2000, 500)), idempotency_key=KEY)
    assert rig.graph.calls_to("create") == []


def test_private_image_host_is_skipped(graph: FakeGraph, http: httpx.Client) -> None:
    """Without allow_private_media an image on a loopback host is refused, unfetched."""
    ctx = PublisherContext(http=http)
    pub = instagram.build(channel("instagram", graph), ctx)
    url = graph.add_image("/img/a", jpeg_bytes(1080, 1080))
    with pytest.raises(Rejected, match=r"^skipped: .*loopback"):
        pub.publish(meta_post("instagram", CAPTION, image=url), idempotency_key=KEY)
    assert graph.calls == []


def test_converted_copy_published_when_media_dir_configured(
    graph: FakeGraph, http: httpx.Client, tmp_path: Path
) -> None:
    """With media_dir/media_base_url a PNG panorama becomes a cropped JPEG served from there."""
    base = graph.url("/media")
    rig = Rig(graph, http, media_dir=str(tmp_path), media_base_url=base)
    rig.pub.publish(rig.post(png_bytes(3000, 1000), ctype="image/png"), idempotency_key=KEY)
    [create] = graph.calls_to("create")
    [written] = list(tmp_path.glob("*.jpg"))
    assert create.form["image_url"] == f"{base}/{written.name}"
    with Image.open(io.BytesIO(written.read_bytes())) as picture:
        assert picture.format == "JPEG"
        assert picture.width <= 1440
    served = graph.add_image(f"/media/{written.name}", written.read_bytes())
    assert aspect_ok(fetch_image(http, served, allow_private=True), 0.8, 1.91)


def test_long_alt_text_is_cut_to_1000(rig: Rig) -> None:
    """Alt text beyond 1,000 characters is shortened at a word boundary."""
    rig.pub.publish(rig.post(jpeg_bytes(1080, 1080), alt="चार्जिंग " * 200), idempotency_key=KEY)
    alt = rig.graph.calls_to("create")[0].form["alt_text"]
    assert 900 < len(alt) <= 1000
    assert alt.endswith("…")


def test_check_returns_username(rig: Rig) -> None:
    """check() reads the account's username."""
    assert rig.pub.check() == "@voltlane"
    assert rig.graph.calls[0].query == {"fields": "username"}


def test_expired_token_is_auth_error(rig: Rig) -> None:
    """401 with code 190 is AuthError with a fix, without the token."""
    error = {
        "code": 190,
        "error_subcode": 463,
        "message": "Session has expired",
        "type": "OAuthException",
    }
    rig.graph.fail("quota", Fault(status=401, error=error))
    with pytest.raises(AuthError, match="expired or was revoked") as info:
        rig.pub.publish(rig.post(jpeg_bytes(1080, 1080)), idempotency_key=KEY)
    assert TOKEN not in str(info.value)


def test_no_secret_in_any_output(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """Across scripted failures the token is in no exception, log line or repr."""
    caplog.set_level(logging.DEBUG)
    graph = rig.graph
    graph.fail("quota", Fault(status=401, error={"code": 190, "message": f"bad {TOKEN}"}))
    graph.fail(
        "create", Fault(status=500, error={"code": 1, "message": f"x {TOKEN}"}), Fault(drop=True)
    )
    graph.fail("publish", Fault(drop_after=True))
    post = rig.post(jpeg_bytes(1080, 1080))
    texts = error_texts(lambda: rig.pub.publish(post, idempotency_key=KEY), 4)
    texts += [repr(rig.pub), caplog.text, repr(rig.state.channel_state("instagram-main"))]
    assert not [t for t in texts if TOKEN in t]


@pytest.mark.parametrize("fields", ["id,caption,link", "id,text", "id,type"])
def test_fake_refuses_fields_ig_media_does_not_have(
    graph: FakeGraph, http: httpx.Client, fields: str
) -> None:
    """Like Graph, the fake answers error #100 to a media read naming a field IG Media does
    not have, so a read-back asking for one cannot pass the tests."""
    response = http.get(
        f"{graph.base}/v25.0/{graph.ig_user_id}/media",
        params={"fields": fields},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
