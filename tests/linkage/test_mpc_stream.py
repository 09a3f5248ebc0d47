"""MPC mode on streamed owners (yinji.linkage.mpc_stream) against the whole-file MPC mode
(mpc_match.mpc_link) on the same files: the same links and Dice scores, the same candidate
count; shares to disk in blocks, the MPC in pieces; what each party receives."""

import csv
import dataclasses

import numpy as np
import pytest

from yinji.linkage import one_to_one_disk as otd
from yinji.linkage import stream as st
from yinji.linkage import unit_partitions as up
from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.mpc_stream import mpc_link_spill
from yinji.linkage.schemas import PERSON, remap
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.testing.linkage_data import FIELDS, chinese_identity_set
from yinji.testing.parties import run_parties

from .test_mpc_match import NAMES, Recording

KEY = bytes(range(32))


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    return str(path)


def _whole(a, b, schema):
    def body(party):
        s = Session(party, NAMES)
        out = mpc_link(s, [a, b, None][s.rank], schema, KEY if s.rank < 2 else None)
        return out, rep.reveal(s, out.link_flags)

    (oa, _), (ob, _), (oc, fc) = run_parties(body, names=NAMES, timeout=120)
    links = {(a[oa.order[i]]["id"], b[ob.order[j]]["id"], round(float(x), 9))
             for i, j, x in zip(oc.links.a, oc.links.b, oc.links.score, strict=True)}
    return links, len(oc.ia), int(fc.sum())


def _streamed(tmp_path, a, b, schema, chunk, piece, rows, record=False):
    spills = [st.encode_source(_write(tmp_path / f"{x}.csv", r), schema, KEY,
                               (tmp_path / x).mkdir() or tmp_path / x, chunk_rows=chunk,
                               plain=True)
              for x, r in (("a", a), ("b", b))]

    def body(party):
        if record:
            party.channels = {k: Recording(v) for k, v in party.channels.items()}
        s = Session(party, NAMES)
        spill = spills[s.rank] if s.rank < 2 else None
        out = mpc_link_spill(s, spill, schema, tmp_path, piece=piece, rows=rows)
        views = [x for ch in party.channels.values() for x in getattr(ch, "seen", [])]
        return out, rep.reveal(s, out.link_flags), views

    (oa, _, va), (ob, _, vb), (oc, fc, vc) = run_parties(body, names=NAMES, timeout=120)
    sa, sb = spills
    links = set(zip(sa.ids(sa.rows(oc.links.a)), sb.ids(sb.rows(oc.links.b)),
                    (round(float(x), 9) for x in oc.links.score), strict=True))
    return links, len(oc.ia), int(fc.sum()), (oa, ob, oc), (va, vb, vc), spills


@pytest.mark.parametrize("schema,chunk,piece,rows", [
    (PERSON, 64, 97, 13), (PERSON, 1000, 1 << 16, 1 << 11),
    (dataclasses.replace(PERSON, balanced=True, threshold=0.8), 50, 500, 64)])
def test_streamed_mpc_gives_the_whole_file_mpc_links(tmp_path, schema, chunk, piece, rows):
    data = chinese_identity_set(220, seed=9)
    a = [dict(r) for r in data.a] + [{**data.a[0], "id": "a-copy"}]   # an exact tie
    b = [dict(r) for r in data.b]
    want, cands, nflags = _whole(remap(schema, a), remap(schema, b), schema)
    got, m, gflags, _, _, _ = _streamed(tmp_path, a, b, schema, chunk, piece, rows)
    assert got == want and m == cands and gflags == nflags == len(want) > 50
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("yinji-")] == []


