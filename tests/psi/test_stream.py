"""Streaming bucketed PSI against the plaintext computation on the whole table (prepare_keys +
Python sets), with chunk sizes small enough that chunk boundaries fall inside buckets."""

import csv
import sqlite3
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from yinji import ids
from yinji.chunks import SqlSource
from yinji.psi import stream as st
from yinji.psi.bucketed import BucketOverflow, bucket_cap, bucket_of, bucketed_psi
from yinji.psi.keys import DuplicateKeys, prepare_keys
from yinji.psi.stream import bucketed_psi_stream, select_rows
from yinji.testing.parties import record_received, run_parties
from yinji.testing.tls import make_tls_configs
from yinji.textfile import TableFileError

NAMES = ["A", "B"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_configs(NAMES, tmp_path_factory.mktemp("tls"))


def write_csv(path, values, *, encoding="utf-8", header=("id", "name")):
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, v in enumerate(values):
            w.writerow([v, f"row{i}"])
    return path


def plain(values_a, values_b, **kw):
    """Rows of A (first row of each key) whose normalised key B has, and A's report."""
    pa = prepare_keys(list(values_a), **kw)
    pb = prepare_keys(list(values_b), **kw)
    theirs = set(pb.keys)
    return sorted(int(r) for k, r in zip(pa.keys, pa.rows, strict=True) if k in theirs), pa


def run(sources, tls, *, columns=("id",), buckets=4, lanes=2, receiver=None, chunk=7, **kw):
    def body(party, source):
        peer = "B" if party.name == "A" else "A"
        return bucketed_psi_stream(party, peer, source, columns, tls=tls[party.name],
                                   buckets=buckets, lanes=lanes, receiver=receiver,
                                   chunk_rows=chunk, timeout=60, **kw)
    return run_parties(body, names=NAMES, args=[(s,) for s in sources], timeout=120)


def messy(rng, n, pool):
    """n values drawn with repeats from `pool`, plus empty cells and spreadsheet floats."""
    out = [pool[i] for i in rng.integers(0, len(pool), n)]
    for i in rng.choice(n, size=min(n, max(1, n // 10)), replace=False):
        out[i] = rng.choice(["", "  ", "1.10105E+17"])
    return out


@pytest.mark.parametrize("n_a,n_b,buckets,chunk", [(0, 0, 3, 5), (0, 9, 2, 4), (1, 1, 2, 1),
                                                   (60, 45, 5, 7), (200, 150, 1, 16),
                                                   (120, 130, 16, 3)])
def test_matches_plaintext_with_duplicates_across_chunks(tmp_path, tls, n_a, n_b, buckets,
                                                          chunk):
    rng = np.random.default_rng(n_a * 31 + n_b)
    pool = [f"{int(v):018d}" for v in rng.choice(10**17, 80, replace=False)]
    a, b = messy(rng, n_a, pool[:60]), messy(rng, n_b, pool[20:])
    pa, pb = write_csv(tmp_path / "a.csv", a), write_csv(tmp_path / "b.csv", b)
    ra, rb = run([pa, pb], tls, buckets=buckets, lanes=min(buckets, 3), chunk=chunk)
    want_a, prep_a = plain(a, b)
    want_b, _ = plain(b, a)
    assert ra.rows.tolist() == want_a and rb.rows.tolist() == want_b
    assert ra.n == len(prep_a) and ra.report.rows == n_a
    assert ra.report.summary() == prep_a.report.summary()
    assert ra.report.first[ids.DUPLICATE] == prep_a.report.duplicates[:st.SAMPLE]


def test_all_invalid_keys_and_a_header_only_file(tmp_path, tls):
    pa = write_csv(tmp_path / "a.csv", ["", " ", "1.23E+17"] * 5)
    pb = write_csv(tmp_path / "b.csv", [])
    ra, rb = run([pa, pb], tls, buckets=3, chunk=2)
    assert ra.rows.tolist() == [] and rb.rows.tolist() == []
    assert ra.n == 0 and ra.report.counts[ids.EMPTY] == 10
    assert ra.report.counts[ids.SPREADSHEET] == 5 and rb.report.rows == 0


def test_one_receiver_gbk_csv_and_multi_column_key(tmp_path, tls):
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏"]
    a = [(n, str(i % 3)) for i, n in enumerate(names)] * 2          # repeats across chunks
    b = [(n, str(i % 3)) for i, n in enumerate(names[2:], start=2)] + [("张伟", "9")]
    for path, rows, enc in ((tmp_path / "a.csv", a, "gb18030"), (tmp_path / "b.csv", b, "utf-8")):
        with open(path, "w", newline="", encoding=enc) as fh:
            w = csv.writer(fh)
            w.writerow(["姓名", "分行"])
            w.writerows(rows)
    ra, rb = run([tmp_path / "a.csv", tmp_path / "b.csv"], tls, columns=["姓名", "分行"],
                 receiver="A", chunk=3, kinds="text")
    assert rb.rows is None
    assert ra.rows.tolist() == [2, 3, 4, 5, 6] and ra.read.startswith("14 rows, CSV in gb18030")
    header, got = select_rows(tmp_path / "a.csv", ra.rows, chunk_rows=4)
    assert header == ["姓名", "分行"] and [r[0] for r in got] == names[2:]


def test_sql_and_parquet_sources(tmp_path, tls):
    pa_mod = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    pool = [f"1{int(v):010d}" for v in rng.choice(10**10, 50, replace=False)]
    a, b = messy(rng, 90, pool[:35]), messy(rng, 70, pool[15:])
    db = tmp_path / "a.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE people (mobile TEXT, note TEXT)")
        con.executemany("INSERT INTO people VALUES (?, ?)",
                        [(v if v.strip() else None, "x") for v in a])
    pq.write_table(pa_mod.table({"mobile": b, "n": list(range(len(b)))}), tmp_path / "b.parquet")
    want_a, _ = plain([v if v.strip() else None for v in a], b)
    want_b, _ = plain(b, a)
    for src in (SqlSource(f"sqlite:///{db}", table="people"),
                SqlSource(f"sqlite:///{db}", query="SELECT note, mobile FROM people")):
        ra, rb = run([src, tmp_path / "b.parquet"], tls, columns=["mobile"], chunk=8)
        assert ra.rows.tolist() == want_a and rb.rows.tolist() == want_b
        assert ra.read.startswith("90 rows, SQL") and rb.read.startswith("70 rows, PARQUET")


def test_interoperates_with_the_in_memory_bucketed_psi(tmp_path, tls):
    rng = np.random.default_rng(4)
    pool = [f"{int(v):018d}" for v in rng.choice(10**17, 100, replace=False)]
    a, b = pool[:70], pool[40:]
    path = write_csv(tmp_path / "a.csv", a)

    def body(party):
        if party.name == "A":
            return bucketed_psi_stream(party, "B", path, ["id"], tls=tls["A"], buckets=4,
                                       lanes=2, chunk_rows=9, timeout=60).rows
        return bucketed_psi(party, "A", prepare_keys(b), tls=tls["B"], buckets=4, lanes=2,
                            timeout=60)
    ra, rb = run_parties(body, names=NAMES, timeout=120)
    assert ra.tolist() == list(range(40, 70)) and rb.tolist() == list(range(30))


def test_a_failure_before_the_lanes_stops_both_and_names_it(tmp_path, tls, monkeypatch):
    pa = write_csv(tmp_path / "a.csv", ["110101199003077777", "1", "1"])
    pb = write_csv(tmp_path / "b.csv", ["1", "2", "3"])
    with pytest.raises(DuplicateKeys, match="1 duplicate key row"):
        run([pa, pb], tls, duplicates="reject")
    with pytest.raises(TableFileError, match=r"no column\(s\) \['nope'\]"):
        run([pa, pb], tls, columns=["nope"])

    def peer_view(body_a):
        out = {}

        def body(party):
            if party.name == "A":
                return body_a(party)
            try:
                bucketed_psi_stream(party, "A", pb, ["id"], tls=tls["B"], buckets=4, lanes=1,
                                    timeout=30)
            except Exception as exc:  # noqa: BLE001
                out["B"] = exc
        with pytest.raises(Exception):  # noqa: B017 - A's own error, checked below
            run_parties(body, names=NAMES, timeout=60)
        return out["B"]
    exc = peer_view(lambda p: bucketed_psi_stream(p, "B", tmp_path / "missing.csv", ["id"],
                                                  tls=tls["A"], buckets=4, lanes=1))
    assert "A stopped before the lanes: TableFileError" in str(exc)
    monkeypatch.setattr(st, "bucket_cap", lambda n, buckets: 0 if n == 2 else n)  # A only
    exc = peer_view(lambda p: bucketed_psi_stream(p, "B", pa, ["id"], tls=tls["A"], buckets=4,
                                                  lanes=1))
    assert "A stopped before the lanes: BucketOverflow" in str(exc)


def test_overflow_is_refused(tmp_path, tls, monkeypatch):
    pa = write_csv(tmp_path / "a.csv", [str(i) for i in range(20)])
    monkeypatch.setattr(st, "bucket_cap", lambda n, buckets: 1)
    with pytest.raises(BucketOverflow, match="over its cap 1"):
        run([pa, pa], tls, buckets=2)


def test_main_channel_carries_nothing_about_keys(tmp_path, tls):
    # What B receives outside the lanes is the same whichever keys A has.
    rng = np.random.default_rng(8)
    views = []
    for seed in (1, 2):
        vals = [str(v) for v in np.random.default_rng(seed).choice(10**9, 40, replace=False)]
        pa = write_csv(tmp_path / f"a{seed}.csv", vals)
        pb = write_csv(tmp_path / "b.csv", [str(v) for v in rng.choice(10**9, 40)])

        def body(party, source):
            got = record_received(party) if party.name == "B" else None
            peer = "B" if party.name == "A" else "A"
            out = bucketed_psi_stream(party, peer, source, ["id"], tls=tls[party.name],
                                      buckets=2, lanes=1, receiver="B", chunk_rows=6)
            if got is not None:
                views.append(got)
            return out
        run_parties(body, names=NAMES, args=[(pa,), (pb,)], timeout=60)
    for view in views:
        assert [m for _, m in view][:1] == [b'{"buckets": 2, "lanes": 1, "receiver": "B"}']
        assert len(view[1][1]) == 32 and view[2][1] == b'{"ok": true}' and len(view) == 3


def test_spilled_buckets_are_padded_to_the_public_cap(tmp_path):
    keys = [i.to_bytes(8, "big") for i in range(3000)]
    spill = st.Spill(tmp_path, 8)
    spill.add(keys, np.arange(3000), bucket_of(keys, b"k" * 32, 8))
    rep = st.StreamReport()
    n = sum(spill.settle(b, rep) for b in range(8))
    cap = bucket_cap(n, 8)
    lazy = st.SpilledBuckets(str(tmp_path), 8, cap)
    assert n == 3000 and {len(lazy[b]) for b in range(8)} == {cap}
    for b in range(8):
        assert lazy[b][:spill.counts[b]] == [keys[i] for i in spill.rows(b)]


def _read_and_settle(path, spill_dir, n_buckets):
    """In a fresh process (tracemalloc's peak counts every thread of the process, and threads
    left by earlier tests would count too): read, spill and settle, then load one bucket."""
    import yinji.textfile

    yinji.textfile.CHUNK = 1 << 16  # the encoding check reads 64 KiB pieces here
    spill = st.Spill(Path(spill_dir), n_buckets)
    spill.dir.mkdir()
    rep = st.StreamReport()
    tracemalloc.start()
    try:
        st.read_into_spill(spill, Path(path), ["id"], b"k" * 32, rep, kinds=None, validate=False,
                      chunk_rows=1 << 10)
        got = sum(spill.settle(b, rep) for b in range(n_buckets))
        first = st.SpilledBuckets(str(spill.dir), n_buckets, bucket_cap(got, n_buckets))[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, got, rep.rows, len(first)


def test_reading_memory_is_bounded_by_the_chunk_not_the_table(tmp_path):
    # 5x10^4 rows read, normalised, spilled and settled in 2^10-row chunks, then one bucket
    # loaded: the peak stays under a quarter of what merely holding the table's prepared
    # keys takes (n * (bytes object + pointer)). For 2x10^5 rows, preparing the whole column
    # peaked at 62 MB and streaming at 2.8 MB (benchmarks/psi_stream.py --memory). The
    # encoding check reads 64 KiB pieces here (1 MiB normally: a fixed ~2 MB more).
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    n = 50_000
    rng = np.random.default_rng(5)
    vals = [f"{int(v):018d}" for v in rng.choice(10**17, n, replace=False) + 10**17]
    whole = n * (sys.getsizeof(vals[0].encode()) + 8)
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("id\n" + "\n".join(vals) + "\n")
    del vals
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        peak, got, rows, first = ex.submit(_read_and_settle, str(path),
                                           str(tmp_path / "spill"), 64).result(timeout=300)
    assert got == n and rows == n and first == bucket_cap(n, 64)
    assert peak < whole / 4, (peak, whole)


@pytest.mark.parametrize("clustered", [False, True])
def test_the_receivers_rows_are_sorted_range_by_range_on_disk(tmp_path, tls, monkeypatch,
                                                               clustered):
    """With ranges of 7 matches (and 8 coarse ranges), the rows come back from several range
    files in order, also when every match sits in the first few rows of a long file."""
    monkeypatch.setattr(st, "RANGE_ROWS", 7)
    monkeypatch.setattr(st, "COARSE_RANGES", 8)
    rng = np.random.default_rng(5)
    pool = [f"{int(v):018d}" for v in rng.choice(10**17, 400, replace=False)]
    a = pool[:300]
    b = pool[:40] + pool[300:] if clustered else [pool[i] for i in rng.choice(300, 60)] + \
        pool[300:]
    pa, pb = write_csv(tmp_path / "a.csv", a), write_csv(tmp_path / "b.csv", b)
    ra, _ = run([pa, pb], tls, buckets=5, chunk=13, receiver="A", spill_dir=str(tmp_path))
    want, _ = plain(a, b)
    assert isinstance(ra.rows, np.memmap) and not ra.rows.flags.writeable
    assert ra.rows.tolist() == want and len(want) > 3 * 7
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("yinji-")] == []
    header, rows = select_rows(pa, ra.rows)
    assert [r[0] for r in rows] == [a[i] for i in want]
