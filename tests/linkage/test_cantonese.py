"""Hong Kong Cantonese romanisation in identity resolution: 陳大文 / 陈大文 / "CHAN Tai Man"
link in both directions; the romanisation never links two people on a shared surname, nor
two names in characters that only the romanisation merges (王 / 黄 are both Wong); the
evidence-key blocking finds every pair the old blocking passes found."""

import numpy as np
import pytest

from yinji.linkage import cantonese
from yinji.linkage import normalise as nz
from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.groups import evidence_tokens, group_owner, group_unit, resolve
from yinji.linkage.match import prepare
from yinji.linkage.schemas import PERSON
from yinji.testing.linkage_data import chinese_identity_set
from yinji.testing.parties import record_received, run_parties

KEY = bytes(range(32))
FORMS = ["CHAN Tai Man", "Chan Tai-man", "TAI MAN CHAN", "Chan, Tai Man", "Mr CHAN TAI MAN",
         "ＣＨＡＮ Ｔａｉ Ｍａｎ"]


def _resolve(owner_records, hk=True, blocking=False):
    enc, enc_hk = ClkEncoder(PERSON, KEY), ClkEncoder(PERSON, KEY, "hk")
    toks = [prepare(r, PERSON, KEY, shuffle=False).tokens if blocking
            else np.zeros((len(r), 0), np.uint64) for r in owner_records]
    return resolve(toks, [enc.encode(r) for r in owner_records],
                   [evidence_tokens(r, PERSON, KEY) for r in owner_records], PERSON,
                   relabel=False, hk_encodings=[enc_hk.encode(r) for r in owner_records]
                   if hk else None)


@pytest.mark.parametrize("form", FORMS)
def test_every_hong_kong_form_has_the_keys_of_the_characters(form):
    assert nz.hk_name_tokens(form) == nz.hk_name_tokens("陳大文") == nz.hk_name_tokens("陈大文")
    assert nz.hk_name_tokens(form) != nz.hk_name_tokens("陳大明")


def test_spelling_variants_fold_together():
    for a, b in [("Lee", "Li"), ("Yip", "Ip"), ("Kwok", "Kuok"), ("Ho", "Hoh"),
                 ("Cheung", "Cheong"), ("Tai", "Dai"), ("Chow", "Jau"), ("Auyeung", "Au Yeung")]:
        assert nz.hk_name_tokens(a) == nz.hk_name_tokens(b), (a, b)
    for a, b in [("Chan", "Wong"), ("Lam", "Lau"), ("Ng", "Ho")]:
        assert nz.hk_name_tokens(a) != nz.hk_name_tokens(b)
    assert cantonese.han_keys("黄") == cantonese.han_keys("王") == [cantonese.key("wong")]


@pytest.mark.parametrize("form", FORMS[:4])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("han", ["陳大文", "陈大文"])
def test_characters_and_hong_kong_latin_link_both_ways(han, swap, form):
    a = [{"name": han, "dob": "1970-03-05", "phone": "", "id_number": ""}]
    b = [{"name": form, "dob": "05/03/1970", "phone": "", "id_number": ""}]
    c = [{"name": "Chen Dawen", "dob": "1970年3月5日", "phone": "", "id_number": ""}]
    owners = [b, a, c] if swap else [a, b, c]
    res = _resolve(owners)
    ga, gb = (res.groups[1], res.groups[0]) if swap else (res.groups[0], res.groups[1])
    assert ga[0] == gb[0] == res.groups[2][0] and res.count == 1
    # before (pinyin view only): the Hong Kong spelling stays apart
    old = _resolve(owners, hk=False)
    oa, ob = (old.groups[1], old.groups[0]) if swap else (old.groups[0], old.groups[1])
    assert oa[0] == old.groups[2][0] and oa[0] != ob[0] and old.count == 2


def test_same_cantonese_surname_alone_never_links():
    # same surname (Chan), same birth date, different given names: different people
    a = [{"name": "陳大文", "dob": "1970-03-05", "phone": "", "id_number": ""},
         {"name": "王大文", "dob": "1981-01-01", "phone": "", "id_number": ""},
         {"name": "黃大文", "dob": "1981-01-01", "phone": "", "id_number": ""}]
    b = [{"name": "CHAN Kwok Hung", "dob": "05/03/1970", "phone": "", "id_number": ""},
         {"name": "CHAN Siu Ming", "dob": "05/03/1970", "phone": "", "id_number": ""}]
    res = _resolve([a, b])
    ga, gb = res.groups
    assert len({*ga.tolist(), *gb.tolist()}) == 5
    # 王大文 / 黃大文 (both WONG Tai Man in Hong Kong) stay two people
    assert ga[1] != ga[2]


