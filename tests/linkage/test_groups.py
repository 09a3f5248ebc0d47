"""Group identities over several owners: connected components, the minimum-evidence rule,
second accounts at one owner, and the protocol with a linkage unit."""

import numpy as np
import pytest

from yinji.linkage.groups import (
    components,
    enough_evidence,
    evidence_tokens,
    group_owner,
    group_unit,
    resolve,
)
from yinji.linkage.match import prepare
from yinji.linkage.schemas import PERSON
from yinji.testing.linkage_data import chinese_identity_set
from yinji.testing.parties import run_parties

KEY = bytes(range(32))


def naive_components(n, edges):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in edges:
        parent[find(a)] = find(b)
    return [find(i) for i in range(n)]


@pytest.mark.parametrize("n,m,seed", [(0, 0, 1), (1, 0, 1), (50, 0, 2), (200, 150, 3),
                                      (1000, 2000, 4), (30, 30, 5)])
def test_components_match_union_find(n, m, seed):
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, max(n, 1), m) if n else np.zeros(0, np.int64)
    ib = rng.integers(0, max(n, 1), m) if n else np.zeros(0, np.int64)
    got = components(n, ia, ib)
    want = naive_components(n, zip(ia.tolist(), ib.tolist(), strict=True))
    same = lambda lab: {(i, j) for i in range(n) for j in range(i) if lab[i] == lab[j]}  # noqa: E731
    if n <= 200:
        assert same(got) == same(want)
    assert len(set(got.tolist())) == len(set(want))


def test_a_chain_is_one_component():
    n = 1000
    got = components(n, np.arange(n - 1), np.arange(1, n))
    assert set(got.tolist()) == {0}


def test_evidence_rule():
    recs = [{"name": "张伟", "dob": "1980-01-02", "phone": "13800001111", "id_number": ""},
            {"name": "張偉", "dob": "19800102", "phone": "", "id_number": ""},       # name+dob
            {"name": "张伟", "dob": "", "phone": "", "id_number": ""},               # name only
            {"name": "", "dob": "", "phone": "", "id_number": "110105198001020011"},  # ID only
            {"name": "李娜", "dob": "", "phone": "", "id_number": "110105198001020011"},
            {"name": "张伟", "dob": "不详", "phone": "", "id_number": ""}]           # unreadable
    ev = evidence_tokens(recs, PERSON, KEY)
    pairs = {(0, 1): True, (0, 2): False, (1, 2): False, (3, 4): True, (2, 5): False,
             (0, 5): False}
    for (a, b), want in pairs.items():
        assert enough_evidence(ev[[a]], ev[[b]])[0] == want, (a, b)
    assert (ev[5, 1] == 0) and (ev[2, 1:4] == 0).all() and ev[2, 5] == 1  # script: Han


def _resolve(owner_records, hk=True):
    preps = [prepare(r, PERSON, KEY, shuffle=False) for r in owner_records]
    from yinji.linkage.encoding import ClkEncoder

    enc, enc_hk = ClkEncoder(PERSON, KEY), ClkEncoder(PERSON, KEY, "hk")
    return resolve([p.tokens for p in preps], [enc.transmit(p.bits) for p in preps],
                   [evidence_tokens(r, PERSON, KEY) for r in owner_records], PERSON,
                   relabel=False,
                   hk_encodings=[enc_hk.encode(r) for r in owner_records] if hk else None)


