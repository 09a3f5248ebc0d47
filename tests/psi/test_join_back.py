"""Hidden join with a way back (yinji.psi.join_back) against the plaintext join, and the
recorded shuffle's inverse (yinji.mpc.shuffle.unshuffle_rows)."""

import numpy as np
import pytest

from yinji.mpc import Session, SharedTensor
from yinji.mpc.shuffle import shuffle_rows_recorded, unshuffle_rows
from yinji.psi.join_back import owners_join
from yinji.testing.parties import record_received, run_parties

NAMES = ["A", "B", "C"]


def _case(rng, na, nb, shared):
    pool = [f"id{i:05d}".encode() for i in range(na + nb)]
    a = pool[:na]
    b = list(a[:shared]) + pool[na:na + nb - shared]
    b = [b[i] for i in rng.permutation(nb)]
    fa = rng.normal(size=(na, 2)) * 100
    fb = rng.normal(size=(nb, 3)) - 5
    return a, fa, b, fb


def _run(a, fa, b, fb, record=False):
    def body(party, keys, feats):
        view = record_received(party) if record else None
        s = Session(party, NAMES)
        j = owners_join(s, keys, feats)
        joined = j.joined().reveal()
        flags = j.flags
        # send every row's flags and first features back: A gets hB, B gets hA
        back = j.to_owners(flags, a_cols=[1], b_cols=[0])
        ident = j.to_owners(j.table, a_cols=list(range(j.da)),
                            b_cols=list(range(j.da + 1, j.da + 1 + j.db)))
        return joined, back, ident, view

    return run_parties(body, names=NAMES, args=[(a, fa), (b, fb), (None, None)])


@pytest.mark.parametrize("na,nb,shared", [(30, 20, 7), (5, 5, 0), (5, 8, 1), (6, 6, 6),
                                          (1, 1, 1)])
def test_join_back_matches_plaintext(na, nb, shared):
    rng = np.random.default_rng(na * 100 + nb * 10 + shared)
    a, fa, b, fb = _case(rng, na, nb, shared)
    out = _run(a, fa, b, fb)
    joined = out[0][0]
    assert joined.shape == (shared, 5)
    bidx = {k: i for i, k in enumerate(b)}
    want = np.array([np.concatenate([fa[i], fb[bidx[k]]]) for i, k in enumerate(a)
                     if k in bidx]).reshape(-1, 5)
    got = joined[np.lexsort(joined.T[::-1])]
    want = want[np.lexsort(want.T[::-1])]
    assert np.allclose(got, want, atol=1e-3)
    # presence flags back in each owner's order: A learns hB only through what it is sent
    in_b = np.array([k in bidx for k in a], float)
    in_a = np.array([k in set(a) for k in b], float)
    assert np.allclose(out[0][1][:, 0], in_b, atol=1e-3)
    assert np.allclose(out[1][1][:, 0], in_a, atol=1e-3)
    assert out[2][1] is None
    # each owner gets its own rows back, in its own order
    assert np.allclose(out[0][2], fa, atol=1e-3) and np.allclose(out[1][2], fb, atol=1e-3)


def test_unshuffle_inverts_the_recorded_shuffle():
    x = np.arange(40, dtype=np.float64).reshape(20, 2)

    def body(party):
        s = Session(party, NAMES)
        t = SharedTensor.share(s, x if s.rank == 0 else None, 0, shape=x.shape)
        shuffled, rec = shuffle_rows_recorded(s, t.shares)
        mid = SharedTensor(s, shuffled, t.frac_bits).reveal()
        back = SharedTensor(s, unshuffle_rows(s, shuffled, rec), t.frac_bits).reveal()
        return mid, back

    out = run_parties(body, names=NAMES)
    mid, back = out[0]
    assert not np.allclose(mid, x) and np.allclose(np.sort(mid, axis=0), x)
    assert np.allclose(back, x)


def test_owner_view_has_the_same_shapes_whoever_is_shared():
    """A's received messages: same count and shapes when different customers are shared."""
    rng = np.random.default_rng(3)
    a, fa, b, fb = _case(rng, 12, 10, 4)
    views = []
    for first in (0, 6):
        bb = list(a[first:first + 4]) + [f"new{i}".encode() for i in range(6)]
        views.append(_run(a, fa, bb, fb, record=True)[0][3])
    shapes = [[(peer, getattr(m, "shape", len(m) if isinstance(m, bytes) else None))
               for peer, m in v] for v in views]
    assert shapes[0] == shapes[1]
