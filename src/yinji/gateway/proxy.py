"""OpenAI-compatible proxy: /v1/chat/completions (plain and streamed) and /v1/models.

Request path: authenticate (client token) -> size limit -> JSON and shape checks -> pick the
route's policy -> refuse media the detectors cannot read -> open the caller's conversation vault
-> detect and apply the policy to every string the upstream will see (scan.py) -> refuse if a
blocked category was found -> forward with the gateway's API key -> restore placeholders in the
answer (per SSE event when streaming, tool-call arguments included) -> audit. Every call is
audited, refused ones (400, 401, 403, 413) and failed ones too.
Errors use OpenAI's shape {"error": {"message", "type", "code"}} so client libraries show them.

Leakage: the upstream learns the request with detected values replaced (see yinji.gateway);
a caller gets back only values from its own vault; the audit log gets no request text and only
`callers.label`-ed metadata (see callers.py).
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from httpx_sse import EventSource, SSEError
from starlette.background import BackgroundTask

from yinji.crypto.aead import fresh_key
from yinji.gateway import callers
from yinji.gateway.audit import AuditSink, CallRecord, JsonlAuditSink, MemoryAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.policy import policy_for
from yinji.gateway.redact import json_escape, restore
from yinji.gateway.scan import RequestRedactor, media_parts
from yinji.gateway.sse import StreamRewriter, encode
from yinji.gateway.vault import Vault, VaultStore

MAX_CONVERSATION_ID = 200


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
        master = config.vault_key or (fresh_key() if config.encrypt_vault else None)
        self.vaults = VaultStore(ttl=config.vault_ttl, key=master, profile=config.crypto_profile)
        self.digest_key = callers.digest_key(master or fresh_key(), config.crypto_profile)
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

    def caller(self, request: Request, call: CallRecord) -> callers.Caller:
        """The authenticated caller (401 if tokens are configured and this one is unknown)."""
        try:
            caller = callers.authenticate(request, self.config.client_tokens)
        except callers.AuthError as e:
            raise GatewayError(401, "authentication_error", str(e)) from None
        call.user = caller.name if caller.authenticated else self.label(
            callers.header(request, "x-yinji-user"))
        return caller

    def label(self, value: object) -> str:
        return callers.label(value, self.engine(False))


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
    if not isinstance(body.get("model"), str) or not body["model"].strip():
        raise GatewayError(400, "invalid_request_error", "'model' must be a non-empty string")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise GatewayError(400, "invalid_request_error", f"messages[{i}] needs a 'role'")
        c = m.get("content")
        if c is not None and not isinstance(c, str | list):
            raise GatewayError(400, "invalid_request_error",
                               f"messages[{i}].content must be a string or a list of parts")
    for k in ("tools", "functions"):
        if k in body and not isinstance(body[k], list):
            raise GatewayError(400, "invalid_request_error", f"'{k}' must be a list")


def _restore_answer(obj: Any, vault: Vault) -> Any:
    """Every string of each choice's message, restored (tool-call arguments JSON-escaped)."""
    def walk(x: Any, escape: bool = False) -> Any:
        if isinstance(x, str):
            return restore(x, vault, json_escape if escape else None)
        if isinstance(x, list):
            return [walk(v, escape) for v in x]
        if isinstance(x, dict):
            return {k: walk(v, escape or k == "arguments") for k, v in x.items()}
        return x

    for choice in obj.get("choices") or [] if isinstance(obj, dict) else []:
        if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            choice["message"] = walk(choice["message"])
    return obj