def test_second_accounts_and_near_empty_records():
    a = [{"name": "司徒振邦", "dob": "1975-04-03", "phone": "13912345678", "id_number": ""},
         {"name": "司徒振邦", "dob": "1975-04-03", "phone": "+86 139 1234 5678",
          "id_number": ""},                                   # a second account at A
         {"name": "张伟", "dob": "", "phone": "", "id_number": ""}]
    b = [{"name": "Szeto Zhenbang", "dob": "03/04/1975", "phone": "13912345678",
          "id_number": ""},
         {"name": "张伟", "dob": "", "phone": "", "id_number": ""},   # identical, near-empty
         {"name": "", "dob": "", "phone": "", "id_number": ""}]
    c = [{"name": "司徒振邦", "dob": "1975年4月3日", "phone": "", "id_number": ""}]
    res = _resolve([a, b, c])
    ga, gb, gc = res.groups
    assert ga[0] == ga[1] == gc[0]
    assert ga[2] != gb[1] and len({*ga.tolist(), *gb.tolist(), *gc.tolist()}) == res.count
    assert res.same_owner_links >= 1 and res.multi_owner >= 1
    # "Szeto" (Cantonese romanisation of 司徒) links through birth date and phone
    assert gb[0] == ga[0] and res.count == 4  # 司徒振邦, 张伟 at A, 张伟 at B, the empty one
    assert gb[2] not in set(ga.tolist()) | set(gc.tolist())


def test_protocol_four_owners_and_unit_agrees_with_truth():
    s = chinese_identity_set(200, seed=3)
    s2 = chinese_identity_set(200, seed=3, overlap=0.5)
    owners = {"o1": s.a, "o2": s.b, "o3": [{**r, "id": "x" + r["id"]} for r in s2.b],
              "o4": s.a[:20]}   # o4 holds 20 of o1's people, written identically

    def fn(party):
        if party.name == "unit":
            return group_unit(party, list(owners), PERSON)
        return group_owner(party, owners[party.name], PERSON, KEY, "unit")
    res = run_parties(fn, names=[*owners, "unit"])
    unit = res[-1]
    for recs, (g, count) in zip(owners.values(), res[:-1], strict=True):
        assert count == unit.count and len(g) == len(recs)
    g1, g2, g4 = res[0][0], res[1][0], res[3][0]
    pos_b = {r["id"]: j for j, r in enumerate(s.b)}
    found = sum(g1[int(a[1:])] == g2[pos_b[b]] for a, b in s.links)
    assert found / len(s.links) >= 0.9
    assert (g4 == g1[:20]).all()


def test_unit_refuses_malformed_input():
    def fn(party):
        if party.name == "unit":
            return group_unit(party, ["o1"], PERSON)
        ch = party.channel("unit")
        ch.send_array(np.zeros((2, 7), np.uint8))  # wrong filter width
        ch.send_array(np.zeros((2, 7), np.uint8))
        ch.send_array(np.zeros((2, 6), np.uint64))
    with pytest.raises(ValueError, match=r"^o1 sent uint8 \(2, 7\), expected its encodings"):
        run_parties(fn, names=["o1", "unit"], timeout=5)


@pytest.mark.parametrize("n,passes,values,cap,seed", [(0, 3, 5, 100, 1), (1, 2, 1, 100, 1),
                                                      (300, 4, 20, 10**6, 2),
                                                      (500, 3, 40, 60, 3), (200, 2, 1, 10**6, 4)])
def test_self_pairs_equal_the_filtered_cross_join(n, passes, values, cap, seed):
    from yinji.linkage.blocking import candidate_pairs
    from yinji.linkage.groups import self_pairs

    rng = np.random.default_rng(seed)
    tok = rng.integers(0, values + 1, (n, passes)).astype(np.uint64)  # 0 = no key
    ia, ib = self_pairs(tok, cap)
    want = set()
    for p in range(passes):
        col = tok[:, p]
        for v in set(col.tolist()) - {0}:
            members = np.flatnonzero(col == v).tolist()
            if len(members) * (len(members) - 1) // 2 <= cap:
                want |= {(a, b) for a in members for b in members if a < b}
    assert set(zip(ia.tolist(), ib.tolist(), strict=True)) == want
    assert (ia < ib).all() and len(set(zip(ia.tolist(), ib.tolist(), strict=True))) == len(ia)
    if cap >= 10**6:  # without a cap: the cross join's pairs with i < j
        ca, cb = candidate_pairs(tok, tok, 10**12)
        assert want == {(a, b) for a, b in zip(ca.tolist(), cb.tolist(), strict=True) if a < b}