def test_streamed_mpc_with_one_record(tmp_path):
    a = [{"id": "x1", "name": "张伟", "dob": "1980-01-02", "gender": "男", "phone": "",
          "id_number": "", "address": ""}]
    b = [dict(a[0], id="y1"), dict(a[0], id="y2", name="王芳", dob="1990-03-04")]
    got, m, flags, _, _, _ = _streamed(tmp_path, a, b, PERSON, 10, 7, 3)
    assert got == {("x1", "y1", 1.0)} and flags == 1 and m >= 1


def test_streamed_mpc_views_hold_no_other_partys_filters(tmp_path):
    """The owners receive candidates, counts and share components only; the receiver
    headers, tokens and share components (its opened flag and scores are a sum of these):
    never a filter row (0/1 ring elements) or a packed filter; owners no plain scores."""
    data = chinese_identity_set(120, seed=4)
    a, b = [dict(r) for r in data.a], [dict(r) for r in data.b]
    _, m, _, (oa, ob, oc), (va, vb, vc), (sa, sb) = _streamed(
        tmp_path, a, b, PERSON, 40, 53, 17, record=True)
    enc = ClkEncoder(PERSON, KEY)
    bits = {"a": enc.bits(remap(PERSON, [a[i] for i in np.asarray(sa.order)])),
            "b": enc.bits(remap(PERSON, [b[j] for j in np.asarray(sb.order)]))}

    def leaks(view, secret):
        rows = {r.tobytes() for r in secret.astype(np.uint64)} | \
            {r.tobytes() for r in np.packbits(secret, axis=1)}
        for arr in view:
            if arr.dtype == np.uint64 and arr.ndim == 2 and arr.shape[1] == PERSON.size + 1 \
                    and (arr[:, :-1] <= 1).mean() > 0.01:
                return True
            if arr.ndim == 2 and any(r.tobytes() in rows for r in arr):
                return True
        return False

    assert not leaks(va, bits["b"]) and not leaks(vb, bits["a"])
    assert not leaks(vc, bits["a"]) and not leaks(vc, bits["b"])
    n_a, n_b = len(a), len(b)
    tokens = np.concatenate([x for x in vc if x.ndim == 2 and x.shape[1] == sa.passes])
    assert len(tokens) == n_a + n_b and m == len(oc.ia) == len(oa.ia) == len(ob.ia)
    for view in (va, vb):   # owners see no plaintext scores
        for arr in view:
            if arr.dtype == np.uint64 and arr.ndim == 1 and arr.size > 20:
                assert (arr < 4096).mean() < 0.05


def test_an_owner_must_give_plain_filters(tmp_path):
    data = chinese_identity_set(30, seed=2)
    schema = dataclasses.replace(PERSON, balanced=True)
    spill = st.encode_source(_write(tmp_path / "a.csv", data.a), schema, KEY, tmp_path)

    def body(party):
        s = Session(party, NAMES)
        if s.rank == 0:
            with pytest.raises(ValueError, match="plain filters"):
                mpc_link_spill(s, spill, schema, tmp_path)
        if s.rank == 1:
            with pytest.raises(ValueError, match="passes its spill"):
                mpc_link_spill(s, None, schema, tmp_path)

    run_parties(body, names=NAMES, timeout=30)


@pytest.mark.parametrize("schema,piece", [
    (PERSON, 13), (dataclasses.replace(PERSON, balanced=True, threshold=0.8, margin=0.0), 29)])
