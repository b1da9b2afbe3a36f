"""The ``[llm]`` table: an optional OpenAI-compatible endpoint that writes summaries.

Off unless the table names a ``base_url``. The key is never in the file: ``api_key_env``
holds the NAME of the environment variable (local servers such as Ollama or llama.cpp
need none). A value that looks like a key is refused without being echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config._section import Section

if TYPE_CHECKING:
    from bot.config.model import Secret

LLM_LANGUAGES = ("en", "hi", "ta", "te")  # the languages bot.llm has a prompt for
LLM_KEYS = (
    "enabled",
    "base_url",
    "model",
    "api_key_env",
    "timeout",
    "max_wait",
    "languages",
    "breaker_failures",
    "breaker_cooldown",
    "cache",
)


@dataclass(frozen=True)
class LlmConfig:
    """Where to ask for summaries, how long to wait, when to stop asking for a while."""

    base_url: str  # up to and including /v1: ".../v1/chat/completions" is appended
    model: str
    api_key: Secret | None = None
    timeout: float = 20.0  # one request
    max_wait: float = 30.0  # everything one article's summaries may wait for the endpoint
    languages: tuple[str, ...] = LLM_LANGUAGES
    breaker_failures: int = 3  # consecutive endpoint failures that open the breaker
    breaker_cooldown: float = 300.0  # how long it stays open (extractive meanwhile)
    cache: Path | None = Path("var/llm-cache.db")  # None: remember in memory only


def parse_llm(sec: Section, env: Mapping[str, str]) -> LlmConfig | None:
    """``LlmConfig`` from ``[llm]``, or None when the table is absent or disabled."""
    from bot.config._credentials import secret_from_env

    sec.check_known(LLM_KEYS)
    if not sec.boolean("enabled", True) or not list(sec):
        return None
    base_url = sec.required_text("base_url").rstrip("/")
    if re.match(r"[a-z]+://[^/]*@", base_url, re.IGNORECASE):  # never echoed: a password
        raise sec.error(
            "base_url",
            "has a user name or password in it; remove it and put the key's variable name "
            "in api_key_env",
        )
    if not re.match(r"https?://[^/\s]+", base_url):
        raise sec.error(
            "base_url", f'"{base_url}" is not an http(s) URL; e.g. "http://127.0.0.1:8080/v1"'
        )
    base_url = base_url.removesuffix("/chat/completions")
    api_key = secret_from_env(sec, "api_key_env", env, example="SYNDBOT_LLM_API_KEY", what="key")
    languages = tuple(sec.text_list("languages")) if "languages" in sec else LLM_LANGUAGES
    for index, lang in enumerate(languages):
        if lang not in LLM_LANGUAGES:
            raise sec.error(
                f"languages[{index}]",
                f'no prompt for "{lang}"; choose from {", ".join(LLM_LANGUAGES)}',
            )
    defaults = LlmConfig(base_url="", model="")
    cache = sec.text("cache", str(defaults.cache))
    return LlmConfig(
        base_url=base_url,
        model=sec.required_text("model"),
        api_key=api_key,
        timeout=sec.duration("timeout", defaults.timeout, positive=True),
        max_wait=sec.duration("max_wait", defaults.max_wait, positive=True),
        languages=languages,
        breaker_failures=sec.integer("breaker_failures", defaults.breaker_failures, minimum=1),
        breaker_cooldown=sec.duration("breaker_cooldown", defaults.breaker_cooldown),
        cache=Path(cache) if cache else None,
    )
