"""Feed documents parsed in worker processes, so a batch of polls uses every core.

Parsing is nearly all the CPU of a cold poll (feedparser, its HTML sanitiser, link
resolution: 85-90 % in a profile of 1,000 real feeds), and the poll threads share one
interpreter lock: without workers they parse one at a time, on one core, however many
feeds are in flight. ``ParsePool`` sends each document of ``min_bytes`` or more to one of
``workers`` processes (started on first use), and parses smaller ones in the calling
thread, where they cost less than the trip. The result is the same ``parse_feed`` gives:
the same articles, the same ``ParseError``. A worker that dies (a document that crashes the
parser) fails every document in flight: each is tried once more by new workers, and a
second death is that feed's ``ParseError``.

Workers are spawned, so a program that opens a pipeline from its main script needs the
usual ``if __name__ == "__main__":`` guard (syndbot's own entry points have it); where no
worker can start, documents are parsed in the threads.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from bot.errors import ParseError
from bot.feeds.parse import ParsedFeed, parse_feed

log = logging.getLogger("syndbot")
MIN_BYTES = 32 * 1024  # smaller documents are parsed in the calling thread


class ParsePool:
    """``parse_feed`` for many threads at once, in ``workers`` processes."""

    def __init__(self, workers: int | None = None, *, min_bytes: int = MIN_BYTES) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.min_bytes = min_bytes
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def parse(self, body: bytes, **options: Any) -> ParsedFeed:
        """``parse_feed(body, **options)``, in a worker when ``body`` is big enough."""
        try:
            return self._parse(body, options)
        except BrokenProcessPool:
            pass  # every document in flight failed with the one that crashed a worker
        try:
            return self._parse(body, options)  # by new workers
        except BrokenProcessPool as exc:
            raise ParseError(
                "the feed parser's process died twice on this document (it crashes the "
                "parser, or another one parsed at the same time did)",
                url=options.get("base_url", ""),
            ) from exc

    def _parse(self, body: bytes, options: dict[str, Any]) -> ParsedFeed:
        executor = self._started() if len(body) >= self.min_bytes else None
        if executor is None:
            return parse_feed(body, **options)
        try:
            parsed, error = executor.submit(_in_worker, body, options).result()
        except BrokenProcessPool:
            self._discard(executor)
            raise
        except (RuntimeError, OSError) as exc:
            # No process can start here (a main script without the ``__name__`` guard
            # that spawning needs, a process limit): parse in the threads from now on.
            log.warning("feed parser processes unavailable, parsing in threads: %s", exc)
            self.workers = 1
            self._discard(executor)
            return parse_feed(body, **options)
        if error is not None:
            raise _parse_error(*error)
        assert parsed is not None
        return parsed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _started(self) -> ProcessPoolExecutor | None:
        """The worker processes, started on first use; None: parse in this thread."""
        if self.workers < 2:  # one core: a worker would only add the trip
            return None
        with self._lock:
            if self._closed:
                return None
            if self._executor is None:
                # spawn: a fork of a process running poll threads may copy a held lock.
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)


def _in_worker(
    body: bytes, options: dict[str, Any]
) -> tuple[ParsedFeed | None, tuple[str, str] | None]:
    """In a worker: the parsed feed, or the ``ParseError``'s text and URL (its own pickling
    would lose the URL)."""
    try:
        return parse_feed(body, **options), None
    except ParseError as exc:
        return None, (str(exc), exc.url)


def _parse_error(text: str, url: str) -> ParseError:
    error = ParseError(text)  # ``text`` already names the URL
    error.url = url
    return error
