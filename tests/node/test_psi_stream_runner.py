"""The node's psi.intersect runner on a stream: a bucketed job on a file dataset reads it in
chunks (`catalog.source` + `yinji.psi.stream`) and answers what the in-memory path answers."""

import functools
import hashlib
from types import SimpleNamespace

import numpy as np
import pytest

from yinji.chunks import Stream
from yinji.net.workers import LocalWorkers
from yinji.node import runners
from yinji.node.catalog import CatalogError
from yinji.node.result_files import write_table
from yinji.node.runners import PsiRunner, RunContext
from yinji.testing.parties import record_received, run_parties
from yinji.testing.tls import make_tls_configs

from .test_catalog_confinement import client, home, node, op, post  # noqa: F401


def fake_node(tls, path, calls):
    def source(dataset, columns):
        calls.append((dataset, columns))
        return path
    def get(dataset):
        return SimpleNamespace(kind="csv")
    return SimpleNamespace(cfg=SimpleNamespace(lane_host="127.0.0.1", dataplane_host=None),
                           catalog=SimpleNamespace(source=source, get=get), tls=lambda: tls,
                           workers=lambda: LocalWorkers(2))


def id_files(tmp_path, data, extra=""):
    """One customers CSV per party (`customer_id` first, then `extra` columns' cells)."""
    head = "customer_id" + ",x" * bool(extra)
    paths = {}
    for name, vals in data.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(head + "\n" + "".join(f"{v}{extra}\n" for v in vals))
    return paths


def test_a_sql_dataset_is_copied_in_chunks_then_streamed(tmp_path):
    """A sql dataset (read in chunks from its cursor, `Catalog.sql_stream`) gives the same
    intersection as the file; values with commas and quotes survive the private copy."""
    tls = make_tls_configs(["fund", "securities"], tmp_path)
    pool = [f"C{i:05d}" for i in range(300)] + ['C,"7"', "C;8"]
    fund_rows = pool[:200] + pool[-2:] + pool[160:170] + [""]   # duplicates and an empty cell
    (tmp_path / "s.csv").write_text("customer_id\n" + "".join(
        f'"{v.replace(chr(34), chr(34) * 2)}"\n' for v in pool[150:]))
    spec = {"inputs": {n: {"dataset": "customers", "columns": ["customer_id"]}
                       for n in ("fund", "securities")},
            "params": {"buckets": 2, "lanes": 2}, "recipients": ["fund"]}
    read = []

    def sql_stream(dataset, columns, chunk_rows=1 << 16):
        read.append((dataset, columns))
        rows = [[v] for v in fund_rows]
        return Stream(columns, iter([rows[i:i + 64] for i in range(0, len(rows), 64)]), "sql")

    def body(party):
        fake = fake_node(tls[party.name], tmp_path / "s.csv", [])
        if party.name == "fund":
            fake.catalog = SimpleNamespace(get=lambda d: SimpleNamespace(kind="sql"),
                                           sql_stream=sql_stream)
        return PsiRunner("psi.intersect", False).run(
            RunContext(spec, party.name, party, None, lambda f, s: None, node=fake))
    fund, securities = run_parties(body, names=["fund", "securities"], timeout=60)
    assert securities is None and read == [("customers", ["customer_id"])]
    assert fund["intersection"] == sorted(pool[150:200] + pool[-2:])


