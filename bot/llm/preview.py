"""For ``syndbot preview --llm``: the configured summariser, and who wrote each summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.config import Config
from bot.errors import ConfigError
from bot.llm.summariser import LlmSummariser
from bot.models import Article, Post
from bot.summarise import ExtractiveSummariser


@contextmanager
def open_llm(config: Config | None) -> Iterator[LlmSummariser | None]:
    """The ``[llm]`` summariser of ``config`` (None without a config), closed afterwards."""
    if config is None:
        yield None
        return
    if config.llm is None:
        raise ConfigError(
            "no [llm] section, so --llm has nothing to ask; add one with base_url and model "
            "(see docs/configuration.md)",
            file=str(config.path),
            key="llm",
        )
    llm = LlmSummariser.from_config(config.llm, fallback=ExtractiveSummariser())
    try:
        yield llm
    finally:
        llm.close()


def provenance(llm: LlmSummariser | None, article: Article, post: Post) -> dict[str, object]:
    """``{"summariser": "llm" | "extractive", "gate": verdict or None}`` for ``post``."""
    if llm is None:
        return {"summariser": "extractive", "gate": None}
    return llm.explain(article, post.summary)
