"""``syndbot run`` in a background thread for tests: it starts with the block and is
stopped (as SIGTERM would stop it) and joined when the block ends, whatever happens in it.

    with open_pipeline(config) as pipe, service_running(pipe) as worker:
        ...
    assert not worker.is_alive()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.app import run_service
from bot.pipeline import Pipeline


@contextmanager
def service_running(pipeline: Pipeline, *, join: float = 30.0) -> Iterator[threading.Thread]:
    """Run ``pipeline``'s service in a thread for the block; stop it and wait ``join`` s."""
    stop = threading.Event()
    worker = threading.Thread(
        target=run_service, args=(pipeline,), kwargs={"stop": stop, "install_signals": False}
    )
    worker.start()
    try:
        yield worker
    finally:
        stop.set()
        worker.join(timeout=join)
