"""Bluesky publisher against a REAL local PDS (tests/pds.py), plus transport-edge faults.

The PDS validates every record against the real lexicons, so a post it accepts is a post
bsky.social would accept. What it cannot do on demand (429, 5xx, timeouts, expired tokens)
is injected by ``Tap`` in front of it, or answered by an ``httpx.MockTransport``.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.compose import compose
from bot.compose.facets import display_url
from bot.errors import AuthError, ConfigError, RateLimited, Rejected, Transient
from bot.models import Article, ChannelStyle, Length, Media, Post, PostPart
from bot.publishers import MemoryState, PublisherContext, build_publisher
from bot.publishers.bluesky import BlueskyPublisher, new_tid
from bot.store.sqlite import SQLiteStore
from bot.summarise import ExtractiveSummariser
from tests.feedserver import FeedServer
from tests.harnesses.bluesky import (
    CREATE,
    Tap,
    answer,
    bluesky_channel,
    fresh_account,
    lost_after_accept,
    records,
)
from tests.pds import PdsInfo, pds

pytestmark = pytest.mark.timeout(900)  # the first test may install the PDS (minutes)
__all__ = ["pds"]  # the session-scoped fixture from tests/pds.py
LOGIN = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"
ARTICLE_URL = "https://evnews.example/hi/2026/11/ola-s1-range-test/?utm_source=bluesky&x=1"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def images() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.route("/img/big.jpg", body=_noisy_jpeg(2400, 1600), content_type="image/jpeg")
        yield server


@pytest.fixture
def tap() -> Iterator[Tap]:
    tap = Tap()
    yield tap
    tap.close()


class Account:
    """A fresh account on the PDS with a channel, a tapped client and state."""

    def __init__(self, pds: PdsInfo, tap: Tap, tmp_path: Path) -> None:
        self.pds = pds
        self.handle, self.password = fresh_account(pds)
        self.http = httpx.Client(transport=tap, timeout=15.0)
        self.state = SQLiteStore.open(tmp_path / "state.db")
        self.tmp_path = tmp_path

    def publisher(self, **options: str) -> BlueskyPublisher:
        channel = bluesky_channel(self.pds, self.handle, self.password, self.tmp_path, **options)
        ctx = PublisherContext(http=self.http, state=self.state, allow_private_media=True)
        publisher = build_publisher(channel, ctx)
        assert isinstance(publisher, BlueskyPublisher)
        return publisher

    def posts(self) -> list[dict[str, Any]]:
        return records(self.pds, self.handle)

    def record(self, uri: str) -> dict[str, Any]:
        _, _, did, collection, rkey = uri.split("/")
        response = httpx.get(
            f"{self.pds.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
        response.raise_for_status()
        value: dict[str, Any] = response.json()["value"]
        return value


@pytest.fixture
def account(pds: PdsInfo, tap: Tap, tmp_path: Path) -> Iterator[Account]:
    made = Account(pds, tap, tmp_path)
    yield made
    made.http.close()
    made.state.close()


def _noisy_jpeg(width: int, height: int) -> bytes:
    """A JPEG well over 1,000,000 bytes (noise does not compress)."""
    noise = random.Random(7).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(out, "JPEG", quality=95)
    return out.getvalue()


def _article(image_url: str | None = None) -> Article:
    body = (
        "<p>ओला एस1 प्रो ने 🚀 असली सड़क पर 195 किलोमीटर की रेंज दी। ⚡ "
        "परीक्षण दिल्ली से आगरा के बीच हुआ।</p><p>कंपनी ने नई बैटरी का दावा दोहराया।</p>"
    )
    image = Media(url=image_url, alt="ओला एस1 प्रो स्कूटर चार्जिंग पर") if image_url else None
    return Article(
        feed="ev-hi",
        item_id="ola-1",
        url=ARTICLE_URL,
        title="⚡ ओला एस1 प्रो: 195 किमी रेंज 🛵",
        content_html=body,
        lang="hi",
        published=NOW,
        tags=("EV",),
        image=image,
    )


def _post(image_url: str | None = None, *, thread: bool = False) -> Post:
    style = ChannelStyle(platform="bluesky", name="bluesky-main", thread=thread)
    return compose(_article(image_url), style, summariser=ExtractiveSummariser(), now=NOW)


def test_post_reads_back_with_facet_card_thumb_and_langs(
    account: Account, images: FeedServer
) -> None:
    """The record the PDS stored has the link facet, the card with a thumb blob, langs."""
    post = _post(images.url("/img/big.jpg"))
    result = account.publisher().publish(post, idempotency_key="k1")

    record = account.record(result.remote_id)
    text = post.parts[0].text
    assert record["text"] == text
    assert record["langs"] == ["hi"]
    [link] = [f for f in record["facets"] if "#link" in f["features"][0]["$type"]]
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    before = text.encode("utf-8")[:start].decode("utf-8")
    assert "ओला" in before
    assert "⚡" in before
    assert text.encode("utf-8")[start:end].decode("utf-8") == display_url(post.article_url)
    assert link["features"][0]["uri"] == ARTICLE_URL
    external = record["embed"]["external"]
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert (external["uri"], external["title"]) == (ARTICLE_URL, post.title)
    assert external["description"] == post.summary
    thumb = external["thumb"]
    assert thumb["$type"] == "blob"
    assert thumb["mimeType"] == "image/jpeg"
    assert thumb["size"] <= 1_000_000 < len(_noisy_jpeg(2400, 1600))
    rkey = result.remote_id.rsplit("/", 1)[1]
    assert result.remote_id.startswith("at://did:plc:")
    assert result.url == f"https://bsky.app/profile/{account.handle}/post/{rkey}"


def test_five_posts_use_one_login(account: Account, tap: Tap) -> None:
    """Five posts from one publisher cost exactly one createSession."""
    publisher = account.publisher()
    for number in range(5):
        publisher.publish(_post(), idempotency_key=f"key-{number}")
    assert tap.calls[LOGIN] == 1
    assert tap.calls[CREATE] == 5
    assert len(account.posts()) == 5
    facts = account.state.channel_state("bluesky-main")["account"]
    assert facts["logins"] == 1
    assert facts["handle"] == account.handle


def test_retry_with_same_key_returns_same_post(account: Account, tap: Tap) -> None:
    """Publishing the same idempotency key again returns the first post, posts nothing."""
    first = account.publisher().publish(_post(), idempotency_key="same")
    again = account.publisher().publish(_post(), idempotency_key="same")
    assert again == first
    assert (tap.calls[CREATE], tap.calls[LOGIN]) == (1, 1)  # the retry needs no session
    assert len(account.posts()) == 1


def test_second_create_at_same_rkey_is_reconciled(account: Account, tap: Tap) -> None:
    """A crash after the PDS wrote the post: the retry's create at the same rkey fails and
    getRecord finds the post instead."""
    publisher = account.publisher()
    first = publisher.publish(_post(), idempotency_key="crash")
    state = account.state.channel_state("bluesky-main")
    note = state["deliveries"]["crash"]
    for key in ("parts", "attempted", "url"):  # as if the process died before noting them
        del note[key]
    account.state.set_channel_state("bluesky-main", state)

    again = account.publisher().publish(_post(), idempotency_key="crash")

    assert again == first
    assert tap.calls[CREATE] == 2  # the second was refused by the PDS
    assert len(account.posts()) == 1


def test_lost_answer_recovers_at_once(account: Account, tap: Tap) -> None:
    """The connection drops after the PDS accepted: publish finds the post by its rkey."""
    tap.fail(CREATE, lost_after_accept)
    result = account.publisher().publish(_post(), idempotency_key="lost")
    assert len(account.posts()) == 1
    assert account.posts()[0]["uri"] == result.remote_id


def test_over_long_post_is_rejected_by_the_server(account: Account) -> None:
    """A 301-grapheme text (bypassing compose) gets the PDS's 400 -> Rejected, no post."""
    text = "ई" * 301
    post = Post(
        platform="bluesky",
        channel="bluesky-main",
        item_id="long",
        article_url=ARTICLE_URL,
        title="Too long",
        lang="hi",
        summary=text,
        hashtags=(),
        parts=(PostPart(text=text, link=ARTICLE_URL),),
        length=Length("graphemes", 301, 300),
    )
    with pytest.raises(
        Rejected, match=r"400: InvalidRequest: .*grapheme too big \(maximum 300, got 301\)"
    ) as info:
        account.publisher().publish(post, idempotency_key="long")
    assert not info.value.retryable
    assert account.posts() == []


