"""`yinji pir serve | query`, in-process: a member served by `main([...])` in a thread on a
free loopback port, queried by `main([...])`; and every bad input rejected plainly."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import threading

import pytest

from yinji.cli import pir as cli_pir
from yinji.cli.main import main
from yinji.testing.tls import free_ports, make_tls_configs

ROWS = [{"id": f"ID{i:05d}", "tag": ["fraud", "aml", "pep"][i % 3], "since": f"2024-{i % 12 + 1:02d}",
         "note": "x"} for i in range(0, 2000, 2)]


def tls_flags(cfg, key_flag="--tls-key"):
    return ["--cert", str(cfg.cert_file), key_flag, str(cfg.key_file), "--ca", str(cfg.ca_file)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_tls_configs(["broker", "fund", "officer"], tmp_path_factory.mktemp("pki"))


def write_csv(path, rows, fields=("id", "tag", "since", "note")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fields))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def member_list(tmp_path):
    return write_csv(tmp_path / "broker.csv", ROWS)


@contextlib.contextmanager
def serving(monkeypatch, argv):
    """Run `yinji pir serve` in a thread until the block ends; yields (service, port)."""
    ready, stop = threading.Event(), threading.Event()
    got = {}

    def block(service):
        got["service"] = service
        ready.set()
        stop.wait()

    monkeypatch.setattr(cli_pir, "_block", block)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("rc", main(argv)), daemon=True)
    t.start()
    for _ in range(200):
        if ready.wait(0.1) or not t.is_alive():
            break
    assert ready.is_set(), f"serve did not start (exit {result.get('rc')})"
    try:
        yield got["service"]
    finally:
        stop.set()
        t.join(10)
    assert result["rc"] == 0


def serve_argv(pki, path, port, *extra, name="broker"):
    return ["pir", "serve", "--list", str(path), "--key-column", "id",
            "--label-columns", "tag,since", "--listen", f"127.0.0.1:{port}",
            *tls_flags(pki[name], "--key"), *extra]


def query(pki, *args):
    return main(["pir", "query", *args, *tls_flags(pki["officer"]), "--connect-timeout", "0.5"])


def test_serve_and_query_one_member(pki, member_list, monkeypatch, capsys, tmp_path):
    [port] = free_ports(1)
    audit = tmp_path / "audit.jsonl"
    with serving(monkeypatch, serve_argv(pki, member_list, port, "--audit", str(audit))):
        out = capsys.readouterr()
        assert "member broker: serving version v1-" in out.out
        assert "certificate fingerprint (SHA-256): " in out.out
        assert "1000 records" in out.err and "OPRF over keys: 1000/1000" in out.err
        results = tmp_path / "results.csv"
        rc = query(pki, "--member", f"broker=127.0.0.1:{port}", "--key", "ID00004",
                   "--key", "ID00005", "--out", str(results))
        out = capsys.readouterr().out
    assert rc == 0
    assert '{"tag":"aml","since":"2024-05"}' in out and "miss" in out
    assert "2 key(s), 1 member(s): 1 answered" in out
    with results.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["key"], r["member"], r["status"], r["label"]) for r in rows] == [
        ("ID00004", "broker", "hit", '{"tag":"aml","since":"2024-05"}'),
        ("ID00005", "broker", "miss", "")]
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["client"], e["kind"], e["count"], e["status"]) for e in events] == [
        ("officer", "oprf", 2, "ok"), ("officer", "pir", 2, "ok")]
    assert "ID0000" not in audit.read_text()


def test_serve_and_query_normalise_id_numbers(pki, monkeypatch, capsys, tmp_path):
    """The list holds an Excel export with a lower-case x; the officer asks with a lower-case
    x and with the 15-digit legacy number: both hit (yinji.ids on both sides)."""
    [port] = free_ports(1)
    member = write_csv(tmp_path / "ids.csv", [
        {"id": '="11010519491231002x"', "tag": "pep", "since": "2022", "note": ""},
        {"id": "440301198001011231", "tag": "aml", "since": "2023", "note": ""}])
    with serving(monkeypatch, serve_argv(pki, member, port)):
        assert "keys normalised as auto" in capsys.readouterr().err
        rc = query(pki, "--member", f"broker=127.0.0.1:{port}", "--key", "11010519491231002x",
                   "--key", "110105491231002", "--key", "11010519491231002")
        out = capsys.readouterr().out
    assert rc == 0
    assert out.count('{"tag":"pep","since":"2022"}') == 2 and out.count("miss") == 1


def test_alliance_file_with_a_member_down(pki, member_list, monkeypatch, capsys, tmp_path):
    port, down_port = free_ports(2)
    keys = tmp_path / "keys.txt"
    keys.write_text("# officer's list\nID00000\n\nID01998\nID99999\n", encoding="utf-8")
    alliance = tmp_path / "alliance.json"
    alliance.write_text(json.dumps({"members": {"broker": f"127.0.0.1:{port}",
                                                "fund": f"127.0.0.1:{down_port}"}}))
    yaml_file = tmp_path / "alliance.yaml"
    yaml_file.write_text(f"# group alliance\nmembers:\n  broker: 127.0.0.1:{port}\n"
                         f"  fund: '127.0.0.1:{down_port}'  # offline today\ntimeout: 20\n")
    results = tmp_path / "r.csv"
    with serving(monkeypatch, serve_argv(pki, member_list, port)):
        capsys.readouterr()
        rc = query(pki, "--alliance", str(alliance), "--keys-file", str(keys),
                   "--out", str(results))
        out = capsys.readouterr().out
        rc_yaml = query(pki, "--alliance", str(yaml_file), "--key", "ID00000")
        out_yaml = capsys.readouterr().out
    assert rc == cli_pir.EXIT_PARTIAL and rc_yaml == cli_pir.EXIT_PARTIAL
    assert "NOT answered: fund (down)" in out and "NOT answered: fund (down)" in out_yaml
    with results.open(newline="") as fh:
        rows = {(r["key"], r["member"]): r for r in csv.DictReader(fh)}
    assert len(rows) == 6
    assert rows["ID00000", "broker"]["status"] == "hit"
    assert rows["ID01998", "broker"]["label"] == '{"tag":"fraud","since":"2024-07"}'
    assert rows["ID99999", "broker"]["status"] == "miss"
    for k in ("ID00000", "ID01998", "ID99999"):
        assert rows[k, "fund"]["status"] == "down"
        assert "cannot reach 'fund'" in rows[k, "fund"]["detail"]


def test_rate_limit_is_reported(pki, member_list, monkeypatch, capsys):
    [port] = free_ports(1)
    with serving(monkeypatch, serve_argv(pki, member_list, port, "--rate-limit", "2/min")):
        capsys.readouterr()
        rc = query(pki, "--member", f"broker=127.0.0.1:{port}", "--key", "ID00000",
                   "--key", "ID00002", "--key", "ID00004")
        out = capsys.readouterr().out
    assert rc == cli_pir.EXIT_PARTIAL
    assert "rate_limited" in out and "NOT answered: broker (rate_limited)" in out


def test_unknown_client_gets_no_answer(pki, member_list, monkeypatch, capsys, tmp_path):
    [port] = free_ports(1)
    with serving(monkeypatch, serve_argv(pki, member_list, port, "--allow", "fund")) as svc:
        capsys.readouterr()
        rc = query(pki, "--member", f"broker=127.0.0.1:{port}", "--key", "ID00000")
        out = capsys.readouterr().out
    assert rc == cli_pir.EXIT_PARTIAL and "down" in out and "did not accept us" in out
    assert any("unexpected peer 'officer'" in r for r in svc.refusals)


# -- bad input --------------------------------------------------------------------------------

def serve_error(pki, capsys, path, *extra, port=1, columns="tag,since"):
    argv = ["pir", "serve", "--list", str(path), "--key-column", "id", "--label-columns",
            columns, "--listen", f"127.0.0.1:{port}", *tls_flags(pki["broker"]), *extra]
    assert main(argv) == 2
    return capsys.readouterr().err


def test_serve_rejects_bad_input(pki, member_list, tmp_path, capsys):
    dup = write_csv(tmp_path / "dup.csv", ROWS[:5] + [ROWS[1]] + ROWS[5:8] + [ROWS[6]])
    err = serve_error(pki, capsys, dup)
    assert "2 duplicate key(s) in column 'id'" in err and "'ID00002' (rows 2 and 6)" in err
    err = serve_error(pki, capsys, member_list, columns="tag,risk")
    assert "no column 'risk' (columns: id, tag, since, note)" in err
    err = serve_error(pki, capsys, member_list, columns="id")
    assert "'id' is the key column" in err
    empty = write_csv(tmp_path / "empty_key.csv", [dict(ROWS[0], id=" ")])
    assert "row 1: empty key" in serve_error(pki, capsys, empty)
    assert "no such file" in serve_error(pki, capsys, tmp_path / "nope.csv")
    pq = tmp_path / "list.parquet"
    pq.write_bytes(b"PAR1")
    if importlib.util.find_spec("pyarrow") is None:
        assert "reading Parquet needs pyarrow, which is not installed" in serve_error(
            pki, capsys, pq)
    assert "expected HOST:PORT" in serve_error(pki, capsys, member_list, port="x")
    err = serve_error(pki, capsys, member_list, "--rate-limit", "lots")
    assert "--rate-limit 'lots'" in err
    err = serve_error(pki, capsys, member_list, "--label-size", "8")
    assert "the longest label is 33 bytes" in err
    err = serve_error(pki, capsys, member_list, "--ca", str(tmp_path / "missing-ca.pem"))
    assert "--ca" in err and "no such file" in err


def test_query_rejects_bad_input(pki, tmp_path, capsys):
    def error(*args):
        assert query(pki, *args) == 2
        return capsys.readouterr().err

    assert "expected NAME=HOST:PORT" in error("--member", "broker", "--key", "k")
    assert "expected HOST:PORT" in error("--member", "broker=localhost", "--key", "k")
    assert "given twice" in error("--member", "a=h:1", "--member", "a=h:2", "--key", "k")
    assert "spreadsheet notation" in error("--member", "a=h:1", "--key", "1.10105E+17")
    assert "no such file" in error("--member", "a=h:1", "--keys-file", str(tmp_path / "none"))
    blank = tmp_path / "blank.txt"
    blank.write_text("# nothing\n\n")
    assert "no keys to query" in error("--member", "a=h:1", "--keys-file", str(blank))
    bad = tmp_path / "bad.json"
    bad.write_text("{members: 1")
    assert "not valid JSON" in error("--alliance", str(bad), "--key", "k")
    bad.write_text(json.dumps({"members": {}}))
    assert "expected 'members'" in error("--alliance", str(bad), "--key", "k")
    assert "no such file" in error("--alliance", str(tmp_path / "a.yaml"), "--key", "k")
    with pytest.raises(SystemExit):  # argparse: a member source and a key are required
        main(["pir", "query", "--key", "k", *tls_flags(pki["officer"])])


def test_keys_file_with_a_header_or_columns(tmp_path, capsys):
    titled = tmp_path / "ids.csv"
    titled.write_text("id_no\nID00000\nID01998\n", encoding="utf-8")
    assert cli_pir.read_keys(titled, None) == ["ID00000", "ID01998"]
    assert "first line 'id_no' read as a header" in capsys.readouterr().err
    table = tmp_path / "clients.csv"
    table.write_text("name;id_no\n张三;ID00000\n李四;ID01998\n", encoding="gb18030")
    with pytest.raises(cli_pir.CliError, match="2 columns .*--keys-column"):
        cli_pir.read_keys(table, None)
    assert cli_pir.read_keys(table, "id_no") == ["ID00000", "ID01998"]
    with pytest.raises(cli_pir.CliError, match="--keys-column 'id'"):
        cli_pir.read_keys(table, "id")
    plain = tmp_path / "names.txt"
    plain.write_text("张三\n李四\n", encoding="utf-8")  # no digits anywhere: all are keys
    assert cli_pir.read_keys(plain, None) == ["张三", "李四"]


def test_header_only_list_is_not_served(pki, tmp_path, capsys):
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,tag,since,note\n", encoding="utf-8")
    assert "no records (a header only)" in serve_error(pki, capsys, header_only)


def test_query_keeps_members_hints_on_disk(pki, member_list, monkeypatch, capsys, tmp_path):
    """A second `yinji pir query` downloads no hint; --no-hint-cache keeps nothing."""
    from yinji.pir.client import PirClient

    ops = []
    real = PirClient._call

    def counting(self, header, parts=()):
        ops.append(header["op"])
        return real(self, header, parts)

    monkeypatch.setattr(PirClient, "_call", counting)
    [port] = free_ports(1)
    hints = tmp_path / "hints"
    with serving(monkeypatch, serve_argv(pki, member_list, port)):
        capsys.readouterr()
        args = ("--member", f"broker=127.0.0.1:{port}", "--key", "ID00004")
        outs = []
        for extra in (("--hint-cache", str(hints)), ("--hint-cache", str(hints)),
                      ("--no-hint-cache",)):
            ops.clear()
            assert query(pki, *args, *extra) == 0
            outs.append((capsys.readouterr().out, ops.count("hint")))
    assert [n for _, n in outs] == [1, 0, 1]
    assert all('{"tag":"aml","since":"2024-05"}' in o for o, _ in outs)
    assert len(list(hints.glob("*.npy"))) == 1


def test_serve_builds_in_data_dir_on_the_workers_asked_for(pki, member_list, monkeypatch,
                                                           capsys, tmp_path):
    """--data-dir keeps the built version; --ray [ADDRESS] builds on Ray workers (a stand-in
    here: tests/pir/test_build_stream.py runs the build on a real local Ray)."""
    import yinji.net.workers as workers_mod
    from yinji.net.workers import LocalWorkers

    asked = []

    class FakeRay(LocalWorkers):
        def __init__(self, address=None, **kw):
            asked.append(address)
            super().__init__(2)

        def close(self):
            asked.append("closed")

    monkeypatch.setattr(workers_mod, "RayWorkers", FakeRay)
    [port] = free_ports(1)
    data = tmp_path / "pir-data"
    argv = serve_argv(pki, member_list, port, "--data-dir", str(data), "--ray",
                      "--chunk-rows", "300")
    with serving(monkeypatch, argv):
        err = capsys.readouterr().err
        assert "OPRF over keys: 900/..." in err and "OPRF over keys: 1000/1000" in err
        rc = query(pki, "--member", f"broker=127.0.0.1:{port}", "--key", "ID00004")
        assert rc == 0 and '{"tag":"aml","since":"2024-05"}' in capsys.readouterr().out
    assert asked == [None, "closed"]
    [version] = data.iterdir()
    assert version.name.startswith("v1-") and {p.name for p in version.iterdir()} == {
        "matrix.u8", "hint.npy", "meta.json"}
    assert f"kept in {version}" in err
    with serving(monkeypatch, serve_argv(pki, member_list, port, "--data-dir", str(data),
                                         "--ray", "head:6379")):
        pass
    assert asked[-2:] == ["head:6379", "closed"] and len(list(data.iterdir())) == 2
    assert serve_error(pki, capsys, member_list, "--chunk-rows", "0").count("--chunk-rows 0")
