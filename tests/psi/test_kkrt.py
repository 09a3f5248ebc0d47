import numpy as np
import pytest

from yinji.crypto import group
from yinji.crypto.prg import Prg
from yinji.psi import kkrt as K
from yinji.psi.ecdh import ecdh_psi
from yinji.testing.parties import record_received, run_parties
from yinji.testing.tls import run_parties_tls


def _other(party):
    return "B" if party.name == "A" else "A"


def _psi(party, keys, receiver="A"):
    return K.kkrt_psi(party, _other(party), keys, receiver=receiver)


def run(a, b, receiver="A"):
    return run_parties(_psi, names=["A", "B"], args=[(a, receiver), (b, receiver)])


def expected(mine, theirs):
    s = set(theirs)
    return [i for i, k in enumerate(mine) if k in s]


def keyset(rng, n):
    return [str(v).encode() for v in rng.choice(10**12, n, replace=False)]


@pytest.mark.parametrize("na,nb,overlap", [(300, 500, 120), (1, 1, 1), (1, 1, 0), (1, 700, 1),
                                           (700, 1, 1), (256, 256, 256), (400, 300, 0),
                                           (5000, 4000, 2500)])
def test_matches_python_sets(na, nb, overlap):
    rng = np.random.default_rng(na * 7 + nb + overlap)
    pool = keyset(rng, na + nb - overlap)
    a = pool[:na]
    b = list(rng.permutation(np.array(pool[na - overlap:], dtype=object)))
    ra, rb = run(a, b)
    assert rb is None
    assert ra.tolist() == expected(a, b)


def test_empty_and_odd_keys():
    ra, rb = run([], [b"x"])
    assert ra.tolist() == [] and rb is None
    ra, rb = run([b"x"], [])
    assert ra.tolist() == [] and rb is None
    # empty bytes, long keys, keys that differ in one bit, binary
    a = [b"", b"\x00" * 1000, b"k\x00", b"k\x01", bytes(range(256))]
    b = [b"k\x01", b"", bytes(range(256)), b"\x00" * 999]
    ra, _ = run(a, b)
    assert ra.tolist() == [0, 3, 4]


def test_both_receive_and_receiver_b():
    a = [f"a{i}".encode() for i in range(600)]
    b = [f"a{i}".encode() for i in range(400, 900)]
    ra, rb = run(a, b, receiver=None)
    assert ra.tolist() == expected(a, b) and rb.tolist() == expected(b, a)
    ra, rb = run(a, b, receiver="B")
    assert ra is None and rb.tolist() == expected(b, a)


def test_equals_ecdh_result():
    rng = np.random.default_rng(5)
    a, b = keyset(rng, 900), keyset(rng, 700)
    b[::3] = a[:len(b[::3])]

    def body(party, keys):
        return (K.kkrt_psi(party, _other(party), keys, receiver="A"),
                ecdh_psi(party, _other(party), keys, receiver="A"))
    (ka, ea), _ = run_parties(body, names=["A", "B"], args=[(a,), (b,)])
    assert ka.tolist() == ea.tolist() == expected(a, b)


def test_duplicates_and_bad_arguments_refused():
    with pytest.raises(ValueError, match="unique"):
        run([b"x", b"x"], [b"x"])
    with pytest.raises(TypeError, match="bytes"):
        run(["x"], [b"x"])
    with pytest.raises(ValueError, match="neither"):
        run([b"x"], [b"x"], receiver="C")


def test_disagreeing_receivers_refused():
    def body(party):
        return K.kkrt_psi(party, _other(party), [b"x"], receiver=party.name)
    with pytest.raises(ValueError, match="disagree"):
        run_parties(body, names=["A", "B"])


def test_transpose_matches_unpackbits():
    rng = np.random.default_rng(1)
    for rows, cols in [(8, 8), (64, 24), (512, 3), (24, 64)]:
        a = rng.integers(0, 256, (rows, cols), dtype=np.uint8)
        bits = np.unpackbits(a, axis=1, bitorder="little")
        assert (K.transpose_bits(a) == np.packbits(bits.T, axis=1, bitorder="little")).all()
        assert (K.transpose_bits(K.transpose_bits(a)) == a).all()
    with pytest.raises(ValueError, match="multiple of 8"):
        K.transpose_bits(np.zeros((7, 8), np.uint8))


def test_streams_are_the_prg_keystream():
    seeds = [bytes([i]) * 16 for i in range(3)]
    s = K.Streams(seeds)
    got = np.hstack([s.next(5), s.next(40)])
    for row, seed in zip(got, seeds, strict=True):
        assert row.tobytes() == Prg(seed).bytes(45)


