"""The margin rule of the one-to-one step (match.unambiguous, issue #16): ties, near ties,
one-to-one, empty inputs, and the same result in MPC mode."""

import dataclasses

import numpy as np
import pytest

from yinji.linkage.match import greedy_one_to_one, unambiguous
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.schemas import PERSON
from yinji.mpc.session import Session
from yinji.testing.linkage_data import unit_links
from yinji.testing.parties import run_parties


def _pairs(ia, ib, score, margin=0.01):
    ia, ib = np.asarray(ia, np.int64), np.asarray(ib, np.int64)
    num = np.round(np.asarray(score) * 10_000).astype(np.int64)
    return greedy_one_to_one(ia, ib, num, np.full(len(ia), 10_000, np.int64), margin).pairs()


def test_record_with_two_equal_candidates_stays_unlinked():
    # B record 0 matches A records 0 and 1 equally well: no link for it; A 2 - B 1 is clear
    assert _pairs([0, 1, 2], [0, 0, 1], [0.8, 0.8, 0.9]) == {(2, 1)}
    # the old rule (margin 0) picks one of the namesakes by token order: a coin flip
    assert _pairs([0, 1, 2], [0, 0, 1], [0.8, 0.8, 0.9], margin=0) == {(0, 0), (2, 1)}


def test_clear_winner_links_and_near_ties_do_not():
    assert _pairs([0, 1], [0, 0], [0.95, 0.80]) == {(0, 0)}           # margin 0.15
    assert _pairs([0, 1], [0, 0], [0.805, 0.80]) == set()             # within 0.01
    assert _pairs([0, 0], [0, 1], [0.805, 0.80]) == set()             # same on side A
    assert _pairs([0, 0], [0, 1], [0.85, 0.80]) == {(0, 0)}


def test_result_is_one_to_one_and_independent_of_input_order():
    rng = np.random.default_rng(5)
    ia, ib = rng.integers(0, 40, 300), rng.integers(0, 40, 300)
    score = rng.integers(7500, 10_001, 300) / 10_000
    got = _pairs(ia, ib, score)
    assert len({x for x, _ in got}) == len(got) == len({y for _, y in got})
    perm = rng.permutation(300)
    assert _pairs(ia[perm], ib[perm], score[perm]) == got
    # every kept pair beats all other pairs of both its records by more than the margin
    for x, y in got:
        s = score[(ia == x) & (ib == y)].max()
        others = score[((ia == x) ^ (ib == y))]
        assert (others < s - 0.01).all()


def test_empty_sides_and_empty_pair_lists():
    assert _pairs([], [], []) == set()
    assert not unambiguous(np.zeros(0, np.int64), np.zeros(0, np.int64),
                           np.zeros(0, np.int64), np.zeros(0, np.int64), 0.01).any()
    assert unit_links([], [{"id": "b1", "name": "张伟", "dob": "1980-01-01"}],
                       bytes(range(32)), PERSON) == set()


def test_margin_is_validated():
    with pytest.raises(ValueError, match="margin"):
        dataclasses.replace(PERSON, margin=-0.1)
    with pytest.raises(ValueError, match="margin"):
        dataclasses.replace(PERSON, margin=1.0)


def test_mpc_mode_applies_the_same_rule_on_namesakes(key):
    """Two A records that B's record matches equally (namesakes, same birth date): neither
    mode links it, both link the clear pair; the receiver decides from opened pairs only."""
    a = [{"id": "a1", "name": "张伟", "dob": "1980-03-04"},
         {"id": "a2", "name": "張偉", "dob": "1980-03-04"},
         {"id": "a3", "name": "李娜", "dob": "1975-11-30", "phone": "13912345678"}]
    b = [{"id": "b1", "name": "Zhang Wei", "dob": "19800304"},
         {"id": "b2", "name": "LI Na", "dob": "1975/11/30", "phone": "+86 139 1234 5678"}]
    assert unit_links(a, b, key, PERSON) == {("a3", "b2")}
    names = ("broker", "offshore", "compliance")

    def body(party):
        s = Session(party, names)
        return mpc_link(s, [a, b, None][s.rank], PERSON, key if s.rank < 2 else None,
                        share_links=False)

    oa, ob, oc = run_parties(body, names=names, timeout=120)
    got = {(a[oa.order[i]]["id"], b[ob.order[j]]["id"])
           for i, j in zip(oc.links.a.tolist(), oc.links.b.tolist(), strict=True)}
    assert got == {("a3", "b2")}
    without = dataclasses.replace(PERSON, margin=0.0)
    assert len(unit_links(a, b, key, without) & {("a1", "b1"), ("a2", "b1")}) == 1
