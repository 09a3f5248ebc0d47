import numpy as np

from yinji.linkage.aml import Activity, AmlRule, joint_aml
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.schemas import PERSON
from yinji.mpc.session import Session
from yinji.testing.parties import run_parties

NAMES = ("broker", "offshore", "compliance")
DAYS = 20


def activity(n, rng):
    inflow = rng.integers(0, 3_000_000, size=(n, DAYS))
    inflow[rng.random((n, DAYS)) < 0.6] = 0
    return Activity(inflow, rng.integers(0, 2_000_000, size=(n, DAYS)),
                    rng.integers(0, 12, size=n))


def test_joint_aml_matches_plaintext_and_only_compliance_gets_it(key, zh_small, rng):
    a, b = zh_small.a[:150], zh_small.b[:150]
    act_a, act_b = activity(len(a), rng), activity(len(b), rng)
    rule = AmlRule(window_days=5, inflow_threshold=6_000_000, max_counterparties=18)

    def body(party):
        s = Session(party, NAMES)
        out = mpc_link(s, [a, b, None][s.rank], PERSON, key if s.rank < 2 else None)
        act = None
        if s.rank < 2:
            src = [act_a, act_b][s.rank]
            o = out.order
            act = Activity(src.inflow[o], src.outflow[o], src.counterparties[o])
        return out, joint_aml(s, out, act, rule, DAYS)

    (oa, ra), (ob, rb), (oc, rc) = run_parties(body, names=NAMES, timeout=120)
    assert ra is None and rb is None
    # plaintext oracle over the receiver's links, in original record indices
    inflow = act_a.inflow.copy()
    out_tot = act_a.outflow.sum(1)
    cps = act_a.counterparties.copy()
    partner = {int(oa.order[i]): int(ob.order[j]) for i, j in zip(oc.links.a, oc.links.b,
                                                                strict=True)}
    for i, j in partner.items():
        inflow[i] += act_b.inflow[j]
        out_tot[i] += act_b.outflow[j].sum()
        cps[i] += act_b.counterparties[j]
    win = np.lib.stride_tricks.sliding_window_view(inflow, 5, axis=1).sum(-1).max(1)
    want = (win >= rule.inflow_threshold) | (cps >= rule.max_counterparties)
    got = np.zeros(len(a), bool)
    got[oa.order] = rc.alert
    assert 0 < want.sum() < len(a) and np.array_equal(got, want)
    aggs = np.zeros((len(a), 3), np.int64)
    aggs[oa.order] = rc.aggregates
    assert np.array_equal(aggs[want], np.stack([inflow.sum(1), out_tot, cps], 1)[want])
    assert (aggs[~want] == 0).all()
    assert len(partner) > 20
