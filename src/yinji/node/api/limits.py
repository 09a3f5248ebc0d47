"""Request-body limits of the node API, enforced before authentication and before the body.

Why a middleware: FastAPI reads and parses a request's body before it runs the route's
dependencies, the bearer-token check among them, so a client without a token could make the
node receive and buffer a body of any size before it is told 401. `BodyLimit` looks at the
headers first: a body announced (Content-Length) over the limit is refused at once, without
reading it — 401 when the request has no valid token (whose limit is `MAX_ANONYMOUS_BODY`),
413 when it has one (`MAX_BODY`). A chunked body, whose size is not announced, is read up to
the limit and refused as soon as it passes it. The server then closes the connection rather
than read the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 8 << 20  # the largest request (10,000 IDs to score) is well under 1 MiB
MAX_ANONYMOUS_BODY = 64 << 10  # read before the route answers 401 without a valid token


class BodyLimit:
    """ASGI middleware: refuse oversized request bodies before reading them.

    `principal(token)` returns the token's principal or None (the node's token store); it is
    asked only for requests that carry a body. An over-limit caller with a valid token is put
    in the request state, so the API audit names it.
    """

    def __init__(self, app: ASGIApp, principal: Callable[[str], dict | None],
                 max_body: int = MAX_BODY, max_anonymous: int = MAX_ANONYMOUS_BODY) -> None:
        self.app, self.principal = app, principal
        self.max_body, self.max_anonymous = max_body, max_anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        announced = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and announced in (None, "0"):
            await self.app(scope, receive, send)
            return
        if announced is not None and not announced.isdigit():
            await _refuse(400, "Content-Length is not a number")(scope, receive, send)
            return
        who = await self._who(headers.get("authorization", ""))
        limit = self.max_body if who else self.max_anonymous
        if who:
            scope.setdefault("state", {})["principal"] = who
        if announced is not None and int(announced) > limit:
            await self._too_big(who, int(announced), limit)(scope, receive, send)
            return
        if not chunked:  # the server stops the body at its Content-Length
            await self.app(scope, receive, send)
            return
        body = await _read_up_to(receive, limit)
        if body is None:
            await self._too_big(who, None, limit)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _who(self, authorization: str) -> dict | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await run_in_threadpool(self.principal, token.strip())

    @staticmethod
    def _too_big(who: dict | None, size: int | None, limit: int) -> JSONResponse:
        body = "request body" if size is None else f"request body of {size} bytes"
        if who is None:
            return _refuse(401, f"missing or unknown bearer token (needed for a {body} over "
                                f"{limit} bytes)", {"WWW-Authenticate": "Bearer"})
        return _refuse(413, f"{body} exceeds the limit of {limit} bytes")


def _refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status,
                        headers={"Connection": "close", **(headers or {})})


async def _read_up_to(receive: Receive, limit: int) -> bytes | None:
    """The whole body if it holds at most `limit` bytes, else None (after limit + 1)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # disconnected: the app sees an empty tail
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Any]:
    """The body already read as one message, then the server's own messages (disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return replay


__all__ = ["MAX_ANONYMOUS_BODY", "MAX_BODY", "BodyLimit"]
