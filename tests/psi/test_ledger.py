"""The group ledger (yinji.psi.ledger) against plaintext sums and maxima, its refusals, its
cache, and what each party receives during a query."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.crypto import group
from yinji.mpc.session import Session
from yinji.psi import ledger as lg
from yinji.psi.keys import normalize
from yinji.testing.parties import record_received, run_parties

NAMES = ["A", "B", "C", "D"]
ROLES = lg.Roles(("A", "B", "C", "D"), ("A", "B", "C"), "C")  # K1 = A, K2 = B, L = C
K = 3


def ids(n: int, rng: np.random.Generator) -> list[str]:
    return [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(n)]


def holdings(rng: np.random.Generator, universe: list[str], big: bool = False
             ) -> dict[str, tuple[list[str], np.ndarray]]:
    data = {}
    for j, h in enumerate(NAMES):  # universe[0] everywhere, universe[1] nowhere
        mine = [x for i, x in enumerate(universe)
                if i == 0 or (i > 1 and (i < 6 and i % 4 != j or rng.random() < 0.5))]
        hi = 2**55 if big else 10**6
        vals = rng.integers(-hi, hi, size=(len(mine), K), dtype=np.int64)
        vals[:, 2] = np.abs(vals[:, 2])  # a non-negative column for maxima
        data[h] = (mine, vals)
    return data


def oracle(data: dict, query: list[str]) -> tuple[np.ndarray, np.ndarray]:
    sums = np.zeros((len(query), K), np.int64)
    maxs = np.zeros(len(query), np.int64)
    for mine, vals in data.values():
        row = {normalize(x, "id"): i for i, x in enumerate(mine)}
        for j, q in enumerate(query):
            i = row.get(normalize(q, "id"))
            if i is not None:
                sums[j] += vals[i]
                maxs[j] = max(maxs[j], vals[i, 2])
    return sums, maxs


def epoch(party, data, dummies=lg.DEFAULT_DUMMIES, previous=None):
    s = Session(party, ROLES.compute) if party.name in ROLES.compute else None
    mine, vals = data.get(party.name, (None, None))
    return s, lg.build(party, ROLES, mine, vals, session=s, dummies=dummies,
                       previous=previous)


def ask(party, s, led, requester, query):
    got = lg.lookup(party, led, requester, query if party.name == requester else None)
    if got is None:
        res = None
    else:
        t = lg.totals(got)
        m = lg.maxima(s, (got[0][:, :, 2], got[1][:, :, 2]))
        res = (np.hstack([t[0], m[0][:, None]]), np.hstack([t[1], m[1][:, None]]))
    return lg.open_result(party, ROLES, requester, res, s)


def run(data, requester, query, **kw):
    def body(party):
        s, led = epoch(party, data, **kw)
        if party.name not in ROLES.compute and party.name != requester:
            return None
        return ask(party, s, led, requester, query)
    return run_parties(body, names=NAMES)


def catching(fn):
    """Run fn per party; a party that raises returns its exception (and closes up)."""
    def body(party, *args):
        try:
            return fn(party, *args)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            party.close()
            return exc
    return body


def odd_form(x: str, i: int) -> str:
    forms = [x, f" {x} ", x[:6] + " " + x[6:], x.translate(str.maketrans("0123456789",
                                                                           "０１２３４５６７８９"))]
    return forms[i % len(forms)]


@pytest.mark.parametrize("requester", ["D", "A", "B"])
def test_totals_and_maxima_match_plaintext(requester):
    rng = np.random.default_rng(7)
    universe = ids(80, rng)
    data = holdings(rng, universe, big=True)
    query = [odd_form(x, i) for i, x in enumerate(universe[:30])] + ids(3, rng)  # unknowns
    out = run(data, requester, query)
    sums, maxs = oracle(data, query)
    got = out[NAMES.index(requester)]
    assert got.shape == (len(query), K + 1)
    np.testing.assert_array_equal(got[:, :K], sums)
    np.testing.assert_array_equal(got[:, K], maxs)
    counts = [sum(normalize(q, "id") in {normalize(x, "id") for x in data[h][0]} for h in NAMES)
              for q in query]
    assert set(counts) >= {0, 4} and len(set(counts)) >= 4  # clients at 0..4 companies


def test_one_client_and_an_empty_holder():
    rng = np.random.default_rng(8)
    universe = ids(10, rng)
    data = holdings(rng, universe)
    data["D"] = ([], np.zeros((0, K), np.int64))
    data["A"] = (universe[:1], np.array([[5, -7, 9]], np.int64))
    out = run(data, "D", [universe[0].lower()], dummies=4)
    sums, maxs = oracle(data, [universe[0]])
    np.testing.assert_array_equal(out[3][:, :K], sums)
    np.testing.assert_array_equal(out[3][:, K], maxs)


def _refused(data, requester, query, expect, **kw):
    def body(party):
        s, led = epoch(party, data)
        if party.name not in ROLES.compute and party.name != requester:
            return None
        return ask(party, s, led, requester, query)
    out = run_parties(catching(body), names=NAMES)
    assert isinstance(out[NAMES.index(kw.get("at", requester))], expect), out
    return out


def test_requests_refused():
    rng = np.random.default_rng(9)
    universe = ids(8, rng)
    data = holdings(rng, universe)
    x = universe[0]
    out = _refused(data, "D", [x, f" {x.lower()} "], lg.DuplicateIds)
    assert "duplicate ID at entries 0 and 1" in str(out[3]) and x not in str(out[3])
    out = _refused(data, "D", [], lg.LedgerError)
    assert "empty batch" in str(out[3])
    out = _refused(data, "D", [x, ""], lg.LedgerError)
    assert "entry 1 is empty" in str(out[3])
    out = _refused(data, "C", [x], lg.LedgerError)
    assert "must not be the lookup party" in str(out[2])


def test_batch_bound():
    def body(party):
        s, led = epoch(party, {h: ([], np.zeros((0, K), np.int64)) for h in NAMES})
        if party.name in ("A", "B", "C", "D"):
            q = [f"1101011990010{i:05d}" for i in range(4)] if party.name == "D" else None
            got = lg.lookup(party, led, "D", q, max_batch=3)
            return got
    out = run_parties(catching(body), names=NAMES)
    assert isinstance(out[3], lg.LedgerError) and "over the bound of 3" in str(out[3])


def test_duplicate_ids_at_a_holder_are_refused():
    data = {h: (["110101199001011234", "110101199001011235"], np.zeros((2, K), np.int64))
            for h in NAMES}
    data["D"] = (["110101199001011234", " 110101199001011234"], np.zeros((2, K), np.int64))
    out = run_parties(catching(lambda p: epoch(p, data)), names=NAMES)
    assert isinstance(out[3], lg.DuplicateIds) and "D's IDs" in str(out[3])
    assert "110101199001011234" not in str(out[3])  # reasons reach the other parties


def test_holders_must_agree_on_columns():
    data = {h: (["110101199001011234"], np.zeros((1, K), np.int64)) for h in NAMES}
    data["B"] = (["110101199001011234"], np.zeros((1, K + 1), np.int64))
    out = run_parties(catching(lambda p: epoch(p, data)), names=NAMES)
    assert any(isinstance(o, lg.LedgerError) and "number of value columns" in str(o)
               for o in out[:3])


def test_dummies_run_out():
    rng = np.random.default_rng(10)
    universe = ids(6, rng)
    data = holdings(rng, universe)
    out = run_parties(catching(lambda p: run_one(p, data, "D", ids(3, rng), 5)), names=NAMES)
    assert isinstance(out[2], lg.LedgerExhausted) and "rebuild" in str(out[2])
    assert isinstance(out[0], lg.LedgerError) and "refused" in str(out[0])


def run_one(party, data, requester, query, dummies):
    s, led = epoch(party, data, dummies=dummies)
    if party.name not in ROLES.compute and party.name != requester:
        return None
    return ask(party, s, led, requester, query)


def test_incremental_build_sends_only_new_ids_through_the_chain():
    rng = np.random.default_rng(11)
    universe = ids(40, rng)
    first = holdings(rng, universe)
    second = {h: (mine + [f"9{h}{i:016d}" for i in range(2)],
                  np.vstack([vals, np.ones((2, K), np.int64)]))
              for h, (mine, vals) in first.items()}
    query = universe[:10] + [f"9A{0:016d}", f"9D{1:016d}"]

    def body(party):
        _, led = epoch(party, first)
        view = record_received(party)
        s, led2 = epoch(party, second, previous=led)
        chain = [m for peer, m in view if isinstance(m, np.ndarray) and m.dtype == np.uint8
                 and m.ndim == 2 and m.shape[1] == group.POINT_BYTES]
        res = ask(party, s, led2, "D", query) if party.name in "ABCD" else None
        return chain, res

    out = run_parties(body, names=NAMES)
    # K1 receives B's, C's and D's new points and the answer for its own: 2 new IDs each
    assert sorted(len(m) for m in out[0][0]) == [2, 2, 2, 2]
    sums, _ = oracle(second, query)
    np.testing.assert_array_equal(out[3][1][:, :K], sums)


def test_lookup_party_never_holds_a_tag_of_its_own_clients():
    rng = np.random.default_rng(12)
    universe = ids(30, rng)
    data = holdings(rng, universe)
    leds = run_parties(lambda p: epoch(p, data)[1], names=NAMES)
    k1, k2, k3 = leds[0].key, leds[1].key, leds[2].key
    mine = lg.items(data["C"][0], 2)
    pre = group.mult_points(k2, group.mult_points(k1, group.hash_points(mine, lg.DOMAIN)))
    final = {p[:lg.TAG_BYTES].tobytes() for p in group.mult_points(k3, pre)}
    held = set(leds[2].cache.values()) | set(leds[2].handles.values())
    assert held and not held & final
    # K2 holds them (under L's handles); it never sees the opened table ...
    assert set(leds[1].handles.values()) == final
    # ... and what a requester obtains for C's clients (k1·k2·H, without L's key) is not
    # among them, so K2 asking (or helping a requester) cannot test C's membership
    assert not {p[:lg.TAG_BYTES].tobytes() for p in pre} & final


def _query_views(holders_of_x: dict[str, list[str]], dummies: int = 64):
    """Each party's view of one query, for each of several clients (fresh epoch each)."""
    rng = np.random.default_rng(13)
    universe = ids(20, rng)
    views = {}
    for client, at in holders_of_x.items():
        data = {h: (universe[:10] + ([client] if h in at else []),
                    np.ones((10 + (h in at), K), np.int64)) for h in NAMES}

        def body(party, client=client, data=data):
            s, led = epoch(party, data, dummies=dummies)
            view = record_received(party)
            if party.name in ROLES.compute or party.name == "D":
                ask(party, s, led, "D", [client])
            return [(peer, m.dtype.str, m.shape) if isinstance(m, np.ndarray) else
                    (peer, "bytes", len(m)) for peer, m in view], view
        views[client] = run_parties(body, names=NAMES)
    return views


