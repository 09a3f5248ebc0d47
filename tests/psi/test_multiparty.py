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


# --- item 1 of issue #12: no holder learns which of its keys the others hold ----------------

def _x25519(scalar, point):
    import ctypes

    from rbcl._sodium import _sodium as lib
    out = ctypes.create_string_buffer(32)
    lib.crypto_scalarmult_curve25519(out, scalar, point)
    return out.raw


def recorded_run(monkeypatch, sets, receiver_idx=0):
    """Run the protocol and record, per party: every message it received (sender, array), the
    scalars it drew, and the tags it holds for its own keys (what it shares into the MPC)."""
    import importlib
    import threading
    from collections import defaultdict

    import yinji.psi.multiparty as mp
    from yinji.crypto import group
    from yinji.mpc import replicated

    scalars, own_tags = defaultdict(list), {}

    def recording(module, kind):
        orig = module.random_scalar

        def draw():
            s = orig()
            scalars[threading.current_thread().name].append((kind, s))
            return s
        monkeypatch.setattr(module, "random_scalar", draw)
    recording(group, "ristretto255")
    try:  # the X25519 module of the code before issue #12
        recording(importlib.import_module("yinji.crypto.x25519"), "x25519")
    except ImportError:
        pass
    share, external = replicated.share, mp._share_external

    def rec_share(s, value, owner, shape=None):
        if value is not None:
            own_tags[s.party.name] = np.array(value)
        return share(s, value, owner, shape)

    def rec_external(prg, value, names, party):
        own_tags[party.name] = np.array(value)
        return external(prg, value, names, party)
    monkeypatch.setattr(replicated, "share", rec_share)
    monkeypatch.setattr(mp, "_share_external", rec_external)
    outs = run_mp(sets, receiver_idx, record=True)
    monkeypatch.undo()
    return {f"H{i}": (sets[i], own_tags[f"H{i}"], outs[i][1], scalars[f"H{i}"])
            for i in range(len(sets))} | {"G": (None, None, outs[-1][1], scalars["G"])}


def derived(got, scalars):
    """The attack: every 16-byte value a party reads off its messages or computes from the
    points it received with its own scalars (and, in a prime-order group, their inverses)."""
    from yinji.crypto import group
    out = []
    for _, x in got:
        if x.dtype == np.uint8 and x.ndim == 2 and x.shape[1] == 32:
            for row in x:
                p = bytes(row)
                out.append(p[:16])
                for kind, s in scalars:
                    if kind == "x25519":
                        out.append(_x25519(s, p)[:16])
                    elif group.is_valid_point(p):
                        for t in (s, group.scalar_inverse(s)):
                            out.append(group.scalar_mult(t, [p])[0][:16])
        elif x.dtype == np.uint64 and x.ndim == 2 and x.shape[1] == 2:
            out.extend(bytes(r) for r in np.ascontiguousarray(x).view(np.uint8).reshape(-1, 16))
    return out


def view_of(rec, inter):
    """What a holder can deterministically compare across runs: the shapes of what it
    received, how often it meets each of its own keys' tags among everything it can derive,
    and which of its own keys' tags it received as they are."""
    from collections import Counter
    keys, tags, got, scalars = rec
    tag = [bytes(r) for r in np.ascontiguousarray(tags).view(np.uint8).reshape(-1, 16)]
    seen = Counter(derived(got, scalars))
    raw = {bytes(r[:16]) for _, x in got if x.dtype == np.uint8 and x.ndim == 2
           for r in x} | set(derived([(p, x) for p, x in got if x.dtype == np.uint64], []))
    return {"shapes": [(p, x.dtype.str, x.shape) for p, x in got],
            "met": {k: seen[t] for k, t in zip(keys, tag, strict=True)},
            "raw": {k for k, t in zip(keys, tag, strict=True) if t in raw},
            "inter": inter}


def k(name, i):
    return f"{name}{i}".encode()