def test_bucketed_job_streams_and_matches_the_in_memory_path(tmp_path, monkeypatch):
    tls = make_tls_configs(["fund", "securities"], tmp_path)
    rng = np.random.default_rng(2)
    pool = [f"C{int(v):07d}" for v in rng.choice(10**7, 60, replace=False)]
    data = {"fund": pool[:40] + pool[:5] + [""], "securities": pool[25:] + [" c" + pool[30][1:]]}
    paths = id_files(tmp_path, data, ",1")
    runner = PsiRunner("psi.intersect", False)
    spec = {"inputs": {n: {"dataset": "customers", "columns": ["customer_id"]} for n in data},
            "params": {"buckets": 3, "lanes": 2}, "recipients": ["fund"]}
    assert runner.streams(spec) and PsiRunner("psi.cardinality", True).streams(spec)
    assert not runner.streams(dict(spec, params={"buckets": 1}))

    def body(party, streamed):
        calls = []
        fake = fake_node(tls[party.name], paths[party.name], calls)
        inputs = None if streamed else {"customer_id": np.asarray(data[party.name], object)}
        out = runner.run(RunContext(spec, party.name, party, inputs, lambda f, s: None,
                                    node=fake))
        assert calls == ([("customers", ["customer_id"])] if streamed else [])
        return out
    got = {s: run_parties(body, names=["fund", "securities"], args=[(s,), (s,)], timeout=60)
           for s in (True, False)}
    assert got[True] == got[False]
    fund, securities = got[True]
    assert securities is None and fund["intersection"] == sorted(pool[25:40])
    assert fund["own_keys"].startswith("46 rows: 40 kept, 1 empty, 0 invalid, 5 duplicate")

    # In a job (a results folder here): the intersection goes to a file as it is read back,
    # in the recipient's file order, and inline only up to the bound.
    for bound in (15, 14):
        monkeypatch.setattr(runners, "write_table", functools.partial(write_table, inline=bound))

        def job(party, bound=bound):
            fake = fake_node(tls[party.name], paths[party.name], [])
            folder = tmp_path / f"results-{bound}" / party.name
            return runner.run(RunContext(spec, party.name, party, None, lambda f, s: None,
                                         node=fake, folder=folder))
        fund, securities = run_parties(job, names=["fund", "securities"], timeout=60)
        text = (tmp_path / f"results-{bound}" / "fund" / "intersection.csv").read_bytes()
        assert text.decode().split() == ["customer_id", *pool[25:40]]   # file order
        assert fund["file"] == {"name": "intersection.csv", "rows": 15, "bytes": len(text),
                                "sha256": hashlib.sha256(text).hexdigest()}
        assert fund["size"] == 15 and securities is None
        assert not (tmp_path / f"results-{bound}" / "securities").exists()
        assert fund.get("intersection") == (sorted(pool[25:40]) if bound == 15 else None)


def test_cardinality_job_streams_a_file_or_a_sql_cursor_like_the_in_memory_path(tmp_path):
    """A psi.cardinality job reads a file dataset (`catalog.source`) or a sql one straight
    from its cursor (`catalog.sql_stream`, no copy: one pass) in chunks; the count and the
    key summaries are those of the in-memory path; the other party gets nothing."""
    pool = [f"C{i:05d}" for i in range(90)]
    data = {"fund": pool[:50] + pool[:4] + ["", " c" + pool[7][1:]],
            "securities": pool[30:] + pool[31:33]}
    paths = id_files(tmp_path, data)
    runner = PsiRunner("psi.cardinality", True)
    spec = {"inputs": {n: {"dataset": "customers", "columns": ["customer_id"]} for n in data},
            "params": {}, "recipients": ["fund"]}
    assert runner.streams(spec)

    def body(party, how):
        calls = []
        fake = fake_node(None, paths[party.name], calls)
        if how == "sql" and party.name == "securities":
            rows = [[v] for v in data[party.name]]
            fake.catalog = SimpleNamespace(
                get=lambda d: SimpleNamespace(kind="sql"),
                sql_stream=lambda d, c: calls.append((d, c)) or Stream(
                    c, iter([rows[i:i + 7] for i in range(0, len(rows), 7)]), "sql"))
        inputs = ({"customer_id": np.asarray(data[party.name], object)} if how == "memory"
                  else None)
        out = runner.run(RunContext(spec, party.name, party, inputs, lambda f, s: None,
                                    node=fake))
        assert calls == ([] if how == "memory" else [("customers", ["customer_id"])])
        return out
    got = {how: run_parties(body, names=["fund", "securities"], args=[(how,), (how,)],
                            timeout=60) for how in ("memory", "file", "sql")}
    assert got["memory"] == got["file"] == got["sql"]
    fund, securities = got["file"]
    assert securities is None and fund["cardinality"] == 20
    assert fund["own_keys"].startswith("56 rows: 51 kept, 1 empty, 0 invalid, 4 duplicate")


