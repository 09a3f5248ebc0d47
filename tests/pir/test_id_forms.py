"""PIR on both sides applies the shared identifier rule (yinji.ids): every form a company
stores an ID number in hits the member's record. Before, a lower-case x silently missed."""

import json
import random

import pytest

from yinji import ids
from yinji.pir.alliance import Alliance
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase, Layout
from yinji.pir.records import RecordError, build_records
from yinji.pir.server import PirServer
from yinji.testing.parties import record_received, run_parties


def random_ids(n: int, seed: int) -> list[str]:
    """Valid 18-digit ID numbers, a good share with check character X."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        first17 = (f"{rng.randint(110000, 659000):06d}{rng.randint(1940, 1999)}"
                   f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
        out.add(first17 + ids.id_check_char(first17))
    return sorted(out)


def stored_form(canonical: str, rng: random.Random) -> str:
    """One way a company's export may hold the ID number `canonical`."""
    if canonical[6:8] == "19" and rng.random() < 0.3:
        s = canonical[:6] + canonical[8:17]  # the 15-digit legacy number
    else:
        s = canonical.lower() if rng.random() < 0.5 else canonical
    if rng.random() < 0.3:
        s = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)  # full-width
    return rng.choice(['="{}"', "'{}", "{}", " {} ", '"{}"', "{} "]).format(s)


def serve_and(server, client_fn):
    def fn(party):
        if party.name == "S":
            server.serve(party)
            return None
        try:
            return client_fn(party)
        finally:
            PirClient(party.channel("S")).close()

    return run_parties(fn, names=["S", "C"])[1]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_stored_form_hits_and_matches_the_plaintext_join(seed):
    rng = random.Random(seed)
    listed = random_ids(120, seed)
    others = random_ids(140, seed + 100)[:40]
    others = [i for i in others if i not in listed]
    # The member's own list is an export too: some rows lower-case x, 15-digit or ="...".
    rows = [{"id_no": stored_form(i, rng), "tag": f"t{n % 5}"} for n, i in enumerate(listed)]
    records = build_records(rows, "id_no", ["tag"], "test list")
    db = KeywordDatabase(records, label_size=16)
    queried = [rng.choice(listed + others) for _ in range(60)]
    queried += [i for i in listed if i.endswith("X")][:5]
    forms = [stored_form(i, rng) for i in queried]
    got = serve_and(PirServer.from_database(db), lambda p: PirClient(p.channel("S")).query(forms))
    # Plaintext oracle: the join on normalised IDs.
    table = {ids.normalize(r["id_no"]): json.dumps({"tag": r["tag"]}, separators=(",", ":"))
             for r in rows}
    want = [table.get(ids.normalize(f)) for f in forms]
    assert [None if g is None else g.decode() for g in got] == want
    assert sum(w is not None for w in want) >= 30
    lower_x = [g for f, g in zip(forms, got, strict=True)
               if "x" in f and ids.normalize(f) in table]
    assert lower_x and all(g is not None for g in lower_x)  # the bug this fixes


def test_layout_publishes_the_key_kind():
    db = KeywordDatabase([("11010519491231002X", b"a")], label_size=8)
    layout = db.build().layout
    assert layout.key_kind == "auto" and layout.to_json()["key_kind"] == "auto"
    assert Layout.from_json(layout.to_json()) == layout
    old = {k: v for k, v in layout.to_json().items() if k != "key_kind"}
    assert Layout.from_json(old).key_kind == "exact"  # a member from before: keys as given
    with pytest.raises(ValueError, match="unknown key kind"):
        Layout.from_json({**old, "key_kind": "soundex"})
    with pytest.raises(ValueError, match="unknown key kind"):
        KeywordDatabase(key_kind="soundex")


