"""`yinji app` against a real node API on loopback (uvicorn in a thread), with an app
registered in-process. The app is a one-company sum so the run needs no peers: what is tested
is the CLI and REST path (run request, approval by policy, progress, report files, private
input), not a protocol."""

import csv
import io
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from yinji.apps.base import App, Column, Param, Report, Role, inputs_by_role
from yinji.cli.app import CliError, parse_input
from yinji.cli.main import main
from yinji.node import app_runner
from yinji.node.api import create_app
from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.identity import init_node
from yinji.node.node import Node
from yinji.testing.servers import serve

SEGMENTS = ["零售", "富裕", "私人"]


class SegmentSums(App):
    name = "cli_sums"
    version = "2"
    title = "按板块汇总 (CLI test)"
    summary = "Sums of amounts by segment over the clients the proposer names."
    roles = (Role("holder", (Column("client", "id"), Column("segment"),
                             Column("amount", "number", "CNY")), help="client holdings"),)
    params = (Param("min_amount", "float", 0.0, minimum=0, maximum=1e9,
                    help="ignore smaller amounts"),
              Param("fail", "bool", False, help="fail on purpose (tests)"))
    takes_private = "client IDs to include (first column of a file)"

    def validate(self, spec):   # one company: no three compute parties here
        return [p for p in super().validate(spec) if not p.startswith("params.compute")]

    def run(self, ctx):
        cols = inputs_by_role(ctx, self)
        ctx.progress(0.5, "summing")
        if ctx.spec["params"]["fail"]:
            raise ValueError("asked to fail")
        keep = set(ctx.private["ids"]) if ctx.private else None
        sums = segment_sums(cols["client"], cols["segment"], cols["amount"],
                            ctx.spec["params"]["min_amount"], keep)
        r = Report(f"{self.title} <script>", [f"clients named: {len(keep or [])}"])
        r.table("by segment", ["segment", "amount"], [[s, sums[s]] for s in SEGMENTS])
        r.charts = [{"kind": "bar", "title": "amount", "table": "by segment", "x": "segment",
                     "y": ["amount"]}]
        return r


def segment_sums(clients, segments, amounts, minimum, keep):
    out = defaultdict(float)
    for c, s, a in zip(clients, segments, amounts, strict=True):
        if float(a) >= minimum and (keep is None or c in keep):
            out[s] += float(a)
    return {s: round(out[s], 2) for s in SEGMENTS}