def test_member_views_do_not_depend_on_which_client_is_checked():
    """Client X at A and D, Y at B and C, Z only at A, W at all four: K1 (A) and K2 (B)
    receive the same shapes from the same senders, positions fresh and distinct; the fourth
    company receives nothing when another company asks."""
    views = _query_views({"110101199001011111": ["A", "D"], "110101199001012222": ["B", "C"],
                          "110101199001013333": ["A"],
                          "110101199001014444": ["A", "B", "C", "D"]})
    per = list(views.values())
    for rank in (0, 1, 2, 3):  # K1, K2, L, D: same structure whichever client
        assert all(v[rank][0] == per[0][rank][0] for v in per)
    for v in per:
        for rank in (0, 1):
            pos = [m for peer, m in v[rank][1] if peer == "C" and m.dtype == np.int64]
            assert len(pos) == 1 and pos[0].shape == (1, 4) and len(set(pos[0][0])) == 4
            pts = [m for peer, m in v[rank][1] if m.dtype == np.uint8]
            assert all(group.valid_points(p).all() for p in pts)


def test_fourth_company_receives_nothing_when_another_company_asks():
    rng = np.random.default_rng(14)
    universe = ids(12, rng)
    data = holdings(rng, universe)

    def body(party):
        s, led = epoch(party, data)
        view = record_received(party)
        if party.name in ROLES.compute:
            ask(party, s, led, "A", universe[:3])
        return view
    out = run_parties(body, names=NAMES)
    assert out[3] == []


