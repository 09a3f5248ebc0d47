"""`model.sslr` on three node processes over mutual TLS, REST API only: fund (label) and
securities (features) are the data owners, futures the helper (third MPC party, without the
dataset). The job joins their rows with the hidden-intersection join and trains SS-LR; every
party stores its share set with the same version; metrics reach fund only."""

import csv
import json

import numpy as np
import pytest

from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job

pytestmark = pytest.mark.tls
pytest.importorskip("yinji.psi.join")

NODES = ["fund", "securities", "futures"]
OWNERS = ["fund", "securities"]
COLUMNS = {"fund": ["income", "converted"], "securities": ["assets", "trades"]}
RULES = [{"columns": ["*"], "protocols": ["model.sslr"]}]
POLICIES = dict.fromkeys(NODES, [{"protocols": ["model.sslr"]}])


def spec(**over):
    body = {"protocol": "model.sslr",
            "inputs": {n: {"dataset": "leads", "columns": ["customer_id", *COLUMNS[n]]}
                       for n in OWNERS},
            "params": {"model": "lead-lr", "label_holder": "fund", "label": "converted",
                       "epochs": 2, "batch_size": 64, "learning_rate": 0.5,
                       "validation": 0.25},
            "recipients": ["fund"], "helpers": ["futures"]}
    return {**body, **over}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """300 customers; fund holds 85% of them, securities 90% (rows shuffled)."""
    root = tmp_path_factory.mktemp("sslr")
    create_network(root, NODES, job_timeout=60, policies=POLICIES)
    rng = np.random.default_rng(11)
    n = 300
    x = rng.normal(size=(n, 3))
    y = (x @ [1.5, -1.0, 1.0] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    values = {"fund": np.column_stack([x[:, 0], y]), "securities": x[:, 1:]}
    held = {}
    for name, share in (("fund", 0.85), ("securities", 0.9)):
        keep = rng.permutation(np.flatnonzero(rng.random(n) < share))
        held[name] = {f"C{i:04d}" for i in keep}
        with open(root / name / "data" / "leads.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["customer_id", *COLUMNS[name]])
            for i in keep:
                w.writerow([f"C{i:04d}", *[f"{v:.6f}" for v in values[name][i]]])
    start_nodes(root)
    apis = clients(root)
    for n in OWNERS:    # futures, the helper, registers no dataset
        apis[n].call("POST", "/datasets", json={
            "id": "leads", "kind": "csv", "location": "data/leads.csv",
            "schema": {"customer_id": "string", **dict.fromkeys(COLUMNS[n], "float")},
            "policy": RULES})
    yield root, apis, len(held["fund"] & held["securities"])
    for api in apis.values():
        api.close()
    stop_nodes(root)


@pytest.fixture(scope="module")
def trained(net):
    _, apis, _ = net
    job = apis["fund"].call("POST", "/jobs", json=spec())
    views = wait_job(apis, job["id"], NODES, timeout=240)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    return job["id"], views, apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"]


def test_training_stores_a_share_set_at_every_party(net, trained):
    root, apis, shared = net
    job_id, views, result = trained
    assert result["joined_rows"] == shared
    assert result["rows"] + result["validation_rows"] == shared
    assert result["version"] == 1 and result["parties"] == NODES
    assert result["metrics"]["auc"] > 0.75
    assert [n for n, v in views.items() if v["has_result"]] == ["fund"]
    # the helper received no input: the spec names none, and it has no "leads" dataset
    assert "futures" not in views["futures"]["spec"]["inputs"]
    assert "leads" not in {d["id"] for d in apis["futures"].call("GET", "/datasets")}
    parts = {}
    for n in NODES:
        [meta] = apis[n].call("GET", "/models", role="auditor")
        assert (meta["name"], meta["version"], meta["kind"], meta["job_id"]) == \
            ("lead-lr", 1, "sslr", job_id)
        assert meta["parties"] == NODES and meta["label_holder"] == "fund"
        assert meta["features"] == {"fund": ["income"], "securities": ["assets", "trades"]}
        assert meta["params"]["helpers"] == ["futures"]
        assert meta["metrics"] == (result["metrics"] if n == "fund" else {})
        stored = [e["data"] for e in apis[n].call("GET", "/audit", role="auditor",
                                                  params={"limit": 10000})
                  if e["kind"] == "model.stored"]
        assert stored == [{"model": "lead-lr", "version": 1, "model_kind": "sslr",
                           "job_id": job_id, "parties": NODES}]
        with np.load(root / n / "models" / "lead-lr" / "v1" / "part.npz") as z:
            parts[n] = {k: z[k] for k in z.files}
    # replicated shares: each party's second share is the next party's first
    for k, n in enumerate(NODES):
        nxt = NODES[(k + 1) % 3]
        assert np.array_equal(parts[n]["w.1"], parts[nxt]["w.0"])
        assert not np.array_equal(parts[n]["w.0"], parts[nxt]["w.0"])


def test_sslr_model_is_not_served_yet(net, trained):
    _, apis, _ = net
    r = apis["fund"].http.post("/models/lead-lr/predict", json={"ids": ["C0001"]},
                               headers={"Authorization": f"Bearer {apis['fund'].tokens['operator']}"})
    assert r.status_code == 501 and "SecureBoost models only" in r.json()["detail"]


@pytest.mark.parametrize("over, words", [
    ({"helpers": []}, "exactly one helper"),
    ({"helpers": ["futures", "securities"]}, "exactly one helper"),
    ({"params": {"model": "m", "label_holder": "fund", "label": "missing"}},
     "params.label must be"),
    ({"params": {"model": "m", "label_holder": "fund"}}, "params.label must be"),
    ({"params": {"model": "m", "label_holder": "fund", "label": "converted", "epochs": 0,
                 "momentum": 1}}, "params.epochs must be"),
    ({"recipients": ["securities"]}, "recipients must be [fund]"),
])
def test_bad_specs_refused(net, over, words):
    _, apis, _ = net
    with pytest.raises(RuntimeError, match="400") as err:
        apis["fund"].call("POST", "/jobs", json=spec(**over))
    assert words in str(err.value), str(err.value)
    if "momentum" in over.get("params", {}):
        assert "unknown params: momentum" in str(err.value)


def test_label_must_be_binary(net):
    """A non-0/1 label fails the job (at the label holder, before anything is shared)."""
    _, apis, _ = net
    bad = spec(params={"model": "m", "label_holder": "securities", "label": "trades"},
               recipients=["securities"])
    job = apis["securities"].call("POST", "/jobs", json=bad)
    views = wait_job(apis, job["id"], NODES, timeout=120)
    assert views["securities"]["state"] == "failed"
    assert "must hold 0 or 1" in views["securities"]["reason"]
    assert json.dumps(views["futures"]["spec"]["inputs"]).count("futures") == 0
