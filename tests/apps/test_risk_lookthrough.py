"""Risk look-through: the whole pipeline in one process against its plaintext twin, the
officer's view, and the app's parameter and input checks."""

import numpy as np
import pytest

from yinji.apps.base import AppError
from yinji.apps.risk_lookthrough import APP, EXPOSURES, entries, look_through, plaintext
from yinji.apps.risk_rules import Thresholds, unpack
from yinji.testing.parties import record_received, run_parties

COMPANIES = ["fund", "futures", "offshore", "securities"]   # sorted: the first three compute
COMPUTE = COMPANIES[:3]
OWN = {"securities": "margin_financing", "futures": "futures_margin",
       "fund": "leveraged_products", "offshore": "offshore_positions"}
T = Thresholds(leverage=800, concentration=900, concentration_min=10_000_00, drop=300,
               min_assets=100_000_00)
FX = {"HKD": 0.92, "USD": 7.1}


def id_number(n: int) -> str:
    return f"11010119900101{n:04d}"


def raw_tables(rng, clients=60, share=0.5):
    """Each company's raw input columns: a random subset of the clients (some in odd
    forms, some with two accounts), its own exposure column, offshore rows in HKD/USD."""
    tables = {}
    for c in COMPANIES:
        held = np.flatnonzero(rng.random(clients) < share)
        rows = list(held) + list(rng.choice(held, size=min(3, len(held)), replace=False))
        ids = [id_number(i) for i in rows]
        ids = [f" {v[:6]} {v[6:]} " if j % 7 == 0 else v for j, v in enumerate(ids)]
        n = len(ids)
        cols = {"id_no": np.array(ids, dtype=object),
                "assets": np.round(rng.lognormal(12, 1.5, n), 2) * (rng.random(n) < 0.9),
                "prior_assets": np.round(rng.lognormal(12, 1.5, n), 2)}
        cols[OWN[c]] = np.round(rng.lognormal(11.5, 2, n), 2) * (rng.random(n) < 0.7)
        if c == "offshore":
            cols["currency"] = np.array(rng.choice(["HKD", "USD", "CNY"], n), dtype=object)
        tables[c] = cols
    return tables


def prepared(raw):
    return {c: entries(raw[c], COMPANIES.index(c), len(COMPANIES), FX)[:3:2]
            for c in COMPANIES}


def run_pipeline(tables, officer="group", receivers=None, record=None):
    names = COMPANIES + ([officer] if officer not in COMPANIES else [])
    views = {}

    def body(party):
        if party.name in (record or ()):
            views[party.name] = record_received(party)
        ids, values = tables.get(party.name, (None, None))
        return look_through(party, COMPANIES, COMPUTE, officer, T, ids, values,
                            receivers=receivers)

    out = run_parties(body, names=names, timeout=120)
    return dict(zip(names, out, strict=True)), views


@pytest.mark.parametrize("seed", [3, 4])
def test_every_company_gets_its_own_clients_codes_and_the_officer_the_counts(seed):
    rng = np.random.default_rng(seed)
    tables = prepared(raw_tables(rng))
    codes, counts = plaintext(tables, T)
    assert counts[:, 3].sum() > 0 and (counts[:, 3] < [len(tables[c][0]) for c in COMPANIES]).all()
    got, _ = run_pipeline(tables)
    for c in COMPANIES:
        np.testing.assert_array_equal(got[c][0], codes[c])
        assert got[c][1] is None
    np.testing.assert_array_equal(got["group"][1], counts)
    assert got["group"][0] is None


def test_officer_may_be_a_company_and_a_company_not_a_receiver():
    rng = np.random.default_rng(8)
    tables = prepared(raw_tables(rng, clients=30))
    codes, counts = plaintext(tables, T)
    got, _ = run_pipeline(tables, officer="futures", receivers=["fund", "securities"])
    np.testing.assert_array_equal(got["futures"][1], counts)
    assert got["futures"][0] is None and got["offshore"][0] is None
    np.testing.assert_array_equal(got["securities"][0], codes["securities"])


