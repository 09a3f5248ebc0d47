"""Apps read a peer's messages with a bound: an oversized or wrongly shaped message is refused
with an error naming that peer and what was expected; honest parties read nothing unbounded
(`refuse_unbounded`)."""

import json

import numpy as np
import pytest

from yinji.apps.base import AppError
from yinji.apps.lead_mining import donor_positions
from yinji.apps.risk_lookthrough import _exchange_sizes
from yinji.apps.risk_model import preflight
from yinji.mpc.session import Session
from yinji.testing.parties import refuse_unbounded, run_parties

NAMES = ["P0", "P1", "P2"]
MATCHED = np.array([1, 4, 6, 9], np.int64)


def test_donor_positions_are_read_with_a_bound():
    def body(party):
        s = Session(party, NAMES)
        refuse_unbounded(party)   # after the session's setup: only the positions are read
        return donor_positions(s, MATCHED, (5, 3))

    got = run_parties(body, names=NAMES, timeout=20)
    assert got[0].shape == (5, 3) and all(np.array_equal(g, got[0]) for g in got)
    assert np.isin(got[0], MATCHED).all()


@pytest.mark.parametrize("sent", [np.ones((5, 4), np.int64), np.ones((5, 3), np.int32),
                                  np.ones((1 << 12, 3), np.int64)])
def test_donor_positions_of_the_wrong_shape_are_refused_naming_the_sender(sent):
    def body(party):
        s = Session(party, NAMES)
        if s.rank == 0:
            s.send(1, sent)
            s.send(2, sent)
            return None
        with pytest.raises(AppError, match=r"^P0 sent .*expected the donor positions as "
                                           r"int64 \(5, 3\)"):
            donor_positions(s, MATCHED, (5, 3))
        return True

    assert run_parties(body, names=NAMES, timeout=20)[1:] == [True, True]


@pytest.mark.parametrize("sent", [np.array([3, 4], np.int64), np.zeros(1 << 12, np.int64),
                                  np.array([3.0])])
def test_a_malformed_client_count_is_refused_naming_the_company(sent):
    def body(party):
        if party.name == "A":
            party.channel("C").send_array(sent)
            return None
        with pytest.raises(AppError, match=r"^A sent .*expected its client count as int64 "
                                           r"\(1,\)"):
            _exchange_sizes(party, ["A"], ["C"], None)
        return True

    assert run_parties(body, names=["A", "C"], timeout=20)[1]


def test_an_oversized_status_is_refused_naming_the_participant():
    """preflight: B's status of 1 MB is refused unread; everyone is told that B's status was
    malformed and nothing is shared."""
    def body(party):
        if party.name == "B":
            huge = json.dumps({"problem": "", "info": {"x": "y" * (1 << 20)}}).encode()
            for p in ("A", "C"):
                party.channel(p).send_bytes(huge)
            return None
        refuse_unbounded(party)
        with pytest.raises(AppError) as err:
            preflight(party, ["A", "B", "C"], "", {"version": 1})
        return str(err.value)

    got = run_parties(body, names=["A", "B", "C"], timeout=20)
    for text in (got[0], got[2]):
        assert text.startswith("not run, nothing was shared: B: sent a malformed status (B "
                               "sent an oversized message, expected its status")
