"""Article images: fetch them safely, check them with Pillow, re-encode them to fit a platform.

Image URLs come from feed content, so whoever writes the feed chooses them: the download is
capped in size and time, only goes to public addresses (every redirect hop is checked), and
the bytes must decode as an image of a sane pixel count before anyone uses them.

    image = fetch_image(http, url, allow_private=False)          # ImageData
    small = fit_image(image, max_bytes=1_000_000, max_side=2000)   # re-encoded when needed
    aspect_ok(small, 0.8, 1.91)
"""

from __future__ import annotations

import io
import socket
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import FetchError, Rejected, Transient
from bot.netguard import GUARD_EXTENSION, check_public_url, install_guard
from bot.publishers.edge import StatusTable

# A small compressed file can claim a huge canvas; decoding it would eat the machine's memory.
MAX_PIXELS = 40_000_000
MAX_REDIRECTS = 5
# Formats Pillow may try when identifying a download: fewer parsers, less attack surface.
_ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_PIL_FORMAT = {mime: fmt for fmt, mime in _MIME.items()}
_JPEG_QUALITIES = (90, 85, 80, 75, 70, 65, 60)
_SHRINK_STEP = 0.8  # when quality 60 is still too big, shrink the sides and try again
_MIN_SIDE = 64


@dataclass(frozen=True)
class ImageData:
    """Bytes of a verified image. ``url`` is where it came from (not where re-encodes live)."""

    data: bytes
    mime: str
    width: int
    height: int
    url: str

    def __repr__(self) -> str:
        return f"ImageData({self.mime} {self.width}x{self.height}, {len(self.data)} B, {self.url})"


def fetch_image(
    http: httpx.Client,
    url: str,
    *,
    allow_private: bool,
    max_bytes: int = 15_000_000,
    timeout: float = 20.0,
) -> ImageData:
    """Download and verify the image at ``url``.

    Raises ``Rejected`` when it is not an image, is too big or lives on a blocked address,
    and ``Transient`` for network trouble (including the total ``timeout`` running out).
    """
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if not allow_private:
            _check_address(current)
        body, location = _get_once(
            http, current, max_bytes=max_bytes, deadline=deadline, guard=not allow_private
        )
        if location is None:
            return _verify(body, url)
        current = urljoin(current, location)
    raise Rejected(f"image {url}: more than {MAX_REDIRECTS} redirects; link the image directly")


def _check_address(url: str) -> None:
    try:
        check_public_url(url)
    except FetchError as exc:
        if isinstance(exc.__cause__, socket.gaierror):
            raise Transient(f"image {url}: {exc}") from exc  # DNS trouble may pass
        raise Rejected(f"image {exc}") from exc


