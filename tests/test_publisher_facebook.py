"""Facebook Page publisher against the fake Graph API over loopback HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from bot.errors import AlreadyPosted, AuthError, PublishError, RateLimited, Rejected, Transient
from bot.publishers import facebook
from bot.publishers.base import PublisherContext
from bot.publishers.facebook import FacebookPublisher
from tests.fakes.graph_api import ARTICLE, TOKEN, FakeGraph, Fault, channel, meta_post
from tests.publisher_helpers import error_texts

KEY = "feed:item-1:facebook-main"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def _publisher(graph: FakeGraph, http: httpx.Client, **options: str) -> FacebookPublisher:
    return facebook.build(channel("facebook", graph, **options), PublisherContext(http=http))


def _error(code: int, message: str = "boom", subcode: int | None = None) -> dict[str, object]:
    err: dict[str, object] = {"code": code, "message": message, "type": "OAuthException"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {**err, "fbtrace_id": "Trace1"}


def test_link_post_without_image(graph: FakeGraph, http: httpx.Client) -> None:
    """No image: exactly one POST /feed with message, link and the token as a form field."""
    pub = _publisher(graph, http)
    result = pub.publish(meta_post("facebook", "Battery prices fell 20%."), idempotency_key=KEY)
    [call] = [c for c in graph.calls if c.method == "POST"]
    assert (call.route, call.version, call.path) == ("feed", "v25.0", f"/{graph.page_id}/feed")
    assert call.form == {
        "message": "Battery prices fell 20%.",
        "link": ARTICLE,
        "access_token": TOKEN,
    }
    assert TOKEN not in call.path
    assert call.query == {}
    assert result.remote_id == graph.page_posts[0]["id"]
    assert result.url == f"https://www.facebook.com/{result.remote_id}"


def test_photo_post_with_image_url_and_alt(graph: FakeGraph, http: httpx.Client) -> None:
    """With an image: one POST /photos with its URL, alt text and the link in the message."""
    post = meta_post(
        "facebook",
        "बैटरी की कीमतें गिरीं। பேட்டரி விலை குறைந்தது. బ్యాటరీ ధరలు తగ్గాయి.",
        image="https://volt.example/img/battery.jpg",
        alt="A battery pack on a factory line",
    )
    result = _publisher(graph, http).publish(post, idempotency_key=KEY)
    [call] = [c for c in graph.calls if c.method == "POST"]
    assert call.route == "photos"
    assert call.form["url"] == "https://volt.example/img/battery.jpg"
    assert call.form["alt_text_custom"] == "A battery pack on a factory line"
    assert call.form["message"] == f"{post.parts[0].text}\n\n{ARTICLE}"
    assert result.remote_id == graph.page_posts[0]["id"]  # the feed post, not the photo id


def test_photo_option_false_makes_a_link_post(graph: FakeGraph, http: httpx.Client) -> None:
    """options.photo = "false" posts a link card even when the article has an image."""
    post = meta_post("facebook", "Text", image="https://volt.example/i.jpg")
    _publisher(graph, http, photo="false").publish(post, idempotency_key=KEY)
    assert [c.route for c in graph.calls if c.method == "POST"] == ["feed"]


def test_pinned_graph_version(graph: FakeGraph, http: httpx.Client) -> None:
    """options.graph_version is the version in every request path."""
    _publisher(graph, http, graph_version="v24.0").check()
    assert graph.calls[0].version == "v24.0"


def test_check_returns_page_name(graph: FakeGraph, http: httpx.Client) -> None:
    """check() reads /me with the Page token (as a header, not in the URL)."""
    assert _publisher(graph, http).check() == "Volt Lane EV News"
    assert graph.calls[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert graph.calls[0].query == {"fields": "id,name"}


def test_expired_token_is_auth_error_without_the_token(
    graph: FakeGraph, http: httpx.Client
) -> None:
    """Error 190 pauses the channel with a hint, and never shows the token."""
    graph.fail("feed", Fault(status=401, error=_error(190, f"Bad token {TOKEN}", 463)))
    with pytest.raises(AuthError, match="create a new long-lived token") as info:
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)
    assert "190/463" in str(info.value)
    assert TOKEN not in str(info.value)


def test_wrong_token_rejected_by_server_is_auth_error(graph: FakeGraph, http: httpx.Client) -> None:
    """A token the server does not know gives AuthError from check()."""
    pub = facebook.build(
        channel("facebook", graph, token="EAAGwrongtoken"), PublisherContext(http=http)
    )
    with pytest.raises(AuthError):
        pub.check()


def test_missing_permission_names_it(graph: FakeGraph, http: httpx.Client) -> None:
    """Permission errors (200-299) say which permission to grant."""
    graph.fail("feed", Fault(status=403, error=_error(200, "Permissions error")))
    with pytest.raises(AuthError, match="pages_manage_posts"):
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        (
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        "1001": [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "estimated_time_to_regain_access": 7,
                            }
                        ]
                    }
                )
            },
            420.0,
        ),
        ({"X-App-Usage": '{"call_count": 100}', "Retry-After": "90"}, 90.0),
        ({}, 900.0),
    ],
)
def test_rate_limit_wait(
    graph: FakeGraph, http: httpx.Client, headers: dict[str, str], wait: float
) -> None:
    """Code 4 waits per the usage header, else Retry-After, else 15 minutes."""
    graph.fail(
        "feed", Fault(status=429, error=_error(4, "Application request limit"), headers=headers)
    )
    with pytest.raises(RateLimited) as info:
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)
    assert info.value.retry_after == wait


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (500, 1, Transient),
        (503, 2, Transient),
        (400, 32, RateLimited),
        (400, 80001, RateLimited),
        (400, 100, Rejected),
        (400, 368, Rejected),
        (400, 506, AlreadyPosted),
    ],
)
def test_error_codes(
    graph: FakeGraph, http: httpx.Client, status: int, code: int, error: type[PublishError]
) -> None:
    """Graph error codes map onto the error tree."""
    graph.fail("feed", Fault(status=status, error=_error(code)))
    with pytest.raises(error) as info:
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)
    assert type(info.value) is error


def test_html_5xx_is_transient(graph: FakeGraph, http: httpx.Client) -> None:
    """A gateway error without a Graph body is still retried."""
    graph.fail("feed", Fault(status=502))
    with pytest.raises(Transient, match="HTTP 502"):
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)


def test_timeout_is_transient(graph: FakeGraph) -> None:
    """An answer slower than the client timeout is a Transient error."""
    graph.fail("feed", Fault(delay=1.0))
    with httpx.Client(timeout=0.2) as slow:
        pub = _publisher(graph, slow)
        with pytest.raises(Transient, match="Timeout"):
            pub.publish(meta_post("facebook", "x"), idempotency_key=KEY)


def test_retry_after_dropped_connection_does_not_post_twice(
    graph: FakeGraph, http: httpx.Client
) -> None:
    """The post went out but the answer was lost: the retry finds it instead of reposting."""
    graph.fail("feed", Fault(drop_after=True))
    pub = _publisher(graph, http)
    post = meta_post("facebook", "Battery prices fell.")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)
    result = pub.publish(post, idempotency_key=KEY)
    assert len(graph.calls_to("feed")) == 1
    assert len(graph.page_posts) == 1
    assert result.remote_id == graph.page_posts[0]["id"]
    assert pub.publish(post, idempotency_key=KEY) == result  # remembered, no more calls
    assert len(graph.calls_to("read_feed")) == 1


def test_retry_after_failure_before_posting_posts_once(
    graph: FakeGraph, http: httpx.Client
) -> None:
    """When the first attempt never reached the Page, the retry posts exactly once."""
    graph.fail("feed", Fault(drop=True))
    pub = _publisher(graph, http)
    post = meta_post("facebook", "Battery prices fell.")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)
    pub.publish(post, idempotency_key=KEY)
    assert len(graph.page_posts) == 1


def test_reconcile(graph: FakeGraph, http: httpx.Client) -> None:
    """reconcile() finds a post linking the article on the Page feed, else None."""
    pub = _publisher(graph, http)
    post = meta_post("facebook", "Battery prices fell.")
    assert pub.reconcile(post, idempotency_key=KEY) is None
    graph.page_posts.append({"id": "1001_77", "message": "hi", "link": ARTICLE})
    found = pub.reconcile(post, idempotency_key=KEY)
    assert found is not None
    assert found.remote_id == "1001_77"
    fields = graph.calls_to("read_feed")[-1].query["fields"]
    assert fields == "id,message,permalink_url,attachments{unshimmed_url}"


def test_no_secret_in_errors_logs_or_repr(
    graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    """Across failures the token appears in no exception, log line or repr."""
    caplog.set_level(logging.DEBUG)
    graph.fail(
        "feed",
        Fault(status=401, error=_error(190, f"token {TOKEN} expired")),
        Fault(status=500, error=_error(1, f"oops {TOKEN}")),
        Fault(drop=True),
        Fault(delay=1.0),
    )
    with httpx.Client(timeout=0.3) as client:
        pub = _publisher(graph, client)
        post = meta_post("facebook", "x", item_id="i")
        messages = error_texts(lambda: pub.publish(post, idempotency_key="k"), 4)
    messages += [repr(pub), caplog.text]
    assert not [m for m in messages if TOKEN in m]


def test_answer_without_id_is_transient(graph: FakeGraph, http: httpx.Client) -> None:
    """A 200 answer without a post id is not recorded as sent."""
    graph.fail("feed", Fault(status=200))
    with pytest.raises(Transient, match="without a post id"):
        _publisher(graph, http).publish(meta_post("facebook", "x"), idempotency_key=KEY)


def test_retry_after_a_lost_photo_post_finds_it_on_the_page(
    graph: FakeGraph, http: httpx.Client
) -> None:
    """A photo post whose answer was lost is found on the Page (by the link in its message)
    with fields Graph accepts, so the delivery ends sent, posted once."""
    graph.fail("photos", Fault(drop_after=True))
    pub = _publisher(graph, http)
    post = meta_post("facebook", "Battery prices fell.", image="https://volt.example/b.jpg")
    with pytest.raises(Transient):
        pub.publish(post, idempotency_key=KEY)

    found = pub.publish(post, idempotency_key=KEY)

    assert len(graph.page_posts) == 1
    assert found.remote_id == graph.page_posts[0]["id"]
    assert len(graph.calls_to("read_feed")) == 1


@pytest.mark.parametrize("fields", ["id,message,link,permalink_url", "id,type", "id,name"])
def test_fake_refuses_page_post_fields_graph_deprecated(
    graph: FakeGraph, http: httpx.Client, fields: str
) -> None:
    """As Graph does since v3.3, the fake answers a Page feed read asking for ``link``,
    ``type`` or ``name`` with error #12, so a publisher asking for them cannot pass."""
    response = http.get(
        f"{graph.base}/v25.0/{graph.page_id}/feed",
        params={"fields": fields},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 12
