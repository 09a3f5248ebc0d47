"""Three nodes in this process (own mutual-TLS data planes on loopback, REST API through the
ASGI test client) for the governance tests: standing approvals, proposals, peers."""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from yinji.cli.network import SEGMENTS, write_sample_data
from yinji.net.ports import free_ports
from yinji.node.api import create_app
from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.config import NodeConfig
from yinji.node.identity import add_peer, export_bundle, init_node
from yinji.node.node import Node

TRIO = ["securities", "fund", "futures"]
FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")


@dataclass
class Member:
    node: Node
    api: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    decided: threading.Event = field(default_factory=threading.Event)

    def call(self, method: str, path: str, role: str = "operator", expect: int | None = None,
             **kw: Any) -> Any:
        r = self.api.request(method, path, headers={
            "Authorization": f"Bearer {self.tokens[role]}"}, **kw)
        if expect is not None:
            assert r.status_code == expect, r.text
        elif r.status_code >= 400:
            raise AssertionError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()


def make_homes(root: Path, names: list[str], trust: dict[str, list[str]],
               auto: dict[str, list[dict]], extra_protocols: tuple[str, ...] = (),
               customers: int = 120) -> None:
    """Node folders; `trust[name]`: the peers it knows at start."""
    ports = free_ports(2 * len(names))
    cfgs = {n: init_node(root / n, n, api_port=ports[2 * k], dataplane_port=ports[2 * k + 1])
            for k, n in enumerate(names)}
    bundles = {n: export_bundle(c) for n, c in cfgs.items()}
    write_sample_data(root, names, seed=7, customers=customers)
    for name, cfg in cfgs.items():
        for other in trust[name]:
            add_peer(cfg, bundles[other], bundles[other]["fingerprint"])
        cfg = NodeConfig.load(cfg.home)
        cfg.anchor_period = 0
        cfg.job_timeout = 30
        cfg.auto_approve = auto.get(name, [])
        cfg.save()


def start(root: Path, name: str) -> Member:
    node = Node(root / name)
    node.catalog.register(Dataset(
        id="customers", kind="csv", location="data/customers.csv",
        schema={"customer_id": "string", "segment": "string", "assets_cny": "float"},
        policy=[PolicyRule(columns=["segment", "assets_cny"],
                           protocols=["mpc.aggregate", "app.headcount"])]), by="test")
    node.start()
    m = Member(node, TestClient(create_app(node)))
    m.tokens = {role: node.add_token(f"{name}-{role}", role)
                for role in ("operator", "approver", "auditor", "admin")}
    signal_policy_done(m)
    return m


def signal_policy_done(m: Member) -> None:
    """Set `m.decided` each time this node's policy has looked at a peer's proposal (a test
    hook, so tests wait for the decision instead of sleeping)."""
    original = m.node.jobs._policy_later

    def wrapped(spec: dict) -> None:
        try:
            original(spec)
        finally:
            m.decided.set()
    m.node.jobs._policy_later = wrapped


def agg_job(parties: list[str], recipients: list[str], groups: list[str] | None = None,
            **params: Any) -> dict[str, Any]:
    return {"protocol": "mpc.aggregate",
            "inputs": {n: {"dataset": "customers", "columns": ["segment", "assets_cny"]}
                       for n in parties},
            "params": {"groups": groups or SEGMENTS, "metrics": ["sum", "count"], **params},
            "recipients": recipients}


def wait_final(members: dict[str, Member], job_id: str, names: list[str],
               timeout: float = 60.0) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    views: dict[str, dict] = {}
    while True:
        for n in names:
            views[n] = members[n].call("GET", f"/jobs/{job_id}", role="auditor")
        if all(v["state"] in FINAL for v in views.values()):
            return views
        assert time.monotonic() < deadline, {n: v["state"] for n, v in views.items()}
        time.sleep(0.05)   # polling a state, not waiting for time to pass


def plaintext(root: Path, parties: list[str], groups: list[str]) -> tuple[list, list]:
    sums, counts = dict.fromkeys(groups, 0.0), dict.fromkeys(groups, 0)
    for n in parties:
        with open(root / n / "data" / "customers.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                if r["segment"] in sums:
                    sums[r["segment"]] += float(r["assets_cny"])
                    counts[r["segment"]] += 1
    return [sums[g] for g in groups], [counts[g] for g in groups]
