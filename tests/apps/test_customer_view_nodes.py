"""customer-view on five node processes (four companies, the group node: linkage unit and
statistics recipient) over mutual TLS, the app installed through a `yinji.apps` entry point, driven
through the REST API (slower lane); the same reports as the in-process run, and a bad file
that stops the run before anything is delivered."""

import csv

import pytest

from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.crypto.certs import write_private
from yinji.testing.apps import builtin_entries, child_env, package_dir
from yinji.testing.custview_data import COMPANIES, KEY, customer_dataset, run_in_process

pytestmark = pytest.mark.tls

NODES = [*COMPANIES, "group"]   # the group node: linkage unit and statistics recipient
PROTOCOL = "app.customer-view"
COLUMNS = ("record_id", "gcn", "name", "dob", "id_no", "phone", "consent", "rm", "products",
           "assets", "currency")


def write(home, name, rows):
    with open(home / "data" / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule

    root = tmp_path_factory.mktemp("cvnet")
    create_network(root, NODES, job_timeout=120,
                   policies={n: [{"protocols": [PROTOCOL]}] for n in NODES})
    case = customer_dataset(120, seed=5)
    for c in COMPANIES:
        home = root / c
        write(home, "cv", case.tables[c])
        bad = [dict(r) for r in case.tables[c]]
        if c == "futures":
            bad[2]["consent"] = "perhaps"
        write(home, "cvbad", bad)
        (home / "linkage").mkdir()
        write_private(home / "linkage" / "customers.key", KEY)
        with open_admin(home, by="test") as admin:
            for name in ("cv", "cvbad"):
                admin.catalog.register(Dataset(
                    id=name, kind="csv", location=f"data/{name}.csv",
                    schema=dict.fromkeys(COLUMNS, "string"),
                    policy=[PolicyRule(columns=list(COLUMNS), protocols=[PROTOCOL])]),
                    by=admin.by)
    env = child_env(package_dir(tmp_path_factory.mktemp("pkg"), builtin_entries()))
    start_nodes(root, env=dict.fromkeys(NODES, env))
    apis = clients(root)
    yield root, apis, case, tmp_path_factory.mktemp("twin")
    for api in apis.values():
        api.close()
    stop_nodes(root)


def start(apis, dataset="cv"):
    body = {"params": {"linkage_unit": "group", "stats_recipient": "group"},
            "inputs": {c: {"dataset": dataset} for c in COMPANIES}}
    run = apis["securities"].call("POST", "/apps/customer-view/runs", json=body)
    job_id = run["job"]["id"]
    return job_id, wait_job(apis, job_id, NODES, timeout=300)


def test_five_nodes_give_the_in_process_reports(net):
    root, apis, case, twin = net
    job_id, views = start(apis)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    reports = {n: apis[n].call("GET", f"/apps/customer-view/runs/{job_id}")["report"]
               for n in NODES}
    ref = run_in_process(case, twin, unit="group", stats_recipient="group")
    for c in COMPANIES:
        assert reports[c]["data"]["profiles"] == ref[c].data["profiles"], c
        assert not any(t.startswith("stats") for t in reports[c]["tables"])
    for name in ("patterns", "bands", "categories", "consent"):
        assert reports["group"]["tables"][f"stats {name}"] == ref["group"].tables[f"stats {name}"]
    assert "profiles" not in reports["group"]["data"]
    files = apis["fund"].call("GET", f"/apps/customer-view/runs/{job_id}")["files"]
    assert "profiles.csv" in files and any(f.startswith("rm_") for f in files)


def test_a_bad_cell_stops_the_run_naming_the_row(net):
    _, apis, _, _ = net
    job_id, views = start(apis, "cvbad")
    assert views["futures"]["state"] == "failed", views
    assert "row 3: consent 'perhaps'" in str(views["futures"]), views["futures"]
    for n in NODES:
        assert apis[n].call("GET", f"/apps/customer-view/runs/{job_id}")["report"] is None, n


def test_make_demo_runs_the_app(net, tmp_path):
    """`make demo`'s app part (every installed app's demo through REST) for this app."""
    from yinji.apps.customer_view import APP as app
    from yinji.cli.apps_demo import run_apps
    from yinji.node import app_runner

    root, _, _, _ = net
    app_runner.register(app)   # this process finds the app the way the nodes do
    try:
        lines = []
        assert run_apps(root, tmp_path, out=lines.append, only=[app.name], timeout=120), lines
    finally:
        app_runner.unregister(app.name)