def test_a_company_with_no_clients_and_a_client_at_one_company_only():
    raw = {c: {"id_no": np.array([], dtype=object), "assets": np.zeros(0)} for c in COMPANIES}
    raw["securities"] = {"id_no": np.array([id_number(1)], dtype=object),
                         "assets": np.array([100.0]), "margin_financing": np.array([90.0])}
    raw["fund"] = {"id_no": np.array([id_number(2)], dtype=object),
                   "assets": np.array([0.0]), "prior_assets": np.array([1e6])}
    tables = prepared(raw)
    codes, counts = plaintext(tables, T)
    got, _ = run_pipeline(tables)
    assert unpack(got["securities"][0]).tolist() == [[1, 0, 0]]     # LEV only (E < CONC min)
    assert unpack(got["fund"][0]).tolist() == [[0, 0, 1]]           # DROP
    assert len(got["futures"][0]) == 0
    np.testing.assert_array_equal(got["group"][1], counts)


def test_officer_view_depends_only_on_the_counts():
    """Two data sets with other clients (every ID different, rows in another order) but the
    same counts by rule and company: the officer (outside the compute parties) receives, in
    both, one uint64 array of the counts' shape from each compute party, whose sum is the
    counts, and nothing else."""
    rng = np.random.default_rng(11)
    first = prepared(raw_tables(rng, clients=40))
    second = {}
    for c, (ids, values) in first.items():
        order = rng.permutation(len(ids))
        second[c] = ([i[:-4] + str(9999 - int(i[-4:])) for i in np.array(ids)[order]],
                     values[order])
    views, counts = [], []
    for tables in (first, second):
        got, view = run_pipeline(tables, record=("group",))
        views.append(view["group"])
        counts.append(got["group"][1])
    np.testing.assert_array_equal(counts[0], counts[1])
    for view in views:
        assert [p for p, _ in view] == COMPUTE
        assert all(m.dtype == np.uint64 and m.shape == (4, 4) for _, m in view)
        np.testing.assert_array_equal(sum(m for _, m in view).view(np.int64), counts[0])
    # the components are fresh masks each run, not a function of the inputs
    assert not np.array_equal(views[0][0][1], views[1][0][1])


# -- input preparation and parameters ------------------------------------------------------

def test_entries_convert_currencies_add_accounts_and_refuse_bad_rows():
    cols = {"id_no": np.array(["110101199001010001", "110101 199001010001", "x"], dtype=object),
            "assets": np.array([100.0, 50.5, 1.0]),
            "offshore_positions": np.array([10.0, 0.0, 0.0]),
            "currency": np.array(["HKD", "cny", "USD"], dtype=object)}
    ids, shown, x = entries(cols, 2, 4, FX)
    assert ids == ["110101199001010001", "X"] and shown[0] == "110101199001010001"
    np.testing.assert_array_equal(x, [[9200 + 5050, 0, 0, 0, 920, 0], [710, 0, 0, 0, 0, 0]])
    with pytest.raises(AppError, match="EUR has no approved rate"):
        entries({**cols, "currency": np.array(["EUR", "", "CNY"], dtype=object)}, 2, 4, FX)
    with pytest.raises(AppError, match="non-negative amounts; rows 2"):
        entries({**cols, "assets": np.array([1.0, -1.0, np.nan])}, 2, 4, FX)
    with pytest.raises(AppError, match="id_no is empty in row"):
        entries({**cols, "id_no": np.array(["a", " ", None], dtype=object)}, 2, 4, FX)
    with pytest.raises(AppError, match="out of range"):
        entries({**cols, "assets": np.array([1e12, 0, 0])}, 2, 4, FX)


