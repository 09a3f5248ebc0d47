"""OpenAI-compatible proxy: /v1/chat/completions (plain and streamed) and /v1/models.

Request path: size limit -> JSON and shape checks -> detect and apply the route's policy to
every message -> refuse if a blocked category was found -> forward to the upstream with the
gateway's API key -> restore placeholders in the answer (per SSE event when streaming) -> audit.
Errors use OpenAI's shape {"error": {"message", "type", "code"}} so client libraries show them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from yinji.crypto.aead import fresh_key
from yinji.gateway.audit import AuditSink, GatewayCallEvent, JsonlAuditSink, MemoryAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import policy_for
from yinji.gateway.redact import apply_policy, restore
from yinji.gateway.sse import StreamRewriter, events
from yinji.gateway.vault import Vault, VaultStore


class GatewayError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.code = status, type_, message, code

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": self.message, "type": self.type,
                                       "code": self.code or self.type}}, status_code=self.status)


class Gateway:
    """State shared by the routes: config, detectors, vaults, audit sink, upstream client."""

    def __init__(self, config: GatewayConfig, audit: AuditSink | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        key = config.vault_key or (fresh_key() if config.encrypt_vault else None)
        self.vaults = VaultStore(ttl=config.vault_ttl, key=key, profile=config.crypto_profile)
        self.audit = audit or (JsonlAuditSink(config.audit_path) if config.audit_path
                               else MemoryAuditSink())
        self._engines: dict[int, DetectorEngine] = {}
        self._transport = transport
        self.client: httpx.AsyncClient | None = None

    def engine(self, amounts_with_person: bool) -> DetectorEngine:
        k = int(amounts_with_person)
        if k not in self._engines:
            self._engines[k] = DetectorEngine(account_patterns=self.config.account_patterns,
                                              amounts_with_person=amounts_with_person)
        return self._engines[k]

    async def start(self) -> None:
        self.engine(False).warm_up()
        t = self.config.timeout
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(t, connect=min(t, 10.0)), transport=self._transport,
            limits=httpx.Limits(max_keepalive_connections=20, max_connections=100))

    async def stop(self) -> None:
        if self.client:
            await self.client.aclose()

    def upstream_headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
        if self.config.api_key:
            h["Authorization"] = f"Bearer {self.config.api_key}"
        return h

    def user(self, request: Request, body: dict[str, Any] | None) -> str:
        tokens = self.config.client_tokens
        auth = request.headers.get("authorization", "")
        if tokens:
            token = auth.removeprefix("Bearer ").strip()
            if token not in tokens:
                raise GatewayError(401, "authentication_error", "unknown or missing gateway token")
            return tokens[token]
        hdr = request.headers.get("x-yinji-user")
        if hdr:
            return hdr
        if body and isinstance(body.get("user"), str):
            return body["user"]
        return "anonymous"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


async def _read_json(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise GatewayError(413, "request_too_large", f"request body exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise GatewayError(413, "request_too_large", f"request body exceeds {limit} bytes")
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GatewayError(400, "invalid_request_error", "request body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise GatewayError(400, "invalid_request_error", "request body must be a JSON object")
    return obj


def _check_chat(body: dict[str, Any], max_messages: int) -> None:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise GatewayError(400, "invalid_request_error", "'messages' must be a non-empty list")
    if len(msgs) > max_messages:
        raise GatewayError(413, "request_too_large", f"more than {max_messages} messages")
    if not isinstance(body.get("model"), str):
        raise GatewayError(400, "invalid_request_error", "'model' must be a string")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise GatewayError(400, "invalid_request_error", f"messages[{i}] needs a 'role'")
        c = m.get("content")
        if c is not None and not isinstance(c, str | list):
            raise GatewayError(400, "invalid_request_error",
                               f"messages[{i}].content must be a string or a list of parts")


def _texts(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(container, key) of every text field we scan: message contents and text parts."""
    out = []
    for m in body["messages"]:
        c = m.get("content")
        if isinstance(c, str):
            out.append((m, "content"))
        elif isinstance(c, list):
            out.extend((p, "text") for p in c
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return out


def _restore_answer(obj: Any, vault: Vault) -> Any:
    for choice in obj.get("choices") or [] if isinstance(obj, dict) else []:
        msg = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(msg, dict):
            if isinstance(msg.get("content"), str):
                msg["content"] = restore(msg["content"], vault)
            for call in msg.get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    fn["arguments"] = restore(fn["arguments"], vault)
    return obj


def create_app(config: GatewayConfig, *, audit: AuditSink | None = None,
               transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    gw = Gateway(config, audit, transport)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202 - FastAPI's lifespan protocol
        await gw.start()
        yield
        await gw.stop()

    app = FastAPI(title="Yinji LLM privacy gateway", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.gateway = gw

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return exc.response()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        gw.user(request, None)
        assert gw.client is not None
        try:
            r = await gw.client.get(f"{config.upstream_url}/models", headers=gw.upstream_headers())
        except httpx.TimeoutException:
            raise GatewayError(504, "upstream_timeout", "upstream did not answer in time") from None
        except httpx.TransportError as e:
            raise GatewayError(502, "upstream_unreachable",
                               f"cannot reach upstream: {type(e).__name__}") from None
        if r.status_code >= 400:
            raise GatewayError(502, "upstream_error", f"upstream returned HTTP {r.status_code}")
        return Response(r.content, status_code=200, media_type="application/json")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        t0 = time.perf_counter()
        body = await _read_json(request, config.max_body_bytes)
        user = gw.user(request, body)
        _check_chat(body, config.max_messages)
        model = body["model"]
        stream = bool(body.get("stream"))
        route, policy = policy_for(model, config.routes, config.policy)
        conversation = request.headers.get("x-yinji-conversation")
        vault = gw.vaults.get(conversation) if conversation else gw.vaults.new()
        engine = gw.engine(policy.amounts_with_person)
        counts: Counter[str] = Counter()
        blocked: set[str] = set()
        for container, key in _texts(body):
            red = apply_policy(container[key], engine, policy, vault)
            container[key] = red.text
            counts.update(red.counts)
            blocked |= red.blocked
        detect_ms = (time.perf_counter() - t0) * 1000

        def event(status: int, error: str | None = None, upstream_ms: float = 0.0) -> None:
            gw.audit.record(GatewayCallEvent(
                time=_now(), user=user, endpoint="/v1/chat/completions", model=model, route=route,
                conversation=conversation, categories=dict(counts), blocked=bool(blocked),
                blocked_categories=tuple(sorted(blocked)), status=status, stream=stream,
                detect_ms=round(detect_ms, 3), upstream_ms=round(upstream_ms, 3), error=error))

        if blocked:
            event(403, "blocked_by_policy")
            raise GatewayError(403, "blocked_by_policy",
                               "request refused: it contains data of blocked categories: "
                               + ", ".join(sorted(blocked)), "blocked_by_policy")
        body.pop("user", None)  # staff identifiers stay inside
        assert gw.client is not None
        req = gw.client.build_request("POST", f"{config.upstream_url}/chat/completions",
                                      json=body, headers=gw.upstream_headers())
        t1 = time.perf_counter()
        try:
            resp = await gw.client.send(req, stream=stream)
        except httpx.TimeoutException:
            event(504, "upstream_timeout", (time.perf_counter() - t1) * 1000)
            raise GatewayError(504, "upstream_timeout",
                               f"upstream did not answer within {config.timeout:g} s") from None
        except httpx.TransportError as e:
            event(502, "upstream_unreachable", (time.perf_counter() - t1) * 1000)
            raise GatewayError(502, "upstream_unreachable",
                               f"cannot reach upstream: {type(e).__name__}") from None
        if resp.status_code >= 400:
            detail = (await resp.aread())[:2000].decode(errors="replace")
            await resp.aclose()
            event(resp.status_code, "upstream_error", (time.perf_counter() - t1) * 1000)
            try:
                upstream_msg = json.loads(detail)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                upstream_msg = detail
            raise GatewayError(502 if resp.status_code >= 500 else resp.status_code,
                               "upstream_error", f"upstream returned HTTP {resp.status_code}: "
                               + restore(str(upstream_msg), vault)[:500])
        if not stream:
            try:
                obj = resp.json()
            except ValueError:
                event(502, "upstream_bad_response", (time.perf_counter() - t1) * 1000)
                raise GatewayError(502, "upstream_bad_response",
                                   "upstream answer is not JSON") from None
            event(resp.status_code, None, (time.perf_counter() - t1) * 1000)
            return JSONResponse(_restore_answer(obj, vault), status_code=resp.status_code)

        async def relay():  # noqa: ANN202 - async generator
            rw = StreamRewriter(vault)
            error = None
            try:
                async for ev in events(resp.aiter_text()):
                    yield rw.rewrite(ev)
                yield rw.flush()
            except httpx.TimeoutException:
                error = "upstream_timeout"
            except httpx.TransportError:
                error = "upstream_unreachable"
            finally:
                await resp.aclose()
            if error:
                yield rw.flush()
                yield "data: " + json.dumps({"error": {
                    "message": "upstream stream interrupted", "type": error, "code": error}}) + "\n\n"
            event(200, error, (time.perf_counter() - t1) * 1000)

        return StreamingResponse(relay(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    return app