def holdings_node(home, n_rows: int, seed: int):
    """A node "securities" with a `holdings` CSV (Chinese headers) of `n_rows` random rows,
    the cli_sums app registered and auto-approved; returns (node, rows)."""
    init_node(home, "securities")
    rng = np.random.default_rng(seed)
    rows = [(f"C{i:04d}", SEGMENTS[int(rng.integers(3))], round(float(rng.uniform(0, 1e6)), 2))
            for i in range(n_rows)]
    (home / "data").mkdir()
    with open(home / "data" / "h.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["客户号", "板块", "金额"])
        w.writerows(rows)
    n = Node(home)
    n.catalog.register(Dataset(id="holdings", kind="csv", location="data/h.csv",
                               schema={"客户号": "string", "板块": "string", "金额": "float"},
                               policy=[PolicyRule(protocols=["app.cli_sums"])]), by="test")
    n.cfg.auto_approve = [{"protocols": ["app.cli_sums"]}]
    app_runner.register(SegmentSums())
    return n, rows


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n, rows = holdings_node(tmp_path_factory.mktemp("cli") / "securities", 300, 11)
    token = n.add_token("ops", "operator")
    with serve(create_app(n)) as url:
        n.rows = rows
        n.url, n.token = url, token
        yield n
    app_runner.unregister("cli_sums")
    n.stop()


def yinji(node, capsys, *argv):
    code = main([*argv[:2], "--api", node.url, *argv[2:]])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def token(node, monkeypatch):
    monkeypatch.setenv("YINJI_TOKEN", node.token)


INPUT = "securities=holdings,client=客户号,segment=板块,amount=金额"


def test_list_and_show(node, capsys):
    code, out, err = yinji(node, capsys, "app", "list")
    assert code == 0, err
    assert "name\tversion\ttitle" in out and "cli_sums\t2\t按板块汇总 (CLI test)" in out
    code, out, _ = yinji(node, capsys, "app", "show", "cli_sums")
    assert code == 0
    assert "holder (any number of companies): client holdings" in out
    assert "    amount\tnumber\tCNY" in out
    assert "  min_amount\tfloat; default 0.0; bounds [0, 1e+09]\tignore smaller amounts" in out
    assert "private input: client IDs to include" in out
    code, _, err = yinji(node, capsys, "app", "show", "nope")
    assert code == 1 and "no app 'nope'" in err


def test_run_wait_downloads_the_report(node, capsys, tmp_path):
    ids = [r[0] for r in node.rows[::3]]
    (tmp_path / "ids.csv").write_text("note,client\n" + "".join(f"x,{i}\n" for i in ids),
                                      encoding="utf-8")
    out_dir = tmp_path / "out"
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--param", "min_amount=1000",
                           "--input", INPUT, "--private-file", str(tmp_path / "ids.csv"),
                           "--private-column", "client", "--wait", "--out", str(out_dir),
                           "--interval", "0.02")
    assert code == 0, out + err
    assert f"({len(ids)} private IDs stay on this node)" in out
    assert "100%  succeeded  done" in out
    assert f"report written to {out_dir / 'report.html'}" in out
    run_id = out.split()[1]
    served = node.jobs.results_dir(run_id)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in served.iterdir())
    for p in out_dir.iterdir():
        assert p.read_bytes() == (served / p.name).read_bytes()
    want = segment_sums(*zip(*node.rows, strict=True), 1000, set(ids))
    got = list(csv.reader(io.StringIO((out_dir / "by_segment.csv").read_text("utf-8-sig"))))
    assert got == [["segment", "amount"]] + [[s, repr(want[s])] for s in SEGMENTS]
    assert "&lt;script&gt;" in (out_dir / "report.html").read_text(encoding="utf-8")
    # the private IDs stayed in the node's memory: not in the spec, the store or the audit log
    spec = node.store.job(run_id)["spec_json"]
    audit = str(list(node.audit.entries()))
    assert not any(i in spec or i in audit for i in ids)
    # runs and status show it
    code, out, _ = yinji(node, capsys, "app", "runs", "cli_sums")
    assert code == 0 and f"{run_id}\tsucceeded\t100%\tdone\tsecurities" in out
    code, out, _ = yinji(node, capsys, "app", "status", "cli_sums", run_id)
    assert code == 0 and f"run {run_id} of cli_sums: succeeded, 100% done" in out
    assert "approvals: securities approve" in out and "files: by_segment.csv" in out
    # the files of a finished run, fetched later
    code, out, err = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--out",
                           str(tmp_path / "later"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "later").iterdir()) == \
        sorted(p.name for p in served.iterdir())
    code, _, err = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--out",
                         str(tmp_path / "later"))
    assert code == 1 and "is not empty" in err
    code, _, err = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--out",
                         str(tmp_path / "later"), "--force")
    assert code == 0, err


def test_run_without_private_file_and_default_out(node, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT, "--wait",
                           "--interval", "0.02")
    assert code == 0, out + err
    run_id = out.split()[1]
    folder = tmp_path / f"cli_sums-{run_id[:8]}"
    assert (folder / "report.xlsx").is_file() and (folder / "report.html").is_file()


def test_non_empty_out_refused_before_anything_is_proposed(node, capsys, tmp_path):
    (tmp_path / "old.txt").write_text("keep me")
    before = len(node.store.list_jobs(None))
    code, _, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT, "--wait",
                         "--out", str(tmp_path))
    assert code == 1 and "is not empty (use --force" in err
    assert len(node.store.list_jobs(None)) == before
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]


def test_failed_run_prints_the_reason(node, capsys, tmp_path):
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                           "--param", "fail=true", "--wait", "--out", str(tmp_path / "o"),
                           "--interval", "0.02")
    assert code == 1
    assert "failed: ValueError: asked to fail" in err
    assert not (tmp_path / "o").exists()
    run_id = out.split()[1]
    code, out, err = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--out",
                           str(tmp_path / "o"))
    assert code == 1 and "reason: ValueError: asked to fail" in out
    assert f"run {run_id} is failed: no report to download" in err


def test_rejected_run_prints_the_reason(node, capsys, tmp_path, monkeypatch):
    def reject(spec):
        node.jobs.decide(spec["id"], "reject", by="approver-1", reason="not this week")

    monkeypatch.setattr(node.jobs, "_decide_by_policy", reject)
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT, "--wait",
                           "--out", str(tmp_path / "o"), "--interval", "0.02")
    assert code == 1 and "rejected: rejected by securities: not this week" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args,message", [
    (["--param", "min_amount=-1"], "parameter 'min_amount' must be at least 0"),
    (["--param", "nope=1"], "unknown parameter 'nope'"),
    (["--param", "min_amount"], "expected K=V"),
    (["--input", "securities=holdings:ghost"], "has no role 'ghost'"),
    (["--input", "securities=holdings,who=客户号"], "has no column(s) who"),
    (["--private-column", "x"], "--private-column needs --private-file"),
    (["--out", "somewhere"], "--out needs --wait"),
])
def test_refusals_are_named(node, capsys, args, message):
    argv = ["app", "run", "cli_sums", *(["--input", INPUT] if "--input" not in args else []),
            *args]
    code, _, err = yinji(node, capsys, *argv)
    assert code == 1 and message in err, err


