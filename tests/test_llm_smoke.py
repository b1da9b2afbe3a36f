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
    assert "2 summaries (1 articles x 2 budgets)" in out
    assert "2 requests" in out
    assert "gate pass rate 50%" in out
    assert "reasons: ok 1, name 1" in out
    per_budget = [line for line in out.splitlines() if " chars: " in line]
    assert "200 chars: 1 summaries, median" in per_budget[0]
    assert "gate pass rate 100% (1/1)" in per_budget[0]
    assert "500 chars: 1 summaries" in per_budget[1]
    assert "gate pass rate 0% (0/1), of the answers it judged 0% (0/1)" in per_budget[1]


def test_the_pass_rate_over_judged_answers_leaves_out_timeouts() -> None:
    """A timed-out summary counts in the pass rate over all summaries, not in the rate over
    the answers the gate judged (it had none to judge)."""
    smoke = _load()
    rows = [smoke.Row(200, 1.0, "ok"), smoke.Row(200, 2.0, "name"), smoke.Row(200, 9.0, "timeout")]
    line = smoke.summary_lines(rows)[0]
    assert "3 summaries, median 2.00s, p95 9.00s" in line
    assert "gate pass rate 33% (1/3), of the answers it judged 50% (1/2)" in line


def test_asks_the_server_for_every_summary_and_shows_its_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same article twice is asked twice (no answer cache), and SYNDBOT_LLM_SMOKE_SHOW
    prints what the model wrote, including answers the gate refused."""
    corpus = tmp_path / "summaries"
    corpus.mkdir()
    (corpus / "cnn_dailymail_train_sample_100.jsonl").write_text(2 * ARTICLE, encoding="utf-8")
    smoke = _load()
    monkeypatch.setattr(smoke, "CORPUS", corpus)
    with FakeChat(["Bishop Tom Lee is ill."]) as chat:
        monkeypatch.setenv("SYNDBOT_LLM_SMOKE_URL", chat.url("/v1"))
        monkeypatch.setenv("SYNDBOT_LLM_SMOKE_SHOW", "1")
        assert smoke.main() == 0
        assert len(chat.calls_to("chat")) == 4
    out = capsys.readouterr().out
    assert out.count("22 chars: Bishop Tom Lee is ill.") == 4
    assert "reasons: name 4" in out


def test_p95_is_the_nearest_rank() -> None:
    """p95 of 1..20 is 19 (the 19th of 20), of 1..40 is 38, of one value that value."""
    p95 = _load().p95
    assert p95([float(v) for v in range(20, 0, -1)]) == 19.0
    assert p95([float(v) for v in range(1, 41)]) == 38.0
    assert p95([3.5]) == 3.5
