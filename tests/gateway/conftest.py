from __future__ import annotations

import json
from pathlib import Path

import pytest

from yinji.gateway.audit import MemoryAuditSink
from yinji.gateway.config import GatewayConfig
from yinji.gateway.proxy import create_app
from yinji.testing.fake_llm import FakeUpstream
from yinji.testing.servers import serve

CORPUS = Path(__file__).resolve().parents[1] / "data" / "gateway_corpus.jsonl"


@pytest.fixture(scope="session")
def corpus() -> list[dict]:
    with open(CORPUS, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture()
def upstream():
    fake = FakeUpstream()
    with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture()
def gateway(upstream):
    """(base URL, config, audit sink) of a gateway in front of the fake upstream."""
    audit = MemoryAuditSink()
    cfg = GatewayConfig(upstream_url=upstream.url + "/v1", api_key="sk-upstream", timeout=5)
    with serve(create_app(cfg, audit=audit)) as url:
        yield url, cfg, audit
