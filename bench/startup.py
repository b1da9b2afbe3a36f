"""Start-up time of the CLI beside the interpreter's own, from one run.

Wall time of ``syndbot --help``, ``syndbot preview --help`` and ``syndbot status`` (on a
fresh state database) beside ``python -c pass``, the floor any Python command pays.
Median of ``--repeat`` runs each, interleaved so a noisy neighbour slows all alike.
Goal (issue 14): at most 0.3 s.

Each command runs once untimed first, with Python allowed to write its bytecode cache
(``__pycache__``), as any first run of an installed or cloned syndbot does: a machine
that sets ``PYTHONDONTWRITEBYTECODE`` (CI images, this repository's Dockerfile, which
therefore installs with ``pip install .`` and its precompiled bytecode) would otherwise
time compiling every module from source on every start.

Run: python bench/startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config(directory: Path) -> Path:
    path = directory / "syndbot.toml"
    path.write_text(
        f"""[service]
database = "{directory / "state.db"}"
outbox = "{directory / "outbox.jsonl"}"
[[feeds]]
name = "demo"
url = "builtin:demo"
[[channels]]
name = "x-out"
platform = "x"
publisher = "outbox"
""",
        encoding="utf-8",
    )
    # A fresh but existing state database, as after a first `syndbot run`: status reads it.
    database = str(directory / "state.db")
    create = f"from bot.store import open_store; open_store({database!r}).close()"
    subprocess.run([sys.executable, "-c", create], cwd=ROOT, check=True)
    return path


def _wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _warm(command: list[str], cwd: Path) -> None:
    """One untimed run that may write the bytecode cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, check=True, env=env)


def main(repeat: int) -> None:
    python = sys.executable
    script = Path(python).with_name("syndbot")  # the installed entry point users run
    syndbot = [str(script)] if script.exists() else [python, "-m", "bot"]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = _config(directory)
        commands = {
            "python -c pass (the floor)": [python, "-c", "pass"],
            "syndbot --help": [*syndbot, "--help"],
            "syndbot preview --help": [*syndbot, "preview", "--help"],
            "syndbot status": [*syndbot, "-c", str(config), "status"],
        }
        for command in commands.values():
            _warm(command, directory)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, command in commands.items():
                times[name].append(_wall(command, directory))
    floor = statistics.median(times["python -c pass (the floor)"])
    print(f"start-up wall time, median of {repeat} runs (shared machine: noisy)")
    print("(after one untimed run of each, which writes Python's bytecode cache)")
    print(f"{'':<30}{'seconds':>10}{'minus floor':>14}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<30}{median:>10.3f}{median - floor:>14.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    main(parser.parse_args().repeat)
