"""Gateway configuration: upstream, limits, policies, vault; from a TOML file and environment.

The upstream API key is read from the environment (YINJI_GATEWAY_API_KEY) or a file named in
the config, never written into the config file itself; the vault key likewise
(YINJI_GATEWAY_VAULT_KEY, 64 hex characters) or generated at start when encryption is on.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yinji.crypto.profile import get_profile
from yinji.gateway.detectors.accounts import DEFAULT_ACCOUNT_PATTERNS, AccountPattern
from yinji.gateway.policy import Policy, Route


@dataclass
class GatewayConfig:
    upstream_url: str = "http://127.0.0.1:9000/v1"
    api_key: str | None = None
    timeout: float = 60.0  # seconds for the upstream to answer (and between streamed chunks)
    max_body_bytes: int = 1_000_000
    max_messages: int = 500
    policy: Policy = field(default_factory=Policy)
    routes: list[Route] = field(default_factory=list)
    vault_ttl: float = 3600.0
    encrypt_vault: bool = True
    vault_key: bytes | None = None
    crypto_profile: str = "international"  # "sm": the vault seals with SM4-GCM, tags HMAC-SM3
    audit_path: str | None = None
    # bearer token -> user name. Only with tokens does the gateway know who calls: vaults are
    # scoped by that name, and conversations (X-Yinji-Conversation) are refused without it.
    client_tokens: dict[str, str] = field(default_factory=dict)
    account_patterns: tuple[AccountPattern, ...] = DEFAULT_ACCOUNT_PATTERNS
    host: str = "127.0.0.1"
    port: int = 8787

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GatewayConfig:
        up = d.get("upstream", {})
        lim = d.get("limits", {})
        vault = d.get("vault", {})
        policy = Policy.from_dict(d.get("policy", {}))
        routes = [Route(r["model"], Policy.from_dict(r, policy)) for r in d.get("routes", [])]
        patterns = tuple(AccountPattern(p["name"], p["value"], p.get("cue"),
                                        float(p.get("confidence", 0.9)), int(p.get("gap", 8)))
                         for p in d.get("account_patterns", []))
        key = None
        if up.get("api_key_file"):
            key = Path(up["api_key_file"]).read_text().strip()
        server = d.get("server", {})
        clients = d.get("clients", {})
        if not isinstance(clients, dict) or not all(
                isinstance(x, str) and x.strip() for kv in clients.items() for x in kv):
            raise ValueError("[clients] maps each bearer token to a user name; both must be "
                             "non-empty strings")
        return cls(
            upstream_url=up.get("url", cls.upstream_url).rstrip("/"),
            api_key=key,
            timeout=float(up.get("timeout", cls.timeout)),
            max_body_bytes=int(lim.get("max_body_bytes", cls.max_body_bytes)),
            max_messages=int(lim.get("max_messages", cls.max_messages)),
            policy=policy,
            routes=routes,
            vault_ttl=float(vault.get("ttl", cls.vault_ttl)),
            encrypt_vault=bool(vault.get("encrypt", cls.encrypt_vault)),
            crypto_profile=get_profile(d.get("crypto_profile", cls.crypto_profile)).name,
            audit_path=d.get("audit", {}).get("path"),
            client_tokens=dict(clients),
            account_patterns=DEFAULT_ACCOUNT_PATTERNS + patterns,
            host=server.get("host", cls.host),
            port=int(server.get("port", cls.port)),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None,
             env: dict[str, str] | None = None) -> GatewayConfig:
        """Read `path` (TOML) if given, then apply YINJI_GATEWAY_* environment overrides."""
        env = dict(os.environ) if env is None else env
        data: dict[str, Any] = {}
        if path:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        cfg = cls.from_dict(data)
        if env.get("YINJI_GATEWAY_UPSTREAM_URL"):
            cfg.upstream_url = env["YINJI_GATEWAY_UPSTREAM_URL"].rstrip("/")
        if env.get("YINJI_GATEWAY_API_KEY"):
            cfg.api_key = env["YINJI_GATEWAY_API_KEY"]
        if env.get("YINJI_GATEWAY_VAULT_KEY"):
            cfg.vault_key = bytes.fromhex(env["YINJI_GATEWAY_VAULT_KEY"])
        return cfg
