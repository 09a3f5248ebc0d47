import dataclasses

import numpy as np

from yinji.linkage.match import linkage_unit, linkage_unit_owner
from yinji.linkage.schemas import PERSON
from yinji.testing.parties import run_parties

NAMES = ("broker", "offshore", "compliance")


def run_lu(a, b, key, schema=PERSON):
    def body(party):
        if party.name == "compliance":
            return linkage_unit(party, schema, ("broker", "offshore"))
        recs = a if party.name == "broker" else b
        return linkage_unit_owner(party, recs, schema, key, "compliance")

    order_a, order_b, table = run_parties(body, names=NAMES)
    return {(a[order_a[i]]["id"], b[order_b[j]]["id"]) for i, j in zip(table.a, table.b,
                                                                        strict=True)}


def f1(got, truth):
    tp = len(got & truth)
    p, r = tp / max(len(got), 1), tp / len(truth)
    return 2 * p * r / (p + r)


def test_linkage_unit_mode_on_chinese_set(key, zh_small):
    got = run_lu(zh_small.a, zh_small.b, key)
    assert f1(got, zh_small.links) >= 0.95


def test_known_matches_and_non_matches_across_scripts(key):
    a = [{"id": "a1", "name": "张伟", "dob": "1980-03-04", "phone": "13800138000"},
         {"id": "a2", "name": "李娜", "dob": "1975-11-30", "phone": "13912345678"},
         {"id": "a3", "name": "John Smith", "dob": "1966-01-02", "phone": "13700001111"},
         {"id": "a4", "name": "欧阳修", "dob": "1990-09-09", "phone": ""}]
    b = [{"id": "b1", "name": "WEI Zhang", "dob": "19800304", "phone": "+86 138 0013 8000"},
         {"id": "b2", "name": "李娜", "dob": "1988-02-14", "phone": "13611112222"},  # namesake
         {"id": "b3", "name": "SMITH, Jon", "dob": "1966/01/02", "phone": "13700001111"},
         {"id": "b4", "name": "歐陽修", "dob": "1990-09-09", "phone": None}]
    assert run_lu(a, b, key) == {("a1", "b1"), ("a3", "b3"), ("a4", "b4")}


def test_very_common_name_in_one_big_block(key):
    """80 people called 张伟 born the same year: one block of 80 x 80 candidates; the other
    fields must pick the right partner."""
    rng = np.random.default_rng(1)
    a, b = [], []
    for i in range(80):
        dob = f"1985-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}"
        phone = f"13{rng.integers(10**8, 10**9)}"
        addr = f"北京市海淀区中关村大街{i + 1}号"
        a.append({"id": f"a{i}", "name": "张伟", "dob": dob, "phone": phone, "address": addr})
        b.append({"id": f"b{i}", "name": "張偉" if i % 2 else "Zhang Wei", "dob": dob,
                  "phone": phone, "address": addr})
    schema = dataclasses.replace(PERSON, blocking=("name",))
    got = run_lu(a, b, key, schema)
    assert got == {(f"a{i}", f"b{i}") for i in range(80)}


def test_empty_records_and_empty_sides(key):
    a = [{"id": "a1"}, {"id": "a2", "name": ""}]
    b = [{"id": "b1", "name": None}]
    assert run_lu(a, b, key) == set()
    assert run_lu([], b, key) == set()
