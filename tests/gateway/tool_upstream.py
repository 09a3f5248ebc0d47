"""A fake upstream that answers with tool calls, streamed as OpenAI does (tests only).

Its two tool calls carry the last user message inside their JSON arguments, so placeholders
come back inside arguments and must be restored; streamed, the argument fragments of the two
calls are interleaved in `chunk_size` pieces, so placeholders are split across deltas.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse


@dataclass
class ToolUpstream:
    received: list[dict[str, Any]] = field(default_factory=list)
    chunk_size: int = 3
    url: str = ""

    def arguments(self, body: dict[str, Any]) -> list[str]:
        users = [m for m in body["messages"] if m.get("role") == "user"]
        text = users[-1]["content"] if users else ""
        return [json.dumps({"text": text}, ensure_ascii=False),
                json.dumps({"cc": text, "n": 1}, ensure_ascii=False)]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request):  # noqa: ANN202
            body = await request.json()
            self.received.append(body)
            name = body["tools"][0]["function"]["name"]
            args = self.arguments(body)
            base = {"id": "chatcmpl-tools", "created": int(time.time()), "model": body["model"]}
            calls = [{"id": f"call_{k}", "type": "function",
                      "function": {"name": name, "arguments": a}} for k, a in enumerate(args)]
            if not body.get("stream"):
                return {**base, "object": "chat.completion", "choices": [{
                    "index": 0, "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": None, "tool_calls": calls}}]}

            def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
                obj = {**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

            async def gen():  # noqa: ANN202
                yield chunk({"role": "assistant", "content": None, "tool_calls": [
                    {"index": k, **c, "function": {**c["function"], "arguments": ""}}
                    for k, c in enumerate(calls)]})
                step = max(1, self.chunk_size)
                for i in range(0, max(map(len, args)), step):
                    for k, a in enumerate(args):
                        if a[i:i + step]:
                            yield chunk({"tool_calls": [
                                {"index": k, "function": {"arguments": a[i:i + step]}}]})
                yield chunk({}, "tool_calls")
                yield "data: [DONE]\n\n"

            return StreamingResponse(gen(), media_type="text/event-stream")

        return app
