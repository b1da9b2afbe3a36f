"""bot.images: bounded, address-checked downloads; Pillow verification; re-encoding."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from bot.errors import Rejected, Transient
from bot.images import ImageData, aspect_ok, crop_to_aspect, fetch_image, fit_image
from tests.fakes.graph_api import FakeGraph
from tests.fakes.images import jpeg_bytes, png_bytes


@pytest.fixture
def server() -> Iterator[FakeGraph]:
    with FakeGraph() as graph:
        yield graph


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_fetch_returns_verified_jpeg(server: FakeGraph, http: httpx.Client) -> None:
    """A JPEG on an allowed host comes back with its bytes, type and size."""
    data = jpeg_bytes(640, 480)
    url = server.add_image("/img/car.jpg", data)
    image = fetch_image(http, url, allow_private=True)
    assert (image.mime, image.width, image.height, image.data, image.url) == (
        "image/jpeg",
        640,
        480,
        data,
        url,
    )


def test_fetch_identifies_by_content_not_header(server: FakeGraph, http: httpx.Client) -> None:
    """A PNG served as image/jpeg is reported as the PNG it is."""
    url = server.add_image("/img/liar.jpg", png_bytes(50, 40), content_type="image/jpeg")
    assert fetch_image(http, url, allow_private=True).mime == "image/png"


def test_loopback_refused_unless_allowed(server: FakeGraph, http: httpx.Client) -> None:
    """127.0.0.1 is refused without allow_private, before any request is sent."""
    url = server.add_image("/img/car.jpg", jpeg_bytes(64, 64))
    with pytest.raises(Rejected, match=r"127\.0\.0\.1"):
        fetch_image(http, url, allow_private=False)
    assert server.calls_to("image") == []


def test_redirect_hop_to_private_address_refused() -> None:
    """A public URL redirecting to a loopback address is stopped at the hop."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:9/admin.jpg"})

    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport) as client, pytest.raises(Rejected, match="loopback"):
        fetch_image(client, "http://93.184.216.34/pic.jpg", allow_private=False)
    assert seen == ["http://93.184.216.34/pic.jpg"]


def test_redirects_followed_when_allowed(server: FakeGraph, http: httpx.Client) -> None:
    """Redirects are followed hop by hop and the final image is returned."""
    server.add_image("/img/real.jpg", jpeg_bytes(80, 60))
    start = server.add_image("/img/old.jpg", b"", status=301, headers={"Location": "/img/real.jpg"})
    assert fetch_image(http, start, allow_private=True).width == 80


@pytest.mark.parametrize("chunked", [False, True])
def test_size_cap(server: FakeGraph, http: httpx.Client, chunked: bool) -> None:
    """Bodies past max_bytes are refused, whether or not Content-Length says so up front."""
    url = server.add_image("/img/big.jpg", jpeg_bytes(400, 400, noise=True), chunked=chunked)
    with pytest.raises(Rejected, match="larger than 20,000 bytes"):
        fetch_image(http, url, allow_private=True, max_bytes=20_000)


def test_total_time_limit_on_a_dripping_server(server: FakeGraph, http: httpx.Client) -> None:
    """A server that keeps sending slowly is cut off at the total time limit."""
    url = server.add_image("/img/slow.jpg", jpeg_bytes(300, 300, noise=True), drip=0.1)
    with pytest.raises(Transient, match="longer than allowed"):
        fetch_image(http, url, allow_private=True, timeout=0.5)


def test_not_an_image(server: FakeGraph, http: httpx.Client) -> None:
    """An HTML page at the image URL is refused as not an image."""
    url = server.add_image("/img/x.jpg", b"<html><body>Not found</body></html>", "text/html")
    with pytest.raises(Rejected, match="not an image"):
        fetch_image(http, url, allow_private=True)


