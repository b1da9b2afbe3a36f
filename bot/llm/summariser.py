"""``LlmSummariser``: a generated summary when it passes the fact gate, else the extractive one.

For each question (article, budget, measure) it: answers from the cache when it can; else,
unless the breaker is open or the article's language has no prompt, asks the endpoint in
the article's language, measures the answer with ``measure`` and sends it back at most
twice when too long; then judges the final answer with ``gate.check``. Anything but a pass
(a refusal by the gate, an endpoint failure, no answer within ``max_wait`` per article, an
open breaker, a budget too small to ask for) gives the fallback's summary, and the
``Outcome`` says which summariser wrote it and why. Implements ``Summariser``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from bot.config import LlmConfig
from bot.errors import LlmError, LlmTimeout
from bot.llm import gate, prompts
from bot.llm.breaker import CircuitBreaker
from bot.llm.cache import AnswerCache, CacheKey
from bot.llm.client import ChatClient, Completion
from bot.llm.gate import GateVerdict, Reason
from bot.llm.text import article_language, characters_for, clean_answer, source_text
from bot.models import Article
from bot.observe import NullObserver, Observer
from bot.protocols import Summariser

log = logging.getLogger("syndbot.llm")

Measure = Callable[[str], int]
MAX_ASKS = 3  # the first request and at most two "shorter, please"
MIN_BUDGET = 50  # below this the extractive summary (or a cut sentence) is all that fits
REMEMBERED_ARTICLES = 64  # outcomes kept for ``explain`` (preview) and per-article deadlines
UNAVAILABLE = frozenset(  # reasons no answer was there to judge: "unavailable", not "reject"
    {
        Reason.LANGUAGE,
        Reason.SMALL_BUDGET,
        Reason.BREAKER_OPEN,
        Reason.TIMEOUT,
        Reason.ENDPOINT_ERROR,
    }
)


@dataclass(frozen=True)
class Outcome:
    """Which summariser wrote ``text`` for ``budget``, and the gate's verdict on the LLM's."""

    text: str
    summariser: Literal["llm", "extractive"]
    verdict: GateVerdict
    budget: int
    asks: int = 0  # requests sent for this answer (0: from the cache or not asked)
    cached: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "summariser": self.summariser,
            "gate": {**self.verdict.to_dict(), "asks": self.asks, "cached": self.cached},
        }


@dataclass(frozen=True)
class _Question:
    """One summary asked for, with what every step needs to answer it."""

    article: Article
    budget: int
    measure: Measure
    lang: str
    body: str  # what the model reads
    facts: str  # what the gate checks against
    key: CacheKey


class LlmSummariser:
    """A ``Summariser`` asking an OpenAI-compatible endpoint, gated, with ``fallback``."""

    def __init__(
        self,
        client: ChatClient,
        *,
        fallback: Summariser,
        cache: AnswerCache | None = None,
        breaker: CircuitBreaker | None = None,
        max_wait: float = 30.0,
        languages: tuple[str, ...] = tuple(prompts.PROMPTS),
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.cache = cache or AnswerCache()
        self.breaker = breaker or CircuitBreaker(failures=3, cooldown=300.0, clock=clock)
        self.max_wait = max_wait
        self.languages = languages
        self.observer: Observer = observer or NullObserver()
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: OrderedDict[str, list[Outcome]] = OrderedDict()
        self._started: OrderedDict[str, float] = OrderedDict()
        self._asking: OrderedDict[str, threading.Lock] = OrderedDict()

    @classmethod
    def from_config(
        cls, config: LlmConfig, *, fallback: Summariser, http: httpx.Client | None = None
    ) -> LlmSummariser:
        client = ChatClient(config.base_url, config.model, api_key=config.api_key, http=http)
        return cls(
            client,
            fallback=fallback,
            cache=AnswerCache(config.cache),
            breaker=CircuitBreaker(
                failures=config.breaker_failures, cooldown=config.breaker_cooldown
            ),
            max_wait=config.max_wait,
            languages=config.languages,
        )

    def close(self) -> None:
        self.client.close()
        self.cache.close()

    def summarise(self, article: Article, *, budget: int, measure: Measure = len) -> str:
        return self.decide(article, budget=budget, measure=measure).text

    def decide(self, article: Article, *, budget: int, measure: Measure = len) -> Outcome:
        """The summary to use and where it came from; never raises for endpoint trouble."""
        lang = article_language(article)
        skip = self._not_worth_asking(lang, budget)
        if skip is not None:
            return self._fall_back(article, budget, measure, skip)
        body, facts = source_text(article)
        key = CacheKey(
            article.content_hash, budget, self.client.model, lang, prompts.PROMPT_VERSION
        )
        question = _Question(article, budget, measure, lang, body, facts, key)
        # Channels composing the same article at once wait for one answer, not pay for N.
        with self._key_lock(key):
            return self._answer(question)

    def _answer(self, q: _Question) -> Outcome:
        cached = self.cache.get(q.key)
        if cached is not None:
            text = clean_answer(cached.text)
            verdict = gate.check(text, q.facts, budget=q.budget, measure=q.measure)
            if verdict.reason is not Reason.TOO_LONG:  # measured another way: ask afresh
                return self._judged(q, text, verdict, asks=0, cached=True)
        deadline = self._deadline(q.article)
        if deadline <= self._clock():  # not the endpoint's failure: the breaker is not told
            spent = GateVerdict(Reason.TIMEOUT, f"max_wait ({self.max_wait:g}s) spent")
            return self._fall_back(q.article, q.budget, q.measure, spent)
        if not self.breaker.allow():
            return self._fall_back(q.article, q.budget, q.measure, GateVerdict(Reason.BREAKER_OPEN))
        try:
            answer, asks = self._ask(q, deadline)
        except LlmError as exc:
            reason = Reason.TIMEOUT if isinstance(exc, LlmTimeout) else Reason.ENDPOINT_ERROR
            if self.breaker.failure():
                log.warning("llm breaker open for %.0fs after: %s", self.breaker.cooldown, exc)
            return self._fall_back(q.article, q.budget, q.measure, GateVerdict(reason, str(exc)))
        self.breaker.success()
        self.cache.put(q.key, answer)
        text = clean_answer(answer.text)
        verdict = gate.check(text, q.facts, budget=q.budget, measure=q.measure)
        return self._judged(q, text, verdict, asks=asks, cached=False)

    def _key_lock(self, key: CacheKey) -> threading.Lock:
        digest = key.digest()
        with self._lock:
            lock = self._asking.setdefault(digest, threading.Lock())
            self._asking.move_to_end(digest)
            while len(self._asking) > 4 * REMEMBERED_ARTICLES:
                self._asking.popitem(last=False)
        return lock

    def _not_worth_asking(self, lang: str, budget: int) -> GateVerdict | None:
        if lang not in self.languages or lang not in prompts.PROMPTS:
            return GateVerdict(Reason.LANGUAGE, lang)
        if budget < MIN_BUDGET:
            return GateVerdict(Reason.SMALL_BUDGET, f"{budget} < {MIN_BUDGET}")
        return None

    def _ask(self, q: _Question, deadline: float) -> tuple[Completion, int]:
        """The last answer (fitting or not) and how many requests it took."""
        budget, measure = q.budget, q.measure
        chars = characters_for(budget, measure, q.body)
        messages = prompts.first_request(q.lang, title=q.article.title, text=q.body, budget=chars)
        prompt_tokens = completion_tokens = 0
        for ask in range(1, MAX_ASKS + 1):
            reply = self.client.complete(messages, deadline=deadline, max_tokens=2 * budget + 64)
            prompt_tokens += reply.prompt_tokens
            completion_tokens += reply.completion_tokens
            self.observer.llm_tokens(prompt=reply.prompt_tokens, completion=reply.completion_tokens)
            text = clean_answer(reply.text)
            length = measure(text)
            if length <= budget or ask == MAX_ASKS:
                break
            # Told in characters, as asked; the target shrinks by the measured overshoot.
            target = max(1, chars * budget // length)
            messages = prompts.shorten(
                q.lang, messages, text, length=len(text), budget=chars, target=target
            )
        log.info(
            "llm answer budget=%d asks=%d prompt_tokens=%d completion_tokens=%d",
            budget, ask, prompt_tokens, completion_tokens,
        )  # fmt: skip
        return Completion(reply.text, prompt_tokens, completion_tokens), ask

    def _deadline(self, article: Article) -> float:
        """The end of the article's window: ``max_wait`` from its first request, shared by
        all its summaries (a window long past is a later retry and starts afresh)."""
        now = self._clock()
        with self._lock:
            started = self._started.get(article.content_hash)
            if started is None or now - started > 10 * self.max_wait:
                started = self._started[article.content_hash] = now
            self._started.move_to_end(article.content_hash)
            while len(self._started) > REMEMBERED_ARTICLES:
                self._started.popitem(last=False)
        return started + self.max_wait

    def _judged(
        self, q: _Question, text: str, verdict: GateVerdict, *, asks: int, cached: bool
    ) -> Outcome:
        if not verdict.passed:
            return self._fall_back(
                q.article, q.budget, q.measure, verdict, asks=asks, cached=cached
            )
        return self._record(q.article, Outcome(text, "llm", verdict, q.budget, asks, cached))

    def _fall_back(
        self,
        article: Article,
        budget: int,
        measure: Measure,
        verdict: GateVerdict,
        *,
        asks: int = 0,
        cached: bool = False,
    ) -> Outcome:
        text = self.fallback.summarise(article, budget=budget, measure=measure)
        outcome = Outcome(text, "extractive", verdict, budget, asks=asks, cached=cached)
        return self._record(article, outcome)

    def _record(self, article: Article, outcome: Outcome) -> Outcome:
        verdict = outcome.verdict
        label = (
            "pass"
            if verdict.passed
            else "unavailable"
            if verdict.reason in UNAVAILABLE
            else "reject"
        )
        self.observer.llm_gate(verdict=label, reason=str(verdict.reason))
        if not verdict.passed:
            log.info(
                "llm summary not used item=%s budget=%d reason=%s detail=%s",
                article.item_id, outcome.budget, verdict.reason, verdict.detail[:120],
            )  # fmt: skip
        with self._lock:
            self._outcomes.setdefault(article.content_hash, []).append(outcome)
            self._outcomes.move_to_end(article.content_hash)
            while len(self._outcomes) > REMEMBERED_ARTICLES:
                self._outcomes.popitem(last=False)
        return outcome

    def outcomes(self, article: Article) -> list[Outcome]:
        """Every decision made for ``article`` recently, in order."""
        with self._lock:
            return list(self._outcomes.get(article.content_hash, ()))

    def explain(self, article: Article, summary: str) -> dict[str, object]:
        """``{"summariser": ..., "gate": ...}`` for a post's summary of ``article``: the
        decision whose text it is (a thread joins a longer one, so a prefix counts)."""
        wanted = " ".join(summary.split()).removesuffix("…").rstrip()
        outcomes = self.outcomes(article)
        exact = [o for o in outcomes if " ".join(o.text.split()) == wanted]
        prefix = [o for o in outcomes if wanted and " ".join(o.text.split()).startswith(wanted)]
        found = exact or prefix
        return found[-1].to_dict() if found else {"summariser": "extractive", "gate": None}
