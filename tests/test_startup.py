"""Start-up stays fast: ``--help`` and ``status`` import only what they use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.builders import write_config

# What publishing needs, loaded when a channel is built or posts, never by a declaration.
PUBLISHING = ("httpx", "tweepy", "requests", "cryptography", "PIL", "bot.images")
HEAVY = ("rich", "bot.config", "bot.pipeline", "bot.publishers", "trafilatura", *PUBLISHING)
_PROBE = """
import contextlib, io, json, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:], standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def _loaded(*args: str, cwd: Path) -> list[str]:
    """The heavy modules imported by running ``syndbot ARGS`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_help_imports_no_network_config_or_rendering_library(tmp_path: Path) -> None:
    """``syndbot --help`` loads click and the command modules, not httpx, rich or the config."""
    assert _loaded("--help", cwd=tmp_path) == []


def test_preview_help_imports_no_network_config_or_rendering_library(tmp_path: Path) -> None:
    """``syndbot preview --help`` prints usage without loading what a preview needs."""
    assert _loaded("preview", "--help", cwd=tmp_path) == []


def test_status_loads_the_declarations_but_not_the_network_or_the_pipeline(
    tmp_path: Path,
) -> None:
    """``syndbot status`` reads config and store and prints tables. Config validation reads
    the platform registry, so the publisher modules load, but importing one does not
    load httpx, tweepy, requests, cryptography or Pillow; nor the pipeline, nor trafilatura."""
    config = write_config(tmp_path, feeds={"volt": str(tmp_path / "feed.xml")})
    loaded = _loaded("-c", str(config), "status", cwd=tmp_path)
    assert "bot.publishers" in loaded  # the probe sees imports; the registry is read
    assert [m for m in loaded if m in ("bot.pipeline", "trafilatura", *PUBLISHING)] == []
