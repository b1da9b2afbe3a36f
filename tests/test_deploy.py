"""The deployment files: the systemd unit, the Dockerfile and compose.yaml.

No Docker engine runs here, so the container files are checked with real parsers
(dockerfile-parse, PyYAML) for the properties docs/deploy.md promises; the unit is checked
by systemd's own ``systemd-analyze verify`` where the tool exists.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from bot.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "syndbot.service"


def _unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's ini dialect: sections of keys that may repeat (``SystemCallFilter=``)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def _verify(unit_text: str, tmp_path: Path) -> tuple[int, list[str]]:
    """Run ``systemd-analyze verify`` on a copy; its exit code and lines naming the unit."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        reason = "systemd-analyze is not installed (Debian: apt-get install systemd)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run this check (.ci/run installs it)")
        pytest.skip(reason)
    unit = tmp_path / "syndbot.service"
    unit.write_text(unit_text, encoding="utf-8")
    done = subprocess.run(
        [tool, "verify", str(unit)], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    # Unknown keys and unparsable values are only warnings (exit 0), always naming the file.
    lines = (done.stdout + done.stderr).splitlines()
    return done.returncode, [line for line in lines if "syndbot.service" in line]


def _with_local_binary(text: str) -> str:
    """The unit with ExecStart pointing at this venv's syndbot (verify needs it to exist)."""
    exe = Path(sys.executable).parent / "syndbot"
    assert exe.is_file(), f"{exe} missing; run pip install -e '.[dev]'"
    return text.replace("ExecStart=/opt/syndbot/bin/syndbot", f"ExecStart={exe}")


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd itself accepts the unit: exit 0 and not one warning about any line."""
    code, complaints = _verify(_with_local_binary(UNIT.read_text(encoding="utf-8")), tmp_path)
    assert code == 0, complaints
    assert complaints == []


def test_systemd_verify_check_catches_a_broken_unit(tmp_path: Path) -> None:
    """The verify check is not vacuous: a misspelt key and a bad value are reported."""
    text = _with_local_binary(UNIT.read_text(encoding="utf-8"))
    broken = text.replace("ProtectSystem=strict", "ProtectSystem=banana\nProtectSystm=strict")
    _code, complaints = _verify(broken, tmp_path)
    assert len(complaints) == 2, complaints


def test_missing_systemd_analyze_skips_locally_but_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the tool the check skips with a reason, except with CI=true, where it fails."""
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="systemd-analyze is not installed"):
        _verify("", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this check"):
        _verify("", tmp_path)


def test_systemd_unit_runs_hardened_as_a_dedicated_user() -> None:
    """The unit runs `syndbot run` as its own user with state, secrets file and hardening."""
    service = _unit(UNIT.read_text(encoding="utf-8"))["Service"]
    assert service["User"] == ["syndbot"]
    assert service["StateDirectory"] == ["syndbot"]
    assert service["WorkingDirectory"] == ["/var/lib/syndbot"]
    assert service["EnvironmentFile"] == ["/etc/syndbot/syndbot.env"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectHome"] == ["yes"]
    assert service["CapabilityBoundingSet"] == [""]
    assert service["Restart"] == ["on-failure"]
    assert service["KillSignal"] == ["SIGTERM"]
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0] == "/opt/syndbot/bin/syndbot"
    assert argv[1:] == ["run"]
    assert "run" in cli_main.commands  # type: ignore[attr-defined]


def _dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "Dockerfile"))


def _instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [i["value"] for i in parser.structure if i["instruction"] == name]


def _exec_form(value: str) -> list[str]:
    argv = json.loads(value)
    assert isinstance(argv, list)
    return [str(a) for a in argv]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore drops ``path`` (last matching pattern wins, ``!`` re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        parts = PurePosixPath(path).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, f"**/{pat}") for p in prefixes):
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerfile_slim_python_non_root_with_state_volume_and_healthcheck() -> None:
    """Slim Python base, a non-root USER, var/ as a volume and `syndbot health` as check."""
    parser = _dockerfile()
    assert parser.baseimage is not None
    image, _, tag = parser.baseimage.partition(":")
    assert image == "python"
    assert tag.endswith("-slim")
    users = _instructions(parser, "USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    workdir = _instructions(parser, "WORKDIR")[-1]
    volumes = [v for value in _instructions(parser, "VOLUME") for v in _exec_form(value)]
    assert volumes == [f"{workdir}/var"]
    (check,) = _instructions(parser, "HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval=" in options
    assert _exec_form(command.strip()) == ["syndbot", "health"]
    (cmd,) = _instructions(parser, "CMD")
    assert _exec_form(cmd) == ["syndbot", "run"]
    names = [i["instruction"] for i in parser.structure]
    assert names.index("USER") < names.index("CMD")


def test_dockerfile_copies_only_what_exists_and_never_secrets() -> None:
    """Every COPY source exists and survives .dockerignore; .env, var/ and .venv never do."""
    patterns = _dockerignore()
    for value in _instructions(_dockerfile(), "COPY"):
        *sources, _dest = value.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not _ignored(source, patterns), f"COPY {source} is excluded by .dockerignore"
    for secret_or_state in (".env", "var/syndbot.db", ".venv/bin/python", ".git/config"):
        assert _ignored(secret_or_state, patterns), secret_or_state
    assert not _ignored(".env.example", patterns)


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_service_has_config_env_file_volume_and_healthcheck() -> None:
    """compose.yaml builds the image, mounts the config, reads .env, keeps var/ in a volume."""
    data = _compose()
    service = data["services"]["syndbot"]
    assert service["build"] == "."
    env_file = service["env_file"]
    assert (env_file if isinstance(env_file, list) else [env_file]) == [".env"]
    parser = _dockerfile()
    (state_dir,) = (v for value in _instructions(parser, "VOLUME") for v in _exec_form(value))
    mounts = dict(m.split(":")[:2] for m in service["volumes"])
    named = [src for src, dst in mounts.items() if dst == state_dir]
    assert named, f"no volume mounted at {state_dir}"
    assert named[0] in data["volumes"], "the state volume is not declared under volumes:"
    config_file = service["environment"]["SYNDBOT_CONFIG"]
    assert config_file == parser.envs["SYNDBOT_CONFIG"]
    config_dir = str(PurePosixPath(config_file).parent)
    host_config = [src for src, dst in mounts.items() if dst == config_dir]
    assert host_config, f"no mount provides {config_dir}"
    assert (ROOT / host_config[0] / PurePosixPath(config_file).name).is_file()
    assert service["healthcheck"]["test"] == ["CMD", "syndbot", "health"]
    assert service["restart"] in ("unless-stopped", "always", "on-failure")
