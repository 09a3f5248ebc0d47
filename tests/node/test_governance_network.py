"""Governance on four node processes (`yinji node serve`) on loopback, none restarted: the
offshore broker is unknown to the other three when they start and is added through their
REST APIs (admin tokens), then takes part in a job as an input party; futures' standing
approval, set through the CLI while its process runs, approves the job (lane `tls`)."""

import pytest

from tests.node.test_network import agg_job, check_result
from yinji.cli.main import main as cli
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.node.admin import open_admin
from yinji.node.config import NodeConfig
from yinji.node.identity import export_bundle

pytestmark = pytest.mark.tls

FOUR = ["securities", "fund", "futures", "offshore"]
OTHERS = FOUR[:3]


def test_fifth_company_joins_running_nodes_and_a_cli_rule_approves(tmp_path, capsys):
    root = tmp_path / "net"
    policies = {"securities": [{"protocols": ["mpc.aggregate"]}], "futures": [],
                "fund": [{"protocols": ["mpc.aggregate"]}],
                "offshore": [{"protocols": ["mpc.aggregate"]}]}
    create_network(root, FOUR, job_timeout=30, policies=policies)
    admins = {}
    for n in OTHERS:          # the three start without offshore; each gets an admin token
        with open_admin(root / n, by="test") as admin:
            admin.remove_peer("offshore")
            admins[n] = admin.tokens.add(f"{n}-admin", "admin", by=admin.by)
    start_nodes(root)
    apis = clients(root)
    try:
        for n in OTHERS:
            apis[n].tokens["admin"] = admins[n]
        spec = agg_job(FOUR, ["offshore"])
        spec["params"]["compute"] = OTHERS
        with pytest.raises(RuntimeError, match="unknown node"):
            apis["securities"].call("POST", "/jobs", json=spec)

        bundle = export_bundle(NodeConfig.load(root / "offshore"))
        for n in OTHERS:
            apis[n].call("POST", "/peers", role="admin",
                         json={"bundle": bundle, "fingerprint": bundle["fingerprint"]})
        assert cli(["approvals", "standing", "add", "--home", str(root / "futures"),
                    "--protocol", "mpc.aggregate", "--proposer", "securities",
                    "--recipient", "offshore", "--max", "groups=4"]) == 0
        rule_id = capsys.readouterr().out.split()[2]

        job = apis["securities"].call("POST", "/jobs", json=spec)
        views = wait_job(apis, job["id"], FOUR, timeout=90)
        assert {v["state"] for v in views.values()} == {"succeeded"}, views
        check_result(root, apis, job["id"], FOUR, "offshore")
        futures = next(a for a in views["securities"]["approvals"] if a["node"] == "futures")
        assert futures["record"]["reason"] == f"auto-approved by standing approval {rule_id}"
        for n in OTHERS:
            log = apis[n].call("GET", "/audit", role="auditor", params={"limit": 10000})
            kinds = [e["kind"] for e in log]
            assert kinds.count("node") == 1              # started once, never restarted
            changes = [e["data"] for e in log if e["kind"] == "peer.change"]
            assert changes[-1]["action"] == "added" and changes[-1]["by"] == f"{n}-admin"
            assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]
    finally:
        for api in apis.values():
            api.close()
        stop_nodes(root)
