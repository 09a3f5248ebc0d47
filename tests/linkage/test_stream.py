"""Streamed linkage (yinji.linkage.stream) against the in-memory linkage unit on the same
files: the same links, candidates, error messages and date counts."""

import csv
import dataclasses
import json
import re

import numpy as np
import pytest

from yinji import textfile
from yinji.linkage import one_to_one_disk as otd
from yinji.linkage import stream as st
from yinji.linkage import unit_partitions as up
from yinji.linkage.blocking import candidate_pairs, join_rows, refine_partners
from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.match import greedy_one_to_one, link_encodings, prepare
from yinji.linkage.schemas import PERSON, date_problems, remap
from yinji.net.workers import LocalWorkers
from yinji.testing.linkage_data import FIELDS, chinese_identity_set


def _write(path, rows, fields=FIELDS):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)
    return str(path)


def _messy(seed, n=120):
    """Random identity files with exact duplicates, near duplicates, bad and impossible dates,
    empty fields."""
    rng = np.random.default_rng(seed)
    data = chinese_identity_set(n, seed=seed)
    a, b = [dict(r) for r in data.a], [dict(r) for r in data.b]
    for rows, tag in ((a, "a"), (b, "b")):
        for k in range(len(rows) // 6):   # exact copies under new ids: ties in Dice
            rows.append({**rows[int(rng.integers(len(rows)))], "id": f"{tag}dup{k}"})
        for r in rng.choice(rows, size=len(rows) // 8, replace=False):
            r["dob"] = rng.choice(["not a date", "1990-02-30", "", "19xx"])
        for r in rng.choice(rows, size=len(rows) // 10, replace=False):
            r[str(rng.choice(["phone", "address", "id_number", "name"]))] = ""
        order = rng.permutation(len(rows))
        rows[:] = [rows[i] for i in order]
    return a, b


def _in_memory(pa, pb, schema, key):
    """The reference: whole files read, prepare (unshuffled), link_encodings."""
    recs, ids = [], []
    for p in (pa, pb):
        t = textfile.read_table(p)
        rows = [dict(zip(t.header, r, strict=False)) for r in t.rows]
        ids.append([r["id"].strip() for r in rows])
        recs.append(remap(schema, rows))
    enc = ClkEncoder(schema, key)
    prep = [prepare(r, schema, key, shuffle=False) for r in recs]
    table, cands = link_encodings(enc.transmit(prep[0].bits), enc.transmit(prep[1].bits),
                                  prep[0].tokens, prep[1].tokens, schema)
    links = [(ids[0][i], ids[1][j], s) for i, j, s in
             zip(table.a.tolist(), table.b.tolist(), table.score.tolist(), strict=True)]
    return links, cands, [date_problems(schema, r) for r in recs]


@pytest.mark.parametrize("seed,chunk,parts,cap", [(1, 37, 5, 250_000), (2, 1000, 1, 250_000),
                                                   (3, 16, 7, 40), (4, 50, 3, 1)])
def test_stream_gives_the_in_memory_links(tmp_path, key, seed, chunk, parts, cap):
    schema = dataclasses.replace(PERSON, max_block_pairs=cap)
    a, b = _messy(seed)
    pa, pb = _write(tmp_path / "a.csv", a), _write(tmp_path / "b.csv", b)
    want, cands, dates = _in_memory(pa, pb, schema, key)
    got = st.link_sources(pa, pb, schema, key, chunk_rows=chunk, partitions=parts,
                          shuffle=False, workers=LocalWorkers(2), spill_dir=str(tmp_path))
    assert sorted(got.links) == sorted(want) and got.candidates == cands
    assert len(want) > 10
    for spill, ref in zip(got.owners, dates, strict=True):
        for name, kinds in ref.items():
            for kind, found in kinds.items():
                assert spill.dates.counts.get(name, {}).get(kind, 0) == len(found)
                assert spill.dates.first.get(name, {}).get(kind, []) == found[:3]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("yinji-")] == []


def test_links_go_to_the_sink_in_blocks_and_are_not_kept(tmp_path, key, monkeypatch):
    """`sink`: the links are handed over LINK_BLOCK at a time, none kept (memory bounded by
    a block, not by the links); the same links as without it."""
    a, b = _messy(1)
    pa, pb = _write(tmp_path / "a.csv", a), _write(tmp_path / "b.csv", b)
    want, _, _ = _in_memory(pa, pb, PERSON, key)
    monkeypatch.setattr(st, "LINK_BLOCK", 7)
    blocks: list[list] = []
    got = st.link_sources(pa, pb, PERSON, key, chunk_rows=37, workers=LocalWorkers(1),
                          spill_dir=str(tmp_path), sink=blocks.append)
    assert got.links == [] and got.count == len(want) > 14
    assert [len(x) for x in blocks[:-1]] == [7] * (len(blocks) - 1) and 0 < len(blocks[-1]) <= 7
    assert sorted(x for blk in blocks for x in blk) == sorted(want)


def test_stream_with_the_size_aware_cap(tmp_path, key):
    """Files "larger" than scale_from: the cap shrinks (block_cap) in both paths."""
    schema = dataclasses.replace(PERSON, max_block_pairs=50, scale_from=30, min_block_pairs=2)
    a, b = _messy(6)
    pa, pb = _write(tmp_path / "a.csv", a), _write(tmp_path / "b.csv", b)
    want, cands, _ = _in_memory(pa, pb, schema, key)
    got = st.link_sources(pa, pb, schema, key, chunk_rows=29, partitions=3, shuffle=False,
                          workers=LocalWorkers(2), spill_dir=str(tmp_path))
    assert sorted(got.links) == sorted(want) and got.candidates == cands
    whole = _in_memory(pa, pb, PERSON, key)[1]
    assert cands < whole and len(want) > 10


@pytest.mark.parametrize("parts", [1, 4])
def test_link_spills_splits_over_cap_blocks_as_in_memory(tmp_path, parts):
    """Token-level: coarse passes (few values) over the cap, the partner passes (dob,
    initials+year) finer; the streamed unit's candidates and links equal link_encodings's,
    and refining finds pairs that dropping the blocks loses."""
    rng = np.random.default_rng(parts)
    schema = dataclasses.replace(PERSON, max_block_pairs=40)
    cols = len(refine_partners(schema))
    ranges = np.full(cols, 4)
    ranges[cols - 4:cols - 2] = 40     # initials+year, dob
    ta = (rng.integers(0, 1 << 20, (300, cols)) % ranges).astype(np.uint64)
    pick = rng.permutation(300)[:260]
    tb = (rng.integers(0, 1 << 20, (260, cols)) % ranges).astype(np.uint64)
    same = rng.random((260, cols)) < 0.7
    tb[same] = ta[pick][same]
    enc_a = rng.integers(0, 256, (300, 128), dtype=np.uint8)
    enc_b = enc_a[pick] ^ np.packbits(rng.random((260, 1024)) < 0.05, axis=1)
    want, cands = link_encodings(enc_a, enc_b, ta, tb, schema)
    got, n = st.link_spills((ta, enc_a), (tb, enc_b), schema, tmp_path, partitions=parts,
                            workers=LocalWorkers(2))
    assert n == cands
    assert sorted(zip(got.a.tolist(), got.b.tolist(), got.score.tolist(), strict=True)) == \
        sorted(zip(want.a.tolist(), want.b.tolist(), want.score.tolist(), strict=True))
    assert len(want.a) > 20
    flat = dataclasses.replace(schema, refine_by=())
    assert link_encodings(enc_a, enc_b, ta, tb, flat)[1] < cands


def _token_data(seed, n_a=300, n_b=260, cap=40):
    rng = np.random.default_rng(seed)
    schema = dataclasses.replace(PERSON, max_block_pairs=cap)
    cols = len(refine_partners(schema))
    ranges = np.full(cols, 4)
    ranges[cols - 4:cols - 2] = 40
    ta = (rng.integers(0, 1 << 20, (n_a, cols)) % ranges).astype(np.uint64)
    pick = rng.permutation(n_a)[:n_b]
    tb = (rng.integers(0, 1 << 20, (n_b, cols)) % ranges).astype(np.uint64)
    same = rng.random((n_b, cols)) < 0.7
    tb[same] = ta[pick][same]
    enc_a = rng.integers(0, 256, (n_a, 128), dtype=np.uint8)
    enc_b = enc_a[pick] ^ np.packbits(rng.random((n_b, 1024)) < 0.05, axis=1)
    return schema, ta, tb, enc_a, enc_b


@pytest.mark.parametrize("piece", [1, 7, 64])
def test_unit_pieces_never_exceed_piece(tmp_path, monkeypatch, piece):
    """Memory of the unit's scoring is one piece: every gather of token or encoding rows
    asks for at most PIECE rows (blocks larger than a piece are cut), the buffers are
    PIECE rows, and the links and candidates are link_encodings's."""
    schema, ta, tb, enc_a, enc_b = _token_data(piece)
    want, cands = link_encodings(enc_a, enc_b, ta, tb, schema)
    monkeypatch.setattr(up, "PIECE", piece)
    monkeypatch.setattr(otd, "ONE_TO_ONE_PAIRS", 5)   # the one-to-one step in buckets, too
    sizes: list[int] = []
    take = up.take_rows

    def spy(path, dtype, n, width, rows, out=None):
        sizes.append(len(rows))
        assert out is not None and len(out) == len(rows) and out.base is not None
        return take(path, dtype, n, width, rows, out)

    monkeypatch.setattr(up, "take_rows", spy)
    got, n = st.link_spills((ta, enc_a), (tb, enc_b), schema, tmp_path, partitions=3,
                            workers=LocalWorkers(2))
    assert n == cands and max(sizes) == piece and len(sizes) >= 4 * cands / piece
    assert sorted(zip(got.a.tolist(), got.b.tolist(), got.score.tolist(), strict=True)) == \
        sorted(zip(want.a.tolist(), want.b.tolist(), want.score.tolist(), strict=True))
    assert len(want.a) > 20 and not any(tmp_path.glob("acc*"))


def test_scoring_task_keeps_no_pairs_in_memory(tmp_path):
    """A partition's scoring task writes its above-threshold pairs to its file (12 bytes a
    pair) and returns only counts: what the unit holds while scoring does not grow with
    the accepted pairs. The file holds exactly the above-threshold candidate pairs."""
    from yinji.linkage.match import above, dice_counts, unit_candidates

    schema, ta, tb, enc_a, enc_b = _token_data(5)
    ia, ib = unit_candidates(ta, tb, schema)
    num, den = dice_counts(enc_a, enc_b, ia, ib)
    ok = above(num, den, schema)
    src = [up.arrays_path(tmp_path, "a", ta, enc_a), up.arrays_path(tmp_path, "b", tb, enc_b)]
    partners = refine_partners(schema)
    for side, tok in (("a", ta), ("b", tb)):
        up.partition_tokens(tmp_path, side, tok, 1, 64, partners)
    overs = up.over_by_pass([up.partition_over_cap(str(tmp_path), 0, ta.shape[1], 40, partners)],
                             ta.shape[1])
    got = up.score_partition(str(tmp_path), 0, 1, src, overs, schema, 40, partners)
    assert got == (len(ia), int(ok.sum())) and all(isinstance(x, int) for x in got)
    acc = np.fromfile(tmp_path / "acc0", dtype=up.acc_dtype(300, 128))
    assert acc.dtype.itemsize == 12
    assert sorted(zip(acc["a"].tolist(), acc["b"].tolist(), acc["num"].tolist(),
                      acc["den"].tolist(), strict=True)) == \
        sorted(zip(ia[ok].tolist(), ib[ok].tolist(), num[ok].tolist(), den[ok].tolist(),
                   strict=True))


@pytest.mark.parametrize("pairs,seed", [(1, 0), (7, 1), (300, 2), (10**6, 3)])
def test_one_to_one_in_buckets_is_greedy_one_to_one(tmp_path, monkeypatch, pairs, seed):
    """The unit's one-to-one step on pairs on disk, ONE_TO_ONE_PAIRS a bucket: the links,
    their order and scores are greedy_one_to_one's (margin rule), ties and records with
    many pairs included; every bucket file is removed."""
    rng = np.random.default_rng(seed)
    n_a, n_b, m = 300, 400, 2000
    dtype = up.acc_dtype(n_b, 128)
    acc = np.empty(m, dtype)
    code = rng.choice(n_a * n_b, m, replace=False)
    acc["a"], acc["b"] = code // n_b, code % n_b
    acc["den"] = rng.integers(600, 700, m)
    acc["num"] = acc["den"] - rng.integers(0, 200, m) // 10 * 10   # many equal scores
    paths = []
    for p, part in enumerate(np.array_split(acc, 3)):
        part.tofile(tmp_path / f"acc{p}")
        paths.append(tmp_path / f"acc{p}")
    want = greedy_one_to_one(acc["a"], acc["b"], acc["num"], acc["den"], 0.01)
    monkeypatch.setattr(otd, "ONE_TO_ONE_PAIRS", pairs)
    got = otd._one_to_one_in_buckets(tmp_path, paths, dtype, m, n_a, n_b, 0.01)
    assert got.a.tolist() == want.a.tolist() and got.b.tolist() == want.b.tolist()
    assert got.score.tolist() == want.score.tolist() and len(want.a) > 50
    assert list(tmp_path.iterdir()) == []


def test_shuffled_stream_links_the_same_records(tmp_path, key, zh_small):
    pa, pb = _write(tmp_path / "a.csv", zh_small.a), _write(tmp_path / "b.csv", zh_small.b)
    want, cands, _ = _in_memory(pa, pb, PERSON, key)
    runs = [st.link_sources(pa, pb, PERSON, key, chunk_rows=64, partitions=4)
            for _ in range(2)]
    for got in runs:   # no ties in this set: the private shuffle changes nothing
        assert sorted(got.links) == sorted(want) and got.candidates == cands


def test_shuffle_is_a_permutation_and_tokens_follow_it(tmp_path, key, zh_small):
    p = _write(tmp_path / "a.csv", zh_small.a)
    spill = st.encode_source(p, PERSON, key, tmp_path, chunk_rows=50)
    order = np.asarray(spill.order)
    assert sorted(order.tolist()) == list(range(len(zh_small.a)))
    assert order.tolist() != list(range(len(zh_small.a)))
    recs = remap(PERSON, [dict(r) for r in zh_small.a])
    ref = prepare(recs, PERSON, key, shuffle=False)
    assert np.array_equal(np.asarray(spill.tok), ref.tokens[order])
    enc = ClkEncoder(PERSON, key).transmit(ref.bits)
    assert np.array_equal(np.asarray(spill.enc), enc[order])
    assert spill.ids(order[:3]) == [zh_small.a[i]["id"] for i in order[:3].tolist()]


def test_one_record_each(tmp_path, key, zh_small):
    a = _write(tmp_path / "a.csv", zh_small.a[:1])
    b = _write(tmp_path / "b.csv", [{**zh_small.a[0], "id": "x"}])
    got = st.link_sources(a, b, PERSON, key, chunk_rows=1)
    assert got.links == [(zh_small.a[0]["id"], "x", 1.0)] and got.candidates == 1


def test_no_candidates(tmp_path, key, zh_small):
    a = _write(tmp_path / "a.csv", zh_small.a[:1])
    b = _write(tmp_path / "b.csv", [{"id": "x", "name": "Zz Qq", "dob": "1901-01-01"}])
    got = st.link_sources(a, b, PERSON, key)
    assert got.links == [] and got.candidates == 0


@pytest.mark.parametrize("rows,msg", [
    ([], "no records (a header only)"),
    ([{"id": "1"}, {"id": " "}, {"id": "1"}], "row 3: empty id in column 'id'"),
    ([{"id": "1"}, {"id": "2"}, {"id": "1"}, {"id": ""}], "id '1' in column 'id' on rows 2 "
                                                          "and 4; record ids must be unique"),
    ([{"id": str(i % 50)} for i in range(120)], "id '0' in column 'id' on rows 2 and 52"),
])
def test_bad_ids_get_the_in_memory_message(tmp_path, key, rows, msg):
    from yinji.cli.link import _read

    p = _write(tmp_path / "a.csv", [{**r, "name": "Li Lei"} for r in rows])
    with pytest.raises(ValueError, match=re.escape(msg)):
        _read(p, "id")
    with pytest.raises(st.InputError, match=re.escape(msg)):
        st.encode_source(p, PERSON, key, tmp_path, chunk_rows=7)


def test_missing_id_column(tmp_path, key):
    p = _write(tmp_path / "a.csv", [{"name": "Li Lei"}], ("name",))
    with pytest.raises(st.InputError, match="no id column 'id'"):
        st.open_source(p)
    spill = st.encode_source(p, PERSON, key, tmp_path, id_column=st.ROW_IDS)
    assert spill.ids(np.array([0])) == ["0"]


def test_join_rows_matches_candidate_pairs():
    rng = np.random.default_rng(5)
    ta = rng.integers(0, 6, size=(300, 3)).astype(np.uint64)
    tb = rng.integers(0, 6, size=(200, 3)).astype(np.uint64)
    for cap in (10_000, 900, 1):
        ia, ib = candidate_pairs(ta, tb, cap)
        parts = 3
        codes = []
        for p in range(parts):
            for q in range(3):
                ra = np.flatnonzero((ta[:, q] % parts == p) & (ta[:, q] != 0))
                rb = np.flatnonzero((tb[:, q] % parts == p) & (tb[:, q] != 0))
                codes.append(join_rows(ra, ta[ra, q], rb, tb[rb, q], 200, cap))
        got = np.unique(np.concatenate(codes))
        assert np.array_equal(got, ia * 200 + ib)


def test_ray_workers_give_the_same_links(tmp_path, key):
    """Encoding, blocking and partitions as Ray tasks on a local Ray of two worker CPUs."""
    pytest.importorskip("ray")
    from yinji.net.workers import RayWorkers

    a, b = _messy(6, n=150)
    pa, pb = _write(tmp_path / "a.csv", a), _write(tmp_path / "b.csv", b)
    want, cands, _ = _in_memory(pa, pb, PERSON, key)
    recs = remap(PERSON, [dict(r) for r in a])
    ray = RayWorkers(None, cpus=1, local_cpus=2)
    try:
        assert ray.size == 2
        got = st.link_sources(pa, pb, PERSON, key, chunk_rows=40, partitions=3, shuffle=False,
                              workers=ray)
        prep = prepare(recs, PERSON, key, shuffle=False, workers=ray, chunk=50)
    finally:
        ray.close()
    assert sorted(got.links) == sorted(want) and got.candidates == cands
    ref = prepare(recs, PERSON, key, shuffle=False)
    assert np.array_equal(prep.bits, ref.bits) and np.array_equal(prep.tokens, ref.tokens)


def test_over_channels_the_unit_gets_the_in_memory_messages_in_blocks(tmp_path, key,
                                                                      zh_small):
    """send_spill / recv_spill (node jobs with params.stream): the unit's whole view is a
    header [n, passes, width, block], the owner's shuffled tokens and encodings in blocks, and
    its ids in the same order: the in-memory protocol's content; the links are the same."""
    from yinji.testing.parties import record_received, run_parties

    paths = {"A": _write(tmp_path / "a.csv", zh_small.a),
             "B": _write(tmp_path / "b.csv", zh_small.b)}
    want, _, _ = _in_memory(paths["A"], paths["B"], PERSON, key)
    width = PERSON.size // 8

    def body(party):
        if party.name == "U":
            view = record_received(party)
            got = [st.recv_spill(party.channel(o), tmp_path / f"u{o}", width, o) for o in "AB"]
            table, _ = st.link_spills(*[(g.tok, g.enc) for g in got], PERSON, tmp_path / "uu")
            return view, list(zip(got[0].ids.ids(table.a), got[1].ids.ids(table.b),
                                  table.score.tolist(), strict=True))
        spill = st.encode_source(paths[party.name], PERSON, key, tmp_path / party.name,
                                 chunk_rows=64, keep=True)
        first = np.asarray(spill.order).copy()
        st.reshuffle(spill)   # a second peer gets a fresh order
        assert not np.array_equal(first, np.asarray(spill.order))
        st.send_spill(party.channel("U"), spill, block_rows=100)
        return spill

    for name in ("A", "B", "uA", "uB", "uu"):
        (tmp_path / name).mkdir()
    sa, sb, (view, links) = run_parties(body, names=["A", "B", "U"])
    assert sorted(links) == sorted(want)
    for who, spill in (("A", sa), ("B", sb)):
        got = [m for p, m in view if p == who]
        blocks = -(-spill.n // 100)
        assert len(got) == 1 + 3 * blocks
        assert got[0].tolist() == [spill.n, spill.passes, width, 100]
        assert np.array_equal(np.concatenate(got[1:1 + 2 * blocks:2]), spill.tok)
        assert np.array_equal(np.concatenate(got[2:2 + 2 * blocks:2]), spill.enc)
        ids = [x for m in got[1 + 2 * blocks:] for x in __import__("json").loads(m)]
        assert ids == spill.ids(np.asarray(spill.order))
        recs = remap(PERSON, [dict(r) for r in (zh_small.a if who == "A" else zh_small.b)])
        ref = prepare(recs, PERSON, key, shuffle=False)
        assert np.array_equal(spill.tok, ref.tokens[np.asarray(spill.order)])


def test_recv_spill_refuses_malformed_blocks(tmp_path):
    from yinji.testing.parties import run_parties

    def body(party, bad):
        if party.name == "A":
            ch = party.channel("U")
            ch.send_array(np.array([3, 2, 128, 2], dtype=np.int64))
            ch.send_array(np.zeros((2, 2), np.uint64) if bad != "tok" else
                          np.zeros((2, 3), np.uint64))
            ch.send_array(np.zeros((2, 128), np.uint8) if bad != "enc" else
                          np.zeros((2, 64), np.uint8))
            return None
        return st.recv_spill(party.channel("A"), tmp_path, 128, "A")

    for bad in ("tok", "enc"):
        with pytest.raises(ValueError, match="malformed encodings from A"):
            run_parties(body, names=["A", "U"], args=[(bad,), (bad,)], timeout=5)


def test_recv_ids_checks_the_count_and_the_blocks(tmp_path):
    """The MPC mode's id message in blocks: the header must announce the records the MPC
    linked, every block its announced count of strings."""
    from yinji.testing.parties import run_parties

    def body(party, head, blocks):
        if party.name == "A":
            ch = party.channel("U")
            ch.send_array(np.array(head, dtype=np.int64))
            for b in blocks:
                ch.send_bytes(json.dumps(b).encode())
            return None
        got = st.recv_ids(party.channel("A"), tmp_path, 3, "A")
        return got.ids(np.array([2, 0, 1]))

    ok = [[3, 2], [["x", "y"], ["z"]]]
    assert run_parties(body, names=["A", "U"], args=[ok, ok], timeout=5)[1] == ["z", "x", "y"]
    for head, blocks, problem in (([4, 2], [], "malformed record-id header from A"),
                                  ([3, 2], [["x", "y"], [1]], "A sent malformed record ids"),
                                  ([3, 2], [["x"], ["z"]], "A sent malformed record ids")):
        with pytest.raises(ValueError, match=problem):
            run_parties(body, names=["A", "U"], args=[(head, blocks), (head, blocks)],
                        timeout=5)


def test_encoding_in_steps_gives_the_same_filters_and_tokens(key, zh_small):
    from yinji.linkage.blocking import lsh_tokens

    recs = zh_small.a[:300]
    whole = ClkEncoder(PERSON, key).bits(recs)
    assert np.array_equal(ClkEncoder(PERSON, key).bits(recs, step=7), whole)
    tok = lsh_tokens(np.concatenate([whole] * 10), PERSON, key)   # 3,000 rows: two steps
    assert np.array_equal(tok, np.concatenate([lsh_tokens(whole, PERSON, key)] * 10))