def pair_of_inputs(fixed):
    """Two inputs for four holders with the same sets for the holders in `fixed`, the same set
    sizes and the same intersection; they differ only in which keys of the fixed holders the
    other two hold."""
    common = [k("c", i) for i in range(5)]
    own = {h: [k(f"own{h}_", i) for i in range(6)] for h in fixed}
    f, g = fixed
    others = [h for h in range(4) if h not in fixed]
    runs = []
    for pick in ((0, 1, 2), (3, 4, 5)):
        sets = [None] * 4
        for h in fixed:
            sets[h] = common + own[h]
        # the first other holder takes two keys of f and one of g, the second one of each
        sets[others[0]] = common + [own[f][pick[0]], own[f][pick[1]], own[g][pick[0]]]
        sets[others[1]] = common + [own[f][pick[2]], own[g][pick[1]]]
        for j, h in enumerate(others):
            sets[h] = sets[h] + [k(f"fill{h}_", i) for i in range(4 + j)]
        runs.append(sets)
    return runs


@pytest.mark.parametrize("fixed", [(0, 1), (2, 3)])
def test_holder_views_do_not_depend_on_which_of_its_keys_others_hold(monkeypatch, fixed):
    """Four holders, receiver H0 (compute parties H0, H1, G; H2 and H3 share in from
    outside). Two runs differ only in which keys of the `fixed` holders the other two hold.
    Attack by each fixed holder: read off, and compute with its own scalars from, every
    point it received all 16-byte values it can, and count how often it meets the tag of each
    of its own keys. Under the ring design the holder before its successor met the tags of
    the keys the successor shares with it a second time (and every holder received its own
    finished tags): the counts changed with the other holders' sets. Now the counts, the
    shapes and the raw matches must be the same in both runs — and the raw matches are empty
    except for the receiver, which gets exactly the tags of the intersection."""
    runs = [recorded_run(monkeypatch, sets) for sets in pair_of_inputs(fixed)]
    inter = set(k("c", i) for i in range(5))
    views = {f"H{h}": [view_of(r[f"H{h}"], inter) for r in runs] for h in fixed}
    for name, (v1, v2) in views.items():
        diff = sorted(x for x in v1["met"] if v1["met"][x] != v2["met"][x])
        assert not diff, f"{name} tells apart who holds its keys {diff}: {v1['met']} vs {v2['met']}"
    for name, (v1, v2) in views.items():
        assert v1["shapes"] == v2["shapes"]
        want = inter if name == "H0" else set()
        assert v1["raw"] == want and v2["raw"] == want, (name, v1["raw"], v2["raw"])


def test_aggregator_cannot_link_blinded_batches_to_tags(monkeypatch):
    """G handles every holder's blinded batch (tied to its holder); with its own key and
    its inverse applied to those points it must never obtain a holder's tag, or it could tell
    which holder each opened tag came from."""
    rec = recorded_run(monkeypatch, pair_of_inputs((0, 1))[0])
    _, _, got, scalars = rec["G"]
    assert scalars, "G holds one of the three PRF keys"
    tags = {bytes(r) for h in range(4)
            for r in np.ascontiguousarray(rec[f"H{h}"][1]).view(np.uint8).reshape(-1, 16)}
    assert not tags & set(derived(got, scalars))


def test_every_point_received_is_a_prime_order_group_element(monkeypatch):
    """Item 4 for multi-party PSI: no twist/coset bit in anything a party receives."""
    from yinji.crypto import group
    rec = recorded_run(monkeypatch, pair_of_inputs((0, 1))[0])
    pts = [x for r in rec.values() for _, x in r[2] if x.dtype == np.uint8 and x.ndim == 2]
    bad = sum(not group.is_valid_point(bytes(r)) for x in pts for r in x)
    assert pts and not bad, f"{bad} received points are not ristretto255 group elements"


@pytest.mark.parametrize("n", [3, 4, 5])
def test_edge_inputs(n):
    sets = [[b"a", b"b"] for _ in range(n)]
    sets[1] = [b"b"]                       # one element
    sets[-1] = [b"b", b"z", b"a"]
    assert run_mp(sets)[0][0].tolist() == [1]
    sets[-1] = []                          # an empty set empties the intersection
    assert [o[0] for o in run_mp(sets, receiver_idx=n - 1)][n - 1].tolist() == []
    with pytest.raises(ValueError, match="unique"):
        run_mp([[b"a", b"a"]] + [[b"a"]] * (n - 1))