def test_a_hong_kong_name_between_two_wongs_is_left_unlinked():
    a = [{"name": "王大文", "dob": "1981-01-01", "phone": "", "id_number": ""},
         {"name": "黃大文", "dob": "1981-01-01", "phone": "", "id_number": ""}]
    b = [{"name": "WONG Tai Man", "dob": "01/01/1981", "phone": "", "id_number": ""}]
    ga, gb = _resolve([a, b]).groups
    assert ga[0] != ga[1] and gb[0] not in ga.tolist()  # ambiguous: margin rule


def test_evidence_key_blocking_keeps_every_link_of_the_old_passes():
    s = chinese_identity_set(400, seed=5)
    s2 = chinese_identity_set(400, seed=5, overlap=0.6)
    owners = [s.a, s.b, s2.b]
    old, new = _resolve(owners, blocking=True), _resolve(owners)
    assert new.candidates < old.candidates / 2
    for g_old, g_new in zip(old.groups, new.groups, strict=True):
        assert (g_old == g_new).all()
    pos_b = {r["id"]: j for j, r in enumerate(s.b)}
    ga, gb = new.groups[0], new.groups[1]
    found = sum(ga[int(x[1:])] == gb[pos_b[y]] for x, y in s.links)
    assert found / len(s.links) >= 0.9


def test_a_capped_block_is_counted():
    recs = [{"name": f"张{c}", "dob": "", "phone": "13800000000", "id_number": ""}
            for c in "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏飞宇浩"]
    schema = PERSON.__class__(**{**PERSON.__dict__, "max_block_pairs": 100})
    enc = ClkEncoder(schema, KEY)
    res = resolve([np.zeros((len(recs), 0), np.uint64)], [enc.encode(recs)],
                  [evidence_tokens(recs, schema, KEY)], schema, relabel=False)
    assert res.capped == len(recs) and res.count == len(recs)


def test_the_unit_receives_keyed_views_and_the_script_only():
    """What the unit gets per owner: two encodings, keyed evidence tokens, the script flag.
    Changing the key changes every token; the same names under another key give the unit
    arrays of the same shapes (no blocking tokens are sent)."""
    recs = [{"name": "陳大文", "dob": "1970-03-05", "phone": "91234567", "id_number": ""},
            {"name": "CHAN Tai Man", "dob": "05/03/1970", "phone": "", "id_number": ""}]
    seen = {}

    def fn(party, key):
        if party.name == "unit":
            seen[key] = record_received(party)
            return group_unit(party, ["o1"], PERSON)
        return group_owner(party, recs, PERSON, key, "unit")
    for key in (KEY, bytes(range(1, 33))):
        run_parties(lambda p, k=key: fn(p, k), names=["o1", "unit"])
    v1, v2 = ([m for _, m in seen[k]] for k in (KEY, bytes(range(1, 33))))
    assert [m.shape for m in v1] == [m.shape for m in v2] and len(v1) == 3
    ev1, ev2 = v1[2], v2[2]
    assert sorted(ev1[:, 5].tolist()) == [1, 2]  # the script flag, unkeyed
    assert not set(ev1[:, :5].ravel().tolist()) & set(ev2[:, :5].ravel().tolist()) - {0}


@pytest.mark.parametrize("n,chunk", [(0, 4), (1, 4), (37, 8), (200, 1 << 14)])
def test_encode_views_equal_one_encoder_per_view(n, chunk):
    s = chinese_identity_set(max(n, 1), seed=11)
    recs = (s.a + s.b)[:n]
    got = ClkEncoder(PERSON, KEY).encode_views(recs, ("pinyin", "hk"), chunk=chunk)
    for view, enc in zip(("pinyin", "hk"), got, strict=True):
        want = ClkEncoder(PERSON, KEY, view).encode(recs)
        assert enc.shape == (n, PERSON.size // 8) and (enc == want).all()
