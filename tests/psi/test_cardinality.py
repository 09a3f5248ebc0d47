"""Streamed PSI cardinality (`yinji.psi.cardinality`) against the plaintext |A ∩ B| of the
normalised keys, on random and edge inputs, with chunks, spill files, blocks and partitions
small enough that every boundary falls inside the data; and what each party receives."""

import csv
import sqlite3

import numpy as np
import pytest

from yinji.chunks import SqlSource, Stream
from yinji.crypto import group
from yinji.psi import cardinality as card
from yinji.psi.cardinality import partition_bits, psi_cardinality_stream
from yinji.psi.ecdh import psi_cardinality
from yinji.psi.keys import DuplicateKeys, prepare_keys
from yinji.testing.parties import record_received, run_parties

NAMES = ["A", "B"]


def write_csv(path, values):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "x"])
        w.writerows([v, i] for i, v in enumerate(values))
    return path


def plain(a, b):
    return len(set(prepare_keys(list(a)).keys) & set(prepare_keys(list(b)).keys))


def run(tmp_path, a, b, *, receiver="A", record=None, **kw):
    paths = [write_csv(tmp_path / "a.csv", a), write_csv(tmp_path / "b.csv", b)]

    def body(party, path):
        view = record_received(party) if party.name in (record or ()) else None
        res = psi_cardinality_stream(party, "B" if party.name == "A" else "A", path, ["id"],
                                     receiver=receiver, workers=1, **kw)
        return res, view
    return run_parties(body, names=NAMES, args=[(p,) for p in paths], timeout=60)


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(card, "PART_TARGET", 4)   # 8 tags -> 2 partitions, 40 -> 16


EDGES = [([], []), ([], ["k1"]), (["k1"], []), (["k1"], ["k1"]), (["k1"], ["k2"]),
         (["k1", "k1", "k1"], ["k1", "k1"]),                       # all equal
         ([f"a{i}" for i in range(9)], [f"b{i}" for i in range(9)]),  # disjoint
         ([f"k{i % 5}" for i in range(23)], [f"k{i}" for i in range(3, 30)]),  # duplicates
         (["", "k1", " k1", "1.10105E+17", "k2"], ["k1", "", "k2", "k2"])]  # empty / spreadsheet


@pytest.mark.parametrize("a,b", EDGES)
@pytest.mark.parametrize("block", [1, 3, 64])
def test_edges_match_plaintext(tmp_path, small_parts, a, b, block):
    (ra, _), (rb, _) = run(tmp_path, a, b, batch_size=block, chunk_rows=2, spill_buckets=3)
    assert ra.count == plain(a, b) and rb.count is None
    assert (ra.n, rb.n) == (len(prepare_keys(a).keys), len(prepare_keys(b).keys))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_sets_match_plaintext(tmp_path, small_parts, seed):
    rng = np.random.default_rng(seed)
    pool = [f"C{int(v):06d}" for v in rng.choice(10**6, 120, replace=False)]
    a = [pool[i] for i in rng.integers(0, 80, int(rng.integers(1, 90)))]
    b = [pool[i] for i in rng.integers(40, 120, int(rng.integers(1, 90)))]
    block, chunk = int(rng.integers(1, 12)) | 1, int(rng.integers(1, 20))
    (ra, _), (rb, _) = run(tmp_path, a, b, receiver="B", batch_size=block, chunk_rows=chunk,
                           spill_buckets=int(rng.integers(1, 9)))
    assert ra.count is None and rb.count == plain(a, b)
    both = run(tmp_path, a, b, receiver=None, batch_size=block, chunk_rows=chunk)
    assert [r.count for r, _ in both] == [plain(a, b)] * 2


def test_in_memory_and_streamed_parties_interoperate(tmp_path, small_parts):
    a = [f"k{i}" for i in range(50)]
    b = [f"k{i}" for i in range(30, 70)] + ["k31"]
    path = write_csv(tmp_path / "b.csv", b)

    def body(party):
        if party.name == "A":
            return psi_cardinality(party, "B", prepare_keys(a), receiver="A", batch_size=7)
        return psi_cardinality_stream(party, "A", path, ["id"], receiver="A", batch_size=5,
                                      chunk_rows=4).count
    assert run_parties(body, names=NAMES) == [20, None]


