"""AML rules in MPC (three compute companies, one input company, the officer) against the same
rules in the clear; edge inputs; what the input company and the officer receive."""

import numpy as np
import pytest

from yinji.linkage.aml_rules import (
    COUNT_RULES,
    MAX_AMOUNT,
    Activity,
    Rules,
    aml_compute,
    aml_input,
    aml_officer,
    features,
    plain_codes,
)
from yinji.mpc.session import Session
from yinji.testing.parties import looks_uniform, record_received, run_parties

NAMES = ["c0", "c1", "c2", "p3", "officer"]
RULES = Rules(days=10, struct_window=4, rapid_window=3)


def random_acts(g, seed, rules=RULES, big=False):
    rng = np.random.default_rng(seed)
    acts = []
    for _ in range(4):
        member = (rng.random(g) < 0.6).astype(np.int64)
        hi = 10**10 if big else 8_000_000

        def amounts(p, hi=hi, member=member):
            a = rng.integers(0, hi, (g, rules.days))
            a[rng.random((g, rules.days)) > p] = 0
            a[member == 0] = 0
            return a
        inflow, outflow = amounts(0.25), amounts(0.25)
        small = np.where(inflow < rules.threshold, inflow, 0)
        income = np.where(rng.random(g) < 0.7, rng.integers(0, 20_000_000, g), 0) * member
        acts.append(Activity(small, inflow, outflow, income, member))
    return acts


def run(acts, rules=RULES, deliver=None, chunk=700, views=None):
    def fn(party):
        if views is not None:
            views[party.name] = record_received(party)
        i = NAMES.index(party.name)
        if i < 3:
            return aml_compute(Session(party, NAMES[:3], frac_bits=0), features(acts[i], rules),
                               ["p3"], NAMES[:4], "officer", rules, chunk=chunk,
                               deliver=deliver)
        if i == 3:
            return aml_input(party, NAMES[:3], features(acts[3], rules), rules, chunk=chunk,
                             receive=deliver is None or "p3" in deliver)
        return aml_officer(party, NAMES[:3], NAMES[:4])
    return run_parties(fn, names=NAMES)


def check(acts, res, rules=RULES):
    codes, member = plain_codes(acts, rules)
    for c in range(4):
        assert np.array_equal(res[c], codes * member[c]), NAMES[c]
    counts = res[4]
    for c in range(4):
        own = codes[member[c] == 1]
        for rule, bit in (("STRUCT", 1), ("RAPID", 2), ("INCOME", 4)):
            assert counts[NAMES[c]][rule] == int(((own & bit) > 0).sum())
        assert counts[NAMES[c]]["ANY"] == int((own > 0).sum())
    assert counts["group"]["ANY"] == int((codes > 0).sum())
    return codes


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_plaintext_on_random_inputs(seed):
    acts = random_acts(2000, seed)
    codes = check(acts, run(acts))
    assert len(set(codes.tolist())) >= 6  # most rule combinations occur


def test_edge_inputs_one_identity_zeros_and_large_values():
    for acts in (random_acts(1, 5), random_acts(3, 6, big=True)):
        check(acts, run(acts))
    zero = [Activity(*(np.zeros((5, 10), np.int64),) * 3, np.zeros(5, np.int64),
                     np.ones(5, np.int64)) for _ in range(4)]
    assert not check(zero, run(zero)).any()


def test_thresholds_are_inclusive_where_the_rules_say_so():
    """Exactly T across two companies is STRUCT; T - 1 fen is not; exactly 90% out is RAPID;
    inflow exactly k x income x D/365 is not INCOME (strictly above)."""
    g, days = 4, 10
    z = lambda: np.zeros((g, days), np.int64)  # noqa: E731
    acts = [Activity(z(), z(), z(), np.zeros(g, np.int64), np.ones(g, np.int64))
            for _ in range(4)]
    t = RULES.threshold
    acts[0].small_in[0, 1] = acts[0].inflow[0, 1] = t // 2
    acts[1].small_in[0, 2] = acts[1].inflow[0, 2] = t - t // 2          # = T: STRUCT
    acts[0].small_in[1, 1] = acts[0].inflow[1, 1] = t // 2
    acts[1].small_in[1, 2] = acts[1].inflow[1, 2] = t - t // 2 - 1      # T - 1: no
    acts[2].inflow[2, 0] = 10_000_000
    acts[3].outflow[2, 1] = 9_000_000                                    # 90%: RAPID
    acts[3].income[3] = 36_500_000                                       # 365,000 CNY a year
    acts[3].inflow[3, 0] = 36_500_000 * RULES.income_pct // 100 * days // 365  # equal: no
    codes = check(acts, run(acts))
    assert codes.tolist()[:3] == [1, 0, 2] and codes[3] & 4 == 0
    acts[3].inflow[3, 0] += 1
    assert check(acts, run(acts))[3] & 4


def test_views_input_party_and_officer():
    acts = random_acts(600, 9)
    views = {}
    check(acts, run(acts, views=views))
    for name in NAMES[:4]:
        assert not looks_uniform(views[name]), name
    off = views["officer"]
    assert [m.shape for _, m in off] == [((4 + 1) * len(COUNT_RULES),)] * 3


def test_non_recipient_receives_nothing():
    acts = random_acts(300, 4)
    views = {}
    res = run(acts, deliver={"c0", "c2"}, views=views)
    assert not res[1].any() and not res[3].any()
    assert views["p3"] == []
    codes, member = plain_codes(acts, RULES)
    assert np.array_equal(res[0], codes * member[0])


def test_refuses_out_of_range_amounts_and_bad_shapes():
    acts = random_acts(3, 1)
    acts[0].inflow[0, 0] = MAX_AMOUNT + 1
    with pytest.raises(ValueError, match="outside the rules' range"):
        features(acts[0], RULES)
    with pytest.raises(ValueError, match="non-negative"):
        features(Activity(-np.ones((3, 10), np.int64), *(np.zeros((3, 10), np.int64),) * 2,
                          np.zeros(3, np.int64), np.ones(3, np.int64)), RULES)
    with pytest.raises(ValueError, match="windows"):
        Rules(days=5, struct_window=6)
