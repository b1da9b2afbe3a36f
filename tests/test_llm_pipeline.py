"""The [llm] section end to end: config, the pipeline's posts in the outbox, preview JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from bot.app import open_pipeline
from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError
from bot.llm import LlmSummariser
from bot.service_http import attach_observer
from bot.web.metrics import Metrics
from tests.builders import Item, rss, write_config
from tests.fakes.llm_api import FakeChat
from tests.feedserver import FeedServer

BODY = (
    "<p>Prime Minister Narendra Modi said on 12 March 2024 that India's exports rose 12% to "
    '₹1.5 lakh crore.</p><p>Rahul Gandhi called it "a hollow claim" and asked for the '
    "state-wise figures.</p>"
)
FAITHFUL = "Modi said exports rose 12% to ₹1.5 lakh crore; Gandhi disputed it."
INVENTED = "Modi said exports rose 47% to ₹9 lakh crore; Gandhi disputed it."


@pytest.fixture
def chat() -> Iterator[FakeChat]:
    with FakeChat([INVENTED]) as server:
        yield server


def _config(tmp_path: Path, chat: FakeChat, extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    feed = tmp_path / "feed.xml"
    item = Item(
        guid="exports-1",
        title="Exports rise as Modi hails record",
        link="https://news.example/2024/03/exports/",
        body=BODY,
        published=datetime(2024, 3, 12, 9, tzinfo=UTC),
    )
    feed.write_text(rss([item]), encoding="utf-8")
    path = write_config(tmp_path, feeds={"news": str(feed)}, platforms=("x", "mastodon"))
    llm = (
        f'[llm]\nbase_url = "{chat.url("/v1")}"\nmodel = "tiny"\ncache = "{tmp_path / "llm.db"}"\n'
    )
    path.write_text(path.read_text(encoding="utf-8") + llm + extra, encoding="utf-8")
    return path


def _posted(tmp_path: Path, chat: FakeChat) -> list[str]:
    config = load_config(_config(tmp_path, chat), env={})
    with open_pipeline(config) as pipe:
        assert isinstance(pipe.summariser, LlmSummariser)
        metrics = Metrics(config, pipe.store)
        attach_observer(pipe, metrics)
        pipe.poll("news")
        for channel in ("x-out", "mastodon-out"):
            pipe.deliver(channel)
        (tmp_path / "metrics.txt").write_bytes(metrics.render())
    lines = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    posts = [json.loads(line) for line in lines]
    assert len(posts) == 2
    return [json.dumps(post, ensure_ascii=False) for post in posts]


def test_a_hallucinated_summary_never_reaches_a_post(tmp_path: Path, chat: FakeChat) -> None:
    """The endpoint answers with invented figures: both posts carry the extractive summary."""
    posts = _posted(tmp_path, chat)
    assert chat.calls_to("chat"), "the endpoint was never asked: the test proves nothing"
    for post in posts:
        assert "47%" not in post
        assert "9 lakh" not in post
        assert "Prime Minister Narendra Modi said" in post  # the article's own sentence


def test_a_faithful_summary_reaches_the_posts(tmp_path: Path, chat: FakeChat) -> None:
    """The same pipeline with a faithful answer posts the generated summary."""
    chat.replies = [FAITHFUL]
    for post in _posted(tmp_path, chat):
        assert FAITHFUL in post


def _samples(tmp_path: Path) -> dict[str, dict[tuple[str, ...], float]]:
    samples: dict[str, dict[tuple[str, ...], float]] = {}
    text = (tmp_path / "metrics.txt").read_text(encoding="utf-8")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_metrics_count_gate_verdicts_and_tokens(tmp_path: Path, chat: FakeChat) -> None:
    """/metrics counts each decision by verdict and reason, and the endpoint's tokens."""
    _posted(tmp_path, chat)
    samples = _samples(tmp_path)
    gate = samples["syndbot_llm_gate_total"]
    assert gate[("reason=percentage", "verdict=reject")] == len(chat.calls_to("chat"))
    assert gate[("reason=ok", "verdict=pass")] == 0
    tokens = samples["syndbot_llm_tokens_total"]
    sent = sum(
        len(str(m["content"]).split()) for c in chat.calls_to("chat") for m in c.json()["messages"]
    )
    assert tokens[("kind=prompt",)] == sent
    assert tokens[("kind=completion",)] == len(INVENTED.split()) * len(chat.calls_to("chat"))