def test_sql_stream_source(tmp_path):
    """A `Stream` (as `Catalog.sql_stream` gives) and a SqlSource are read in chunks."""
    db = tmp_path / "k.db"
    with sqlite3.connect(db) as con:
        con.execute("create table t (id text)")
        con.executemany("insert into t values (?)", [(f"k{i}",) for i in range(40)] + [(None,)])
    rows = [[f"k{i}"] for i in range(20, 60)]
    stream = Stream(["id"], iter([rows[i:i + 6] for i in range(0, len(rows), 6)]), "sql")

    def body(party):
        if party.name == "A":
            src = SqlSource(f"sqlite:///{db}", table="t")
            return psi_cardinality_stream(party, "B", src, ["id"], receiver="A",
                                          chunk_rows=8).count
        return psi_cardinality_stream(party, "A", stream, ["id"], receiver="A").count
    assert run_parties(body, names=NAMES) == [20, None]


def test_sender_view_depends_only_on_the_receiver_set_size(tmp_path, small_parts):
    """The sender (B) receives a header and |A| points in blocks whose sizes depend on |A|
    only -- the same shapes whether A's keys all match B's or none do; every point a
    distinct group element, none repeated across runs (fresh scalar) -- and an empty
    acknowledgement per block it sent beyond A's last or returned (its own counts)."""
    b = [f"k{i}" for i in range(40)]
    views = []
    for a in ([f"k{i}" for i in range(17)], [f"z{i}" for i in range(17)]):
        (ra, view_a), (rb, view) = run(tmp_path, a, b, record="AB", batch_size=5,
                                       chunk_rows=3)
        assert rb.count is None and ra.count == plain(a, b)
        acks = [m for _, m in view if isinstance(m, bytes)]
        returned = [m for _, m in view_a if isinstance(m, np.ndarray) and m.shape[1:] == (16,)]
        # B's 8 blocks after A's 4 (the tail) and its returned blocks: B's own counts
        assert set(acks) <= {b""} and len(acks) == (8 - 4) + len(returned)
        views.append([(p, m) for p, m in view if not isinstance(m, bytes)])
    shapes = [[(p, m.dtype.str, m.shape) for p, m in v] for v in views]
    assert shapes[0] == shapes[1]
    assert [m.shape for _, m in views[0]] == [(3,), (5, 32), (5, 32), (5, 32), (2, 32)]
    assert views[0][0][1].tolist() == views[1][0][1].tolist() == [17, 1, 5]
    pts = [bytes(r) for v in views for _, m in v[1:] for r in m]
    assert len(set(pts)) == 34
    assert group.mult_points(group.random_scalar(), np.concatenate(
        [m for _, m in views[0][1:]])).shape == (17, 32)   # valid group elements


def test_receiver_gets_its_tags_back_sorted_and_only_a_total(tmp_path, small_parts):
    """The receiver's own doubly blinded tags return in byte order over all blocks (not its
    order), partitions notwithstanding; the result carries the total only."""
    a, b = [f"k{i}" for i in range(40)], [f"k{i}" for i in range(20, 33)]
    (ra, view), _ = run(tmp_path, a, b, record="A", batch_size=6, chunk_rows=7)
    view = [(p, m) for p, m in view if not isinstance(m, bytes)]
    assert partition_bits(40) > 1 and ra.count == 13
    back = [m for _, m in view if m.dtype == np.uint8 and m.ndim == 2 and m.shape[1] == 16]
    tags = [bytes(r) for m in back for r in m]
    assert len(tags) == 40 and tags == sorted(tags) and all(len(m) <= 6 for m in back)
    assert set(vars(ra)) == {"count", "report", "n", "read"}


def test_duplicates_reject_stops_both_parties(tmp_path):
    with pytest.raises(DuplicateKeys):
        run(tmp_path, ["k1", "k1"], ["k1"], duplicates="reject")
    with pytest.raises(RuntimeError, match="stopped before the exchange"):
        run(tmp_path, ["k1"], ["k2", "k2"], duplicates="reject")


def test_oversized_blocks_are_refused(tmp_path):
    """A peer sending a block larger than it announced is refused before it is blinded."""
    from yinji.net.channel import MalformedFrame

    def body(party):
        if party.name == "B":
            ch = party.channel("A")
            ch.send_array(np.array([2, 0, 1], dtype=np.int64))
            ch.recv_array()
            ch.send_array(np.zeros((2, 32), np.uint8))
            return None
        return psi_cardinality(party, "B", [b"x"], receiver="A", batch_size=1)
    with pytest.raises(MalformedFrame):
        run_parties(body, names=NAMES)


def test_partition_bits():
    assert [partition_bits(n, 4) for n in (0, 4, 5, 8, 9, 1 << 30)] == [0, 0, 1, 1, 2, 16]


def test_spill_count_follows_the_file_size(tmp_path, monkeypatch):
    from yinji.psi.cardinality import spill_count

    monkeypatch.setattr(card, "SPILL_FILE_BYTES", 100)
    small, big = tmp_path / "s.csv", tmp_path / "b.csv"
    small.write_text("id\n1\n")
    big.write_text("id\n" + "x" * 1000)
    assert spill_count(small) == 1 and spill_count(big) == 11 and spill_count(str(big)) == 11
    assert spill_count(tmp_path / "missing.csv") == 1
    assert spill_count(SqlSource("sqlite://", table="t")) == card.SPILL_BUCKETS


