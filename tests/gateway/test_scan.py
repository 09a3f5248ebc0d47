"""Attack: personal data placed outside message contents, where a scanner of `content` misses it.

Each test sends it through real HTTP and compares what the fake upstream received with what
it may learn (every string in it, JSON text decoded, so \\u-escaped forms count as leaks too).
"""

from __future__ import annotations

import json

import httpx

from yinji.gateway.config import GatewayConfig
from yinji.gateway.policy import Policy, Route
from yinji.gateway.proxy import create_app
from yinji.testing.servers import serve

PID = "11010519491231002X"


def send(url: str, messages: list[dict], **extra) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=15,
                      json={"model": "fake-model", "messages": messages, **extra})


def texts(obj) -> list[str]:
    """Every string in `obj`, and in any JSON text among them decoded (\\u escapes undone)."""
    if isinstance(obj, dict):
        return texts(list(obj)) + texts(list(obj.values()))
    if isinstance(obj, list):
        return [t for x in obj for t in texts(x)]
    if isinstance(obj, str):
        try:
            inner = json.loads(obj)
        except ValueError:
            return [obj]
        return [obj] + (texts(inner) if isinstance(inner, dict | list | str) else [])
    return [str(obj)]


def leaked(upstream, values) -> list[str]:
    """The values that appear anywhere in what the upstream received."""
    got = texts(upstream.received)
    return [v for v in values if any(v in t for t in got)]


def test_message_name_field(upstream, gateway):
    url, _, _ = gateway
    r = send(url, [{"role": "system", "content": "Be brief.", "name": "经理王芳"},
                   {"role": "user", "content": "你好", "name": "张伟"},
                   {"role": "assistant", "content": "您好", "name": "zhang.wei"},
                   {"role": "user", "content": "Draft a reply.", "name": "Wang_Fang"}])
    assert r.status_code == 200, r.text
    assert leaked(upstream, ["王芳", "张伟", "zhang.wei", "Wang_Fang"]) == []
    names = [m["name"] for m in upstream.received[-1]["messages"]]
    assert all(n.startswith("PERSON") for n in names), names
    assert len(set(names)) == 4  # participants stay distinct


def test_tool_call_arguments(upstream, gateway):
    url, _, _ = gateway
    args = json.dumps({"client": "张伟", "mobile": "13800138000", "email": "zw@163.com",
                       "id_number": PID, "phone": 13900139000})  # \u-escaped, a number
    r = send(url, [
        {"role": "user", "content": "给客户发确认邮件"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "send_mail", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "assistant", "content": None,
         "function_call": {"name": "send_sms", "arguments": '{"to": "13700137000"}'}},
        {"role": "user", "content": "好的"}])
    assert r.status_code == 200, r.text
    assert leaked(upstream, ["张伟", "13800138000", "zw@163.com", PID, "13900139000",
                             "13700137000"]) == []
    fwd = upstream.received[-1]["messages"][1]["tool_calls"][0]["function"]
    assert fwd["name"] == "send_mail"
    assert json.loads(fwd["arguments"])["client"] == "[PERSON_1]"  # still JSON


def test_tool_definitions(upstream, gateway):
    url, _, _ = gateway
    tools = [{"type": "function", "function": {
        "name": "get_positions",
        "description": "查询客户张伟（手机13800138000）的持仓",
        "parameters": {"type": "object", "properties": {
            "email": {"type": "string", "description": "e.g. zhangwei@163.com"},
            "id_number": {"type": "string", "default": PID},
            "mobile": {"type": "string", "enum": ["13900139000", "13700137000"]},
            "card": {"type": "string", "examples": ["6222021234567890128"]}},
            "required": ["email"]}}}]
    functions = [{"name": "legacy", "description": "联系人：王芳，座机0755-86001234",
                  "parameters": {"type": "object", "properties": {}}}]
    r = send(url, [{"role": "user", "content": "查持仓"}], tools=tools, functions=functions)
    assert r.status_code == 200, r.text
    assert leaked(upstream, ["张伟", "13800138000", "zhangwei@163.com", PID, "13900139000",
                             "13700137000", "王芳", "0755-86001234"]) == []
    fwd = upstream.received[-1]["tools"][0]["function"]
    assert fwd["name"] == "get_positions" and fwd["parameters"]["type"] == "object"
    assert set(fwd["parameters"]["properties"]) == {"email", "id_number", "mobile", "card"}


def test_tool_results(upstream, gateway):
    url, _, _ = gateway
    result = json.dumps({"姓名": "张伟", "手机": 13800138000, "身份证": PID,
                         "资金账号": "310012345678", "address": "Flat 12B, 88 Queen's Road"})
    r = send(url, [
        {"role": "user", "content": "Summarise the client file."},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": result},
        {"role": "tool", "tool_call_id": "call_2",
         "content": [{"type": "text", "text": '{"holder": "\\u738b\\u82b3", "email": "wf@qq.com"}'}]},
        {"role": "function", "name": "legacy", "content": "客户李明，卡号6222021234567890128"},
        {"role": "user", "content": "总结"}])
    assert r.status_code == 200, r.text
    assert leaked(upstream, ["张伟", "13800138000", PID, "310012345678", "王芳", "wf@qq.com",
                             "李明", "6222021234567890128"]) == []
    fwd = json.loads(upstream.received[-1]["messages"][2]["content"])
    assert fwd["姓名"] == "[PERSON_1]" and fwd["手机"] == "[MOBILE_1]"


def test_other_request_fields(upstream, gateway):
    """`stop`, `metadata` and unknown fields are forwarded, so they are scanned too."""
    url, _, _ = gateway
    r = send(url, [{"role": "user", "content": "hi"}], stop=["客户张伟"],
             metadata={"ticket": "客户王芳 13800138000"}, vendor_extra={"note": "zw@163.com"},
             user="li.analyst@corp.example")
    assert r.status_code == 200, r.text
    assert leaked(upstream, ["张伟", "王芳", "13800138000", "zw@163.com",
                             "li.analyst@corp.example"]) == []


def test_model_name_with_personal_data_refused(upstream, gateway):
    url, _, audit = gateway
    r = send(url, [{"role": "user", "content": "hi"}], model="gpt-zw@163.com")
    assert r.status_code == 400 and "model" in r.json()["error"]["message"]
    assert upstream.received == [] and "zw@163.com" not in audit.events[-1].to_json()


def test_media_refused_unless_the_route_allows_it(upstream):
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    msgs = [{"role": "user", "content": [{"type": "text", "text": "客户张伟的身份证照片"}, image]}]
    cfg = GatewayConfig(upstream_url=upstream.url + "/v1",
                        routes=[Route("vision-*", Policy.from_dict({"media": True}))])
    with serve(create_app(cfg)) as url:
        r = send(url, msgs)
        assert r.status_code == 400 and r.json()["error"]["code"] == "media_not_allowed"
        assert upstream.received == []  # the image the gateway cannot read did not leave
        r = send(url, msgs, model="vision-1")
        assert r.status_code == 200, r.text
    parts = upstream.received[-1]["messages"][0]["content"]
    assert parts[1] == image and "张伟" not in parts[0]["text"]
