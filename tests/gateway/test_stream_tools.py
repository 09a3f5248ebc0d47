"""Streamed tool calls: placeholders inside argument deltas come back restored, also when split.

The client assembles each tool call's arguments from the deltas, as the OpenAI SDK does, and
compares them with what it would have built without the gateway.
"""

from __future__ import annotations

import json

import httpx
import pytest

from yinji.gateway.config import GatewayConfig
from yinji.gateway.proxy import create_app
from yinji.testing.servers import serve

from .tool_upstream import ToolUpstream

TEXT = '客户张伟（手机13800138000，邮箱zhangwei@163.com）要求张伟本人确认'
TOOLS = [{"type": "function", "function": {
    "name": "send_mail", "description": "Send an e-mail",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}}}}]


@pytest.fixture()
def tool_gateway():
    fake = ToolUpstream()
    with serve(fake.app()) as up:
        cfg = GatewayConfig(upstream_url=up + "/v1", timeout=5)
        with serve(create_app(cfg)) as url:
            yield url, fake


def assemble(resp: httpx.Response) -> dict[int, dict[str, str]]:
    """Tool calls by index from the SSE deltas: name and concatenated arguments."""
    calls: dict[int, dict[str, str]] = {}
    for block in resp.text.split("\n\n"):
        if not block.startswith("data: {"):
            continue
        for choice in json.loads(block[6:])["choices"]:
            for d in (choice.get("delta") or {}).get("tool_calls") or []:
                c = calls.setdefault(d["index"], {"name": "", "arguments": ""})
                fn = d.get("function") or {}
                c["name"] += fn.get("name") or ""
                c["arguments"] += fn.get("arguments") or ""
    return calls


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_streamed_tool_call_arguments_are_restored(tool_gateway, size):
    url, fake = tool_gateway
    fake.chunk_size = size
    body = {"model": "fake-model", "stream": True, "tools": TOOLS,
            "messages": [{"role": "user", "content": TEXT}]}
    r = httpx.post(url + "/v1/chat/completions", json=body, timeout=15)
    assert r.status_code == 200 and r.text.rstrip().endswith("data: [DONE]")
    sent = fake.received[-1]["messages"][0]["content"]
    assert "张伟" not in sent and "[PERSON_1]" in sent  # placeholders went up ...
    calls = assemble(r)  # ... and came back inside interleaved, split argument deltas
    assert json.loads(calls[0]["arguments"]) == {"text": TEXT}
    assert json.loads(calls[1]["arguments"]) == {"cc": TEXT, "n": 1}
    assert calls[0]["name"] == "send_mail"
