"""Suite-wide guards: no test reaches beyond loopback; each test starts with the logging
set-up it found.

The offline guard (``tests/offline.py``) refuses any connection to a non-loopback address
before it is made and fails the test that tried, even if the code swallowed the error.

``syndbot run`` invoked in-process installs signal handlers; they are restored after each
test. The CLI's ``setup_logging`` changes process-wide logger levels (it must, for the real
process); without this, a CLI test would silence loggers that later tests inspect.

Under pytest-xdist (``make test`` runs ``-n auto --dist loadgroup``) every test that uses
the local Bluesky server (the ``pds`` fixture) runs on one worker, so one server is
started for the whole run instead of one per worker. The ``xdist_group`` mark alone does
not do it with pytest 9.2 (pytest-xdist issue 1386: the group never reaches the
scheduler), so each worker also writes the ids of those tests to a file and the
scheduler (``PdsTogether``) reads them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.offline import OfflineGuard

# A real PostgreSQL per session, the store contract fixtures over both engines, Chromium,
# a real WordPress; and the rule that CI may not skip tests of real components.
pytest_plugins = [
    "tests.pg",
    "tests.stores",
    "tests.browser",
    "tests.wordpress",
    "tests.ci_required",
]


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


_GROUP_FILE = "SYNDBOT_TEST_GROUPS"  # env: where workers list the tests that share the PDS


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        # The controller, before it starts the workers (they inherit the environment).
        folder = Path(tempfile.mkdtemp(prefix="syndbot-xdist-"))
        os.environ[_GROUP_FILE] = str(folder / "pds")
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shared = [item for item in items if "pds" in getattr(item, "fixturenames", ())]
    for item in shared:
        item.add_marker(pytest.mark.xdist_group("pds"))
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker and os.environ.get(_GROUP_FILE):
        listing = Path(f"{os.environ[_GROUP_FILE]}.{worker}")
        listing.write_text(json.dumps([item.nodeid for item in shared]), encoding="utf-8")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadGroupScheduling

    class PdsTogether(LoadGroupScheduling):  # type: ignore[misc]
        """``--dist loadgroup``, with the PDS tests the workers listed as one group."""

        _shared: set[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._shared is None:  # every worker has collected by now
                base = Path(os.environ[_GROUP_FILE])
                self._shared = {
                    shared
                    for listing in base.parent.glob(base.name + ".*")
                    for shared in json.loads(listing.read_text(encoding="utf-8"))
                }
            return "pds" if nodeid in self._shared else str(super()._split_scope(nodeid))

    if config.getvalue("dist") == "loadgroup" and os.environ.get(_GROUP_FILE):
        return PdsTogether(config, log)
    return None


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
