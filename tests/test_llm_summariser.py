"""LlmSummariser against a loopback fake /v1/chat/completions: gate verdicts and fallbacks."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config.model import Secret
from bot.llm import LlmSummariser, Reason
from bot.llm.breaker import CircuitBreaker
from bot.llm.cache import AnswerCache
from bot.llm.client import ChatClient
from bot.llm.text import article_language, clean_answer
from bot.models import Article
from bot.summarise import ExtractiveSummariser
from bot.textfit import grapheme_count
from tests.fakes.llm_api import FakeChat, Fault

EN = Article(
    feed="news",
    item_id="exports-1",
    url="https://news.example/2024/03/exports/",
    title="Exports rise 12% as Modi hails record",
    content_html=(
        "<p>Prime Minister Narendra Modi said on 12 March 2024 that India's exports rose 12% "
        'to ₹1.5 lakh crore.</p><p>Rahul Gandhi called it "a hollow claim" and asked for '
        "the state-wise figures.</p><p>Officials said 1,00,000 jobs were created in three "
        "states, mostly in textiles and electronics.</p>"
    ),
    lang="en",
)
HI = Article(
    feed="khabar",
    item_id="yojana-1",
    url="https://khabar.example/yojana/",
    title="किसानों के लिए ५ करोड़ की योजना",
    content_html=(
        "<p>सरकार ने किसानों के लिए ५ करोड़ रुपये की योजना की घोषणा की।</p><p>कृषि मंत्री "
        "शिवराज सिंह चौहान ने कहा कि योजना से १,५०,००० किसानों को लाभ होगा।</p>"
    ),
    lang="hi",
)
TA = Article(
    feed="seithi",
    item_id="nidhi-1",
    url="https://seithi.example/nidhi/",
    title="௨ கோடி நிதி ஒதுக்கீடு",
    content_html=(
        "<p>தமிழக அரசு ௨ கோடி ரூபாய் நிதி ஒதுக்கீடு செய்துள்ளது.</p><p>முதல்வர் ஸ்டாலின் "
        "சென்னையில் இதை அறிவித்தார். ௧௦,௦௦௦ குடும்பங்கள் பயன்பெறும்.</p>"
    ),
    lang="ta",
)
FAITHFUL = 'Modi said exports rose 12% to ₹1.5 lakh crore; Gandhi called it "a hollow claim".'


class Recorder:
    """An Observer that keeps the LLM calls."""

    def __init__(self) -> None:
        self.gates: list[tuple[str, str]] = []
        self.tokens: list[tuple[int, int]] = []

    def polled(self, feed: str, *, outcome: str, seconds: float, new_items: int) -> None:
        pass

    def delivered(self, channel: str, *, outcome: str) -> None:
        pass

    def budget_wait(self, channel: str) -> None:
        pass

    def llm_gate(self, *, verdict: str, reason: str) -> None:
        self.gates.append((verdict, reason))

    def llm_tokens(self, *, prompt: int, completion: int) -> None:
        self.tokens.append((prompt, completion))


@pytest.fixture
def chat() -> Iterator[FakeChat]:
    with FakeChat([FAITHFUL]) as server:
        yield server


_OPEN: list[LlmSummariser] = []


@pytest.fixture(autouse=True)
def _close_summarisers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make(
    chat: FakeChat,
    tmp_path: Path,
    *,
    max_wait: float = 5.0,
    breaker: CircuitBreaker | None = None,
    api_key: Secret | None = None,
) -> LlmSummariser:
    """A summariser on ``chat`` with its cache under ``tmp_path``, closed after the test."""
    llm = LlmSummariser(
        ChatClient(chat.url("/v1"), "tiny-model", api_key=api_key),
        fallback=ExtractiveSummariser(),
        cache=AnswerCache(tmp_path / "llm-cache.db"),
        breaker=breaker or CircuitBreaker(failures=2, cooldown=60.0),
        max_wait=max_wait,
        observer=Recorder(),
    )
    _OPEN.append(llm)
    return llm


def extractive(article: Article, budget: int, measure: object = len) -> str:
    return ExtractiveSummariser().summarise(article, budget=budget, measure=measure)  # type: ignore[arg-type]


def test_faithful_summary_is_used_and_tokens_are_counted(chat: FakeChat, tmp_path: Path) -> None:
    """A faithful answer within the budget is the summary; the request asks for the budget
    in English at temperature 0, and the usage counts reach the observer."""
    llm = make(chat, tmp_path)
    outcome = llm.decide(EN, budget=200)
    assert (outcome.summariser, outcome.verdict.reason, outcome.text) == (
        "llm",
        Reason.OK,
        FAITHFUL,
    )
    [call] = chat.calls_to("chat")
    body = call.json()
    assert body["model"] == "tiny-model"
    assert body["temperature"] == 0
    assert "at most 200 characters, in English" in body["messages"][1]["content"]
    assert "₹1.5 lakh crore" in body["messages"][1]["content"]
    recorder = llm.observer
    assert isinstance(recorder, Recorder)
    assert recorder.gates == [("pass", "ok")]
    assert recorder.tokens == [(call_words(body), len(FAITHFUL.split()))]


def call_words(body: dict[str, list[dict[str, str]]]) -> int:
    return sum(len(m["content"].split()) for m in body["messages"])


@pytest.mark.parametrize(
    ("reply", "reason", "detail"),
    [
        ("Modi said exports rose 15% to ₹1.5 lakh crore.", Reason.PERCENTAGE, "15"),
        ("Officials said 2,50,000 jobs were created in three states.", Reason.NUMBER, "2,50,000"),
        ("Amit Shah said exports rose 12% to ₹1.5 lakh crore.", Reason.NAME, "Amit"),
        ('Gandhi called the figures "a total fabrication".', Reason.QUOTE, "a total fabrication"),
    ],
    ids=["invented-number", "invented-number-indian-grouping", "invented-name", "fabricated-quote"],
)
def test_invented_facts_fall_back_to_extractive(
    chat: FakeChat, tmp_path: Path, reply: str, reason: Reason, detail: str
) -> None:
    """An answer stating something the article does not is refused: the extractive summary
    is used and the reason recorded (and counted as a rejection)."""
    chat.replies = [reply]
    llm = make(chat, tmp_path)
    outcome = llm.decide(EN, budget=200)
    assert outcome.summariser == "extractive"
    assert (outcome.verdict.reason, outcome.verdict.detail) == (reason, detail)
    assert outcome.text == extractive(EN, 200)
    assert reply not in outcome.text
    assert isinstance(llm.observer, Recorder)
    assert llm.observer.gates == [("reject", str(reason))]


def test_too_long_answer_is_asked_again_shorter(chat: FakeChat, tmp_path: Path) -> None:
    """An over-budget answer is sent back once with its measured length and a smaller
    target; a fitting second answer is used."""
    long = FAITHFUL + " Officials said 1,00,000 jobs were created in three states."
    chat.replies = [long, FAITHFUL]
    outcome = make(chat, tmp_path).decide(EN, budget=100)
    assert (outcome.summariser, outcome.text, outcome.asks) == ("llm", FAITHFUL, 2)
    first, second = chat.calls_to("chat")
    messages = second.json()["messages"]
    assert messages[:2] == first.json()["messages"]
    assert messages[2] == {"role": "assistant", "content": long}
    assert f"That summary is {len(long)} characters; the limit is 100" in messages[3]["content"]


def test_measure_is_ours_not_the_models(chat: FakeChat, tmp_path: Path) -> None:
    """Length is judged with the measure given (here: twice the characters), not len();
    the prompt asks for the budget in characters, halved as the measure doubles."""
    chat.replies = [FAITHFUL]
    outcome = make(chat, tmp_path).decide(EN, budget=100, measure=lambda s: 2 * len(s))
    assert outcome.summariser == "extractive"
    assert outcome.verdict.reason is Reason.TOO_LONG
    calls = chat.calls_to("chat")
    assert len(calls) == 3  # asked, then re-asked at most twice
    assert "at most 50 characters" in calls[0].json()["messages"][1]["content"]
    shorter = calls[1].json()["messages"][3]["content"]
    target = 50 * 100 // (2 * len(FAITHFUL))
    assert shorter.startswith(f"That summary is {len(FAITHFUL)} characters; the limit is 50.")
    assert f"at most {target} characters" in shorter


def test_over_the_limit_three_times_falls_back(chat: FakeChat, tmp_path: Path) -> None:
    """Three over-budget answers: no fourth request, the extractive summary is used."""
    chat.replies = [FAITHFUL + " And more words to make it long." * 3]
    outcome = make(chat, tmp_path).decide(EN, budget=60)
    assert outcome.summariser == "extractive"
    assert outcome.asks == 3
    assert (outcome.verdict.reason, outcome.text) == (Reason.TOO_LONG, extractive(EN, 60))
    assert len(chat.calls_to("chat")) == 3


def test_slow_answer_falls_back_within_max_wait(chat: FakeChat, tmp_path: Path) -> None:
    """An endpoint slower than max_wait costs at most max_wait: extractive, reason timeout."""
    chat.fail("chat", Fault(delay=3.0))
    llm = make(chat, tmp_path, max_wait=0.5)
    started = time.monotonic()
    outcome = llm.decide(EN, budget=200)
    elapsed = time.monotonic() - started
    assert outcome.summariser == "extractive"
    assert outcome.verdict.reason is Reason.TIMEOUT
    assert outcome.text == extractive(EN, 200)
    assert elapsed < 1.0
    # The article's window is spent: its next summary does not wait again.
    started = time.monotonic()
    again = llm.decide(EN, budget=300)
    assert again.verdict.reason is Reason.TIMEOUT
    assert time.monotonic() - started < 0.2
    assert len(chat.calls_to("chat")) == 1
    assert not llm.breaker.is_open


def test_server_errors_open_the_breaker_then_a_trial_closes_it(
    chat: FakeChat, tmp_path: Path
) -> None:
    """500s fall back; after N consecutive failures no request goes out until the
    cool-down ends; then one trial request that succeeds closes the breaker."""
    now = [1000.0]
    breaker = CircuitBreaker(failures=2, cooldown=60.0, clock=lambda: now[0])
    chat.fail("chat", Fault(status=500, body={"error": "boom"}), Fault(status=500, body="x"))
    llm = make(chat, tmp_path, breaker=breaker)
    reasons = [llm.decide(EN, budget=b).verdict.reason for b in (200, 210, 220)]
    assert reasons == [Reason.ENDPOINT_ERROR, Reason.ENDPOINT_ERROR, Reason.BREAKER_OPEN]
    assert len(chat.calls_to("chat")) == 2
    assert llm.decide(EN, budget=230).text == extractive(EN, 230)  # still open, at once
    now[0] += 61.0
    assert llm.decide(EN, budget=240).summariser == "llm"
    assert not breaker.is_open
    assert len(chat.calls_to("chat")) == 3
    assert isinstance(llm.observer, Recorder)
    assert ("unavailable", "breaker_open") in llm.observer.gates


def test_cached_answer_is_not_paid_for_twice(chat: FakeChat, tmp_path: Path) -> None:
    """A restart (new summariser, same cache file) reuses the answer, refused ones too."""
    make(chat, tmp_path).decide(EN, budget=200)
    chat.replies = ["Modi said exports rose 15%."]
    make(chat, tmp_path).decide(EN, budget=150)
    assert len(chat.calls_to("chat")) == 2
    again = make(chat, tmp_path)
    assert again.decide(EN, budget=200).cached
    assert again.decide(EN, budget=200).text == FAITHFUL
    refused = again.decide(EN, budget=150)
    assert (refused.cached, refused.verdict.reason) == (True, Reason.PERCENTAGE)
    assert len(chat.calls_to("chat")) == 2


def test_hindi_prompt_and_devanagari_digits(chat: FakeChat, tmp_path: Path) -> None:
    """A Hindi article gets the Hindi prompt; ASCII digits and 'million' for Devanagari
    digits and crore pass; an invented crore amount falls back."""
    chat.replies = ["सरकार ने किसानों के लिए 50 मिलियन रुपये की योजना की घोषणा की।"]
    llm = make(chat, tmp_path)
    good = llm.decide(HI, budget=120, measure=grapheme_count)
    assert (good.summariser, good.verdict.reason) == ("llm", Reason.OK)
    assert "अधिकतम 120 अक्षरों" in chat.calls_to("chat")[0].json()["messages"][1]["content"]
    chat.replies = ["सरकार ने किसानों के लिए ७ करोड़ रुपये की योजना की घोषणा की।"]
    bad = llm.decide(HI, budget=130, measure=grapheme_count)
    assert (bad.summariser, bad.verdict.reason, bad.verdict.detail) == (
        "extractive",
        Reason.AMOUNT,
        "7",
    )
    assert bad.text == extractive(HI, 130, grapheme_count)


def test_tamil_digits_and_invented_name(chat: FakeChat, tmp_path: Path) -> None:
    """Tamil digits read as numbers; a name absent from the Tamil article falls back."""
    chat.replies = ["தமிழக அரசு 2 கோடி ரூபாய் நிதி ஒதுக்கீடு செய்துள்ளது."]
    llm = make(chat, tmp_path)
    assert llm.decide(TA, budget=120).summariser == "llm"
    assert "தமிழில்" in chat.calls_to("chat")[0].json()["messages"][1]["content"]
    chat.replies = ["முதல்வர் எடப்பாடி பழனிசாமி 2 கோடி நிதியை அறிவித்தார்."]
    bad = llm.decide(TA, budget=130)
    assert (bad.summariser, bad.verdict.reason) == ("extractive", Reason.NAME)


def test_language_without_prompt_is_not_sent(chat: FakeChat, tmp_path: Path) -> None:
    """An article in a language with no prompt (or not configured) is never sent."""
    llm = make(chat, tmp_path)
    llm.languages = ("hi",)
    outcome = llm.decide(EN, budget=200)
    assert (outcome.summariser, outcome.verdict.reason) == ("extractive", Reason.LANGUAGE)
    assert chat.calls_to("chat") == []


def test_a_tiny_budget_is_not_worth_a_request(chat: FakeChat, tmp_path: Path) -> None:
    """Below MIN_BUDGET the extractive summary is used without asking the endpoint."""
    llm = make(chat, tmp_path)
    outcome = llm.decide(EN, budget=49)
    assert (outcome.summariser, outcome.verdict.reason) == ("extractive", Reason.SMALL_BUDGET)
    assert outcome.text == extractive(EN, 49)
    assert chat.calls_to("chat") == []
    assert isinstance(llm.observer, Recorder)
    assert llm.observer.gates == [("unavailable", "small_budget")]


def test_api_key_goes_in_the_header_and_never_in_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key is sent as a Bearer token; a refusal (401) logs and records no key."""
    key = "sk-test-0123456789abcdefABCDEF"
    with FakeChat([FAITHFUL], api_key=key) as chat:
        caplog.set_level(logging.DEBUG)
        good = make(chat, tmp_path, api_key=Secret(key)).decide(EN, budget=200)
        assert good.summariser == "llm"
        bad = make(chat, tmp_path / "other", api_key=Secret("sk-wrong-key-000000000000000"))
        outcome = bad.decide(EN, budget=200)
    assert (outcome.verdict.reason, outcome.verdict.detail.endswith("HTTP 401")) == (
        Reason.ENDPOINT_ERROR,
        True,
    )
    assert key not in caplog.text
    assert "sk-wrong" not in caplog.text
    assert key not in (tmp_path / "llm-cache.db").read_bytes().decode("utf-8", "replace")


