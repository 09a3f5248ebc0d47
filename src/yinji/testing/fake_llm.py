"""A fake OpenAI-compatible upstream that records what it received (tests and benchmarks).

It answers by echoing the last user message (so placeholders come back and must be restored),
streams the echo in small chunks (so placeholders get split), and can be told to be slow or to
fail, to exercise the gateway's timeout and error paths.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


@dataclass
class FakeUpstream:
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    chunk_size: int = 3
    delay: float = 0.0
    fail_status: int | None = None
    prefix: str = "Echo: "

    def answer(self, body: dict[str, Any]) -> str:
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        content = users[-1].get("content", "") if users else ""
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        return self.prefix + content

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": "fake-model", "object": "model",
                                                "owned_by": "test"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):  # noqa: ANN202
            body = await request.json()
            self.received.append(body)
            self.headers.append(dict(request.headers))
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.fail_status:
                return JSONResponse({"error": {"message": "upstream exploded", "type": "server"}},
                                    status_code=self.fail_status)
            text = self.answer(body)
            base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body["model"]}
            if not body.get("stream"):
                return {**base, "object": "chat.completion", "choices": [{
                    "index": 0, "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                                         "total_tokens": 2}}

            async def gen():  # noqa: ANN202
                step = max(1, self.chunk_size)
                for i in range(0, len(text), step):
                    chunk = {**base, "object": "chat.completion.chunk", "choices": [{
                        "index": 0, "delta": {"content": text[i:i + step]}, "finish_reason": None}]}
                    yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
                end = {**base, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                yield f"data: {json.dumps(end)}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(gen(), media_type="text/event-stream")

        return app
