"""Stop requests: SIGINT/SIGTERM set an event the service checks between steps.

Kept free of heavy imports so ``syndbot run`` can install it before loading anything else:
a signal that arrives while the service is still starting also ends it cleanly (exit 0).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger("syndbot")


def install_stop_signals(stop: threading.Event) -> None:
    """SIGINT/SIGTERM set ``stop``: the service finishes its current step and exits 0."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, finishing current work", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