def test_explain_names_the_summariser_of_a_post_summary(chat: FakeChat, tmp_path: Path) -> None:
    """explain() finds the decision whose text a post carries, with the gate verdict."""
    llm = make(chat, tmp_path)
    llm.decide(EN, budget=200)
    chat.replies = ["Modi said exports rose 15%."]
    fallback = llm.decide(EN, budget=90)
    assert llm.explain(EN, FAITHFUL)["summariser"] == "llm"
    assert llm.explain(EN, fallback.text) == {
        "summariser": "extractive",
        "gate": {
            "passed": False,
            "reason": "percentage",
            "detail": "15",
            "asks": 1,
            "cached": False,
        },
    }


def test_channels_asking_at_once_share_one_request(chat: FakeChat, tmp_path: Path) -> None:
    """Four threads asking the same question while the endpoint is slow make one request."""
    chat.fail("chat", Fault(delay=0.3))
    llm = make(chat, tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: llm.decide(EN, budget=200), range(4)))
    assert len(chat.calls_to("chat")) == 1
    assert {(o.summariser, o.text) for o in outcomes} == {("llm", FAITHFUL)}
    assert sorted(o.cached for o in outcomes) == [False, True, True, True]


@pytest.mark.parametrize(
    ("answer", "summary"),
    [
        ("<think>The user wants 12%...</think>\nModi hailed exports.", "Modi hailed exports."),
        ("Summary: Modi hailed\nexports.", "Modi hailed exports."),
        ('"Modi hailed exports."', "Modi hailed exports."),
        ('Gandhi: "a hollow claim".', 'Gandhi: "a hollow claim".'),
    ],
)
def test_the_summary_is_taken_out_of_the_answer(answer: str, summary: str) -> None:
    """A reasoning block, a "Summary:" label, wrapping quotes and line breaks are removed;
    quotation marks inside the text are kept for the gate to check."""
    assert clean_answer(answer) == summary


