"""Vertical WOE/IV: the owner's result equals the plaintext computation; the label holder's
view does not depend on the owner's features."""

import json

import numpy as np
import pytest

from yinji.ml import woe
from yinji.testing.parties import record_received, run_parties

pytest.importorskip("heu")


@pytest.fixture(scope="module")
def ou_keys():
    from yinji.ml.secureboost import generate_keys

    return generate_keys()


def _run(x, y, keys, **kw):
    def fn(party):
        if party.name == "L":
            view = record_received(party)
            return woe.label_holder_woe(party, "O", y, keys=keys), view
        return woe.owner_woe(party, "L", x, **kw)

    (iv, view), got = run_parties(fn, names=["L", "O"])
    return iv, view, got


def _plain_woe_iv(x, y, edges, alpha=0.5):
    """WOE/IV written out from the definition, for one column and given edges."""
    b = np.searchsorted(edges, x, side="left")
    m = len(edges) + 1
    ev = np.array([y[b == k].sum() for k in range(m)], float)
    non = np.array([(b == k).sum() for k in range(m)], float) - ev
    pe, pn = (ev + alpha) / (ev.sum() + alpha * m), (non + alpha) / (non.sum() + alpha * m)
    w = np.log(pn / pe)
    return w, np.sum((pn - pe) * w)


def test_matches_plaintext_on_random_and_edge_columns(ou_keys):
    rng = np.random.default_rng(5)
    n = 400
    y = (rng.uniform(size=n) < 0.3).astype(int)
    x = np.column_stack([
        rng.normal(size=n) + y,                 # informative
        rng.integers(-3, 3, n) * 1e12,          # few large negative/positive values
        np.full(n, 7.0),                        # constant: one bin, IV 0
        np.where(rng.uniform(size=n) < 0.5, 1.0, 0.0) * y,   # an all-non-event bin
    ])
    iv, view, got = _run(x, y, ou_keys, bins=8, names=["a", "b", "c", "d"], share_iv=True)
    want = woe.fit_plain(x, y, 8, names=["a", "b", "c", "d"])
    assert [f.edges for f in got] == [f.edges for f in want]
    assert [f.events for f in got] == [f.events for f in want]
    for g, w, j in zip(got, want, range(4), strict=True):
        np.testing.assert_allclose(g.woe, w.woe)
        ref_w, ref_iv = _plain_woe_iv(x[:, j], y, np.array(w.edges))
        np.testing.assert_allclose(g.woe, ref_w)
        assert g.iv == pytest.approx(ref_iv)
        assert min(g.rows) >= woe.MIN_BIN_ROWS
    assert got[0].iv > 0.3 and got[2].iv == 0.0 and len(got[2].woe) == 1
    assert iv == {f.name: f.iv for f in got}
    # transform: values to their bin's WOE
    t = woe.apply_woe(x[:, 0], **got[0].to_prep())
    assert t.shape == (n,) and set(np.round(t, 9)) <= set(np.round(got[0].woe, 9))


def test_label_holder_view_does_not_depend_on_the_features(ou_keys):
    """L's view: hello (sizes), masked sums; the same shape and statistically masked for two
    very different feature columns of the same size; without share_iv L gets nothing back."""
    rng = np.random.default_rng(6)
    n = 200
    y = rng.integers(0, 2, n)
    views = []
    for x in (np.sort(rng.normal(size=(n, 2)), 0) * np.c_[y, y], rng.normal(size=(n, 2))):
        iv, view, _ = _run(x, y, ou_keys, bins=4)
        assert iv is None
        views.append(view)
    a, b = views
    assert len(a) == len(b) == 3          # hello, masked ciphertexts, closing message
    assert a[0][1] == b[0][1] == b'{"rows": 200, "sums": 8}'   # sizes only, padded
    assert a[-1][1] == b[-1][1] == b"{}"  # no IV without share_iv

    def fn(party):   # what L decrypted = what it returns to O: count + 48-bit mask
        if party.name == "O":
            v = record_received(party)
            woe.owner_woe(party, "L", rng.normal(size=(n, 1)), bins=4)
            return v
        return woe.label_holder_woe(party, "O", y, keys=ou_keys)

    _, oview = run_parties(fn, names=["L", "O"])
    sums = [int(s) for s in json.loads(oview[-1][1])["sums"]]
    assert len(sums) == 4 and all(s >= 1 << 24 for s in sums)   # fails w.p. ~2^-22


