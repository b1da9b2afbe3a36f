"""HTTP/2 where a feed server offers it: one connection for a site's feeds, HTTP/1.1 where
it does not, and a dripping stream cut at its deadline without breaking its neighbours.

A real HTTP/2 server (Hypercorn over TLS on 127.0.0.1, ``tests/h2server.py``)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.app import open_pipeline
from bot.config import load_config
from bot.errors import ConfigError, FetchError
from bot.feeds.fetch import fetch, make_http_client
from bot.feeds.sources import HttpFeedSource
from tests.builders import Item, rss, write_config
from tests.h2server import H2FeedServer

BODY = rss([Item(guid="g1", title="Battery swap", link="https://volt.example/1/")]).encode()


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> H2FeedServer:
    with H2FeedServer(tmp_path / "tls") as running:
        monkeypatch.setenv("SSL_CERT_FILE", str(running.ca_file))
        yield running  # type: ignore[misc]


def test_a_sites_feeds_share_one_http2_connection(server: H2FeedServer) -> None:
    """Ten feeds of one site, polled at once and then again with their ETags, go over
    HTTP/2 on ONE connection; the second round is all 304s."""
    sources = []
    with make_http_client(user_agent="t", timeout=5) as client:
        for n in range(10):
            server.route(f"/{n}.xml", body=BODY, etag=f'"v{n}"')
            sources.append(HttpFeedSource(f"f{n}", server.url(f"/{n}.xml"), client=client))
        with ThreadPoolExecutor(max_workers=10) as pool:
            first = list(pool.map(lambda s: s.fetch(), sources))
            again = list(
                pool.map(lambda p: p[0].fetch(etag=p[1].etag), zip(sources, first, strict=True))
            )
    assert all(o.articles and not o.not_modified for o in first)
    assert all(o.not_modified for o in again)
    assert {r.http_version for r in server.requests} == {"2"}
    assert len({r.client_port for r in server.requests}) == 1
    assert len(server.requests) == 20


def test_a_server_offering_only_http1_is_polled_over_http1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TLS server whose ALPN offers only http/1.1 is fetched over HTTP/1.1, unchanged."""
    with H2FeedServer(tmp_path / "tls", http1_only=True) as old:
        monkeypatch.setenv("SSL_CERT_FILE", str(old.ca_file))
        old.route("/feed.xml", body=BODY)
        with make_http_client(user_agent="t", timeout=5) as client:
            got = fetch(client, old.url("/feed.xml"))
    assert got.body == BODY
    assert [r.http_version for r in old.requests] == ["1.1"]


def test_http2_off_keeps_every_fetch_on_http1(server: H2FeedServer) -> None:
    """``http2=False`` (``service.http2 = false``) speaks HTTP/1.1 to an HTTP/2 server."""
    server.route("/feed.xml", body=BODY)
    with make_http_client(user_agent="t", timeout=5, http2=False) as client:
        assert fetch(client, server.url("/feed.xml")).body == BODY
    assert [r.http_version for r in server.requests] == ["1.1"]


def test_a_dripping_stream_is_cut_at_its_deadline_and_its_neighbours_complete(
    server: H2FeedServer,
) -> None:
    """A feed dripping its body is given up at its deadline, while feeds sharing its HTTP/2
    connection complete: the deadline resets that stream, never the shared socket."""
    server.route("/drip.xml", drip=(b"<", 0.05))
    server.route("/ok.xml", body=BODY)
    errors: list[str] = []
    with make_http_client(user_agent="t", timeout=5) as client:
        fetch(client, server.url("/ok.xml"))  # the connection, made before the drip starts

        def dripping() -> None:
            try:
                fetch(client, server.url("/drip.xml"), deadline=0.8)
            except FetchError as exc:
                errors.append(str(exc))

        thread = threading.Thread(target=dripping)
        thread.start()
        neighbours = []
        while thread.is_alive():
            neighbours.append(fetch(client, server.url("/ok.xml"), deadline=5))
        thread.join()
        after = fetch(client, server.url("/ok.xml"))
    assert len(errors) == 1
    assert "gave up after 0.8 s" in errors[0]
    assert neighbours
    assert all(n.body == BODY for n in [*neighbours, after])
    assert {r.http_version for r in server.requests} == {"2"}
    assert len({r.client_port for r in server.requests}) == 1


def test_service_http2_is_read_from_the_config(tmp_path: Path) -> None:
    """``[service] http2`` defaults to true, takes false, and refuses a non-boolean."""
    feeds = {"f": "https://a.example/f.xml"}
    assert load_config(write_config(tmp_path, feeds=feeds), env={}).service.http2 is True
    off = write_config(tmp_path, feeds=feeds, extra_service="http2 = false")
    assert load_config(off, env={}).service.http2 is False
    with pytest.raises(ConfigError, match="http2"):
        load_config(write_config(tmp_path, feeds=feeds, extra_service='http2 = "yes"'), env={})


def test_the_service_polls_over_http2_unless_told_not_to(
    server: H2FeedServer, tmp_path: Path
) -> None:
    """The pipeline's client speaks HTTP/2 to the feed server, and HTTP/1.1 with
    ``http2 = false``."""
    server.route("/feed.xml", body=BODY)
    versions = []
    for name, setting in (("default", ""), ("off", "http2 = false")):
        server.requests.clear()
        workdir = tmp_path / name
        workdir.mkdir()
        feeds = {"f": server.url("/feed.xml")}
        config = load_config(write_config(workdir, feeds=feeds, extra_service=setting), env={})
        with open_pipeline(config) as pipeline:
            assert pipeline.poll("f").error is None
        versions.append(sorted({r.http_version for r in server.requests}))
    assert versions == [["2"], ["1.1"]]