def test_a_broken_cache_file_never_fails_a_summary(
    chat: FakeChat, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """When the cache table cannot be read or written, answers are kept in memory, the
    summary is still made (once) and a warning says so."""
    llm = make(chat, tmp_path)
    with sqlite3.connect(tmp_path / "llm-cache.db") as other:
        other.execute("DROP TABLE llm_answers")
    first = llm.decide(EN, budget=200)
    again = llm.decide(EN, budget=200)
    assert (first.summariser, first.text, again.cached) == ("llm", FAITHFUL, True)
    assert len(chat.calls_to("chat")) == 1
    assert "llm answer cache not written, kept in memory" in caplog.text


@pytest.mark.parametrize(
    ("title", "excerpt", "content", "lang"),
    [
        # A long figure before the text: the language is in the words, not the markup.
        (
            "EV sales",
            '<figure><img src="https://site.example/' + "a" * 600 + '.jpg"></figure>'
            "<p>चार्जिंग स्टेशनों की संख्या बढ़ी</p>",
            "",
            "hi",
        ),
        # No excerpt: the body tells.
        ("Metro", "", "<p>சென்னை மெட்ரோ விரிவாக்கம்</p>", "ta"),
        ("Rains", "", "<div class='x'>హైదరాబాద్ లో వర్షం</div>", "te"),
        # A script name inside markup is not text: an English article stays English.
        ("EV sales", '<p data-note="हिंदी">Charging stations grow</p>', "", "en"),
    ],
)
def test_language_without_a_feed_tag_comes_from_the_summary_text(
    title: str, excerpt: str, content: str, lang: str
) -> None:
    """Untagged articles get their language from the text of the title and summary
    (the body when there is no summary), never from markup."""
    article = Article(
        feed="f", item_id="1", url="https://site.example/1", title=title,
        excerpt_html=excerpt, content_html=content,
    )  # fmt: skip
    assert article_language(article) == lang
