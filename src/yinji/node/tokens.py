"""API tokens: random bearer secrets with a role, an expiry and a revocation; only their
SHA-256 is stored. Creating and revoking a token is an audit event (`TokenEvent`: id, name,
role, who, expiry -- never the token or its hash), whichever interface did it.

A token is accepted only while it is neither revoked nor past its expiry; anything else gets
the same 401 as an unknown token. Tokens are created on the node's machine only (`yinji token
add`): the API has no route that creates one, so no role can mint itself another role.

A `metrics` token (a Prometheus server's `bearer_token_file`) may read GET /metrics and
nothing else; operator and auditor tokens may read it too.

A `caller` token (a client program of a published scenario API, yinji.node.scenarios) carries
scopes, each `scenario:NAME/vN`, and can do nothing but call those endpoints: every other
route requires one of the other roles. A revoked caller token is refused at its next call
(tokens are looked up in the store at every request; there is no cache).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from yinji.node.audit import TokenEvent
from yinji.node.config import parse_lifetime
from yinji.node.store import Store

if TYPE_CHECKING:
    from yinji.node.audit import AuditLog

ROLES = ("operator", "approver", "auditor", "admin", "caller", "metrics")
# admin: peers only (api/peer_routes); caller: only the scenario endpoints its scopes name
SCOPE = re.compile(r"^scenario:[a-z0-9][a-z0-9-]{0,62}/v[1-9][0-9]{0,5}$")


class TokenError(ValueError):
    """A token request that cannot be honoured; `status` is the HTTP status to use."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state(row: dict[str, Any], now: float | None = None) -> str:
    """active | expired | revoked"""
    if row.get("revoked") is not None:
        return "revoked"
    if row.get("expires") is not None and (now or time.time()) >= row["expires"]:
        return "expired"
    return "active"


class Tokens:
    def __init__(self, store: Store, audit: AuditLog, default_lifetime: str = "90d") -> None:
        self.store, self.audit = store, audit
        self.default_lifetime = default_lifetime

    def add(self, name: str, role: str, *, by: str, lifetime: str | None = "default",
            scopes: list[str] | None = None) -> str:
        """Create a token for `name` with `role`, valid for `lifetime` ('90d', '12h', 'never';
        'default' = the node's token_lifetime). Returns it once; only its hash is stored.
        `scopes`: for the caller role only (and required there), `scenario:NAME/vN` each."""
        if role not in ROLES:
            raise TokenError(f"role must be one of {', '.join(ROLES)}")
        scopes = sorted(set(scopes)) if scopes else None
        if role == "caller":
            bad = [s for s in scopes or [] if not SCOPE.match(s)]
            if not scopes or bad:
                raise TokenError("a caller token needs scopes of the form "
                                 "scenario:NAME/vN (e.g. scenario:qualified-investor-check/v1)"
                                 + (f"; got {bad[0]!r}" if bad else ""))
        elif scopes:
            raise TokenError(f"only caller tokens have scopes (role {role} has none)")
        if not name or len(name) > 200:
            raise TokenError("a token needs a name (at most 200 characters)")
        try:
            seconds = parse_lifetime(self.default_lifetime if lifetime == "default"
                                     else lifetime)
        except ValueError as exc:
            raise TokenError(str(exc)) from None
        expires = None if seconds is None else round(time.time() + seconds, 3)
        token = "yj_" + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(8)
        self.store.add_token(token_id, name, role, hash_token(token), expires, scopes)
        try:
            self.audit.append(TokenEvent(token_id, name, role, "created", by, expires,
                                         scopes or []))
        except BaseException:
            self.store.delete_token(token_id)   # an unaudited token does not stay
            raise
        return token

    def list(self) -> list[dict[str, Any]]:
        now = time.time()
        return [{**r, "scopes": _scopes(r), "state": state(r, now)}
                for r in self.store.list_tokens()]

    def revoke(self, ref: str, *, by: str) -> list[dict[str, Any]]:
        """Revoke the token with id `ref`, or else every active token named `ref`."""
        rows = self.list()
        hit = [r for r in rows if r["id"] == ref] or \
            [r for r in rows if r["name"] == ref and r["state"] == "active"]
        if not hit:
            raise TokenError(f"no token with id or (active) name {ref!r}", 404)
        done = []
        for r in hit:
            if r["revoked"] is not None:
                raise TokenError(f"token {r['id']} ({r['name']}) is already revoked", 409)
            self.store.set_token_revoked(r["id"], time.time())
            try:
                self.audit.append(TokenEvent(r["id"], r["name"], r["role"], "revoked", by,
                                             r["expires"]))
            except BaseException:
                self.store.set_token_revoked(r["id"], None)
                raise
            done.append(r)
        return done

    def principal(self, token: str) -> dict[str, Any] | None:
        """The token's row if it is known, not revoked and not expired; else None."""
        row = self.store.token_by_hash(hash_token(token))
        if row is None or state(row) != "active":
            return None
        return {**{k: v for k, v in row.items() if k != "token_hash"}, "scopes": _scopes(row)}


def _scopes(row: dict[str, Any]) -> list[str]:
    return json.loads(row["scopes"]) if row.get("scopes") else []
