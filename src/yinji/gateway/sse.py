"""Server-sent events from an OpenAI-style stream, restored on the way back.

Parsing is httpx-sse's (line endings, fields, multi-line data, comments as the SSE spec says);
we only rewrite each event's JSON. Placeholders are restored in every streamed text of a choice:
`delta.content`, `reasoning_content`, `refusal`, and the argument fragments of
`delta.tool_calls[k].function.arguments` (and the older `delta.function_call.arguments`), each
with its own `StreamRestorer`, because "[PERSON_1]" may arrive as "[PER" + "SON_1]" in any of
them. Values restored into tool-call arguments are JSON-escaped: those arguments are JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from httpx_sse import ServerSentEvent

from yinji.gateway.redact import StreamRestorer, json_escape, restore
from yinji.gateway.vault import Vault

TEXT_FIELDS = ("content", "reasoning_content", "refusal")


def encode(data: str, event: str = "message", id: str = "", retry: int | None = None) -> str:
    """One SSE block (ending in a blank line); each data line gets its own `data:` field."""
    lines = [] if event == "message" else [f"event: {event}"]
    lines += [f"data: {line}" for line in data.split("\n")]
    if id:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    return "\n".join(lines) + "\n\n"


class StreamRewriter:
    """Restores one upstream stream: one `StreamRestorer` per (choice, field or tool call)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._restorers: dict[tuple[int, str, int], StreamRestorer] = {}
        self._last: dict[str, Any] | None = None

    def _restorer(self, key: tuple[int, str, int]) -> StreamRestorer:
        if key not in self._restorers:
            escape = json_escape if key[1] in ("tool", "function_call") else None
            self._restorers[key] = StreamRestorer(self._vault, escape)
        return self._restorers[key]

    def rewrite(self, sse: ServerSentEvent) -> str:
        """The event to send to the client."""
        if sse.data.strip() == "[DONE]":
            return self.flush() + encode("[DONE]", sse.event, sse.id, sse.retry)
        try:
            obj = json.loads(sse.data)
        except json.JSONDecodeError:
            return encode(restore(sse.data, self._vault), sse.event, sse.id, sse.retry)
        choices = obj.get("choices") if isinstance(obj, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict):
                self._choice(choice)
        if isinstance(obj, dict):
            self._last = obj
        return encode(json.dumps(obj, ensure_ascii=False), sse.event, sse.id, sse.retry)

    def _choice(self, choice: dict[str, Any]) -> None:
        i = choice.get("index", 0)
        i = i if isinstance(i, int) else 0
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        for f in TEXT_FIELDS:
            if isinstance(delta.get(f), str):
                delta[f] = self._restorer((i, f, 0)).feed(delta[f])
        calls = delta.get("tool_calls")
        for pos, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                k = call.get("index", pos)
                self._call(call, (i, "tool", k if isinstance(k, int) else pos))
        if isinstance(delta.get("function_call"), dict):
            self._call(delta["function_call"], (i, "function_call", 0))
        if choice.get("finish_reason"):
            self._flush_choice(i, delta)
            if delta:
                choice["delta"] = delta

    def _call(self, call: dict[str, Any], key: tuple[int, str, int]) -> None:
        fn = call.get("function") if key[1] == "tool" else call
        if not isinstance(fn, dict):
            return
        if isinstance(fn.get("arguments"), str):
            fn["arguments"] = self._restorer(key).feed(fn["arguments"])
        if isinstance(fn.get("name"), str):
            fn["name"] = restore(fn["name"], self._vault)

    def _flush_choice(self, i: int, delta: dict[str, Any]) -> None:
        """Append whatever choice `i` still holds back to `delta`."""
        for key in [k for k in self._restorers if k[0] == i]:
            tail = self._restorers.pop(key).flush()
            if not tail:
                continue
            _, field, k = key
            if field in TEXT_FIELDS:
                delta[field] = (delta.get(field) or "") + tail
            elif field == "function_call":
                fc = delta.setdefault("function_call", {})
                fc["arguments"] = (fc.get("arguments") or "") + tail
            else:
                calls = delta.setdefault("tool_calls", [])
                entry = next((c for c in calls if isinstance(c, dict) and c.get("index") == k),
                             None)
                if entry is None:
                    entry = {"index": k, "function": {}}
                    calls.append(entry)
                fn = entry.setdefault("function", {})
                fn["arguments"] = (fn.get("arguments") or "") + tail

    def flush(self) -> str:
        """Final chunks with anything still held back (if the stream ended without finish)."""
        out = []
        for i in sorted({k[0] for k in self._restorers}):
            delta: dict[str, Any] = {}
            self._flush_choice(i, delta)
            if delta:
                base = {k: v for k, v in (self._last or {}).items() if k != "choices"}
                base["choices"] = [{"index": i, "delta": delta, "finish_reason": None}]
                out.append(encode(json.dumps(base, ensure_ascii=False)))
        return "".join(out)