def _vault(gw: Gateway, request: Request, caller: callers.Caller, call: CallRecord) -> Vault:
    """The caller's conversation vault, or a fresh one for this request only."""
    conversation = callers.header(request, "x-yinji-conversation")
    if conversation is None:
        return gw.vaults.new()
    if not caller.authenticated:
        raise GatewayError(401, "authentication_error",
                           "X-Yinji-Conversation needs a gateway token: without [clients] tokens "
                           "the gateway cannot tell callers apart and keeps no conversations")
    if not conversation.strip() or len(conversation) > MAX_CONVERSATION_ID:
        raise GatewayError(400, "invalid_request_error",
                           f"X-Yinji-Conversation must be 1-{MAX_CONVERSATION_ID} characters")
    call.conversation = callers.conversation_digest(gw.digest_key, caller.name, conversation,
                                                    gw.config.crypto_profile)
    return gw.vaults.get(caller.name, conversation)


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
        call = CallRecord(gw.audit, "/v1/models")
        try:
            gw.caller(request, call)
            assert gw.client is not None
            call.t_upstream = time.perf_counter()
            try:
                r = await gw.client.get(f"{config.upstream_url}/models",
                                        headers=gw.upstream_headers())
            except httpx.TimeoutException:
                raise GatewayError(504, "upstream_timeout",
                                   "upstream did not answer in time") from None
            except httpx.TransportError as e:
                raise GatewayError(502, "upstream_unreachable",
                                   f"cannot reach upstream: {type(e).__name__}") from None
            if r.status_code >= 400:
                raise GatewayError(502, "upstream_error",
                                   f"upstream returned HTTP {r.status_code}")
        except GatewayError as e:
            call.record(e.status, e.code or e.type)
            raise
        call.record(200)
        return Response(r.content, status_code=200, media_type="application/json")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        call = CallRecord(gw.audit, "/v1/chat/completions")
        try:
            return await _chat(request, call)
        except GatewayError as e:
            call.record(e.status, e.code or e.type)
            raise
        except Exception:
            call.record(500, "internal_error")
            raise

    async def _chat(request: Request, call: CallRecord) -> Response:
        caller = gw.caller(request, call)
        body = await _read_json(request, config.max_body_bytes)
        if not caller.authenticated and call.user == callers.ANONYMOUS:
            call.user = gw.label(body.get("user"))
        _check_chat(body, config.max_messages)
        model = body["model"]
        call.model, call.stream = gw.label(model), bool(body.get("stream"))
        call.route, policy = policy_for(model, config.routes, config.policy)
        engine = gw.engine(policy.amounts_with_person)
        if engine.detect(model, policy.min_confidence):
            raise GatewayError(400, "invalid_request_error",
                               "'model' looks like it holds personal data; it is sent as is")
        media = media_parts(body)
        if media and not policy.media:
            raise GatewayError(400, "invalid_request_error",
                               "the gateway cannot scan images, audio or files, and this route "
                               f"does not allow them: {', '.join(media[:5])}", "media_not_allowed")
        vault = _vault(gw, request, caller, call)
        redactor = RequestRedactor(engine, policy, vault)
        body = redactor.request(body)
        call.counts, call.blocked = redactor.counts, redactor.blocked
        call.detect_ms = (time.perf_counter() - call.t0) * 1000
        if redactor.blocked:
            raise GatewayError(403, "blocked_by_policy",
                               "request refused: it contains data of blocked categories: "
                               + ", ".join(sorted(redactor.blocked)), "blocked_by_policy")
        return await _forward(body, vault, call)

    async def _forward(body: dict[str, Any], vault: Vault, call: CallRecord) -> Response:
        assert gw.client is not None
        req = gw.client.build_request("POST", f"{config.upstream_url}/chat/completions",
                                      json=body, headers=gw.upstream_headers())
        call.t_upstream = time.perf_counter()
        try:
            resp = await gw.client.send(req, stream=call.stream)
        except httpx.TimeoutException:
            raise GatewayError(504, "upstream_timeout",
                               f"upstream did not answer within {config.timeout:g} s") from None
        except httpx.TransportError as e:
            raise GatewayError(502, "upstream_unreachable",
                               f"cannot reach upstream: {type(e).__name__}") from None
        if resp.status_code >= 400:
            detail = (await resp.aread())[:2000].decode(errors="replace")
            await resp.aclose()
            try:
                upstream_msg = json.loads(detail)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                upstream_msg = detail
            raise GatewayError(502 if resp.status_code >= 500 else resp.status_code,
                               "upstream_error", f"upstream returned HTTP {resp.status_code}: "
                               + restore(str(upstream_msg), vault)[:500])
        if not call.stream:
            try:
                obj = resp.json()
            except ValueError:
                raise GatewayError(502, "upstream_bad_response",
                                   "upstream answer is not JSON") from None
            call.record(resp.status_code)
            return JSONResponse(_restore_answer(obj, vault), status_code=resp.status_code)
        if "text/event-stream" not in resp.headers.get("content-type", ""):
            await resp.aclose()
            raise GatewayError(502, "upstream_bad_response",
                               "upstream answered a streamed request without an event stream")
        async def finish() -> None:  # also runs if the client left before the first event
            await resp.aclose()
            call.record(200, "client_disconnected")  # no-op when the relay recorded the call

        return StreamingResponse(_relay(resp, vault, call), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"},
                                 background=BackgroundTask(finish))

    async def _relay(resp: httpx.Response, vault: Vault, call: CallRecord):  # noqa: ANN202
        rw = StreamRewriter(vault)
        error: str | None = "client_disconnected"  # unless the loop below completes
        try:
            try:
                async for sse in EventSource(resp).aiter_sse():
                    yield rw.rewrite(sse)
                error = None
            except httpx.TimeoutException:
                error = "upstream_timeout"
            except httpx.TransportError:
                error = "upstream_unreachable"
            except SSEError:
                error = "upstream_bad_response"
            finally:
                await resp.aclose()
            yield rw.flush()
            if error:
                yield encode(json.dumps({"error": {"message": "upstream stream interrupted",
                                                   "type": error, "code": error}}))
        finally:
            call.record(200, error)

    return app
