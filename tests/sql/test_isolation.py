"""The differencing check in MPC against its plaintext rule, the attacks it must stop (and
succeed without it), and what a compute party sees."""

import numpy as np
import pytest

from yinji.mpc.replicated import share
from yinji.mpc.ring import as_u64
from yinji.mpc.session import Session
from yinji.sql.isolation import check, check_plain
from yinji.testing.mpc import NAMES, run_mpc
from yinji.testing.parties import looks_uniform, record_received, run_parties


def run_check(new, old, k, universe=None):
    """Owner (party 0) shares the masks; all three run `check`; all must agree."""
    new = np.asarray(new, dtype=np.int64)
    old = None if old is None else np.asarray(old, dtype=np.int64)

    def program(s):
        def sh(a):
            return None if a is None else share(s, as_u64(a) if s.rank == 0 else None, 0,
                                                a.shape)
        return check(s, sh(new), sh(old), k, universe=sh(universe))

    out = run_mpc(program)
    assert all(np.array_equal(out[0], o) for o in out)
    return out[0]


def sums(values, masks):
    return np.asarray(masks, dtype=np.int64) @ values


@pytest.fixture
def clients(rng):
    return rng.integers(10_000, 5_000_000, size=40)


# -- the attacks ------------------------------------------------------------------------------
def test_n_versus_n_minus_1(clients):
    target, n = 17, clients.size
    everyone = np.ones((1, n), np.int64)
    all_but = everyone.copy()
    all_but[0, target] = 0
    # without the check the difference of two legal SUMs is the client's value
    assert (sums(clients, everyone) - sums(clients, all_but))[0] == clients[target]
    # with it the second query is refused (and the first, alone, is fine)
    assert not run_check(everyone, None, 5).any()
    assert run_check(all_but, everyone, 5).tolist() == [True]


def test_where_excluding_one_client(clients, rng):
    ages = rng.integers(20, 60, size=clients.size)
    ages[3] = 77                                   # the only client aged 77
    q1 = (ages >= 20)[None]                        # WHERE age >= 20
    q2 = ((ages >= 20) & (ages != 77))[None]       # WHERE age >= 20 AND age <> 77
    assert (sums(clients, q1) - sums(clients, q2))[0] == clients[3]
    assert run_check(q2, q1, 3).tolist() == [True]
    assert run_check(q1, q2, 3).tolist() == [True]   # order does not matter


def test_two_group_bys_differing_by_one_client(clients, rng):
    region = rng.integers(0, 3, size=clients.size)
    region2 = region.copy()
    region2[9] = (region[9] + 1) % 3               # one client regrouped (e.g. a CASE)
    g1 = np.stack([region == r for r in range(3)])
    g2 = np.stack([region2 == r for r in range(3)])
    leak = sums(clients, g1)[region[9]] - sums(clients, g2)[region[9]]
    assert leak == clients[9]
    flags = run_check(g2, g1, 4)
    assert flags[region[9]] and flags[region2[9]]
    assert flags.tolist() == check_plain(g2, g1, 4).tolist()
    assert not run_check(g1, g1, 4).any()          # the same GROUP BY again is fine


def test_small_cell_and_small_complement(clients):
    n = clients.size
    tiny = np.zeros((1, n), np.int64)
    tiny[0, :2] = 1                                # a WHERE matching 2 clients
    almost_all = 1 - tiny                          # its complement: n - 2 clients
    assert run_check(tiny, None, 3).tolist() == [True]
    assert run_check(almost_all, None, 3).tolist() == [True]   # |All| - |C| = 2
    assert run_check(tiny, None, 2).tolist() == [False]
    live = np.ones(n, np.int64)
    live[:2] = 0                                   # context rows 0, 1 are not live (padding)
    assert run_check(almost_all, None, 3, universe=live).tolist() == [False]


def test_general_tracker_is_not_stopped(clients):
    """Documented limit: three large sets whose combination isolates one client."""
    n, target = clients.size, 5
    c = np.zeros(n, bool)
    c[target] = True
    t = np.zeros(n, bool)
    t[10:30] = True
    sets = np.stack([c | t, c | ~t, np.ones(n, bool)]).astype(np.int64)
    got = sums(clients, sets[:1]) + sums(clients, sets[1:2]) - sums(clients, sets[2:])
    assert got[0] == clients[target]
    assert not run_check(sets[2:], sets[:2], 5).any()


# -- against the plaintext rule ---------------------------------------------------------------
@pytest.mark.parametrize("m, p, n, k", [(1, 0, 1, 2), (3, 0, 10, 4), (5, 7, 60, 3),
                                        (8, 3, 33, 10), (2, 1, 5, 1), (4, 4, 16, 0)])
