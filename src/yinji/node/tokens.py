"""API tokens: random bearer secrets with a role; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from yinji.node.store import Store

ROLES = ("operator", "approver", "auditor")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(store: Store, name: str, role: str) -> str:
    """Create a token for `name` with `role`; the token is returned once and never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = "yj_" + secrets.token_urlsafe(32)
    store.add_token(secrets.token_hex(8), name, role, hash_token(token))
    return token
