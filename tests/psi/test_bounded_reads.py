"""A misbehaving peer's oversized or wrongly shaped message is refused, naming that peer and
what was expected, and the honest parties of the unbalanced PSI, the group ledger and the
overlap grouping read every message with a bound (`refuse_unbounded`)."""

import numpy as np
import pytest

from yinji.mpc.session import Session
from yinji.net.expect import UnexpectedMessage
from yinji.psi import ledger as lg
from yinji.psi.unbalanced import UbClientCache, UbServer, ub_client
from yinji.testing.parties import refuse_unbounded, run_parties

BIG = [f"c{i}".encode() for i in range(200)]


def test_unbalanced_reads_are_bounded(tmp_path):
    srv = UbServer.create(tmp_path / "srv", BIG)

    def body(party):
        refuse_unbounded(party)
        if party.name == "S":
            return srv.serve(party, "C")
        return ub_client(party, "S", [b"c5", b"zz"], UbClientCache(tmp_path / "c"))

    assert run_parties(body, names=["S", "C"], timeout=20)[1].tolist() == [0]


def test_unbalanced_client_refuses_more_tags_than_it_accepts(tmp_path):
    srv = UbServer.create(tmp_path / "srv", BIG)

    def body(party):
        if party.name == "S":
            try:
                srv.serve(party, "C")
            except Exception:   # noqa: BLE001 - the client hung up
                pass
            return None
        with pytest.raises(UnexpectedMessage, match=r"^S sent an oversized message, expected "
                                                    r"its tags as uint8 \(<=100, 16\)"):
            ub_client(party, "S", [b"c5"], UbClientCache(tmp_path / "c"), max_server_keys=100)
        party.close()
        return True

    assert run_parties(body, names=["S", "C"], timeout=20)[1]


@pytest.mark.parametrize("query", [np.zeros((3, 31), np.uint8), np.zeros((3, 32), np.int64),
                                   np.zeros((65, 32), np.uint8)])
def test_unbalanced_server_refuses_a_malformed_query(tmp_path, query):
    srv = UbServer.create(tmp_path / "srv", BIG)

    def body(party):
        if party.name == "S":
            with pytest.raises(UnexpectedMessage, match=r"^C sent .*expected a query of "
                                                        r"blinded keys as uint8 \(<=64, 32\)"):
                srv.serve(party, "C", max_query=64)
            return True
        ch = party.channel("S")
        ch.send_array(np.array([0], np.int64))
        ch.recv_array()
        ch.recv_array()
        ch.send_array(query)
        return None

    assert run_parties(body, names=["S", "C"], timeout=20)[0]


NAMES = ["A", "B", "C", "D"]
ROLES = lg.Roles(("A", "B", "C", "D"), ("A", "B", "C"), "C")  # K1 = A, K2 = B, L = C
DATA = {h: ([f"{j}{i:05d}" for i in range(6)], np.arange(18, dtype=np.int64).reshape(6, 3))
        for j, h in enumerate(NAMES)}


def _build(party):
    s = Session(party, ROLES.compute) if party.name in ROLES.compute else None
    mine, vals = DATA[party.name]
    return s, lg.build(party, ROLES, mine, vals, session=s, dummies=50)


def test_a_ledger_holder_reads_with_bounds():
    """D holds rows and computes nothing: every message it reads while building is bounded
    (the compute parties' MPC reads are fixed-size by construction)."""
    def body(party):
        if party.name == "D":
            refuse_unbounded(party)
        return _build(party)[1]

    assert run_parties(body, names=NAMES, timeout=30)[3].fingerprint


@pytest.mark.parametrize("query", [np.zeros((8, 31), np.uint8),
                                   np.zeros((4 * 3 + 4, 32), np.uint8)])
def test_ledger_k1_refuses_a_malformed_or_oversized_query(query):
    """The requester D sends K1 points of the wrong width, or more than max_batch (3) clients'
    worth: K1 refuses before any group operation, naming D and what it expected."""
    def body(party):
        s, led = _build(party)
        if party.name == "D":
            party.channel("A").send_array(query)
            party.close()
            return None
        return lg.lookup(party, led, "D", max_batch=3)

    with pytest.raises(lg.LedgerError, match=r"^D sent .*expected its query as uint8 "
                                             r"\(<=12, 32\)"):
        run_parties(body, names=NAMES, timeout=30)


@pytest.mark.parametrize("run", ["psi", "cardinality", "join"])
def test_ecdh_parties_read_with_bounds(run):
    """Both parties of ECDH-PSI, its cardinality and its join read every message with a
    bound (batches of the agreed size, the peer's announced count, the payload per row)."""
    from yinji.psi.ecdh import ecdh_psi, psi_cardinality, psi_join

    sets = {"A": [f"k{i}".encode() for i in range(0, 40)],
            "B": [f"k{i}".encode() for i in range(25, 70)]}

    def body(party):
        refuse_unbounded(party)
        other = "B" if party.name == "A" else "A"
        keys = sets[party.name]
        if run == "psi":
            return ecdh_psi(party, other, keys, batch_size=7)
        if run == "cardinality":
            return psi_cardinality(party, other, keys, receiver=None, batch_size=7)
        return psi_join(party, other, keys, {"v": list(range(len(keys)))}, receiver="A",
                        batch_size=7)

    a, b = run_parties(body, names=["A", "B"], timeout=20)
    if run == "psi":
        assert a.tolist() == list(range(25, 40)) and b.tolist() == list(range(15))
    elif run == "cardinality":
        assert a == b == 15
    else:
        assert sorted(zip(a["row"], a["v"], strict=True)) == [(i, i - 25) for i in range(25, 40)]
        assert b is None


def test_ecdh_refuses_a_batch_larger_than_agreed():
    from yinji.psi.ecdh import ecdh_psi

    def body(party):
        if party.name == "B":   # announces 5 keys, then sends a batch of 9 points
            ch = party.channel("A")
            ch.send_array(np.array([5, 1, 0], np.int64))
            ch.recv_array()
            ch.send_array(np.zeros((9, 32), np.uint8))
            party.close()
            return None
        with pytest.raises(UnexpectedMessage, match=r"^B sent .*expected its batch 0 as "
                                                    r"uint8 \(5, 32\)"):
            ecdh_psi(party, "B", [b"x", b"y"], batch_size=8)
        return True

    assert run_parties(body, names=["A", "B"], timeout=20)[0]


def test_multiparty_holders_read_with_bounds():
    from yinji.psi.multiparty import multiparty_psi

    sets = {"H0": [b"a", b"b", b"c"], "H1": [b"b", b"c", b"d"], "H2": [b"c", b"b", b"e"]}

    def body(party):
        if party.name == "H2":   # a holder outside the MPC session
            refuse_unbounded(party)
        return multiparty_psi(party, ["H0", "H1", "H2"], "H0", "G", sets.get(party.name))

    assert run_parties(body, names=["H0", "H1", "H2", "G"], timeout=20)[0].tolist() == [1, 2]
