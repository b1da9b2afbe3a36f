"""The documentation: links resolve, README.md stays short, every config key is documented.

The config keys are derived from the code, not from a list kept here: the parser itself is
asked (an unknown key makes it list the keys it knows), so a key added anywhere fails
these tests until docs/configuration.md has a row for it.
"""

from __future__ import annotations

import re
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from bot import registry
from bot.config import Config, load_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIG_DOC = ROOT / "docs" / "configuration.md"
PROBE = "zz_probe_key"
FEED = '[[feeds]]\nname = "f"\nurl = "builtin:demo"\n'

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _docs() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def _prose(text: str) -> str:
    """Markdown without fenced blocks and inline code, where links are not links."""
    return _CODE.sub("", _FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def broken_links(path: Path) -> list[str]:
    """Relative links in ``path`` whose file, or whose ``#anchor``, does not exist."""
    problems: list[str] = []
    for target in _LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto: ...: not a file in the repository
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{path.name}: {target} -> no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in _anchors(dest)):
            problems.append(f"{path.name}: {target} -> no heading #{anchor}")
    return problems


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    """Every relative link in README.md and docs/**/*.md names an existing file/heading."""
    assert broken_links(doc) == []


def test_link_check_reports_missing_files_and_headings(tmp_path: Path) -> None:
    """The link check itself finds a missing file and a missing anchor, and ignores code."""
    (tmp_path / "there.md").write_text("# Real heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n[a](there.md#real-heading) [b](gone.md) [c](there.md#nope) [d](#top)\n"
        "[e](https://example.com/x.md) `[f](gone-in-code.md)`\n"
        "```\n[g](gone-in-fence.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "page.md: gone.md -> no such file",
        "page.md: there.md#nope -> no heading #nope",
    ]


def test_readme_is_at_most_10_kib() -> None:
    """README.md stays a page a newcomer reads to the end: at most 10,240 bytes."""
    size = len(README.read_bytes())
    assert size <= 10_240, f"README.md is {size} bytes; move detail to docs/"


def test_readme_names_no_resume_command() -> None:
    """No doc sends readers to `syndbot resume`, which does not exist (retry resumes)."""
    for doc in _docs():
        assert "syndbot resume" not in doc.read_text(encoding="utf-8"), doc


def _known_keys(path: Path, text: str) -> list[str] | None:
    """The keys the parser lists when ``text`` has the unknown key PROBE; None if accepted."""
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path, env={})
    except ConfigError as exc:
        error: ConfigError | None = exc
    else:
        return None
    assert error is not None
    match = re.search(r"unknown key \"" + PROBE + r"\".*known keys here: (.*)$", error.detail)
    assert match is not None, f"the probe did not reach the key check: {error}"
    return [] if match[1] == "none" else match[1].split(", ")


def _dataclass_keys(table: str) -> list[str]:
    """Fallback for a table whose parser does not reject unknown keys: its dataclass."""
    kind = typing.get_type_hints(Config).get(table)
    assert kind is not None, f"[{table}] is neither probed nor a Config field"
    assert is_dataclass(kind), f"cannot derive the keys of [{table}]"
    return [f.name for f in fields(kind)]


def config_keys(tmp_path: Path) -> dict[str, list[str]]:
    """Every documented-to-be table heading (``[service]``, ``[[feeds]]``) and its keys."""
    path = tmp_path / "probe.toml"
    roots = _known_keys(path, f"{PROBE} = 1\n{FEED}")
    assert roots is not None
    tables: dict[str, list[str]] = {}
    for root in roots:
        if root == "feeds":
            keys = _known_keys(path, f"{FEED}{PROBE} = 1\n")
            heading = "[[feeds]]"
        elif root == "channels":
            keys = _known_keys(path, f"{FEED}[[channels]]\n{PROBE} = 1\n")
            heading = "[[channels]]"
        else:
            keys = _known_keys(path, f"{FEED}[{root}]\n{PROBE} = 1\n")
            heading = f"[{root}]"
        tables[heading] = keys if keys is not None else _dataclass_keys(root)
    credentials: set[str] = set()
    for platform in registry.names():
        table = f'name = "c"\nplatform = "{platform}"\npublisher = "outbox"\n'
        probe = f'{FEED}[[channels]]\n{table}[channels.credentials]\n{PROBE} = "X"\n'
        credentials.update(_known_keys(path, probe) or [])
    tables["[channels.credentials]"] = sorted(credentials)
    tables["[channels.options]"] = sorted(_option_keys())
    return tables


def _option_keys() -> set[str]:
    """Options the config requires or defaults, and every one a publisher reads."""
    keys = {k for p in registry.platforms().values() for k in p.required_options}
    keys.update(k for p in registry.platforms().values() for k in p.default_options)
    for source in (ROOT / "bot" / "publishers").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        keys.update(re.findall(r"options\.get\(\s*\"(\w+)\"", text))
        keys.update(re.findall(r"\boption=\"(\w+)\"", text))
    return keys


def _section(doc: str, heading: str) -> str:
    """The text under the heading that names ``heading``, up to the next heading."""
    lines = doc.splitlines()
    for start, line in enumerate(lines):
        if line.startswith("#") and heading in line.replace("`", ""):
            rest = [n for n in range(start + 1, len(lines)) if lines[n].startswith("#")]
            return "\n".join(lines[start + 1 : rest[0] if rest else len(lines)])
    raise AssertionError(f"docs/configuration.md has no heading for {heading}")


def test_every_config_key_is_documented(tmp_path: Path) -> None:
    """Each key the parser accepts has a row (key, default, example, meaning) in its table."""
    doc = CONFIG_DOC.read_text(encoding="utf-8")
    missing: list[str] = []
    for heading, keys in config_keys(tmp_path).items():
        section = _section(doc, heading)
        rows = {
            cells[0]: cells
            for line in section.splitlines()
            if line.startswith("|")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]
        }
        for key in keys:
            cells = rows.get(f"`{key}`")
            if cells is None or len(cells) < 4 or not all(cells[:4]):
                missing.append(f"{heading} {key}")
    assert missing == [], f"document these in docs/configuration.md: {missing}"


def test_key_derivation_follows_the_code(tmp_path: Path) -> None:
    """The derived key list is the parser's, not a copy: it has the keys only code knows."""
    keys = config_keys(tmp_path)
    assert set(keys) >= {"[service]", "[[feeds]]", "[[channels]]", "[channels.credentials]"}
    assert "max_new" in keys["[[feeds]]"]
    assert "feed_deadline" in keys["[service]"]
    assert "quiet_hours" in keys["[[channels]]"]
    assert "app_password" in keys["[channels.credentials]"]
    assert "linkedin_version" in keys["[channels.options]"]
    assert PROBE not in {k for names in keys.values() for k in names}