def test_thread_parts_reply_to_root_and_parent(account: Account) -> None:
    """A three-part thread: parts 2 and 3 carry reply refs (root = part 1, parent = previous)."""
    base = _post()
    parts = tuple(PostPart(text=f"भाग {n} ⚡") for n in (2, 3))
    post = replace(base, parts=(base.parts[0], *parts))
    result = account.publisher().publish(post, idempotency_key="thread")

    posts = {p["uri"]: p for p in account.posts()}
    assert len(posts) == 3
    root = posts[result.remote_id]
    replies = sorted(
        (p for p in posts.values() if "reply" in p["value"]), key=lambda p: p["value"]["text"]
    )
    root_ref = {"uri": root["uri"], "cid": root["cid"]}
    assert replies[0]["value"]["reply"] == {"root": root_ref, "parent": root_ref}
    second = {"uri": replies[0]["uri"], "cid": replies[0]["cid"]}
    assert replies[1]["value"]["reply"] == {"root": root_ref, "parent": second}


def test_thread_broken_midway_resumes_without_duplicates(account: Account, tap: Tap) -> None:
    """Part 2's answer is lost and part 3 meets a 502: reconcile says "not all there",
    the retry posts part 3 only, replying to part 2."""
    base = _post()
    post = replace(base, parts=(base.parts[0], PostPart(text="दूसरा"), PostPart(text="तीसरा")))
    tap.fail(CREATE, lambda request, inner: inner.handle_request(request))
    tap.fail(CREATE, lost_after_accept)
    tap.fail(CREATE, answer(502, "UpstreamFailure", "Upstream Failure"))
    publisher = account.publisher()
    with pytest.raises(Transient):
        publisher.publish(post, idempotency_key="broken")
    assert len(account.posts()) == 2
    assert publisher.reconcile(post, idempotency_key="broken") is None

    result = publisher.publish(post, idempotency_key="broken")

    by_text = {p["value"]["text"]: p for p in account.posts()}
    assert len(by_text) == 3
    second, third = by_text["दूसरा"], by_text["तीसरा"]
    assert third["value"]["reply"]["parent"] == {"uri": second["uri"], "cid": second["cid"]}
    assert third["value"]["reply"]["root"]["uri"] == result.remote_id
    assert publisher.reconcile(post, idempotency_key="broken") == result


