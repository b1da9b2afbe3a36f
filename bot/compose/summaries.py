"""One summariser call per question: the summaries of an article, remembered.

Composing one article for every channel asks the summariser the same questions again and
again (the link-card description for each channel, the thread text for each channel of a
platform, everything once more on a retry). ``Summaries`` asks each (article, budget,
measure) once. A measure is part of the question, so it must be a value: a function, or a
frozen dataclass with ``__call__`` (equal measures count the same way), never a fresh
closure, which would never be equal to the last one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from bot.models import Article
from bot.protocols import Summariser

Measure = Callable[[str], int]


class Summaries:
    """A ``Summariser`` that remembers its answers for the most recent ``articles``.

    Safe to share between threads; summarisers are pure, so an answer never goes stale.
    """

    def __init__(self, summariser: Summariser, *, articles: int = 16) -> None:
        self.summariser = summariser
        self._articles = articles
        self._answers: OrderedDict[Article, dict[tuple[int, Measure], str]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, summariser: Summariser) -> Summaries:
        """``summariser`` itself when it already remembers, else a new ``Summaries``."""
        return summariser if isinstance(summariser, Summaries) else cls(summariser)

    def summarise(self, article: Article, *, budget: int, measure: Measure = len) -> str:
        question = (budget, measure)
        with self._lock:
            answers = self._answers.setdefault(article, {})
            self._answers.move_to_end(article)
            while len(self._answers) > self._articles:
                self._answers.popitem(last=False)
            if question in answers:
                return answers[question]
        # Asked outside the lock: a slow summary for one channel must not hold up another.
        answer = self.summariser.summarise(article, budget=budget, measure=measure)
        with self._lock:
            answers[question] = answer
        return answer