def _get_once(
    http: httpx.Client, url: str, *, max_bytes: int, deadline: float, guard: bool
) -> tuple[bytes, str | None]:
    """One request: (body, None), or (b"", Location) for a redirect.

    With ``guard``, the request carries netguard's flag: the client's hook checks the
    address again and a pinned transport connects to exactly that checked address (no
    DNS rebinding between check and connect). Images come uncompressed (``identity``):
    they are compressed already, and a gzip bomb cannot blow up a single read.
    """
    if guard:
        install_guard(http)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Transient(f"image {url}: download took longer than allowed")
    try:
        with http.stream(
            "GET",
            url,
            follow_redirects=False,
            timeout=httpx.Timeout(remaining),
            headers={"Accept-Encoding": "identity"},
            extensions={GUARD_EXTENSION: True} if guard else None,
        ) as response:
            if response.is_redirect and "location" in response.headers:
                return b"", response.headers["location"]
            _check_status(response, url)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(url, max_bytes)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(url, max_bytes)
                if time.monotonic() > deadline:
                    raise Transient(f"image {url}: download took longer than allowed")
                chunks.append(chunk)
            return b"".join(chunks), None
    except httpx.TransportError as exc:
        raise Transient(f"image {url}: {type(exc).__name__}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise Rejected(f"image {url}: invalid URL: {exc}") from exc
    except FetchError as exc:  # the hook's second look found a non-public address
        raise Rejected(f"image {exc}") from exc


# An image host's statuses: a 429 or 5xx may pass, any other refusal is the image's end.
IMAGE_HOST = StatusTable(
    "image host",
    kinds={429: Transient, 401: Rejected, 403: Rejected},
    hints={Rejected: "the article image cannot be downloaded", Transient: "from the image host"},
)


def _check_status(response: httpx.Response, url: str) -> None:
    code = response.status_code
    if code < 300:
        return
    raise IMAGE_HOST.error(
        status=code,
        headers=response.headers,
        text=f"image {url}: HTTP {code}",
        channel="",
        now=datetime.now(UTC),
    )


def _too_big(url: str, max_bytes: int) -> Rejected:
    return Rejected(f"image {url}: larger than {max_bytes:,} bytes; use a smaller image")


def _open(data: bytes, url: str) -> Image.Image:
    """Identify ``data`` (header only) and refuse decompression bombs before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(url) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Rejected(
            f"image {url}: not an image syndbot can read (JPEG, PNG, WebP, GIF, BMP)"
        ) from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _bomb(url)
    return image


def _bomb(url: str) -> Rejected:
    return Rejected(
        f"image {url}: more than {MAX_PIXELS:,} pixels (possible decompression bomb); "
        "use a smaller image"
    )


def _verify(data: bytes, url: str) -> ImageData:
    image = _open(data, url)
    try:
        image.verify()  # checks structure/CRCs; the object is unusable afterwards
        image = _open(data, url)
        image.load()  # verify() does not decode: truncated pixel data shows up here
    except (OSError, ValueError, SyntaxError) as exc:
        raise Rejected(f"image {url}: the file is damaged or truncated ({exc})") from exc
    fmt = image.format or ""
    mime = _MIME.get(fmt, f"image/{fmt.lower()}")
    return ImageData(data=data, mime=mime, width=image.width, height=image.height, url=url)


def aspect_ok(image: ImageData, lo: float, hi: float) -> bool:
    """True when width/height lies in [lo, hi] (0.1 % slack for 1080x1350-style rounding)."""
    ratio = image.width / image.height
    return lo * 0.999 <= ratio <= hi * 1.001


def fit_image(
    image: ImageData,
    *,
    max_bytes: int,
    formats: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp", "image/gif"),
    max_side: int | None = None,
) -> ImageData:
    """``image`` unchanged when it satisfies the limits, else a re-encoded copy that does.

    Keeps the format when allowed (PNG stays PNG if it fits), else JPEG with quality 90..60,
    shrinking the sides when even quality 60 is too big. Raises ``Rejected`` when nothing fits.
    """
    too_long = max_side is not None and max(image.width, image.height) > max_side
    if image.mime in formats and len(image.data) <= max_bytes and not too_long:
        return image
    picture = ImageOps.exif_transpose(_open(image.data, image.url))  # re-encode drops EXIF
    if max_side is not None and max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if image.mime in formats and image.mime != "image/jpeg":
        encoded = _encode(picture, image.mime, quality=None)
        if len(encoded) <= max_bytes:
            return _result(encoded, image.mime, picture, image.url)
    target = "image/jpeg" if "image/jpeg" in formats else _lossless_choice(formats, image)
    while min(picture.size) >= _MIN_SIDE:
        qualities: tuple[int | None, ...] = _JPEG_QUALITIES if target == "image/jpeg" else (None,)
        for quality in qualities:
            encoded = _encode(picture, target, quality=quality)
            if len(encoded) <= max_bytes:
                return _result(encoded, target, picture, image.url)
        new_size = (int(picture.width * _SHRINK_STEP), int(picture.height * _SHRINK_STEP))
        picture = picture.resize(new_size, Image.Resampling.LANCZOS)
    raise Rejected(
        f"image {image.url}: cannot be made smaller than {max_bytes:,} bytes as "
        f"{' or '.join(formats)}; use a smaller image"
    )


def _lossless_choice(formats: tuple[str, ...], image: ImageData) -> str:
    for mime in formats:
        if mime in _PIL_FORMAT:
            return mime
    raise Rejected(f"image {image.url}: none of the formats {formats} can be written")


def _encode(picture: Image.Image, mime: str, *, quality: int | None) -> bytes:
    out = io.BytesIO()
    if mime == "image/jpeg":
        _flatten(picture).save(out, "JPEG", quality=quality or 90, optimize=True)
    elif mime == "image/png":
        picture.save(out, "PNG", optimize=True)
    else:
        picture.save(out, _PIL_FORMAT[mime])
    return out.getvalue()


def _flatten(picture: Image.Image) -> Image.Image:
    """JPEG has no transparency: paint transparent areas white instead of black."""
    if picture.mode in ("RGBA", "LA", "P", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture if picture.mode in ("RGB", "L", "CMYK") else picture.convert("RGB")


def _result(data: bytes, mime: str, picture: Image.Image, url: str) -> ImageData:
    return ImageData(data=data, mime=mime, width=picture.width, height=picture.height, url=url)


def crop_to_aspect(image: ImageData, lo: float, hi: float) -> ImageData:
    """``image`` centre-cropped so width/height lies in [lo, hi] (unchanged when it does).

    The copy is encoded losslessly (PNG; JPEG stays JPEG at quality 95) so a following
    ``fit_image`` decides the final format and size.
    """
    if aspect_ok(image, lo, hi):
        return image
    picture = ImageOps.exif_transpose(_open(image.data, image.url))
    width, height = picture.size
    if width / height < lo:
        new_height = round(width / lo)
        top = (height - new_height) // 2
        picture = picture.crop((0, top, width, top + new_height))
    else:
        new_width = round(height * hi)
        left = (width - new_width) // 2
        picture = picture.crop((left, 0, left + new_width, height))
    out = io.BytesIO()
    mime = "image/jpeg" if image.mime == "image/jpeg" else "image/png"
    if mime == "image/jpeg":
        _flatten(picture).save(out, "JPEG", quality=95)
    else:
        picture.save(out, "PNG")
    return _result(out.getvalue(), mime, picture, image.url)
