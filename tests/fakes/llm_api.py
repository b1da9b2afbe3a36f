"""A fake OpenAI-compatible ``/v1/chat/completions`` on 127.0.0.1 (a ``LoopbackServer``).

    with FakeChat(["a faithful summary"]) as chat:
        client = ChatClient(chat.url("/v1"), "tiny-model")
        ...
        chat.fail("chat", Fault(status=500, body={"error": "boom"}))
        [call] = chat.calls_to("chat")

It answers each request with the next scripted reply (the last one repeats), with usage
counts like a real server (``prompt_tokens`` = words sent, ``completion_tokens`` = words
answered). ``api_key`` set makes it answer 401 without ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.loopback import Answer, Fault, LoopbackServer, Request

__all__ = ["FakeChat", "Fault"]


class FakeChat(LoopbackServer):
    def __init__(self, replies: list[str], *, api_key: str | None = None) -> None:
        super().__init__()
        self.replies = list(replies)
        self.api_key = api_key
        self._served = 0

    def route_of(self, method: str, path: str) -> str:
        return "chat" if (method, path) == ("POST", "/v1/chat/completions") else "other"

    def authorise(self, request: Request) -> Answer | None:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return Answer(401, {"error": {"message": "Incorrect API key provided"}})
        return None

    def handle(self, request: Request) -> Answer:
        if request.route != "chat":
            return Answer(404, {"error": "not found"})
        body: Any = request.json()
        reply = self.replies[min(self._served, len(self.replies) - 1)]
        self._served += 1
        sent = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        return Answer(
            200,
            {
                "id": f"chatcmpl-{self.next_id()}",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": sent,
                    "completion_tokens": len(reply.split()),
                    "total_tokens": sent + len(reply.split()),
                },
            },
        )