def test_matches_plaintext_rule(rng, m, p, n, k):
    for density in (0.05, 0.5, 0.95):
        new = (rng.random((m, n)) < density).astype(np.int64)
        old = (rng.random((p, n)) < density).astype(np.int64) if p else None
        if p and n > 2:
            old[0] = new[0]
            old[0, rng.integers(n)] ^= 1           # one differencing pair per case
        assert run_check(new, old, k).tolist() == check_plain(new, old, k).tolist()


def test_edge_cases():
    assert run_check(np.zeros((3, 8)), None, 5).tolist() == [False] * 3    # empty sets
    assert run_check(np.ones((2, 8)), None, 5).tolist() == [False] * 2     # duplicates
    assert run_check(np.zeros((0, 8)), None, 5).tolist() == []
    one = np.array([[1]])
    assert run_check(one, None, 2).tolist() == [True]                      # one element


def test_bad_inputs_are_named():
    def program(s):
        x = share(s, np.zeros((2, 4), np.uint64) if s.rank == 0 else None, 0, (2, 4))
        bad = share(s, np.zeros((2, 5), np.uint64) if s.rank == 0 else None, 0, (2, 5))
        return check(s, x, bad, 3)
    with pytest.raises(ValueError, match="same rows"):
        run_mpc(program)


# -- what a compute party sees ----------------------------------------------------------------
@pytest.mark.parametrize("who", [0, 1, 2])
def test_party_sees_only_the_result_bits(rng, who):
    """The only values a party receives besides uniform share components are its parts of
    the m opened bits, so its view does not depend on which sets are small."""
    n, m, p, k = 200, 24, 24, 6
    views = {}
    for case in ("refused", "allowed"):
        new = (rng.random((m, n)) < 0.5).astype(np.int64)
        old = (rng.random((p, n)) < 0.5).astype(np.int64)
        if case == "refused":
            old[0] = new[0]
            old[0, 3] ^= 1

        def body(party, new=new, old=old):
            view = record_received(party) if party.name == NAMES[who] else None
            s = Session(party, NAMES, frac_bits=0)
            a = share(s, as_u64(new) if s.rank == 0 else None, 0, new.shape)
            b = share(s, as_u64(old) if s.rank == 0 else None, 0, old.shape)
            start = len(view) if view is not None else 0
            out = check(s, a, b, k)
            return out, (view[start:] if view is not None else None)

        res = run_parties(body, names=NAMES)
        views[case] = res[who][1]
        assert res[0][0].tolist() == check_plain(new, old, k).tolist()
    shapes = [[np.shape(msg) for _, msg in v] for v in views.values()]
    assert shapes[0] == shapes[1]                  # same messages whatever the data
    assert looks_uniform(views["refused"]) == [] and looks_uniform(views["allowed"]) == []
    assert views["refused"][-1][1].shape == (m,)   # the last message: the opened bits


@pytest.mark.parametrize("m, p", [(1, 0), (3, 5), (20, 100)])
def test_round_count_is_pinned(m, p):
    """1 matmul + 8 for the sign test + ceil(log2(p + m + 2)) AND levels + 1 opening."""
    def program(s):
        a = share(s, np.ones((m, 50), np.uint64) if s.rank == 0 else None, 0, (m, 50))
        b = share(s, np.ones((p, 50), np.uint64) if s.rank == 0 else None, 0, (p, 50))
        start = s.rounds
        check(s, a, b, 3)
        return s.rounds - start

    assert run_mpc(program) == [10 + int(np.ceil(np.log2(p + m + 2)))] * 3


def test_engine_hook_takes_shared_tensors():
    from yinji.mpc.tensor import SharedTensor
    from yinji.sql.isolation import checker

    new = np.array([[1, 1, 1, 0], [0, 0, 0, 1]])
    old = np.array([[1, 1, 1, 1]])

    def program(s):
        a = SharedTensor.share(s, new if s.rank == 0 else None, 0, frac_bits=0, shape=new.shape)
        b = SharedTensor.share(s, old if s.rank == 0 else None, 0, frac_bits=0, shape=old.shape)
        return checker(2)(s, a, b), checker(2)(s, a, None)

    assert [r.tolist() for r in run_mpc(program)[0]] == [[True, True], [True, True]]

    def fixed(s):
        a = SharedTensor.share(s, new if s.rank == 0 else None, 0, shape=new.shape)
        return checker(2)(s, a, None)

    with pytest.raises(ValueError, match="frac_bits=0"):
        run_mpc(fixed)
