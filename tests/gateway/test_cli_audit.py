from __future__ import annotations

import json

import pytest

from yinji.cli.main import build_parser
from yinji.gateway.audit import GatewayCallEvent, JsonlAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.vault import VaultStore


def test_cli_registers_gateway():
    args = build_parser().parse_args(["gateway", "serve", "--port", "9999"])
    assert args.port == 9999 and callable(args.func)


def test_jsonl_audit_appends(tmp_path):
    sink = JsonlAuditSink(tmp_path / "audit" / "calls.jsonl")
    for i in range(2):
        sink.record(GatewayCallEvent(time="t", user=f"u{i}", endpoint="/v1/chat/completions",
                                     model="m", route="default", conversation=None,
                                     categories={"person": 2}))
    lines = (tmp_path / "audit" / "calls.jsonl").read_text().splitlines()
    assert [json.loads(x)["user"] for x in lines] == ["u0", "u1"]


def test_config_rejects_empty_client_tokens():
    with pytest.raises(ValueError, match="clients"):
        GatewayConfig.from_dict({"clients": {"tok-1": ""}})
    with pytest.raises(ValueError, match="32 bytes"):
        VaultStore(key=b"short")


def test_config_from_toml(tmp_path):
    p = tmp_path / "gw.toml"
    p.write_text("""
[upstream]
url = "https://llm.example/v1/"
timeout = 12
[limits]
max_body_bytes = 5000
[policy]
surrogates = true
media = true
[policy.actions]
id_number = "block"
[[routes]]
model = "internal-*"
actions = { id_number = "pseudonymise" }
[[account_patterns]]
name = "hk_client"
value = 'HK\\d{7}'
cue = "client code"
""")
    cfg = GatewayConfig.load(p, env={"YINJI_GATEWAY_API_KEY": "sk-x"})
    assert cfg.upstream_url == "https://llm.example/v1" and cfg.api_key == "sk-x"
    assert cfg.policy.action("id_number") == "block" and cfg.policy.surrogates
    assert cfg.routes[0].policy.action("id_number") == "pseudonymise"
    assert cfg.routes[0].policy.surrogates and cfg.routes[0].policy.media
    assert cfg.account_patterns[-1].name == "hk_client"
