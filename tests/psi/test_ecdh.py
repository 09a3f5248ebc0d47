import secrets

import numpy as np
import pytest

from yinji.psi.ecdh import ecdh_psi, psi_cardinality, psi_join
from yinji.psi.keys import prepare_keys
from yinji.testing.parties import run_parties

NAMES = ["A", "B"]


def random_sets(n_a, n_b, overlap, seed=0):
    rng = np.random.default_rng(seed)
    pool = [f"{int(v):018d}".encode() for v in rng.choice(10**17, n_a + n_b, replace=False)]
    a = pool[:n_a]
    b = pool[:overlap] + pool[n_a:n_a + n_b - overlap]
    rng.shuffle(b)
    return a, b


def run_psi(a, b, receiver=None, batch_size=1 << 15):
    def body(party, keys):
        return ecdh_psi(party, "B" if party.name == "A" else "A", keys, receiver=receiver,
                        batch_size=batch_size)
    return run_parties(body, names=NAMES, args=[(a,), (b,)], timeout=120)


def expected(mine, theirs):
    t = set(theirs)
    return [i for i, k in enumerate(mine) if k in t]


@pytest.mark.parametrize("n_a,n_b,overlap", [(0, 0, 0), (0, 5, 0), (5, 0, 0), (1, 1, 1),
                                              (1, 1, 0), (50, 50, 50), (40, 60, 0),
                                              (300, 200, 77)])
def test_matches_python_sets(n_a, n_b, overlap):
    a, b = random_sets(n_a, n_b, overlap, seed=n_a + n_b)
    ra, rb = run_psi(a, b, batch_size=64)
    assert ra.tolist() == expected(a, b)
    assert rb.tolist() == expected(b, a)


def test_one_receiver():
    a, b = random_sets(100, 80, 30)
    ra, rb = run_psi(a, b, receiver="A")
    assert ra.tolist() == expected(a, b) and rb is None
    ra, rb = run_psi(a, b, receiver="B")
    assert ra is None and rb.tolist() == expected(b, a)


def test_many_batches_of_unequal_counts():
    # 6 batches against 5, both ending in a partial one: the pipelined exchange's bookkeeping
    # (what a 10^5 run exercised at 35 s; speed is measured by benchmarks/psi.py)
    a, b = random_sets(12_000, 9_500, 4_000, seed=7)
    ra, rb = run_psi(a, b, receiver="A", batch_size=2048)
    assert ra.tolist() == expected(a, b) and rb is None
    ra, rb = run_psi(b, a, batch_size=2048)
    assert ra.tolist() == expected(b, a) and rb.tolist() == expected(a, b)


def test_unicode_and_fullwidth_keys_meet_after_preparation():
    a = prepare_keys(["１１０１０５１９４９１２３１００２ｘ", "张三", "x"], kinds="id")
    b = prepare_keys([" 11010519491231002X", "张三 ", "y"], kinds="id")
    ra, _ = run_psi(a, b)
    assert ra.tolist() == [0, 1]


def test_rejects_duplicates_and_non_bytes():
    with pytest.raises(ValueError):
        run_psi([b"a", b"a"], [b"b"])
    with pytest.raises(TypeError):
        run_psi(["a"], [b"b"])


def test_cardinality():
    a, b = random_sets(200, 150, 42)

    def body(party, keys):
        return psi_cardinality(party, "B" if party.name == "A" else "A", keys, receiver="A",
                               batch_size=64)
    assert run_parties(body, names=NAMES, args=[(a,), (b,)]) == [42, None]
    assert run_parties(body, names=NAMES, args=[([],), (b,)]) == [0, None]


def test_join_inner_and_left():
    a = [b"k1", b"k2", b"k3", b"k4"]
    b = [b"k3", b"k9", b"k1"]
    pay = {"score": [3.5, 9.0, 1.5], "tag": ["c", "z", "a"]}

    def body(party, keys, payload, how):
        return psi_join(party, "B" if party.name == "A" else "A", keys, payload, receiver="A",
                        how=how)
    inner, none = run_parties(body, names=NAMES, args=[(a, None, "inner"), (b, pay, "inner")])
    assert none is None
    got = sorted(zip(inner["row"], inner["score"], inner["tag"], strict=True))
    assert got == [(0, 1.5, "a"), (2, 3.5, "c")]
    left, _ = run_parties(body, names=NAMES, args=[(a, None, "left"), (b, pay, "left")])
    assert left["row"] == [0, 1, 2, 3]
    assert left["score"] == [1.5, None, 3.5, None]


class Recorder:
    """Wraps a party's channels and records every array/bytes it receives."""

    def __init__(self, party):
        self.got = []
        for ch in party.channels.values():
            recv_a, recv_b = ch.recv_array, ch.recv_bytes

            def ra(f=recv_a):
                x = f()
                self.got.append(x)
                return x

            def rb(f=recv_b):
                x = f()
                self.got.append(x)
                return x
            ch.recv_array, ch.recv_bytes = ra, rb