def test_truncated_image(server: FakeGraph, http: httpx.Client) -> None:
    """A JPEG cut off mid-file is refused as damaged."""
    data = jpeg_bytes(300, 300, noise=True)
    url = server.add_image("/img/cut.jpg", data[: len(data) // 2])
    with pytest.raises(Rejected, match="damaged or truncated"):
        fetch_image(http, url, allow_private=True)


@pytest.mark.parametrize("side", [7000, 100_000])
def test_decompression_bomb_refused(server: FakeGraph, http: httpx.Client, side: int) -> None:
    """A small file claiming a huge canvas is refused before decoding."""
    url = server.add_image("/img/bomb.png", _png_claiming(side, side), "image/png")
    with pytest.raises(Rejected, match="decompression bomb"):
        fetch_image(http, url, allow_private=True)


@pytest.mark.parametrize(("status", "error"), [(404, Rejected), (503, Transient), (429, Transient)])
def test_http_errors(server: FakeGraph, http: httpx.Client, status: int, error: type) -> None:
    """Missing images are permanent, server trouble is temporary."""
    url = server.add_image("/img/gone.jpg", b"nope", "text/plain", status=status)
    with pytest.raises(error, match=f"HTTP {status}"):
        fetch_image(http, url, allow_private=True)


def test_connection_refused_is_transient(http: httpx.Client) -> None:
    """A host that refuses connections is network trouble."""
    with FakeGraph() as graph:
        url = graph.url("/img/car.jpg")
    with pytest.raises(Transient):
        fetch_image(http, url, allow_private=True)


def _data(raw: bytes, mime: str) -> ImageData:
    with Image.open(io.BytesIO(raw)) as picture:
        return ImageData(raw, mime, picture.width, picture.height, "https://volt.example/a")


def test_png_with_alpha_becomes_jpeg_on_white() -> None:
    """A transparent PNG converted to JPEG is painted on white, not black."""
    source = _data(png_bytes(200, 100, alpha=True), "image/png")
    fitted = fit_image(source, max_bytes=1_000_000, formats=("image/jpeg",))
    assert fitted.mime == "image/jpeg"
    with Image.open(io.BytesIO(fitted.data)) as picture:
        assert picture.format == "JPEG"
        red, green, blue = picture.convert("RGB").getpixel((10, 50))  # type: ignore[misc]
    assert min(red, green, blue) > 240


def test_fit_keeps_an_image_that_already_fits() -> None:
    """Nothing is re-encoded when format, size and sides are within limits."""
    source = _data(jpeg_bytes(300, 200), "image/jpeg")
    assert fit_image(source, max_bytes=1_000_000, max_side=1000) is source


def test_downscale_to_max_side() -> None:
    """The longer side is brought down to max_side, keeping the proportions."""
    source = _data(jpeg_bytes(3000, 1500), "image/jpeg")
    fitted = fit_image(source, max_bytes=5_000_000, max_side=1000)
    assert (fitted.width, fitted.height) == (1000, 500)


def test_jpeg_quality_steps_until_under_the_cap() -> None:
    """A noisy photo too big at quality 90 is re-encoded under max_bytes."""
    source = _data(jpeg_bytes(800, 800, noise=True, quality=95), "image/jpeg")
    cap = len(source.data) // 2
    fitted = fit_image(source, max_bytes=cap)
    assert fitted.mime == "image/jpeg"
    assert len(fitted.data) <= cap


def test_png_stays_png_when_allowed() -> None:
    """A PNG that only needs shrinking stays a PNG."""
    source = _data(png_bytes(2000, 1000), "image/png")
    fitted = fit_image(source, max_bytes=1_000_000, max_side=500)
    assert (fitted.mime, fitted.width) == ("image/png", 500)


def test_impossible_budget_rejected() -> None:
    """When even small, low-quality copies are too big, the image is refused."""
    source = _data(jpeg_bytes(400, 400, noise=True), "image/jpeg")
    with pytest.raises(Rejected, match="cannot be made smaller"):
        fit_image(source, max_bytes=200)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(1080, 1350, True), (1080, 1400, False), (1910, 1000, True), (2000, 1000, False)],
)
def test_aspect_ok(width: int, height: int, expected: bool) -> None:
    """Instagram's 4:5..1.91:1 window includes its edges and nothing beyond."""
    image = ImageData(b"", "image/jpeg", width, height, "u")
    assert aspect_ok(image, 4 / 5, 1.91) is expected


@pytest.mark.parametrize(("width", "height"), [(1000, 2000), (3000, 1000)])
def test_crop_to_aspect(width: int, height: int) -> None:
    """Too tall or too wide images are centre-cropped into the window."""
    cropped = crop_to_aspect(_data(jpeg_bytes(width, height), "image/jpeg"), 0.8, 1.91)
    assert aspect_ok(cropped, 0.8, 1.91)
    assert cropped.mime == "image/jpeg"
