"""``make llm-smoke`` (bench/llm_smoke.py): skips without a server, reports with one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.fakes.llm_api import FakeChat

SMOKE = Path(__file__).resolve().parents[1] / "bench" / "llm_smoke.py"
ARTICLE = (
    '{"id": "a1", "lang": "en", "title": "", "text": "Bishop John Folda of Fargo has '
    'hepatitis A. The state Health Department issued an advisory for five churches.", '
    '"summary": "x"}\n'
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_llm_smoke", SMOKE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_skips_with_a_message_without_a_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without SYNDBOT_LLM_SMOKE_URL the smoke run asks nothing and exits 0, saying why."""
    monkeypatch.delenv("SYNDBOT_LLM_SMOKE_URL", raising=False)
    assert _load().main() == 0
    assert "llm-smoke: skipped; set SYNDBOT_LLM_SMOKE_URL" in capsys.readouterr().out


def test_reports_time_and_pass_rate_against_a_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Against a server it prints each summary's time and verdict, then the pass rate."""
    corpus = tmp_path / "summaries"
    corpus.mkdir()
    (corpus / "cnn_dailymail_train_sample_100.jsonl").write_text(ARTICLE, encoding="utf-8")
    smoke = _load()
    monkeypatch.setattr(smoke, "CORPUS", corpus)
    with FakeChat(
        ["Bishop John Folda of Fargo has hepatitis A.", "Bishop Tom Lee is ill."]
    ) as chat:
        monkeypatch.setenv("SYNDBOT_LLM_SMOKE_URL", chat.url("/v1"))
        monkeypatch.setenv("SYNDBOT_LLM_SMOKE_MODEL", "fake")
        assert smoke.main() == 0
        assert len(chat.calls_to("chat")) == 2
    out = capsys.readouterr().out
    assert "2 summaries" in out
    assert "gate pass rate 50%" in out
    assert "reasons: ok 1, name 1" in out
