"""Hidden-intersection join for the SQL engine (placeholder until implemented)."""

from __future__ import annotations


def use_hidden_join(q, allow) -> bool:  # type: ignore[no-untyped-def]
    return False


def hidden_join_context(s, q, shared, string_key):  # type: ignore[no-untyped-def]
    raise NotImplementedError
