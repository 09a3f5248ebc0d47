import numpy as np
import pytest

from yinji.mpc import Session, SharedTensor
from yinji.mpc.deliver import DeliveryError, deliver_rows, receive_rows
from yinji.testing.parties import record_received, run_parties

COMPUTE = ["A", "B", "C"]
OWNERS = ["A", "B", "C", "D"]   # D is an input party


def layout(rng, n, sizes):
    """n positions; owner o's rows 0..sizes[o]-1 placed at random distinct positions."""
    labels = np.zeros((n, len(sizes)), np.int64)
    for o, m in enumerate(sizes):
        labels[rng.choice(n, m, replace=False), o] = np.arange(1, m + 1)
    payload = rng.integers(0, 8, (n, len(sizes)))
    return labels, payload


def run(labels, payload, sizes, record=None):
    views = {}

    def body(party):
        if record and party.name == record:
            views[record] = record_received(party)
        if party.name not in COMPUTE:
            return receive_rows(party, COMPUTE)
        s = Session(party, COMPUTE)
        lab = SharedTensor.share(s, labels if s.rank == 0 else None, 0, frac_bits=0,
                                 shape=labels.shape)
        pay = SharedTensor.share(s, payload if s.rank == 0 else None, 0, frac_bits=0,
                                 shape=payload.shape)
        return deliver_rows(s, OWNERS, lab, pay, sizes)

    return run_parties(body, names=OWNERS), views


def expected(labels, payload, o):
    at = np.flatnonzero(labels[:, o])
    return payload[at[np.argsort(labels[at, o])], o]


@pytest.mark.parametrize("sizes", [[30, 10, 0, 25], [1, 1, 1, 1], [40, 40, 40, 40]])
def test_each_owner_gets_its_rows_payloads_in_its_order(sizes):
    rng = np.random.default_rng(sum(sizes))
    labels, payload = layout(rng, 40, sizes)
    out, _ = run(labels, payload, sizes)
    for o in range(4):
        np.testing.assert_array_equal(out[o], expected(labels, payload, o))


def test_compute_party_view_does_not_depend_on_which_owners_share_a_position():
    """B receives messages of the same shapes, all uniform-looking share components,
    whether the owners' rows sit at the same positions (every client shared by all four)
    or at disjoint ones; what B opens is the (owner, label) multiset, the same in both."""
    from yinji.testing.parties import looks_uniform

    sizes = [20, 20, 20, 20]
    together = np.vstack([np.tile(np.arange(1, 21)[:, None], (1, 4)),
                          np.zeros((60, 4), np.int64)])
    apart = np.zeros((80, 4), np.int64)
    for o in range(4):
        apart[20 * o:20 * (o + 1), o] = np.arange(1, 21)
    payload = np.zeros((80, 4), np.int64)
    shapes = []
    for labels in (together, apart):
        _, views = run(labels, payload, sizes, record="B")
        got = [(p, m) for p, m in views["B"] if isinstance(m, np.ndarray)]
        assert looks_uniform(got, min_size=64) == []
        shapes.append([(p, m.shape) for p, m in got])
    assert shapes[0] == shapes[1]


def test_labels_that_do_not_name_every_row_are_refused():
    labels = np.zeros((5, 4), np.int64)
    labels[0, :] = 1
    labels[1, 0] = 1   # owner A's row 0 twice
    with pytest.raises(DeliveryError, match="A do not name"):
        run(labels, np.zeros((5, 4), np.int64), [2, 1, 1, 1])
