"""Tests that use a real component (a server, a browser) skip with the reason on a laptop
that lacks it; under ``CI=true`` such a skip fails the run, so CI cannot pass without them.

A plugin (listed in ``tests/conftest.py``): each marker below names a component.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# marker -> what it needs, as the failure says it
REQUIRED_IN_CI = {
    "postgresql": "PostgreSQL",
    "browser": "browser",
    "wordpress": "WordPress",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test that needs a real component is a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.skipped or os.environ.get("CI") != "true":
        return
    for marker, what in REQUIRED_IN_CI.items():
        if item.get_closest_marker(marker) is not None:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            report.outcome = "failed"
            report.longrepr = f"CI=true but this {what} test was skipped: {reason}"
            return