def test_base_ot_receiver_gets_exactly_the_chosen_keys():
    rng = np.random.default_rng(2)
    choices = rng.integers(0, 2, 64).astype(np.uint8)
    a, a_pt = K.base_ot_sender_first()
    b_pts, got = K.base_ot_receiver(a_pt, choices)
    k0, k1 = K.base_ot_sender_keys(a, a_pt, b_pts)
    for c, g, x0, x1 in zip(choices, got, k0, k1, strict=True):
        assert g == (x1 if c else x0) and g != (x0 if c else x1)
    with pytest.raises(group.InvalidPoint):
        K.base_ot_receiver(b"\xff" * 32, choices)


def test_ot_extension_outputs_match_only_on_the_receivers_code():
    """Run the extension in-process: q_j = t0_j ^ (s & C(x_j)), so the receiver's value equals
    the sender's for its own (key, hash index) and differs for every other key."""
    rng = np.random.default_rng(3)
    m = 64
    choices = rng.integers(0, 2, K.CODE_BITS).astype(np.uint8)
    a, a_pt = K.base_ot_sender_first()
    b_pts, ks = K.base_ot_receiver(a_pt, choices)
    k0, k1 = K.base_ot_sender_keys(a, a_pt, b_pts)
    code_key, hash_key = b"c" * 16, b"h" * 16
    dig = rng.integers(0, 256, (m + 20, 16), dtype=np.uint8)
    hidx = rng.integers(0, 3, m + 20)
    crow = K.codes(code_key, dig[:m], hidx[:m])
    t0, t1 = K.Streams(k0).next(m // 8), K.Streams(k1).next(m // 8)
    u = t0 ^ t1 ^ K.transpose_bits(crow)
    smask = np.where(choices.astype(bool), 0xFF, 0).astype(np.uint8)[:, None]
    q = K.transpose_bits(K.Streams(ks).next(m // 8) ^ (u & smask))
    srow = np.packbits(choices, bitorder="little")
    bins = np.arange(m)
    mine = K.oprf_hash(hash_key, K.transpose_bits(t0), bins, 16)
    same = K.oprf_hash(hash_key, q ^ (crow & srow), bins, 16)
    assert (mine == same).all()
    other = K.oprf_hash(hash_key, q ^ (K.codes(code_key, dig[20:], hidx[20:]) & srow), bins, 16)
    assert not (mine == other).all(axis=1).any()
    wrong_hash = K.oprf_hash(hash_key, q ^ (K.codes(code_key, dig[:m], (hidx[:m] + 1) % 3)
                                             & srow), bins, 16)
    assert not (mine == wrong_hash).all(axis=1).any()


def test_cuckoo_places_every_key_once():
    rng = np.random.default_rng(4)
    for n in (1, 2, 17, 3000, 20000):
        m = K.num_bins(n)
        pos = K.positions(b"s" * 16, rng.integers(0, 256, (n, 16), dtype=np.uint8), m)
        table, used = K.cuckoo(pos, m)
        occ = np.flatnonzero(table >= 0)
        assert sorted(table[occ].tolist()) == list(range(n))
        assert (pos[table[occ], used[table[occ]]] == occ).all()
    # All keys on the same three bins: impossible, reported as None.
    assert K.cuckoo(np.zeros((4, 3), dtype=np.int64), 8, max_rounds=50) is None


def test_member_exact_beyond_64_bits():
    mine = np.zeros((3, 10), np.uint8)
    mine[1, 9] = 1
    mine[2, 0] = 7
    theirs = np.zeros((2, 10), np.uint8)
    theirs[1, 9] = 2  # same first 8 bytes as mine[0] and mine[1]
    assert K.member(mine, theirs).tolist() == [True, False, False]


def test_false_positive_bound_parameters():
    assert K.value_bytes(1 << 20, 1 << 20) == 11  # 40 + log2(3 * 2^40) = 81.6 bits
    assert K.value_bytes(1, 1) == 8  # at least 8 bytes (41.6 bits needed)
    assert K.value_bytes(1 << 40, 1 << 40) == 16


def _sender_view(party, keys):
    view = record_received(party)
    K.kkrt_psi(party, _other(party), keys, receiver="A")
    return view if party.name == "B" else None


def _shapes(view):
    return [(type(m).__name__, m.shape if isinstance(m, np.ndarray) else len(m))
            for _, m in view]


def test_sender_view_does_not_depend_on_the_receivers_set():
    rng = np.random.default_rng(6)
    b = keyset(rng, 2000)
    views = []
    for a in (b[:1500], keyset(rng, 1500), [k + b"!" for k in b[:1500]]):
        _, view = run_parties(_sender_view, names=["A", "B"], args=[(a,), (b,)])
        views.append(view)
    assert _shapes(views[0]) == _shapes(views[1]) == _shapes(views[2])
    # The extension matrix is pseudo-random whatever the receiver holds: byte values
    # spread evenly (a chi-square test far from its 1e-9 tail) and no two views share it.
    for view in views:
        u = np.concatenate([m.ravel() for _, m in view
                            if isinstance(m, np.ndarray) and m.shape[0] == K.CODE_BITS
                            and m.dtype == np.uint8 and m.shape != (K.CODE_BITS, 32)])
        counts = np.bincount(u, minlength=256)
        chi2 = float(((counts - u.size / 256) ** 2 / (u.size / 256)).sum())
        assert chi2 < 400, chi2  # 255 degrees of freedom: P(chi2 > 400) < 1e-8
        assert abs(float(np.unpackbits(u).mean()) - 0.5) < 0.01
    # Apart from the header (version, sizes, roles), no message repeats between runs.
    first = [m for _, m in views[0] if isinstance(m, np.ndarray) and m.size > 4]
    second = [m for _, m in views[1] if isinstance(m, np.ndarray) and m.size > 4]
    assert not any(np.array_equal(x, y) for x, y in zip(first, second, strict=True))


def _tls_body(party, keys):
    return K.kkrt_psi(party, _other(party), keys, receiver="A")


@pytest.mark.tls
def test_over_tls():
    a = [f"id{i}".encode() for i in range(3000)]
    b = [f"id{i}".encode() for i in range(2000, 6000)]
    ra, rb = run_parties_tls(_tls_body, names=["A", "B"], args=[(a,), (b,)], timeout=120)
    assert ra.tolist() == list(range(2000, 3000)) and rb is None


def _dispatch(party, keys, protocol):
    view = record_received(party)
    out = ecdh_psi(party, _other(party), keys, receiver="A", protocol=protocol)
    ran_kkrt = any(isinstance(m, np.ndarray) and m.ndim == 2 and m.shape[0] == K.CODE_BITS
                   for _, m in view)
    return out, ran_kkrt


@pytest.mark.parametrize("nb,protocol,kkrt", [(300, "kkrt", True), (300, "ecdh", False),
                                              (300, "auto", True), (50, "auto", False)])
def test_ecdh_psi_dispatch(monkeypatch, nb, protocol, kkrt):
    import yinji.psi.ecdh as ecdh_mod
    monkeypatch.setattr(ecdh_mod, "AUTO_KKRT_MIN", 100)
    a = [f"d{i}".encode() for i in range(200)]
    b = [f"d{i}".encode() for i in range(150, 150 + nb)]
    (ra, ka), (rb, kb) = run_parties(_dispatch, names=["A", "B"],
                                     args=[(a, protocol), (b, protocol)])
    assert ra.tolist() == expected(a, b) and rb is None
    assert ka == kb == kkrt
    with pytest.raises(ValueError, match="protocol must be one of"):
        run_parties(_dispatch, names=["A", "B"], args=[(a, "kkrt16"), (b, "kkrt16")])


def test_node_runner_validates_protocol():
    from yinji.node.runners import RUNNERS

    def problems(name, params):
        spec = {"protocol": name, "inputs": {"A": {"dataset": "d", "columns": ["id"]},
                                             "B": {"dataset": "d", "columns": ["id"]}},
                "recipients": ["A"], "params": params}
        return [p for p in RUNNERS[name].validate(spec) if "protocol" in p]
    assert problems("psi.intersect", {"protocol": "kkrt"}) == []
    assert problems("psi.intersect", {}) == []
    assert problems("psi.intersect", {"protocol": "rsa"})
    assert problems("psi.intersect", {"protocol": "kkrt", "buckets": 4})
    assert problems("psi.cardinality", {"protocol": "kkrt"})


@pytest.mark.tls
def test_cli_protocol_kkrt(tmp_path, capsys):
    from yinji.cli.main import main
    for name, rng in (("a", range(0, 300)), ("b", range(200, 700))):
        with open(tmp_path / f"{name}.csv", "w") as fh:
            fh.write("k\n" + "".join(f"key{i}\n" for i in rng))
    inputs = ["--input", f"A={tmp_path / 'a.csv'}", "--input", f"B={tmp_path / 'b.csv'}"]
    out = tmp_path / "o.csv"
    assert main(["psi", *inputs, "--key", "k", "--kind", "k=text", "--protocol", "kkrt",
                 "--out", str(out)]) == 0
    assert "intersection size: 100" in capsys.readouterr().out
    assert [r.strip() for r in open(out)][1:] == [f"key{i}" for i in range(200, 300)]
    assert main(["psi", *inputs, "--key", "k", "--protocol", "kkrt", "--cardinality"]) == 1
    assert "--protocol kkrt is for a two-party intersection" in capsys.readouterr().err


def test_matcher_with_equal_prefixes_among_mine():
    mine = np.zeros((4, 9), np.uint8)
    mine[:, 8] = [1, 2, 3, 4]       # four of mine share the first 8 bytes
    mine[3, 0] = 9                  # ... except the last
    theirs = np.zeros((3, 9), np.uint8)
    theirs[:, 8] = [3, 4, 1]
    theirs[1, 0] = 9
    assert K.member(mine, theirs).tolist() == [True, False, True, True]
    assert K.member(mine, theirs[:0]).tolist() == [False] * 4
