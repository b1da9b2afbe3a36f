"""Images made on the fly for the fakes to serve: JPEG and PNG of any size."""

from __future__ import annotations

import io
import os
from typing import Any

from PIL import Image as PILImage


def jpeg_bytes(width: int, height: int, *, noise: bool = False, quality: int = 90) -> bytes:
    """A JPEG of the given size (random noise compresses badly: big files)."""
    return _encode(_picture(width, height, "RGB", noise=noise), "JPEG", quality=quality)


def png_bytes(width: int, height: int, *, alpha: bool = False) -> bytes:
    """A PNG; with ``alpha`` its left half is fully transparent."""
    picture = _picture(width, height, "RGBA" if alpha else "RGB", noise=False)
    if alpha:
        picture.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    return _encode(picture, "PNG")


def _picture(width: int, height: int, mode: str, *, noise: bool) -> PILImage.Image:
    if noise:
        return PILImage.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    fill = (20, 120, 200, 255) if mode == "RGBA" else (20, 120, 200)
    return PILImage.new(mode, (width, height), fill)


def _encode(picture: PILImage.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()
