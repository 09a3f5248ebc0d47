"""`--format table|csv|json` and `--wait` on the job and app commands, against a node API
served over HTTPS on loopback (the CLI verifies it with --api-ca)."""

import csv
import io
import json

import pytest

from tests.apps.test_cli_app import SEGMENTS, holdings_node, segment_sums
from yinji.cli.main import main
from yinji.node import app_runner
from yinji.node.api import create_app
from yinji.node.https import ServerTls
from yinji.testing.servers import serve

INPUT = "securities=holdings,client=客户号,segment=板块,amount=金额"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n, rows = holdings_node(tmp_path_factory.mktemp("fmt") / "securities", 60, 5)
    n.start()
    tls = ServerTls(n.cfg.cert_file, n.cfg.key_file)
    with serve(create_app(n), ssl_context=tls.context) as url:
        n.url, n.rows = url, rows
        n.token = n.add_token("ops", "operator")
        yield n
    app_runner.unregister("cli_sums")
    n.stop()


def yinji(node, capsys, *argv):
    code = main([*argv[:2], "--api", node.url, "--api-ca", str(node.cfg.cert_file), *argv[2:]])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def token(node, monkeypatch):
    monkeypatch.setenv("YINJI_TOKEN", node.token)


def test_app_and_job_commands_in_three_formats(node, capsys):
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                           "--wait", "--format", "json", "--interval", "0.02")
    assert code == 0, err
    view = json.loads(out)                         # stdout: only the JSON; progress on stderr
    assert view["state"] == "succeeded" and "100%" in err
    run_id = view["job"]["id"]
    code, out, _ = yinji(node, capsys, "app", "list", "--format", "csv")
    assert code == 0 and list(csv.reader(io.StringIO(out)))[0] == ["name", "version", "title"]
    code, out, _ = yinji(node, capsys, "app", "runs", "cli_sums", "--format", "json")
    assert run_id in [j["id"] for j in json.loads(out)]
    code, out, _ = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--format", "csv")
    fields = dict(list(csv.reader(io.StringIO(out)))[1:])
    assert fields["state"] == "succeeded" and fields["id"] == run_id
    # jobs: list as a table, CSV and JSON agree
    code, table, _ = yinji(node, capsys, "job", "list")
    assert table.splitlines()[0].split("\t")[:3] == ["id", "protocol", "state"]
    code, out, _ = yinji(node, capsys, "job", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    code, out, _ = yinji(node, capsys, "job", "list", "--format", "json")
    assert [r["id"] for r in rows] == [j["id"] for j in json.loads(out)]
    assert {r["id"]: r["state"] for r in rows}[run_id] == "succeeded"
    code, out, _ = yinji(node, capsys, "job", "show", run_id, "--format", "json")
    assert code == 0 and json.loads(out)["spec"]["protocol"] == "app.cli_sums"
    code, out, _ = yinji(node, capsys, "job", "result", run_id, "--format", "json")
    assert code == 0 and json.loads(out)["job_id"] == run_id
    code, out, _ = yinji(node, capsys, "job", "show", "nope")
    assert code == 1


def test_wait_follows_a_job_to_its_end(node, capsys, tmp_path):
    # a run that fails on purpose: --wait exits 1 and says why
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                           "--param", "fail=true", "--format", "json")
    assert code == 0, err
    run_id = json.loads(out)["job"]["id"]
    code, out, err = yinji(node, capsys, "job", "show", run_id, "--wait", "--format", "csv",
                           "--interval", "0.02")
    assert code == 1
    fields = dict(list(csv.reader(io.StringIO(out)))[1:])
    assert fields["state"] == "failed" and "asked to fail" in fields["reason"]
    code, out, err = yinji(node, capsys, "app", "status", "cli_sums", run_id, "--wait",
                           "--format", "json", "--interval", "0.02")
    assert code == 1 and json.loads(out)["state"] == "failed"
    code, out, err = yinji(node, capsys, "job", "result", run_id, "--wait")
    assert code == 1 and "is failed" in err
    # a good one: job result --wait waits and prints the result
    code, out, err = yinji(node, capsys, "app", "run", "cli_sums", "--input", INPUT,
                           "--format", "json")
    run_id = json.loads(out)["job"]["id"]
    code, out, err = yinji(node, capsys, "job", "result", run_id, "--wait", "--format", "json",
                           "--interval", "0.02")
    assert code == 0, err
    assert json.loads(out)["job_id"] == run_id
    want = segment_sums(*zip(*node.rows, strict=True), 0.0, None)
    assert all(s in out for s in want)
    # and as files for people: the app's report as CSV, .xlsx and HTML
    code, out, err = yinji(node, capsys, "job", "result", run_id, "--out",
                           str(tmp_path / "res"), "--format", "csv")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "res").iterdir())
    assert "report.xlsx" in names and "report.html" in names
    table = (tmp_path / "res" / "by_segment.csv").read_text("utf-8-sig")
    assert all(f"{s},{want[s]!r}" in table for s in SEGMENTS)


def test_a_protocol_result_becomes_one_table_in_files(tmp_path):
    from yinji.cli.node import _write_result
    from yinji.cli.output import result_rows

    result = {"groups": ["retail", "=cmd|' /C calc'!A0"], "sum": [1.5, -2.0],
              "count": [3, 0]}
    rows, cols = result_rows(result)
    assert cols == ["groups", "sum", "count"] and rows[1]["count"] == 0
    job = {"id": "j1", "protocol": "mpc.aggregate", "state": "succeeded", "proposer": "fund"}
    _write_result(job, result, rows, cols, tmp_path / "out")
    text = (tmp_path / "out" / "result.csv").read_text("utf-8-sig").splitlines()
    assert text[0] == "groups,sum,count" and text[1] == "retail,1.5,3"
    assert text[2].startswith("'=cmd")                 # a formula is defused
    # field/value results (nested values as JSON text)
    rows, cols = result_rows({"size": 3, "members": {"a": 1}})
    assert cols == ["field", "value"]
    _write_result(job, {"size": 3, "members": {"a": 1}}, rows, cols, tmp_path / "kv")
    assert '"{""a"": 1}"' in (tmp_path / "kv" / "result.csv").read_text("utf-8-sig")
