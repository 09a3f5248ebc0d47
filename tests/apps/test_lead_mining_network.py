"""Lead mining on three node processes over loopback TLS (the companies involved: fund the
label holder, securities the feature holder, futures the helper), driven through the REST API
only, checked against the plaintext model on the same CSV files (slower lane)."""


import pytest

from yinji.apps.lead_mining_demo import (
    FEATURES,
    HELPER,
    LABEL,
    check_reports,
)
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import builtin_entries, child_env, package_dir, reject_and_check_nothing_ran

pytestmark = pytest.mark.tls

APP = "lead-mining"
COMPANIES = [FEATURES, LABEL, HELPER]
RULE = {"protocols": [f"app.{APP}"]}
POLICIES = {c: [RULE] for c in COMPANIES}
# securities approves by itself only runs listing at most 100 leads; others wait for a person
POLICIES[FEATURES] = [{**RULE, "params": {"top_n": {"max": 100}}}]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from yinji.apps.lead_mining import APP as app

    root = tmp_path_factory.mktemp("leadnet")
    create_network(root, COMPANIES, job_timeout=60, policies=POLICIES)
    plan = app.demo({c: root / c / "data" for c in COMPANIES})   # writes the CSV files
    paths = {c: root / c / "data" / "leads.csv" for c in (LABEL, FEATURES)}
    pkg = package_dir(tmp_path_factory.mktemp("apps"), builtin_entries())
    start_nodes(root, env=dict.fromkeys(COMPANIES, child_env(pkg)))
    apis = clients(root)
    for c, bodies in plan.datasets.items():
        for body in bodies:
            apis[c].call("POST", "/datasets", json=body)
    yield apis, plan, paths
    for api in apis.values():
        api.close()
    stop_nodes(root)


def _run(apis, plan, **change):
    body = {**plan.request, **change}
    run = apis[LABEL].call("POST", f"/apps/{APP}/runs", json=body)
    return run["job"]


def test_each_owner_gets_scores_for_exactly_its_customers_and_the_helper_nothing(net):
    """The one end-to-end run (non-recipients in-process: test_lead_mining.py)."""
    apis, plan, paths = net
    job = _run(apis, plan)
    assert job["spec"]["helpers"] == [HELPER]
    assert job["spec"]["params"]["compute"] == [LABEL, FEATURES, HELPER]
    views = wait_job(apis, job["id"], COMPANIES, timeout=180)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {c: v["reason"] for c, v in views.items()}
    reports = {c: apis[c].call("GET", f"/apps/{APP}/runs/{job['id']}")["report"]
               for c in (LABEL, FEATURES)}
    assert check_reports(reports, paths) == []
    assert not views[HELPER]["has_result"]
    with pytest.raises(RuntimeError, match="404"):
        apis[HELPER].call("GET", f"/jobs/{job['id']}/result")
    files = apis[LABEL].call("GET", f"/apps/{APP}/runs/{job['id']}")["files"]
    assert {"scores.csv", "leads.csv", "deciles.csv"} <= set(files)
    assert any(f.endswith(".html") for f in files) and any(f.endswith(".xlsx") for f in files)
    assert "lift" in reports[LABEL]["tables"]["deciles"]["columns"]
    assert "lift" not in reports[FEATURES]["tables"]["deciles"]["columns"]


def test_boosted_trees_in_one_run_score_each_owner_its_customers_as_the_float_twin(net):
    """The same network, model="secureboost": trees trained and evaluated in MPC on the
    hidden join; each owner gets exactly its customers, the shared ones scored as the float
    twin of the algorithm on the plaintext join (yinji.testing.boost)."""
    import numpy as np

    from yinji.apps.lead_mining import prepare_features
    from yinji.apps.lead_mining_demo import F_COLUMNS, L_COLUMNS, read
    from yinji.ml.metrics import auc
    from yinji.ml.mpc_boost import quantile_bins
    from yinji.testing.boost import plain_boost

    apis, plan, paths = net
    params = {**plan.request["params"], "model": "secureboost", "trees": 5, "depth": 3}
    job = _run(apis, plan, params=params)
    views = wait_job(apis, job["id"], COMPANIES, timeout=180)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {c: v["reason"] for c, v in views.items()}
    reports = {c: apis[c].call("GET", f"/apps/{APP}/runs/{job['id']}")["report"]
               for c in (LABEL, FEATURES)}
    lc, fc = read(paths[LABEL]), read(paths[FEATURES])
    il = quantile_bins(prepare_features(lc, [(c, c) for c in L_COLUMNS[2:]]), 16)[0]
    jf = quantile_bins(prepare_features(fc, [(c, c) for c in F_COLUMNS[1:]]), 16)[0]
    fidx = {k: i for i, k in enumerate(fc[F_COLUMNS[0]])}
    sh = [i for i, k in enumerate(lc["id_no"]) if k in fidx]
    joined = np.column_stack([il[sh], jf[[fidx[lc["id_no"][i]] for i in sh]]])
    y = lc["bought"][sh].astype(float)
    want = 1 / (1 + np.exp(-plain_boost(joined, y, bins=16, trees=5, depth=3).margin(joined)))
    got = {c: {r[0]: r[1] for r in reports[c]["tables"]["scores"]["rows"]}
           for c in (LABEL, FEATURES)}
    assert sorted(got[LABEL]) == sorted(lc["id_no"])
    assert sorted(got[FEATURES]) == sorted(fc[F_COLUMNS[0]])
    ids = [lc["id_no"][i] for i in sh]
    for c in (LABEL, FEATURES):
        mine = np.array([got[c][k] for k in ids])
        assert np.mean(np.abs(mine - want)) < 0.01, c
    assert auc(y, np.array([got[LABEL][k] for k in ids])) > auc(y, want) - 0.01
    assert reports[LABEL]["data"]["model"] == "secureboost"
    assert not views[HELPER]["has_result"]


def test_a_rejection_stops_the_run_before_any_data_is_read(net):
    apis, plan, _ = net
    job = _run(apis, plan, params={**plan.request["params"], "top_n": 200})
    reject_and_check_nothing_ran(apis, job["id"], FEATURES, COMPANIES, "not this campaign")


@pytest.mark.parametrize("params,msg", [({"top_n": 5000}, "top_n"),
                                        ({"model": "secureboost", "impute": "mean"},
                                         "impute"),
                                        ({"helper": None}, "helper")])
def test_out_of_bounds_parameters_are_refused_at_the_proposer(net, params, msg):
    apis, plan, _ = net
    p = {k: v for k, v in {**plan.request["params"], **params}.items() if v is not None}
    with pytest.raises(RuntimeError, match=f"422.*{msg}"):
        _run(apis, plan, params=p)
