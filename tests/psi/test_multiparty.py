import numpy as np
import pytest

from yinji.psi.multiparty import multiparty_psi
from yinji.testing.parties import run_parties


def sets_for(n_holders, size, common, seed=0):
    rng = np.random.default_rng(seed)
    universe = [f"k{v}".encode() for v in rng.choice(10**9, 10 * size + 100, replace=False)]
    shared = universe[:common]
    rest = universe[common:]
    out = []
    for _ in range(n_holders):
        extra = list(rng.choice(len(rest), size - common, replace=False))
        s = shared + [rest[i] for i in extra]
        rng.shuffle(s)
        out.append(s)
    return out


def run_mp(sets, receiver_idx=0, record=False):
    holders = [f"H{i}" for i in range(len(sets))]
    names = holders + ["G"]

    def body(party, keys):
        got = []
        if record:
            for ch in party.channels.values():
                f = ch.recv_array
                ch.recv_array = lambda f=f, p=ch.peer: got.append((p, f())) or got[-1][1]
        out = multiparty_psi(party, holders, holders[receiver_idx], "G", keys)
        return out, got
    return run_parties(body, names=names, args=[(s,) for s in sets] + [(None,)], timeout=120)


@pytest.mark.parametrize("n,size,common", [(3, 40, 7), (4, 30, 0), (5, 20, 20), (3, 1, 1)])
def test_matches_python_sets(n, size, common):
    sets = sets_for(n, size, common, seed=n + size)
    for r in (0, n - 1):
        outs = run_mp(sets, r)
        inter = set.intersection(*map(set, sets))
        want = [i for i, k in enumerate(sets[r]) if k in inter]
        assert outs[r][0].tolist() == want
        assert all(o[0] is None for j, o in enumerate(outs) if j != r)


def test_empty_set():
    sets = [[b"a", b"b"], [], [b"a"]]
    outs = run_mp(sets)
    assert outs[0][0].tolist() == []


def test_aggregator_must_not_hold_a_set():
    with pytest.raises(ValueError):
        run_parties(lambda p: multiparty_psi(p, ["A", "B", "G"], "A", "G", [b"x"]),
                    names=["A", "B", "G"])


def test_aggregator_sees_only_the_shuffled_pool():
    """G receives one revealed pool of tags; pairwise structure is not visible: the tags
    of holder 1 are not contiguous in the pool G sees (it is shuffled)."""
    sets = sets_for(3, 30, 5, seed=11)
    outs = run_mp(sets, record=True)
    got_g = outs[-1][1]
    pools = [x for _, x in got_g if x.ndim == 2 and x.shape == (90, 2)]
    assert len(pools) >= 1
    # Receiver gets exactly the 5 common tags from G, and nothing else in clear.
    got_r = [x for p, x in outs[0][1] if p == "G" and x.dtype == np.uint64 and x.ndim == 2
             and x.shape[1] == 2]
    assert got_r[-1].shape == (len(set.intersection(*map(set, sets))), 2)
    assert len(outs[0][0]) == got_r[-1].shape[0]