def test_one_row_and_small_tables(ou_keys):
    for n in (1, 5):
        y = np.arange(n) % 2
        x = np.arange(n, dtype=float).reshape(-1, 1)
        _, _, got = _run(x, y, ou_keys, bins=4)
        assert got[0].edges == [] and got[0].rows == [n] and got[0].iv == 0.0


def test_all_positive_bin_and_smoothing():
    y = np.r_[np.ones(30), np.zeros(30), np.ones(30)].astype(int)
    x = np.r_[np.zeros(30), np.ones(60)].reshape(-1, 1)
    (f,) = woe.fit_plain(x, y, 3)
    assert f.events == [30, 30] and f.rows == [30, 60]
    assert np.isfinite(f.woe).all() and f.woe[0] < f.woe[1]
    ref_w, ref_iv = _plain_woe_iv(x[:, 0], y, np.array(f.edges))
    np.testing.assert_allclose(f.woe, ref_w)
    assert f.iv == pytest.approx(ref_iv)


def test_small_bins_are_merged():
    def counts(x, bins, min_rows):
        edges = woe.bin_edges(x, bins, min_bin_rows=min_rows)
        return np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)

    assert counts(np.r_[np.zeros(95), np.arange(1, 6)], 10, 20).tolist() == [100]
    c = counts(np.arange(100.0), 10, 20)          # ten bins of 10 -> five of 20
    assert len(c) == 5 and c.min() >= 20 and c.sum() == 100
    rng = np.random.default_rng(9)
    for _ in range(50):                            # ties, skew, tiny tables
        x = np.round(rng.exponential(size=rng.integers(1, 300)), int(rng.integers(0, 3)))
        c = counts(x, int(rng.integers(2, 20)), 20)
        assert c.sum() == len(x) and (c.min() >= 20 or len(c) == 1)


def test_bad_inputs(ou_keys):
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        woe.fit_plain(np.zeros((3, 1)), [0, 1, 2])
    with pytest.raises(ValueError, match="finite"):
        woe.bin_edges(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="edges need"):
        woe.apply_woe([1.0], [0.5], [0.1])
    with pytest.raises(ValueError, match="at least one row"):
        _run(np.zeros((0, 1)), np.zeros(0, int), ou_keys)
    with pytest.raises(ValueError, match="aligned"):
        _run(np.zeros((4, 1)), np.array([0, 1, 0]), ou_keys)


def test_owner_refuses_a_wrong_number_of_encrypted_labels(ou_keys):
    """A label holder that sends fewer encrypted labels than the owner has rows is named;
    the owner sums nothing."""
    x = np.arange(12, dtype=float).reshape(6, 2)

    def fn(party):
        if party.name == "O":
            with pytest.raises(ValueError, match="L sent 5 ciphertexts, expected 6"):
                woe.owner_woe(party, "L", x, bins=2, min_bin_rows=1)
            return True
        ch = party.channel("O")
        json.loads(ch.recv_bytes())   # the owner's hello
        ch.send_bytes(json.dumps({"ok": True}).encode())
        ch.send_bytes(ou_keys.public_key().serialize())
        five = ou_keys.array(np.zeros(5, np.int64), ou_keys.integer_encoder(1))
        ch.send_bytes(ou_keys.encryptor().encrypt(five).serialize())
        return True

    assert run_parties(fn, names=["L", "O"], timeout=60) == [True, True]
