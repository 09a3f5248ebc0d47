"""HE-mode packing: one plaintext g + h 2^S per row, k bin sums per decrypted ciphertext.
Checked against plaintext sums at the slot bound (every row |g| = 1, h = 1/4, all in one
bin), with negatives, and when the bin count allows no packing (k = 1)."""

import json

import numpy as np
import pytest

from yinji.ml import secureboost_he as sb

pytest.importorskip("heu")


@pytest.fixture(scope="module")
def kit():
    return sb.generate_keys()


def _bin_sums(kit, ints, bins, nb, mask):
    """What the active party gets: packed, decrypted, unpacked cumulative (g, h) sums."""
    ev, n = kit.evaluator(), len(ints)
    slot = sb._slot_bits(n)
    plain = sb._row_plaintexts(ints, slot)
    enc = kit.integer_encoder(1) if plain.dtype == np.int64 else kit.bigint_encoder()
    ct = kit.encryptor().encrypt(kit.array(plain, enc))
    out = sb._bin_sums(ev, ct, mask.astype(np.int8).reshape(1, -1), bins, nb)[0]
    count = bins.shape[1] * nb
    k = sb._pack_factor(sb._bound_bits(kit.public_key()), slot, count)
    shift = kit.array(np.full(count // k, 1 << (2 * slot), dtype=object), kit.bigint_encoder())
    packed = sb._pack_ciphertexts(ev, out, k, shift)
    assert packed.shape[0] == count // k
    sums = sb._unpack(kit.decryptor().decrypt(packed).to_numpy(kit.bigint_encoder()).ravel(),
                      slot, k)
    d = bins.shape[1]  # the passive sends per-bin sums, the active party cumulates them
    return sums.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2), k


def _plain(ints, bins, nb, mask):
    cols = []
    for j in range(bins.shape[1]):
        b = bins[mask, j]
        cols.append(np.stack([np.bincount(b, ints[mask, c], nb).astype(np.int64).cumsum()
                              for c in range(2)], 1))
    return np.concatenate(cols)


@pytest.mark.parametrize("case", ["random", "bound_negative", "bound_positive", "one_row"])
def test_packed_sums_equal_plaintext_sums(kit, case):
    rng = np.random.default_rng(7)
    n, d, nb = {"one_row": (1, 3, 8)}.get(case, (3000, 4, 16))
    one = 1 << sb.GH_BITS
    g = {"random": rng.integers(-one, one + 1, n), "bound_negative": np.full(n, -one),
         "bound_positive": np.full(n, one), "one_row": np.array([-one])}[case]
    h = rng.integers(0, one // 4 + 1, n) if case == "random" else np.full(n, one // 4)
    ints = np.stack([g, h], 1).astype(np.int64)
    bins = (rng.integers(0, nb, (n, d)) if case == "random" else np.zeros((n, d))).astype(np.int8)
    mask = rng.random(n) < 0.7 if case == "random" else np.ones(n, bool)
    got, k = _bin_sums(kit, ints, bins, nb, mask)
    assert k > 1
    np.testing.assert_array_equal(got, _plain(ints, bins, nb, mask))


def test_no_packing_when_the_bin_count_has_no_divisor(kit):
    """13 bin sums (prime, more than the 11 pairs of 30-bit slots that fit): k = 1."""
    rng = np.random.default_rng(8)
    n, d, nb = 500, 1, 13
    ints = np.stack([rng.integers(-2**20, 2**20, n), rng.integers(0, 2**18, n)], 1)
    bins = rng.integers(0, nb, (n, d)).astype(np.int8)
    mask = np.ones(n, bool)
    got, k = _bin_sums(kit, ints, bins, nb, mask)
    assert k == 1
    np.testing.assert_array_equal(got, _plain(ints, bins, nb, mask))


def test_slot_width_and_wide_rows():
    assert sb._slot_bits(10**5) == 17 + sb.GH_BITS + 1
    # beyond int64 the row plaintexts become Python ints (exact)
    ints = np.array([[-(1 << 20), 1 << 18]], dtype=np.int64)
    wide = sb._row_plaintexts(ints, 50)
    assert wide.dtype == object and int(wide[0]) == -(1 << 20) + (1 << 68)
    assert sb._unpack([int(wide[0])], 50, 1).tolist() == [[-(1 << 20), 1 << 18]]


@pytest.mark.parametrize(("n", "d", "nb"), [(5000, 3, 16), (3000, 2, 8), (900, 2, 3),
                                            (2000, 1, 4), (400, 4, 32), (1800, 5, 4)])
def test_feature_pairs_sum_like_single_features(kit, n, d, nb, monkeypatch):
    """Nodes above PAIR_ROWS nb^2 rows are summed by feature pairs (joint buckets in int8
    chunks, then both features' bins; an odd feature alone): the same sums as plaintext,
    for big and small nodes (one empty) in one call, odd d, nb not dividing 128."""
    monkeypatch.setattr(sb, "PAIR_ROWS", 1)
    rng = np.random.default_rng(n + d + nb)
    v = rng.integers(-2**40, 2**40, n)
    ct = kit.encryptor().encrypt(kit.array(v.astype(np.int64), kit.integer_encoder(1)))
    bins = rng.integers(0, nb, (n, d)).astype(np.int8)
    masks = np.stack([rng.integers(0, 2, n), np.ones(n, int), np.zeros(n, int),
                      np.arange(n) < 7]).astype(np.int8)
    got = sb._bin_sums(kit.evaluator(), ct, masks, bins, nb)
    for m, c in zip(masks, got, strict=True):
        have = kit.decryptor().decrypt(c).to_numpy(kit.integer_encoder(1)).ravel()
        want = [sum(int(v[i]) for i in range(n) if m[i] and bins[i, j] == b)
                for j in range(d) for b in range(nb)]
        assert have.tolist() == want


@pytest.mark.parametrize("bad", ["values", "width", "dtype", "rows"])
def test_passive_refuses_malformed_node_masks_and_row_ciphertexts(kit, bad):
    """An active party that sends row ciphertexts for the wrong row count, or node masks of the
    wrong shape, type or values, gets a ValueError naming it; nothing is summed."""
    from yinji.ml.secureboost import SecureBoostPassive
    from yinji.testing.parties import run_parties

    n = 40
    x = np.arange(2 * n, dtype=np.float64).reshape(n, 2)

    def body(party):
        if party.name == "B":
            with pytest.raises(ValueError, match=r"A(:| sent)") as err:
                SecureBoostPassive(party, "A").fit(x)
            return str(err.value)
        ch = party.channel("B")
        ch.send_bytes(json.dumps({"n_trees": 1, "bins": 4, "rows": n, "mode": "he"}).encode())
        ch.send_bytes(kit.public_key().serialize())
        ch.recv_bytes()  # the feature count
        rows = n - 1 if bad == "rows" else n
        ct = kit.encryptor().encrypt(kit.array(np.zeros(rows, np.int64), kit.integer_encoder(1)))
        ch.send_bytes(json.dumps({"op": "tree"}).encode())
        ch.send_bytes(ct.serialize())
        if bad != "rows":
            masks = {"values": np.full((1, n), 2, np.int8), "width": np.ones((1, n + 1), np.int8),
                     "dtype": np.ones((1, n), np.int64)}[bad]
            ch.send_bytes(json.dumps({"op": "hist"}).encode())
            ch.send_array(masks)
        return None

    said = run_parties(body, names=["A", "B"], timeout=60)[1]
    assert ("39 row ciphertexts" in said) if bad == "rows" else ("node masks" in said)