def test_parameters_checked_with_their_bounds():
    base = {"risk_officer": "group"}
    p = APP.resolve_params(base)
    assert APP.thresholds(p) == Thresholds(leverage=800, concentration=900,
                                           concentration_min=10_000_000, drop=300,
                                           min_assets=50_000_000)
    for bad, message in (({"leverage_max": 11}, "at most 10"),
                         ({"concentration_max": 0.4}, "at least 0.5"),
                         ({"drop_max": "x"}, "must be a number"),
                         ({}, "risk_officer' is required")):
        with pytest.raises(AppError, match=message):
            APP.resolve_params({**(base if "risk_officer" not in message else {}), **bad})
    with pytest.raises(AppError, match="3 decimals"):
        APP.thresholds(APP.resolve_params({**base, "leverage_max": 0.8005}))
    assert APP.plan(APP.resolve_params({**base, "model": "risk-score:v2"}), {}, "fund",
                    None) == {}
    for bad in ("risk score", "risk-score:2", "risk-score:v0", ":v1"):
        with pytest.raises(AppError, match="parameter 'model' must be a model name"):
            APP.plan(APP.resolve_params({**base, "model": bad}), {}, "fund", None)
    for bad in (0.0, 1.0, 0.0005, 1.5):
        with pytest.raises(AppError, match="model_threshold"):
            APP.resolve_params({**base, "model": "m", "model_threshold": bad})


def test_role_optional_columns_are_the_exposures():
    role = APP.role("exposures")
    assert set(EXPOSURES) <= set(role.optional)
    assert "id_no" not in role.optional and "assets" not in role.optional


def test_input_party_company_view_does_not_depend_on_other_companies_clients():
    """securities (not a compute party) receives messages of the same kinds and shapes when
    the other companies hold different clients it does not have; its share components look
    uniform and its output is only its own codes."""
    from yinji.testing.parties import looks_uniform

    rng = np.random.default_rng(21)
    base = prepared(raw_tables(rng, clients=40))
    other = dict(base)
    ids, values = base["fund"]
    extra = [id_number(9000 + j) for j in range(len(ids))]   # fund's clients all replaced
    other["fund"] = (sorted(extra), values)
    shapes = []
    for tables in (base, other):
        got, views = run_pipeline(tables, record=("securities",))
        view = views["securities"]
        arrays = [(p, m) for p, m in view if isinstance(m, np.ndarray)]
        words = [(p, m) for p, m in arrays if m.dtype == np.uint64]
        # ~20 words an array: each on its own (plaintext fails from 6 words) and all together
        # (a biased top bit fails from 40); at min_size=64 no array was checked at all
        together = ("all", np.concatenate([m for _, m in words]))
        assert together[1].size >= 40
        assert looks_uniform([*words, together], min_size=6) == []
        shapes.append([(p, m.dtype.str, m.shape) for p, m in arrays])
        np.testing.assert_array_equal(got["securities"][0], plaintext(tables, T)[0]["securities"])
    assert shapes[0] == shapes[1]


def test_the_lookup_party_sees_each_batch_in_a_secret_order(monkeypatch):
    """A company asks for its clients in a fresh random order, not the sorted ID order the
    lookup party could relate to ID ranges; its codes come back in its own order."""
    import yinji.psi.ledger as lg

    asked = {}
    real = lg.lookup

    def spy(party, ledger, requester, ids=None, **kw):
        if ids is not None:
            asked[requester] = list(ids)
        return real(party, ledger, requester, ids, **kw)

    monkeypatch.setattr(lg, "lookup", spy)
    rng = np.random.default_rng(5)
    tables = prepared(raw_tables(rng, clients=80))
    got, _ = run_pipeline(tables)
    codes, _ = plaintext(tables, T)
    for c in COMPANIES:
        ids = tables[c][0]
        assert sorted(asked[c]) == sorted(ids) and asked[c] != list(ids)
        np.testing.assert_array_equal(got[c][0], codes[c])
