"""A response body decompressed in bounded steps: gzip, deflate (zlib-wrapped or raw) and
brotli, never more than ``STEP`` bytes of output at once, so a size cap can stop a
decompression bomb before it is inflated. Errors are ``FetchError`` naming the URL.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import brotli  # type: ignore[import-untyped]

from bot.errors import FetchError

STEP = 64 * 1024  # largest piece of decompressed output produced at once


def decoded(chunks: Iterator[bytes], encoding: str, *, url: str) -> Iterator[bytes]:
    """Decompress ``chunks`` in pieces of at most ``STEP`` bytes."""
    if encoding in ("", "identity"):
        yield from chunks
        return
    if encoding in ("gzip", "x-gzip", "deflate"):
        yield from _inflate(chunks, encoding, url=url)
        return
    if encoding == "br":
        yield from _unbrotli(chunks, url=url)
        return
    raise FetchError(f"unsupported Content-Encoding {encoding!r}", url=url)


def _inflate(chunks: Iterator[bytes], encoding: str, *, url: str) -> Iterator[bytes]:
    decoder: Any = None
    try:
        for chunk in chunks:
            if decoder is None:
                decoder = zlib.decompressobj(_wbits(encoding, chunk))
            data = chunk
            while data and not decoder.eof:
                yield decoder.decompress(data, STEP)
                data = decoder.unconsumed_tail
    except zlib.error as exc:
        raise FetchError(f"corrupt {encoding} response body: {exc}", url=url) from exc


def _wbits(encoding: str, first_chunk: bytes) -> int:
    if encoding != "deflate":
        return zlib.MAX_WBITS | 16  # gzip container
    # "deflate" means zlib-wrapped by the spec, but some servers send raw deflate.
    zlib_header = (
        len(first_chunk) > 1
        and first_chunk[0] & 0x0F == 8
        and (first_chunk[0] << 8 | first_chunk[1]) % 31 == 0
    )
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def _unbrotli(chunks: Iterator[bytes], *, url: str) -> Iterator[bytes]:
    decoder = brotli.Decompressor()
    try:
        for chunk in chunks:
            yield decoder.process(chunk, output_buffer_limit=STEP)
            while not decoder.can_accept_more_data():
                yield decoder.process(b"", output_buffer_limit=STEP)
    except brotli.error as exc:
        raise FetchError(f"corrupt brotli response body: {exc}", url=url) from exc
