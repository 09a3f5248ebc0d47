"""Who is calling, and what of the request's metadata may be written to the audit log.

Why: a vault must belong to a caller the gateway has authenticated (a bearer token from the
`[clients]` table), never to a name the request merely claims: otherwise anyone who sends the
same conversation id gets someone else's values restored. Without client tokens the gateway
cannot tell callers apart, so it keeps no conversation vaults at all.

Request metadata (the `X-Yinji-User` header, the body's `user`, the model name) is chosen by
the client and may hold an e-mail or a name; it reaches the audit log only through `label`,
which replaces what the detectors find (and anything e-mail-like, and runs of 11 or more
digits) with a category tag. Conversation ids are logged as a keyed digest, never as sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from starlette.requests import Request

from yinji.crypto.aead import SM4_GCM, hkdf_sm3, hmac_sm3, profile_cipher
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.vault import LABELS

ANONYMOUS = "anonymous"
UNAUTHENTICATED = "unauthenticated"
MAX_LABEL = 64
_EMAILISH = re.compile(r"\S*@\S*")
_DIGITS = re.compile(r"\d{11,}")  # phone, ID, card and account lengths
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Caller:
    """`name` is from the gateway's own `[clients]` table when `authenticated`."""

    name: str
    authenticated: bool


class AuthError(Exception):
    """No or an unknown bearer token while client tokens are configured."""


def authenticate(request: Request, tokens: dict[str, str]) -> Caller:
    """The caller of `request`: its token's user name, or an unauthenticated caller."""
    if not tokens:
        return Caller(ANONYMOUS, False)
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    token = token.strip().encode()
    name = None
    if scheme.lower() == "bearer" and token:
        for known, user in tokens.items():  # constant time per entry, no early exit
            if hmac.compare_digest(known.encode(), token):
                name = user
    if name is None:
        raise AuthError("unknown or missing gateway token")
    return Caller(name, True)


def header(request: Request, name: str) -> str | None:
    """A request header as text: HTTP carries bytes, Starlette reads them as latin-1, clients
    send UTF-8 (张伟 must be seen as 张伟 by the detectors, not as mojibake)."""
    v = request.headers.get(name)
    if v is None:
        return None
    try:
        return v.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return v


def label(value: object, engine: DetectorEngine) -> str:
    """A client-chosen name made safe for the audit log: personal values become [CATEGORY]."""
    if not isinstance(value, str) or not value.strip():
        return ANONYMOUS
    text = _CONTROL.sub(" ", value.strip())[:MAX_LABEL]
    out, pos = [], 0
    for d in engine.detect(text, 0.3):
        out += [text[pos:d.start], f"[{LABELS.get(d.category, d.category.upper())}]"]
        pos = d.end
    out.append(text[pos:])
    text = _EMAILISH.sub("[EMAIL]", "".join(out))
    return _DIGITS.sub("[NUMBER]", text)


def digest_key(master: bytes, profile: str = "international") -> bytes:
    """The key of `conversation_digest`, derived from the vault master key."""
    if profile_cipher(profile) == SM4_GCM:
        return hkdf_sm3(master, b"yinji/gateway/audit-digest", 32)
    return hashlib.blake2b(b"yinji/gateway/audit-digest", key=master).digest()


def conversation_digest(key: bytes, caller: str, conversation: str,
                        profile: str = "international") -> str:
    """A keyed digest of (caller, conversation): links one conversation's calls in the log
    (BLAKE2b, or HMAC-SM3 under the `sm` profile; 64 bits)."""
    data = b"".join(len(b).to_bytes(4, "big") + b for b in (caller.encode(), conversation.encode()))
    if profile_cipher(profile) == SM4_GCM:
        return hmac_sm3(key, b"yinji-gw-conv" + data)[:8].hex()
    return hashlib.blake2b(data, key=key, digest_size=8, person=b"yinji-gw-conv").hexdigest()
