"""MPC-mode matching over the real transport: one OS process per party, mutual TLS on loopback
(the same protocol code as the in-memory tests), checked against in-process unit mode."""

import numpy as np
import pytest

from yinji.linkage.blocking import candidate_pairs
from yinji.linkage.match import linkage_unit, linkage_unit_owner, prepare
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.schemas import PERSON
from yinji.mpc.session import Session
from yinji.testing.linkage_data import chinese_identity_set
from yinji.testing.parties import run_parties
from yinji.testing.tls import run_parties_tls

pytestmark = pytest.mark.tls
NAMES = ["broker", "offshore", "compliance"]
KEY = bytes(range(32, 64))


def mpc_program(party, records, key):
    out = mpc_link(Session(party, NAMES), records, PERSON, key, share_links=False)
    return out.order, out.links, out.ia, out.ib


def unit_program(party, records):
    if party.name == "compliance":
        return linkage_unit(party, PERSON, tuple(NAMES[:2]))
    return linkage_unit_owner(party, records, PERSON, KEY, "compliance")


def test_mpc_matching_over_mutual_tls_equals_unit_mode():
    data = chinese_identity_set(200, seed=9)
    a, b = data.a, data.b
    (oa, la, ia, ib), (ob, lb, _, _), (oc, links, ic, jc) = run_parties_tls(
        mpc_program, names=NAMES, args=[(a, KEY), (b, KEY), (None, None)], timeout=120)
    assert la is None and lb is None and oc is None      # links reach the compliance node only
    # the same candidates as blocking on the unshuffled records
    ta = prepare(a, PERSON, KEY, shuffle=False).tokens
    tb = prepare(b, PERSON, KEY, shuffle=False).tokens
    want = set(zip(*(x.tolist() for x in candidate_pairs(ta, tb)), strict=True))
    assert np.array_equal(ia, ic) and np.array_equal(ib, jc)
    assert set(zip(oa[ia].tolist(), ob[ib].tolist(), strict=True)) == want

    ua, ub, table = run_parties(unit_program, names=NAMES, args=[(a,), (b,), (None,)])

    def resolve(o_a, o_b, t):
        return {(a[o_a[i]]["id"], b[o_b[j]]["id"]): s
                for i, j, s in zip(t.a.tolist(), t.b.tolist(), t.score.tolist(), strict=True)}

    mpc = resolve(oa, ob, links)
    assert mpc == resolve(ua, ub, table)
    assert len(set(mpc) & data.links) > 0.9 * len(data.links)
