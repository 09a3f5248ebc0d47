"""`make demo`, scenario API part: the qualified-investor check published as a scenario API
at the demo's requester, approved once by every company's approver, called once by a client
program (plain httpx with a caller token scoped to the endpoint), the answer checked against
the plaintext computation and the call id found, with the same params hash, in the audit log
of every node that took part. Call `run_scenario_api(root)` after the apps' demos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yinji.cli.apps_demo import register_datasets
from yinji.cli.network import COMPANIES, clients

NAME = "qualified-investor-check"


def run_scenario_api(root: Path, out: Any = print, timeout: float = 300.0) -> bool:
    """True if the published endpoint answered like the plaintext computation and every
    participant logged the call."""
    import httpx
    import yaml

    from yinji.node import app_runner
    from yinji.node.admin import open_admin

    homes = {n: Path(i["home"]) for n, i in
             yaml.safe_load((root / "network.yaml").read_text())["nodes"].items()}
    apis = clients(root)
    try:
        app = app_runner.get("qualified-investor")
        plan = app.demo({n: h / "data" for n, h in homes.items() if n in COMPANIES})
        register_datasets(apis, plan)
        me = plan.proposer
        pub = apis[me].call("POST", "/scenarios", json={
            "name": NAME, "app": app.name, "title": "Qualified-investor check for onboarding",
            "params": plan.request["params"], "bounds": {"batch_size": {"max": 100}},
            "inputs": plan.request["inputs"], "callers": ["onboarding"],
            "quota": {"per_minute": 10, "per_day": 1000}})
        path, version = pub["path"], pub["version"]
        for n in pub["waiting_for"]:
            apis[n].call("POST", f"{path}/approve", role="approver", params={"publisher": me},
                         json={"reason": "demo: read and approved"})
        with open_admin(homes[me], by="yinji demo") as admin:
            token = admin.tokens.add("onboarding", "caller", by=admin.by, lifetime="1d",
                                     scopes=[f"scenario:{NAME}/v{version}"])
        r = httpx.post(f"{apis[me].url}{path}", timeout=timeout + 30, verify=apis[me].verify,
                       headers={"Authorization": f"Bearer {token}"},
                       json={"private": plan.request["private"], "timeout": timeout})
        if r.status_code != 200:
            out(f"scenario API {NAME}/v{version}: {r.status_code} {r.text[:300]}")
            return False
        body = r.json()
        problems = plan.check({me: body["result"]}) if plan.check else []
        served = apis[me].call("GET", "/scenarios/calls", role="auditor",
                               params={"call_id": body["call_id"]})
        digest = next(e["params_sha256"] for e in served if e["where"] == "endpoint")
        missing = [n for n in pub["definition"]["inputs"] if not any(
            e["where"] == "participant" and e["params_sha256"] == digest
            for e in apis[n].call("GET", "/scenarios/calls", role="auditor",
                                  params={"call_id": body["call_id"]}))]
        problems += [f"call not in the audit log of {', '.join(missing)}"] if missing else []
        latency = next(e["latency_ms"] for e in served if e["where"] == "endpoint")
        out(f"scenario API {path} at {me}: one call by 'onboarding' -> 200 in {latency:.0f} ms;"
            f" call {body['call_id'][:8]} in the audit log of "
            f"{len(pub['definition']['inputs']) - len(missing)} nodes with the same params "
            "hash; " + ("matches the plaintext computation" if not problems
                        else "; ".join(problems)))
        return not problems
    finally:
        for api in apis.values():
            api.close()
