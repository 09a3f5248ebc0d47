"""Server-sent events from an OpenAI-style stream, restored on the way back.

Why a parser of our own: we must rewrite `choices[i].delta.content` in each event, and events
can be split across network reads at any byte; this splits on the blank line that ends an event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from yinji.gateway.redact import StreamRestorer
from yinji.gateway.vault import Vault


async def events(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """Complete events (without the terminating blank line) from arbitrary text chunks."""
    buf = ""
    async for chunk in chunks:
        buf += chunk.replace("\r\n", "\n")
        while "\n\n" in buf:
            ev, buf = buf.split("\n\n", 1)
            if ev.strip():
                yield ev
    if buf.strip():
        yield buf


def _data(event: str) -> str | None:
    lines = [ln[5:].lstrip() if ln.startswith("data:") else None for ln in event.split("\n")]
    data = [ln for ln in lines if ln is not None]
    return "\n".join(data) if data else None


class StreamRewriter:
    """Restores one upstream stream: one `StreamRestorer` per choice index."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._restorers: dict[int, StreamRestorer] = {}
        self._last: dict | None = None

    def _restorer(self, i: int) -> StreamRestorer:
        if i not in self._restorers:
            self._restorers[i] = StreamRestorer(self._vault)
        return self._restorers[i]

    def rewrite(self, event: str) -> str:
        """The event to send to the client (an SSE block ending in a blank line)."""
        data = _data(event)
        if data is None:
            return event + "\n\n"
        if data.strip() == "[DONE]":
            return self.flush() + "data: [DONE]\n\n"
        try:
            obj = json.loads(data)
        except json.JSONDecodeError:
            return event + "\n\n"
        for choice in obj.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            r = self._restorer(int(choice.get("index", 0)))
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                delta["content"] = r.feed(delta["content"])
            if choice.get("finish_reason"):
                tail = r.flush()
                if tail:
                    delta["content"] = (delta.get("content") or "") + tail
                    choice["delta"] = delta
        self._last = obj
        return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"

    def flush(self) -> str:
        """A final chunk with anything still held back (if the stream ended without finish)."""
        out = []
        for i, r in self._restorers.items():
            tail = r.flush()
            if tail:
                base = {k: v for k, v in (self._last or {}).items() if k != "choices"}
                base["choices"] = [{"index": i, "delta": {"content": tail}, "finish_reason": None}]
                out.append("data: " + json.dumps(base, ensure_ascii=False) + "\n\n")
        return "".join(out)
