"""A real browser for the tests (a pytest plugin, loaded by ``tests/conftest.py``).

Playwright for Python drives Debian's Chromium at ``/usr/bin/chromium`` (``.ci/run``
installs the ``chromium`` package when it is missing); no browser build is ever downloaded.
Without Playwright or Chromium the tests marked ``browser`` skip, saying why; under
``CI=true`` such a skip fails the run, so CI cannot pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts" / "web-ui"


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, phone-sized (420 x 900)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 420, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")