def test_llm_section_is_parsed_and_off_by_default(tmp_path: Path, chat: FakeChat) -> None:
    """No [llm]: no LLM. With one: base_url, model, durations, languages and key name."""
    plain = write_config(tmp_path, feeds={"news": "builtin:demo"})
    assert load_config(plain, env={}).llm is None
    assert load_config(_config(tmp_path / "off", chat, "enabled = false\n"), env={}).llm is None
    extra = 'api_key_env = "SYNDBOT_LLM_KEY"\ntimeout = "5s"\nmax_wait = "12s"\n'
    extra += 'languages = ["hi", "ta"]\n'
    config = load_config(_config(tmp_path, chat, extra), env={"SYNDBOT_LLM_KEY": "k-123"})
    llm = config.llm
    assert llm is not None
    assert (llm.base_url, llm.model, llm.timeout, llm.max_wait) == (
        chat.url("/v1"),
        "tiny",
        5.0,
        12.0,
    )
    assert llm.languages == ("hi", "ta")
    assert llm.api_key is not None
    assert llm.api_key.get() == "k-123"
    assert "k-123" not in repr(config)


def test_credentials_in_base_url_are_refused_unechoed(tmp_path: Path) -> None:
    """A base_url carrying user:password is refused without printing it."""
    path = write_config(tmp_path, feeds={"news": "builtin:demo"})
    llm = '[llm]\nbase_url = "https://bob:hunter2secret@llm.example/v1"\nmodel = "m"\n'
    path.write_text(path.read_text(encoding="utf-8") + llm, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert "user name or password" in str(error.value)
    assert "hunter2secret" not in str(error.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('api_key_env = "sk-proj-AbCdEf0123456789XyZ"\n', "looks like a secret value"),
        ('api_key_env = "SYNDBOT_LLM_KEY"\n', "SYNDBOT_LLM_KEY is not set"),
        ('languages = ["fr"]\n', 'no prompt for "fr"'),
        ("temperature = 0.2\n", 'unknown key "temperature"'),
    ],
)
def test_llm_section_mistakes_are_config_errors(
    tmp_path: Path, chat: FakeChat, extra: str, message: str
) -> None:
    """A pasted key (never echoed), an unset variable, an unknown language or key."""
    with pytest.raises(ConfigError) as error:
        load_config(_config(tmp_path, chat, extra), env={})
    assert message in str(error.value)
    assert "AbCdEf0123456789" not in str(error.value)


def test_preview_json_names_the_summariser_and_the_gate(tmp_path: Path, chat: FakeChat) -> None:
    """preview --llm --format json: each post says which summariser wrote it and why."""
    config = _config(tmp_path, chat)
    feed = tmp_path / "feed.xml"
    runner = CliRunner()
    args = ["-c", str(config), "preview", str(feed), "--platform", "x", "--format", "json"]
    plain = json.loads(runner.invoke(main, args).output)
    assert [(p["summariser"], p["gate"]) for p in plain] == [("extractive", None)]
    result = runner.invoke(main, [*args, "--llm"])
    assert result.exit_code == 0, result.output
    [post] = json.loads(result.output)
    assert post["summariser"] == "extractive"
    assert post["gate"]["reason"] == "percentage"
    assert post["gate"]["detail"] == "47"
    chat.replies = [FAITHFUL]
    args[1] = str(_config(tmp_path / "fresh-cache", chat))
    [post] = json.loads(runner.invoke(main, [*args, "--llm"]).output)
    assert (post["summariser"], post["gate"]["passed"], post["summary"]) == ("llm", True, FAITHFUL)


def test_preview_llm_without_a_section_says_so(tmp_path: Path) -> None:
    """preview --llm on a config without [llm] fails with one line naming the fix."""
    config = write_config(tmp_path, feeds={"news": "builtin:demo"})
    result = CliRunner().invoke(main, ["-c", str(config), "preview", "builtin:demo", "--llm"])
    assert result.exit_code == 2
    assert "llm: no [llm] section" in result.output


def test_post_dry_run_shows_the_summary_the_real_post_would_get(tmp_path: Path) -> None:
    """post --dry-run with [llm] composes with the gated LLM summariser, as the service would:
    a faithful answer is shown, an invented one never is."""
    head = "<!doctype html><html lang='en'><head><title>Exports</title></head>"
    page = f"{head}<body><article>{BODY}</article></body></html>"
    with FeedServer() as site, FakeChat([FAITHFUL]) as chat:
        site.route("/exports/", body=page.encode(), content_type="text/html")
        config = _config(tmp_path, chat)
        args = [
            "-c",
            str(config),
            "post",
            site.url("/exports/"),
            "--dry-run",
            "--channel",
            "mastodon-out",
        ]
        shown = CliRunner().invoke(main, args)
        chat.replies = [INVENTED]
        fresh = _config(tmp_path / "other", chat)
        refused = CliRunner().invoke(main, ["-c", str(fresh), *args[2:]])
    assert shown.exit_code == 0, shown.output
    assert "Modi said exports rose 12%" in shown.output
    assert refused.exit_code == 0, refused.output
    assert "47%" not in refused.output
    assert not (tmp_path / "outbox.jsonl").exists()
