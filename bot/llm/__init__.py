"""An optional LLM summariser whose every summary must pass a deterministic fact gate.

``gate.check`` is pure: a generated summary is used only when every figure, quote and name
in it appears in the article, it adds no link, handle or hashtag, and it fits.
"""