def test_no_party_holds_the_candidate_list(tmp_path, monkeypatch, schema, piece):
    """Memory follows a piece, not the candidates: the receiver's join yields at most
    stream.PIECE pairs at a time, its sort holds a bucket of them, every candidate message
    and every MPC piece has at most `piece` pairs, the one-to-one step runs in buckets on
    disk; the outputs' candidates and link flags are memmaps. Links, Dice scores, candidate
    count and flags are the whole-file MPC mode's, and the owners receive the whole-file
    mode's candidate array, in its order, cut into pieces."""
    import yinji.linkage.mpc_stream as ms
    from yinji.linkage.match import unit_candidates

    data = chinese_identity_set(220, seed=5)
    a, b = [dict(r) for r in data.a], [dict(r) for r in data.b]
    want, cands, nflags = _whole(remap(schema, a), remap(schema, b), schema)
    monkeypatch.setattr(up, "PIECE", 7)
    monkeypatch.setattr(otd, "ONE_TO_ONE_PAIRS", 5)
    monkeypatch.setattr(ms, "SORT_PAIRS", 20)
    joined, pieces, buckets = [], [], []
    pairs, mpc_piece, bucket = ms.partition_pairs, ms._piece, ms.read_bucket

    def spy_pairs(*args):
        for ia, ib in pairs(*args):
            joined.append(len(ia))
            yield ia, ib

    def spy_piece(s, files, sizes, ia, ib, *rest):
        pieces.append(len(ia))
        return mpc_piece(s, files, sizes, ia, ib, *rest)

    def spy_bucket(path, dtype):
        got = bucket(path, dtype)
        buckets.append(len(got))
        return got

    monkeypatch.setattr(ms, "partition_pairs", spy_pairs)
    monkeypatch.setattr(ms, "_piece", spy_piece)
    monkeypatch.setattr(ms, "read_bucket", spy_bucket)
    got, m, flags, (oa, ob, oc), (va, vb, vc), (sa, sb) = _streamed(
        tmp_path, a, b, schema, 50, piece, 11, record=True)
    assert got == want and m == cands and flags == nflags == len(want) > 50
    assert m > 5 * piece and 0 < max(joined) <= 7 and sum(joined) == m
    assert max(pieces) == piece and sum(pieces) == 3 * m   # each party, every pair once
    sort = buckets   # the receiver's sort's buckets
    assert len(sort) == -(-m // 20)
    assert sum(sort) == m and len(sort) > 5 and max(sort) < m / 3
    for view in (va, vb):
        cand = [x for x in view if x.dtype == np.int64 and x.ndim == 2]
        assert max(x.shape[1] for x in cand) == piece
        assert np.array_equal(np.concatenate(cand, axis=1),
                              np.stack(unit_candidates(sa.tok, sb.tok, schema)))
    for view in (va, vb, vc):
        assert max(x.size for x in view if x.ndim == 1) < m
    for out in (oa, ob, oc):
        assert all(isinstance(x, np.memmap) for x in (out.ia, out.ib, *out.link_flags))
        assert len(out.ia) == len(out.link_flags[0]) == m


def test_an_owner_refuses_malformed_candidates():
    from yinji.linkage.mpc_stream import _recv_piece

    class One:  # a session whose receiver channel holds one array
        peer = "receiver"

        def __init__(self, x):
            self.x = x

        def chan(self, _):
            return self

        def recv_array_at_most(self, _):
            return self.x

    good = np.array([[0, 2], [1, 0]], dtype=np.int64)
    assert [c.tolist() for c in _recv_piece(One(good), 2, (3, 2))] == [[0, 2], [1, 0]]
    for bad, k in ((good, 3), (good.astype(np.int32), 2), (good.T.copy(), 2),
                   (good + 2, 2), (-good, 2), (good[:, :1], 2)):
        with pytest.raises(ValueError, match="candidate pairs"):
            _recv_piece(One(bad), k, (3, 2))


def test_streamed_mpc_without_candidates(tmp_path):
    a = [{"id": "x1", "name": "张伟", "dob": "1980-01-02", "gender": "男", "phone": "",
          "id_number": "", "address": ""}]
    b = [{"id": "y1", "name": "欧阳娜娜", "dob": "2001-11-30", "gender": "女",
          "phone": "13800000000", "id_number": "", "address": "香港"}]
    got, m, flags, (oa, _, oc), _, _ = _streamed(tmp_path, a, b, PERSON, 10, 7, 3)
    assert got == set() and m == 0 and flags == 0 and len(oa.link_flags[0]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("yinji-")] == []
