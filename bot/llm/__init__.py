"""An optional LLM summariser whose every summary must pass a deterministic fact gate.

``gate.check`` is pure: a generated summary is used only when every figure, quote and name
in it appears in the article, it adds no link, handle or hashtag, and it fits. Otherwise
``LlmSummariser`` gives the extractive summary and records why (``Outcome``).
"""

from bot.llm.gate import GateVerdict, Reason, check
from bot.llm.summariser import LlmSummariser, Outcome

__all__ = ["GateVerdict", "LlmSummariser", "Outcome", "Reason", "check"]