def test_views_sender_and_cardinality_receiver():
    a, b = random_sets(64, 64, 20, seed=3)

    def body(party, keys):
        rec = Recorder(party)
        out = psi_cardinality(party, "B" if party.name == "A" else "A", keys, receiver="A",
                              batch_size=16)
        return out, rec.got
    (ca, got_a), (cb, got_b) = run_parties(body, names=NAMES, args=[(a,), (b,)])
    assert ca == 20 and cb is None
    # The sender only receives the header and the receiver's blinded points: 64 random
    # 32-byte points, none equal to a plain hash of a key (and an empty acknowledgement per
    # block it returned: yinji.psi.cardinality's flow control).
    assert set(x for x in got_b if isinstance(x, bytes)) == {b""}
    got_b = [x for x in got_b if not isinstance(x, bytes)]
    assert len(got_b) == 1 + 4
    pts = np.concatenate(got_b[1:])
    assert pts.shape == (64, 32) and len({bytes(r) for r in pts}) == 64
    # The receiver gets its own doubly blinded keys back sorted (not in its order).
    back = np.concatenate([x for x in got_a if x.dtype == np.uint8 and x.shape[1:] == (16,)])
    assert back.shape == (64, 16)
    keys16 = [bytes(r) for r in back]
    assert keys16 == sorted(keys16)


def test_fresh_scalars_each_run():
    a, b = random_sets(10, 10, 5)

    def body(party, keys):
        rec = Recorder(party)
        ecdh_psi(party, "B" if party.name == "A" else "A", keys, receiver="A")
        return rec.got
    first = run_parties(body, names=NAMES, args=[(a,), (b,)])[1][1]
    second = run_parties(body, names=NAMES, args=[(a,), (b,)])[1][1]
    assert not set(map(bytes, first)) & set(map(bytes, second))


def test_receiver_name_checked():
    with pytest.raises(ValueError):
        run_psi([b"a"], [b"b"], receiver="C")


def test_secrets_not_random_module():
    assert secrets  # protocol code uses secrets / Prg only (see tests/test_layering.py)


# --- item 4 of issue #12: no twist bit in the points a party receives -----------------------

P25519 = 2**255 - 19


def on_twist(point: bytes) -> bool:
    """Read 32 bytes as an X25519 u-coordinate (RFC 7748 masks the top bit): is the point on
    the quadratic twist of Curve25519 rather than on the curve? (Euler's criterion on
    u^3 + A u^2 + u; this is the attacker's computation, not protocol code.)"""
    u = (int.from_bytes(point, "little") & ((1 << 255) - 1)) % P25519
    rhs = (u * u * u + 486662 * u * u + u) % P25519
    return pow(rhs, (P25519 - 1) // 2, P25519) == P25519 - 1


def keys_by_twist_bit(count, twist, domain):
    """Keys whose hash, read as a u-coordinate the way the X25519 code hashed
    (SHA-512(len(domain) || domain || key)[:32]), lies on the twist (or on the curve)."""
    import hashlib
    prefix = len(domain).to_bytes(2, "big") + domain
    out, i = [], 0
    while len(out) < count:
        k = f"{i:018d}".encode()
        if on_twist(hashlib.sha512(prefix + k).digest()[:32]) == twist:
            out.append(k)
        i += 1
    return out


def test_received_points_carry_no_twist_bit_of_the_keys():
    """The attack: B reads every point A sends as a u-coordinate and computes whether it lies
    on the twist. With a raw SHA-512 -> u-coordinate hash blinding keeps that bit, so B learns
    it for every key of A (here: A's whole set hashes to the twist, or none of it does, and B
    tells the two sets apart). In a prime-order group every received point is a canonical
    group element, and the bit is a coin flip independent of the keys."""
    from yinji.crypto import group
    from yinji.psi import ecdh

    n = 64
    fractions = []
    for twist in (True, False):
        a = keys_by_twist_bit(n, twist, ecdh.DOMAIN)

        def body(party, keys):
            rec = Recorder(party)
            ecdh_psi(party, "B" if party.name == "A" else "A", keys, receiver="B")
            return rec.got
        got_b = run_parties(body, names=NAMES, args=[(a,), ([b"x"],)])[1]
        pts = np.concatenate([x for x in got_b if x.ndim == 2 and x.shape[1] == 32])
        assert pts.shape == (n, 32)
        fractions.append(np.mean([on_twist(bytes(r)) for r in pts]))
    # B's guess of "how many of A's keys hash to the twist" must not follow A's keys. A group
    # element read as a u-coordinate is on the twist with probability 0.50 (0.503 measured on
    # 20,000 points), so each fraction is Binomial(64, 1/2)/64: a difference of 0.6 or more
    # has probability 1.9e-12 (it was 0.4: 4.9e-6), and a fraction outside 0.15..0.85 3.5e-9.
    # With the twist bit kept the fractions are 1 and 0.
    assert abs(fractions[0] - fractions[1]) < 0.6, f"twist fractions {fractions} follow the keys"
    assert 0.15 < fractions[0] < 0.85 and 0.15 < fractions[1] < 0.85, fractions
    # And the structural reason: every point received is a prime-order group element.
    assert group.valid_points(pts).all()


def test_invalid_points_from_the_peer_are_refused():
    from yinji.crypto import group
    from yinji.psi import ecdh

    def body(party):
        if party.name == "A":
            ch = party.channel("B")
            ch.send_array(np.array([2, 0, 0], dtype=np.int64))
            ch.recv_array()
            ch.send_array(np.full((2, 32), 0xFF, dtype=np.uint8))  # not group elements
            return None
        return ecdh.ecdh_psi(party, "A", [b"k1"], receiver="B")
    with pytest.raises(group.InvalidPoint, match="A sent a batch with invalid points"):
        run_parties(body, names=NAMES, timeout=10)
