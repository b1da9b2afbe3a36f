"""Suite-wide guards: no test reaches beyond loopback; each test starts with the logging
set-up it found.

The offline guard (``tests/offline.py``) refuses any connection to a non-loopback address
before it is made and fails the test that tried, even if the code swallowed the error.

``syndbot run`` invoked in-process installs signal handlers; they are restored after each
test. The CLI's ``setup_logging`` changes process-wide logger levels (it must, for the real
process); without this, a CLI test would silence loggers that later tests inspect.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest

from tests.offline import OfflineGuard

# A real PostgreSQL per session, the store contract fixtures over both engines, Chromium.
pytest_plugins = ["tests.pg", "tests.stores", "tests.browser"]


@pytest.fixture(autouse=True)
def offline_guard() -> Iterator[OfflineGuard]:
    """Fail any test that tries to connect to a non-loopback address (nothing is sent)."""
    with OfflineGuard().active() as guard:
        yield guard
    if guard.refused:
        pytest.fail(
            "test tried to reach the network beyond loopback: " + ", ".join(guard.refused),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _restore_signals() -> Iterator[None]:
    """`syndbot run` invoked in-process installs SIGINT/SIGTERM handlers; undo that."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))