def test_unbucketed_job_is_routed_by_the_larger_dataset(tmp_path, monkeypatch):
    """An intersection naming no buckets runs in memory while both datasets are small, and
    bucketed on a stream (both parties, the larger side's bucket count) once one has
    AUTO_STREAM_ROWS rows; the answer is the same either way. Explicit buckets or protocol:
    no routing. The peer sees one number: the bucket count this side would choose."""
    from yinji.psi import stream

    monkeypatch.setattr(stream, "AUTO_STREAM_ROWS", 50)
    monkeypatch.setattr(stream, "auto_buckets", functools.partial(stream.auto_buckets,
                                                                  target=20))
    tls = make_tls_configs(["fund", "securities"], tmp_path)
    pool = [f"C{i:05d}" for i in range(120)]
    data = {"fund": pool[:30] + pool[:3] + [""], "securities": pool[20:]}
    paths = id_files(tmp_path, data)
    runner = PsiRunner("psi.intersect", False)
    spec = {"inputs": {n: {"dataset": "customers", "columns": ["customer_id"]} for n in data},
            "params": {}, "recipients": ["fund"]}
    assert runner.streams(spec) and runner.auto_routes(dict(spec, params={"protocol": "auto"}))
    for params in ({"buckets": 1}, {"protocol": "ecdh"}, {"buckets": 4}):
        assert not runner.auto_routes(dict(spec, params=params))
    assert not PsiRunner("psi.cardinality", True).auto_routes(spec)

    def body(party, rows):
        calls = []
        fake = fake_node(tls[party.name], paths[party.name], calls)
        fake.catalog.count_rows = lambda ds: rows[party.name]
        fake.catalog.load_keyed = lambda d, c: (
            calls.append("load") or {c[0]: np.asarray(data[party.name], object)}, None)
        view = record_received(party)
        out = runner.run(RunContext(spec, party.name, party, None, lambda f, s: None,
                                    node=fake))
        return out, calls, view[0][1].tolist()
    small = {"fund": 34, "securities": 49}
    (fund, calls_f, seen_f), (sec, calls_s, seen_s) = run_parties(
        body, names=["fund", "securities"], args=[(small,), (small,)], timeout=60)
    assert calls_f == calls_s == ["load"] and seen_f == seen_s == [1]
    assert sec is None and fund["intersection"] == sorted(pool[20:30])
    large = {"fund": 34, "securities": 100}
    (fund2, calls_f, seen_f), (sec, calls_s, seen_s) = run_parties(
        body, names=["fund", "securities"], args=[(large,), (large,)], timeout=60)
    assert calls_f == calls_s == [("customers", ["customer_id"])]
    assert (seen_f, seen_s) == ([5], [1])   # securities' 100 rows: 5 buckets of ~20
    assert sec is None and fund2["intersection"] == fund["intersection"]


def test_catalog_source_is_confined_like_load(client, node, home):  # noqa: F811
    assert post(client, node, "data/customers.csv").status_code in (200, 201)
    assert node.catalog.source("probe", ["customer_id"]) == (home / "data" /
                                                            "customers.csv").resolve()
    with pytest.raises(CatalogError, match="no column"):
        node.catalog.source("probe", ["nope"])
    (home / "data" / "customers.csv").unlink()
    with pytest.raises(CatalogError, match="must name an existing csv file"):
        node.catalog.source("probe", ["customer_id"])
