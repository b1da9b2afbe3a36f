"""One OpenAI-compatible ``POST {base_url}/chat/completions``, within a hard deadline.

Works with Ollama, llama.cpp's server, vLLM and hosted APIs. Every failure becomes an
``LlmError`` (``LlmTimeout`` when time ran out), ``raise ... from`` the httpx error; the
key travels only in the Authorization header and never appears in an error or a log.
The answer is read in chunks against a wall-clock deadline, so a server that trickles
bytes cannot hold a delivery longer than the deadline allows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.config.model import Secret
from bot.errors import LlmError, LlmTimeout

MAX_ANSWER_BYTES = 1_000_000
Message = dict[str, str]


@dataclass(frozen=True)
class Completion:
    """The model's answer and what it cost, in tokens as the endpoint reports them."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ChatClient:
    """Asks one model at ``base_url`` (up to and including ``/v1``) for completions."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: Secret | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self._own_http = http is None
        self._http = http or httpx.Client(follow_redirects=False)
        self._clock = clock

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def complete(
        self, messages: Sequence[Message], *, deadline: float, max_tokens: int
    ) -> Completion:
        """The model's reply to ``messages``; ``LlmTimeout`` once ``deadline`` (a ``clock``
        reading) passes, ``LlmError`` for any other failure."""
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise LlmTimeout("no time left to ask the endpoint")
        body = {
            "model": self.model,
            "messages": list(messages),
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": False,
        }
        headers = {"Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get()}"
        try:
            with self._http.stream(
                "POST", self.url, json=body, headers=headers, timeout=httpx.Timeout(remaining)
            ) as response:
                data = self._read(response, deadline)
        except httpx.TimeoutException as exc:
            raise LlmTimeout(f"{self.url}: no answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise LlmError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        return _completion(data, self.url)

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        if response.status_code != 200:
            raise LlmError(f"{self.url}: HTTP {response.status_code}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if self._clock() > deadline:
                raise LlmTimeout(f"{self.url}: the answer did not arrive in time")
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise LlmError(f"{self.url}: answer larger than {MAX_ANSWER_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _completion(data: bytes, url: str) -> Completion:
    """The first choice's text and the usage counts of an OpenAI-style answer."""
    try:
        answer: Any = json.loads(data)
        text = answer["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError(f"{url}: not an OpenAI-style chat completion") from exc
    if not isinstance(text, str):
        raise LlmError(f"{url}: the completion has no text")
    usage = answer.get("usage") if isinstance(answer, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    return Completion(
        text=text,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
