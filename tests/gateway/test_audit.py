"""Audit log: no personal value from request metadata; refused calls are recorded too."""

from __future__ import annotations

import asyncio
import threading

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from yinji.gateway.audit import MemoryAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.proxy import create_app
from yinji.testing.servers import serve

MSG = {"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]}


def post(url: str, **kw) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", timeout=15, **kw)


def log_text(audit: MemoryAuditSink) -> str:
    return "\n".join(e.to_json() for e in audit.events)


def found(values: list[str], blob: str) -> list[str]:
    """`values` in `blob`, also as the latin-1 mojibake of their UTF-8 header bytes."""
    return [v for v in values if v in blob or v.encode().decode("latin-1") in blob]


def test_no_personal_value_from_user_or_headers(gateway):
    url, _, audit = gateway
    secrets = ["zhang.wei@corp.example.com", "13800138000", "张伟", "wangfang@163.com",
               "11010519491231002X"]
    assert post(url, json=MSG, headers={"X-Yinji-User": "zhang.wei@corp.example.com"}
                ).status_code == 200
    assert post(url, json=MSG, headers={"X-Yinji-User": "客户张伟 13800138000".encode()}).status_code == 200
    assert post(url, json={**MSG, "user": "wangfang@163.com"}).status_code == 200
    assert post(url, json={**MSG, "user": "11010519491231002X"}).status_code == 200
    assert post(url, json=MSG, headers={"X-Yinji-User": "analyst-7"}).status_code == 200
    blob = log_text(audit)
    assert found(secrets, blob) == [], blob
    assert [e.user for e in audit.events] == ["[EMAIL]", "客户[PERSON] [MOBILE]", "[EMAIL]",
                                              "[ID_NUMBER]", "analyst-7"]


def test_no_personal_value_from_conversation_header(upstream):
    cfg = GatewayConfig(upstream_url=upstream.url + "/v1", client_tokens={"tok-a": "alice"})
    audit = MemoryAuditSink()
    with serve(create_app(cfg, audit=audit)) as url:
        h = {"Authorization": "Bearer tok-a", "X-Yinji-Conversation": "张伟-zw@163.com".encode()}
        assert post(url, json=MSG, headers=h).status_code == 200
        assert post(url, json=MSG, headers=h).status_code == 200
    blob = log_text(audit)
    assert found(["zw@163.com", "张伟", "tok-a"], blob) == [], blob
    a, b = audit.events
    assert a.user == "alice" and a.conversation == b.conversation  # calls still linkable
    assert len(a.conversation) == 16


def test_refused_calls_are_audited(upstream):
    cfg = GatewayConfig(upstream_url=upstream.url + "/v1", max_body_bytes=2000,
                        client_tokens={"tok-a": "alice"})
    audit = MemoryAuditSink()
    ok = {"Authorization": "Bearer tok-a"}
    with serve(create_app(cfg, audit=audit)) as url:
        calls = [
            (post(url, json=MSG), 401),
            (post(url, json=MSG, headers={"Authorization": "Bearer tok-guess"}), 401),
            (httpx.get(url + "/v1/models"), 401),
            (post(url, content=b"{not json", headers=ok), 400),
            (post(url, json={"model": "m", "messages": []}, headers=ok), 400),
            (post(url, json={**MSG, "messages": [{"role": "user", "content": "x" * 3000}]},
                  headers=ok), 413),
        ]
    assert [r.status_code for r, _ in calls] == [s for _, s in calls]
    assert [(e.status, e.error) for e in audit.events] == [
        (401, "authentication_error"), (401, "authentication_error"),
        (401, "authentication_error"), (400, "invalid_request_error"),
        (400, "invalid_request_error"), (413, "request_too_large")]
    assert [e.user for e in audit.events] == ["unauthenticated"] * 3 + ["alice"] * 3
    assert audit.events[2].endpoint == "/v1/models"
    assert "tok-guess" not in log_text(audit) and "xxxxxxxx" not in log_text(audit)
    assert upstream.received == []


class SignallingSink(MemoryAuditSink):
    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def record(self, event) -> None:  # noqa: ANN001
        super().record(event)
        self.written.set()


def test_stream_abandoned_by_the_client_is_audited():
    release = threading.Event()
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():  # noqa: ANN202
        async def gen():  # noqa: ANN202
            yield 'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n'
            await asyncio.to_thread(release.wait, 10)
            yield "data: [DONE]\n\n"
        return StreamingResponse(gen(), media_type="text/event-stream")

    audit = SignallingSink()
    try:
        with serve(app) as up, serve(create_app(GatewayConfig(upstream_url=up + "/v1"),
                                                audit=audit)) as url:
            with httpx.stream("POST", url + "/v1/chat/completions", timeout=15,
                              json={**MSG, "stream": True}) as r:
                assert next(r.iter_text()).startswith("data:")
            recorded = audit.written.wait(10)  # the client left while the upstream was busy
            release.set()
    finally:
        release.set()
    assert recorded and [(e.status, e.error, e.stream) for e in audit.events] == \
        [(200, "client_disconnected", True)]