def test_each_member_applies_its_own_rule_in_an_alliance():
    lists = {"auto": KeywordDatabase([("11010519491231002X", b"pep")], label_size=8),
             "exact": KeywordDatabase([("11010519491231002X", b"fraud")], label_size=8,
                                      key_kind="exact")}

    def fn(party):
        if party.name != "client":
            PirServer.from_database(lists[party.name], name=party.name).serve(party, ["client"])
            return None
        alliance = Alliance({m: PirClient(party.channel(m)) for m in lists}, timeout=10)
        try:
            return alliance.query(['="110105491231002"', "11010519491231002x",
                                   "11010519491231002X"])
        finally:
            alliance.close()

    answer = run_parties(fn, names=["client", *lists], timeout=20)[0]
    assert answer.members["auto"].labels == (b"pep", b"pep", b"pep")
    assert answer.members["exact"].labels == (None, None, b"fraud")  # "exact" means exact


def test_a_new_version_with_another_key_kind_is_followed():
    db = KeywordDatabase([("11010519491231002X", b"v1")], label_size=8)
    server = PirServer.from_database(db)

    def client(party):
        c = PirClient(party.channel("S"))
        first = c.query(["11010519491231002x"])  # hint of the "auto" version cached
        server.update(KeywordDatabase([("11010519491231002X", b"v2")], label_size=8,
                                      oprf=db.oprf, key_kind="exact"))
        return first, c.query(["11010519491231002x", "11010519491231002X"]), c.layout.key_kind

    first, second, kind = serve_and(server, client)
    assert first == [b"v1"]
    assert second == [None, b"v2"] and kind == "exact"


def test_member_list_problems_name_the_rows():
    rows = [{"id": "11010519491231002X", "t": "a"}, {"id": "1.10105E+17", "t": "b"},
            {"id": "11010519491231002x", "t": "c"}]
    with pytest.raises(RecordError, match=r"spreadsheet notation.*rows \[2\]"):
        build_records(rows, "id", ["t"], "list")
    with pytest.raises(RecordError, match=r"duplicate.*'11010519491231002x' = "
                                          r"'11010519491231002X' \(rows 1 and 2\)"):
        build_records([rows[0], rows[2]], "id", ["t"], "list")
    with pytest.raises(RecordError, match="row 2: empty key"):
        build_records([rows[0], {"id": '=""', "t": "d"}], "id", ["t"], "list")
    # "exact" keeps the historical behaviour: stripped text, nothing else.
    assert [k for k, _ in build_records([rows[0], rows[2]], "id", ["t"], "list", "exact")] == \
        ["11010519491231002X", "11010519491231002x"]
    with pytest.raises(ValueError, match="empty after normalisation"):
        KeywordDatabase([("  ", b"x")])
    with pytest.raises(ValueError, match="spreadsheet notation"):
        KeywordDatabase([("4.40524E+17", b"x")])


def _member_view(db, keys):
    server = PirServer.from_database(db)

    def fn(party):
        if party.name == "S":
            view = record_received(party)
            server.serve(party)
            return view
        c = PirClient(party.channel("S"))
        c.query(keys)
        c.close()
        return None

    view = run_parties(fn, names=["S", "C"])[0]
    return [json.loads(m) if i in (0, 1, 3, 5) else m for i, (_, m) in enumerate(view)]


def test_member_view_does_not_depend_on_the_key_or_its_form():
    """Normalisation happens at the client: the member receives the same messages (a hint
    request, then k blinded points and k query columns) whatever the key and its form, and
    never the key in any form."""
    db = KeywordDatabase([(i, b"x") for i in random_ids(50, 3)], label_size=8)
    present = random_ids(50, 3)[0]
    views = [_member_view(db, [form]) for form in
             (present, present.lower(), f'="{present[:6] + present[8:17]}"', "not-listed")]
    shapes = [[(m["op"], m["parts"]) if isinstance(m, dict) else (type(m).__name__, len(m))
               if isinstance(m, bytes) else ("array", m.shape, str(m.dtype)) for m in v]
              for v in views]
    assert all(s == shapes[0] for s in shapes)
    assert [s[0] for s in shapes[0] if isinstance(s[0], str) and s[0] in
            ("hint", "oprf", "query", "bye")] == ["hint", "oprf", "query", "bye"]
    for v in views:
        raw = b"".join(m if isinstance(m, bytes) else m.tobytes() if hasattr(m, "tobytes")
                       else json.dumps(m).encode() for m in v)
        for form in (present, present.lower(), present[:6] + present[8:17], "not-listed"):
            assert form.encode() not in raw