def test_repeated_query_reuses_no_dummy():
    rng = np.random.default_rng(15)
    universe = ids(12, rng)
    data = holdings(rng, universe)

    def body(party):
        s, led = epoch(party, data, dummies=40)
        seen = []
        for _ in range(2):
            view = record_received(party) if party.name == "A" else []
            if party.name in ROLES.compute or party.name == "D":
                ask(party, s, led, "D", universe[:4] + ["110101199001019999"])
            seen += [m for peer, m in view if peer == "C"]
        return seen, led.dummies_left
    out = run_parties(body, names=NAMES)
    first, second = out[0][0][0], out[0][0][1]
    real_again = set(first.ravel()) & set(second.ravel())
    # only real entries repeat (the stated leakage); dummies are fresh each time
    need = (40 - out[2][1]) // 2  # dummies per query
    assert len(real_again) == 20 - need


def test_lookup_party_cannot_tell_which_companies_hold_a_client():
    """A client held only by holder 0, asked 16 times: the slot of its matching point in
    what L receives varies (Q shuffles each client's P points), so L learns the count only.
    Uniform over 4 slots, all 16 agree with probability 4^-15 = 9e-10 (12 asks: 2.4e-7)."""
    rng = np.random.default_rng(16)
    universe = ids(6, rng)
    data = {h: (universe[1:] if h != "A" else universe, np.ones((5 + (h == "A"), K), np.int64))
            for h in NAMES}

    def body(party):
        s, led = epoch(party, data, dummies=64)
        slots = []
        for _ in range(16):
            view = record_received(party) if party.name == "C" else []
            if party.name in ROLES.compute or party.name == "D":
                ask(party, s, led, "D", [universe[0]])
            for peer, m in view:
                if peer == "D" and m.ndim == 3:  # the points Q sends L
                    w0 = lg._tags(group.mult_points(led.key, m[0]))[:, 0]
                    slots.append([j for j in range(4) if w0[j] in set(led.sorted_w0)])
        return slots
    slots = run_parties(body, names=NAMES)[2]
    assert all(len(x) == 1 for x in slots) and len(slots) == 16
    assert len({x[0] for x in slots}) > 1