def test_private_file_problems(node, capsys, tmp_path):
    (tmp_path / "ids.csv").write_text("client\n\n", encoding="utf-8")
    code, _, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                         "--private-file", str(tmp_path / "ids.csv"))
    assert code == 1 and "column 'client' holds no IDs" in err
    code, _, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                         "--private-file", str(tmp_path / "ids.csv"), "--private-column", "x")
    assert code == 1 and "no column 'x'" in err
    code, _, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                         "--private-file", str(tmp_path / "missing.csv"))
    assert code == 1 and "no such file" in err


def test_app_routes_need_a_token(node):
    import httpx

    assert httpx.get(f"{node.url}/apps").status_code == 401
    assert httpx.get(f"{node.url}/apps/cli_sums/runs/x").status_code == 401
    r = httpx.post(f"{node.url}/apps/cli_sums/runs", json={"inputs": {}})
    assert r.status_code == 401
    auditor = node.add_token("aud", "auditor")
    r = httpx.post(f"{node.url}/apps/cli_sums/runs", json={"inputs": {}},
                   headers={"Authorization": f"Bearer {auditor}"})
    assert r.status_code == 403


def test_oversized_private_file_refused_before_sending(node, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("yinji.node.api.limits.MAX_BODY", 1 << 20)   # what the CLI checks
    (tmp_path / "ids.csv").write_text("id\n" + "".join(f"{i:020d}\n" for i in range(60_000)))
    before = len(node.store.list_jobs(None))
    code, _, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                         "--private-file", str(tmp_path / "ids.csv"))
    assert code == 1 and "over the node API's limit of 1 MiB" in err
    assert "(the private file holds 60,000 IDs: split it)" in err
    assert len(node.store.list_jobs(None)) == before


def test_bad_token_and_unreachable_node(node, capsys, monkeypatch):
    monkeypatch.setenv("YINJI_TOKEN", "wrong")
    code, _, err = yinji(node, capsys, "app", "list")
    assert code == 1 and "401" in err
    monkeypatch.setenv("YINJI_TOKEN", node.token)
    code = main(["app", "list", "--api", "http://127.0.0.1:9"])
    assert code == 1 and "cannot reach the node at http://127.0.0.1:9" in capsys.readouterr().err


def test_parse_input():
    assert parse_input("fund=cust:holder,id_no=证件号码, segment = 板块") == (
        "fund", {"dataset": "cust", "role": "holder",
                 "columns": {"id_no": "证件号码", "segment": "板块"}})
    assert parse_input("fund=cust") == ("fund", {"dataset": "cust"})
    for bad in ("fund", "=cust", "fund=", "fund=cust,id_no", "fund=cust,=x"):
        with pytest.raises(CliError, match="--input"):
            parse_input(bad)


def test_run_file_names_are_checked(tmp_path):
    from yinji.cli.app import deliver

    view = {"job": {"id": "r1", "spec": {"recipients": ["a"]}}, "report": {"title": "t"},
            "files": ["../evil.csv"]}
    with pytest.raises(CliError, match="will not write"):
        deliver(None, "x", view, tmp_path / "o", False)
    assert not Path(tmp_path / "o").exists()


def test_private_ids_from_xlsx(node, capsys, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["姓名", "客户号"])
    for i in range(5):
        wb.active.append([f"张{i}", f"C{i:04d}"])
    wb.active.append(["空", None])
    wb.save(tmp_path / "ids.xlsx")
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                           "--private-file", str(tmp_path / "ids.xlsx"),
                           "--private-column", "客户号", "--wait", "--out",
                           str(tmp_path / "o"), "--interval", "0.02")
    assert code == 0, err
    assert "(5 private IDs stay on this node)" in out
    want = segment_sums(*zip(*node.rows, strict=True), 0.0, {f"C{i:04d}" for i in range(5)})
    got = list(csv.reader(io.StringIO((tmp_path / "o" / "by_segment.csv").read_text("utf-8-sig"))))
    assert got[1:] == [[s, repr(want[s])] for s in SEGMENTS]