def test_image_embed_option(account: Account, images: FeedServer) -> None:
    """embed = "image" posts the image itself with its alt text and aspect ratio."""
    post = _post(images.url("/img/big.jpg"))
    result = account.publisher(embed="image").publish(post, idempotency_key="img")
    embed = account.record(result.remote_id)["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    [image] = embed["images"]
    assert image["alt"] == "ओला एस1 प्रो स्कूटर चार्जिंग पर"
    assert image["image"]["size"] <= 1_000_000
    ratio = image["aspectRatio"]
    assert max(ratio["width"], ratio["height"]) <= 2000  # downscaled from 2400 x 1600
    assert ratio["width"] / ratio["height"] == pytest.approx(1.5, abs=0.01)


def test_check_returns_handle(account: Account) -> None:
    """check() reads getSession and returns the account's handle."""
    assert account.publisher().check() == account.handle


def test_wrong_app_password_is_auth_error(account: Account) -> None:
    """A refused login is AuthError, pointing at App passwords, without the password."""
    account.password = "abcd-efgh-ijkl-mnop"
    with pytest.raises(AuthError, match="App passwords") as info:
        account.publisher().check()
    assert account.password not in str(info.value)


@pytest.mark.parametrize("status", [400, 401])
def test_expired_token_is_refreshed_not_relogged(account: Account, tap: Tap, status: int) -> None:
    """ExpiredToken on create (400 from this PDS, 401 from others): one real
    refreshSession, no second login, the post is made."""
    publisher = account.publisher()
    publisher.check()
    tap.fail(CREATE, answer(status, "ExpiredToken", "Token has expired"))
    publisher.publish(_post(), idempotency_key="refresh")
    assert (tap.calls[LOGIN], tap.calls[REFRESH]) == (1, 1)
    assert len(account.posts()) == 1


def test_refused_refresh_logs_in_again(account: Account, tap: Tap) -> None:
    """When the refresh token is refused too, the publisher logs in once more and posts."""
    publisher = account.publisher()
    publisher.check()
    tap.fail(CREATE, answer(400, "ExpiredToken", "Token has expired"))
    tap.fail(REFRESH, answer(400, "ExpiredToken", "Token has been revoked"))
    publisher.publish(_post(), idempotency_key="relogin")
    assert tap.calls[LOGIN] == 2
    assert len(account.posts()) == 1
    assert account.state.channel_state("bluesky-main")["account"]["logins"] == 2


def test_state_in_database_holds_no_session_secret(account: Account) -> None:
    """The SQLite channel state keeps DID, handle, login facts and record keys, no JWT."""
    publisher = account.publisher()
    publisher.publish(_post(), idempotency_key="state")
    state = account.state.channel_state("bluesky-main")
    assert set(state["account"]) == {"did", "handle", "logins", "last_login", "login_times"}
    assert re.fullmatch(r"[2-7a-j][2-7a-z]{12}", state["deliveries"]["state"]["rkeys"][0])
    assert "eyJ" not in repr(state)  # a JWT starts with base64 '{"'
    database = (account.tmp_path / "state.db").read_bytes()
    wal = account.tmp_path / "state.db-wal"
    database += wal.read_bytes() if wal.exists() else b""
    assert b"eyJ" not in database
    assert account.password.encode() not in database


def test_restart_reuses_the_sealed_session_without_logging_in(account: Account, tap: Tap) -> None:
    """A new process (new publisher, same database and app password) posts with the
    session sealed by the first: still one createSession in all."""
    account.publisher().publish(_post(), idempotency_key="before-restart")
    account.publisher().publish(_post(), idempotency_key="after-restart")
    assert tap.calls[LOGIN] == 1
    assert len(account.posts()) == 2


def test_a_rotated_app_password_cannot_read_the_old_seal(account: Account, tap: Tap) -> None:
    """Another app password cannot unseal the stored session: it logs in afresh."""
    account.publisher().check()
    old_state = account.state.channel_state("bluesky-main")
    assert isinstance(old_state.get("sealed_session"), str)
    account.password = "wrong-pass-word-xyzw"
    with pytest.raises(AuthError):
        account.publisher().check()
    assert tap.calls[LOGIN] == 2


# --- Faults the real PDS cannot produce on demand: httpx.MockTransport at the edge ---

SESSION = {
    "accessJwt": "eyJ.access",
    "refreshJwt": "eyJ.refresh",
    "did": "did:plc:a",
    "handle": "a.test",
}


def _mock_publisher(
    handler: Any, state: MemoryState | None = None, clock: datetime = NOW, **options: str
) -> BlueskyPublisher:
    channel = bluesky_channel(
        PdsInfo("https://pds.example", "", "", ""), "a.test", "pw-1234", Path("/tmp"), **options
    )
    http = httpx.Client(transport=httpx.MockTransport(handler))
    ctx = PublisherContext(http=http, state=state or MemoryState(), clock=lambda: clock)
    return BlueskyPublisher(channel, ctx)


def _fault_on_create(response: httpx.Response | Exception) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        if nsid == LOGIN:
            return httpx.Response(200, json=SESSION)
        if nsid == "com.atproto.repo.getRecord":
            return httpx.Response(400, json={"error": "RecordNotFound", "message": "no"})
        if isinstance(response, Exception):
            raise response
        return response

    return handler


def test_429_waits_until_ratelimit_reset() -> None:
    """429 becomes RateLimited whose wait runs to the ratelimit-reset unix time."""
    reset = int((NOW + timedelta(seconds=900)).timestamp())
    response = httpx.Response(
        429, json={"error": "RateLimitExceeded"}, headers={"ratelimit-reset": str(reset)}
    )
    with pytest.raises(RateLimited) as info:
        _mock_publisher(_fault_on_create(response)).publish(_post(), idempotency_key="k")
    assert info.value.retry_after == 900


@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(503, json={"error": "InternalServerError"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
)
def test_server_trouble_is_transient(fault: httpx.Response | Exception) -> None:
    """5xx, timeouts and refused connections become Transient."""
    with pytest.raises(Transient):
        _mock_publisher(_fault_on_create(fault)).publish(_post(), idempotency_key="k")


def test_refresh_hitting_a_5xx_keeps_the_session() -> None:
    """A refresh that meets a 5xx is Transient; the next call refreshes again, no login."""
    calls: list[str] = []
    refreshed = {**SESSION, "accessJwt": "eyJ.new"}
    refresh_answers = [httpx.Response(502), httpx.Response(200, json=refreshed)]

    def handler(request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        calls.append(nsid)
        if nsid == LOGIN:
            return httpx.Response(200, json=SESSION)
        if nsid == REFRESH:
            assert request.headers["authorization"] == "Bearer eyJ.refresh"
            return refresh_answers.pop(0)
        if request.headers["authorization"] != "Bearer eyJ.new":  # the old one has expired
            return httpx.Response(400, json={"error": "ExpiredToken"})
        return httpx.Response(200, json={"handle": "a.test"})

    publisher = _mock_publisher(handler)
    with pytest.raises(Transient):
        publisher.check()
    assert publisher.check() == "a.test"
    assert calls.count(LOGIN) == 1
    assert calls.count(REFRESH) == 2


def test_login_budget_is_kept_across_restarts() -> None:
    """With 30 logins noted in the last 5 minutes, no 31st createSession is sent."""
    state = MemoryState()
    times = [int(NOW.timestamp()) - 10 * i for i in range(30)]
    state.set_channel_state("bluesky-main", {"account": {"login_times": times}})
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json=SESSION)

    with pytest.raises(RateLimited) as info:
        _mock_publisher(handler, state).check()
    assert sent == []
    assert 0 < info.value.retry_after <= 300


def test_unknown_embed_option_is_config_error() -> None:
    """options.embed must be card, image or none."""
    with pytest.raises(ConfigError, match=r"options\.embed"):
        _mock_publisher(_fault_on_create(httpx.Response(500)), embed="gallery")


def test_repr_and_errors_hide_the_app_password() -> None:
    """Neither the publisher's repr nor an error quoting the server shows the password."""
    response = httpx.Response(400, json={"error": "InvalidRequest", "message": "bad pw-1234"})
    publisher = _mock_publisher(_fault_on_create(response))
    assert "pw-1234" not in repr(publisher)
    with pytest.raises(Rejected) as info:
        publisher.publish(_post(), idempotency_key="k")
    assert "pw-1234" not in str(info.value)


def test_tids_are_valid_and_sort_by_time() -> None:
    """TIDs are 13 base32-sortable characters, later times sort later."""
    early, late = new_tid(NOW, 5), new_tid(NOW + timedelta(microseconds=1), 5)
    assert re.fullmatch(r"[2-7a-j][2-7a-z]{12}", early)
    assert early < late


def test_pds_option_and_api_base() -> None:
    """api_base wins over options.pds; the pds option is used when api_base is unset."""
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json=SESSION)

    channel = bluesky_channel(
        PdsInfo("https://pds.example", "", "", ""), "a.test", "pw", Path("/tmp")
    )
    http = httpx.Client(transport=httpx.MockTransport(handler))
    ctx = PublisherContext(http=http)
    BlueskyPublisher(channel, ctx).check()
    BlueskyPublisher(
        replace(channel, api_base=None, options={"pds": "https://eu.pds.example/"}), ctx
    ).check()
    assert urls[0].startswith("https://pds.example/xrpc/com.atproto.server.createSession")
    assert urls[-1] == "https://eu.pds.example/xrpc/com.atproto.server.getSession"