def _standin_group():
    """A cheap commutative stand-in for the group (x -> SHA-256 prefix, s·P = P·(s|1) mod
    2^64; NOT secure) so a memory test can run tens of thousands of keys in a second. Only
    in a process of its own (`_traced_peak`)."""
    import hashlib

    def scal(s):
        return np.uint64(int.from_bytes(s[:8], "little") | 1)

    def pack(v):
        out = np.zeros((len(v), 32), np.uint8)
        out[:, :8] = v.astype(">u8").view(np.uint8).reshape(-1, 8)
        return out

    def hash_and_mult(scalar, items, domain, workers=None, pool=None):
        h = np.fromiter((int.from_bytes(hashlib.sha256(domain + k).digest()[:8], "big")
                         for k in items), dtype=np.uint64, count=len(items))
        return pack(h * scal(scalar))

    def mult(scalar, points, workers=None, pool=None):
        return pack(np.ascontiguousarray(points[:, :8]).view(">u8").ravel()
                    .astype(np.uint64) * scal(scalar))
    group.hash_and_mult_points, group.mult_points = hash_and_mult, mult


def _traced_peak(n, tmp):
    """In a fresh process (tracemalloc counts every thread): both parties' traced peak for
    n keys a side (n/4 shared) after a warm-up run (imports, caches), and the count."""
    import tracemalloc
    from pathlib import Path

    import yinji.textfile

    yinji.textfile.CHUNK = 1 << 16   # the encoding check's pieces
    card.PART_TARGET = 1 << 11
    _standin_group()
    rng = np.random.default_rng(9)
    ids = [f"{int(v):018d}" for v in rng.choice(10**17, 2 * n, replace=False) + 10**17]
    a, b = ids[:n], ids[n - n // 4:2 * n - n // 4]
    tmp = Path(tmp)
    paths = [write_csv(tmp / "a.csv", a), write_csv(tmp / "b.csv", b)]
    warm = [write_csv(tmp / "wa.csv", a[:99]), write_csv(tmp / "wb.csv", b[:99])]
    del ids, a, b

    def body(party, path):
        return psi_cardinality_stream(party, "B" if party.name == "A" else "A", path, ["id"],
                                      receiver="A", chunk_rows=1 << 10, batch_size=1 << 10,
                                      spill_buckets=64, workers=1).count
    run_parties(body, names=NAMES, args=[(p,) for p in warm])
    tracemalloc.start()
    try:
        got = run_parties(body, names=NAMES, args=[(p,) for p in paths], timeout=120)
        return tracemalloc.get_traced_memory()[1], got
    finally:
        tracemalloc.stop()


def test_memory_is_bounded_by_the_chunk_block_and_partition_not_the_sets(tmp_path):
    """8x10^3 and 3.2x10^4 keys a side, both parties in one process, chunks, blocks and
    partitions of 2^10-2^11: the traced peak of the whole run (reading, spilling, blocks,
    the receiver's partitions) does not grow with the sets (less than a tenth of what the
    extra keys take merely as prepared keys, which the in-memory path held at both parties
    with every tag), and stays under the prepared keys of one side. The group is a stand-in
    here (memory, not crypto)."""
    import multiprocessing as mp
    import sys
    from concurrent.futures import ProcessPoolExecutor

    per_key = sys.getsizeof(b"1" * 18) + 8
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        (small, got_s), (big, got_b) = [
            ex.submit(_traced_peak, n, str(tmp_path / str(n))).result(timeout=300)
            for n in (8_000, 32_000) if not (tmp_path / str(n)).mkdir()]
    assert got_s == [2_000, None] and got_b == [8_000, None]
    assert big - small < 24_000 * per_key / 10, (small, big)
    assert big < 32_000 * per_key, (big, 32_000 * per_key)


def test_parquet_source(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [f"k{i}" for i in range(30)] + [None, "k3"]}),
                   tmp_path / "a.parquet", row_group_size=7)
    path_b = write_csv(tmp_path / "b.csv", [f"k{i}" for i in range(25, 60)])

    def body(party):
        src = tmp_path / "a.parquet" if party.name == "A" else path_b
        return psi_cardinality_stream(party, "B" if party.name == "A" else "A", src, ["id"],
                                      receiver="B", chunk_rows=4)
    a, b = run_parties(body, names=NAMES)
    assert a.count is None and b.count == 5
    assert a.report.summary().startswith("32 rows: 30 kept, 1 empty, 0 invalid, 1 duplicate")
