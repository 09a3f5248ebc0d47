"""Seeded four-company AML test data for `joint-aml`, with planted cases and known truth.

People (yinji.testing.linkage_data) hold records at one to four companies, each company
writing them its own way: securities simplified characters and ISO dates; fund
traditional/pinyin variants, 1987年5月12日 and "转入/转出"; futures 1987/05/12, "C/D" and no
phone column values at all (one-sided); offshore Hong Kong style 12/05/1987 (day first),
signed amounts with an empty direction and no declared income. Background transactions are
small. Planted (person indices in `planted`): STRUCT across two companies, RAPID across two
companies, INCOME reached only through a second account at the same company, controls that
must not alert (structuring at one company only, deposits too far apart, too small an
outflow), STRUCT across scripts (黃秋生 at securities, "WONG Chau Sang" at offshore), near-empty
records that must not link (a bare namesake of a control with a
deposit that would make it alert), and bad cells (unreadable dates, an empty name).

Test and benchmark use only (seeded NumPy randomness).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yinji.testing.linkage_data import draw_person, vary_person

COMPANIES = ("fund", "futures", "offshore", "securities")
COLUMNS = ("record_id", "name", "dob", "id_no", "phone", "declared_income", "tx_date",
           "amount", "direction")
START = datetime.date(2026, 3, 1)


@dataclass
class AmlCase:
    tables: dict[str, list[dict[str, str]]]
    person_of: dict[tuple[str, str], int]          # (company, record id) -> person
    planted: dict[str, list[int]] = field(default_factory=dict)
    near_empty: list[tuple[str, str]] = field(default_factory=list)
    transactions: int = 0

    def columns(self, company: str) -> dict[str, np.ndarray]:
        rows = self.tables[company]
        return {c: np.array([r[c] for r in rows], dtype=object) for c in COLUMNS}


def dob_as_written(company: str, iso: str) -> str:
    y, m, d = (int(x) for x in iso.replace("/", "-").split("-")) if "-" in iso or "/" in iso \
        else (int(iso[:4]), int(iso[4:6]), int(iso[6:]))
    if company == "fund":
        return f"{y}年{m}月{d}日"
    if company == "futures":
        return f"{y}/{m:02d}/{d:02d}"
    if company == "offshore":
        return f"{d:02d}/{m:02d}/{y}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _tx(company: str, day: int, fen: int, inflow: bool) -> dict[str, str]:
    dt = START + datetime.timedelta(days=day)
    amount = fen / 100
    if company == "fund":
        return {"tx_date": f"{dt.year}年{dt.month}月{dt.day}日", "amount": f"{amount:,.2f}",
                "direction": "转入" if inflow else "转出"}
    if company == "futures":
        return {"tx_date": dt.strftime("%Y/%m/%d"), "amount": f"{amount:.2f}",
                "direction": "C" if inflow else "D"}
    if company == "offshore":
        return {"tx_date": dt.strftime("%d/%m/%Y"),
                "amount": f"{amount if inflow else -amount:.2f}", "direction": ""}
    return {"tx_date": dt.isoformat(), "amount": f"{amount:.2f}",
            "direction": "in" if inflow else "out"}


class _Builder:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.tables: dict[str, list[dict[str, str]]] = {c: [] for c in COMPANIES}
        self.person_of: dict[tuple[str, str], int] = {}
        self.count = {c: 0 for c in COMPANIES}
        self.transactions = 0

    def record(self, company: str, person: int, p: dict[str, str], income: int | None,
               txs: list[tuple[int, int, bool]], variant: bool = True) -> str:
        q = vary_person(p, self.rng) if (variant and company != "securities") else dict(p)
        self.count[company] += 1
        rid = f"{company[:3].upper()}{self.count[company]:07d}"
        self.person_of[(company, rid)] = person
        base = {"record_id": rid, "name": q["name"], "dob": dob_as_written(company, q["dob"]),
                "id_no": q["id_number"], "phone": "" if company == "futures" else q["phone"],
                "declared_income": "" if company == "offshore" or income is None
                else f"{income / 100:.2f}"}
        if not txs:
            self.tables[company].append({**base, "tx_date": "", "amount": "", "direction": ""})
        for day, fen, inflow in txs:
            self.tables[company].append({**base, **_tx(company, day, fen, inflow)})
            self.transactions += 1
        return rid


def aml_dataset(people: int = 300, seed: int = 11, days: int = 30,
                tx_per_person: float = 2.5, common: float = 0.08) -> AmlCase:
    """`people` background persons (plus the planted ones), each at 1-4 companies."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng)
    share = np.array([0.4, 0.3, 0.3, 0.6])  # fund, futures, offshore, securities
    for i in range(people):
        p = draw_person(rng, common)
        at = rng.random(4) < share
        if not at.any():
            at[3] = True
        income = int(rng.integers(20_000_000, 200_000_000))
        n_tx = rng.poisson(tx_per_person)
        where = np.flatnonzero(at)
        per: dict[int, list[tuple[int, int, bool]]] = {int(c): [] for c in where}
        for _ in range(n_tx):
            c = int(where[int(rng.integers(len(where)))])
            fen = int(min(rng.lognormal(np.log(200_000), 1.0), 3_000_000))
            per[c].append((int(rng.integers(days)), max(fen, 100), bool(rng.random() < 0.55)))
        for c in where.tolist():
            b.record(COMPANIES[c], i, p, income if rng.random() < 0.85 else None, per[c])
    planted: dict[str, list[int]] = {}
    nxt = people

    def new(name: str) -> tuple[int, dict[str, str]]:
        nonlocal nxt
        p = draw_person(rng, 0.0)
        p["name"] = name
        nxt += 1
        return nxt - 1, p

    rich = 1_000_000_000  # 10M CNY: no INCOME alert from the planted amounts
    # STRUCT: 30,000 at securities (day 3) + 28,000 at offshore (day 6)
    i, p = new("司徒振邦")
    b.record("securities", i, p, rich, [(3, 3_000_000, True)])
    b.record("offshore", i, p, rich, [(6, 2_800_000, True)], variant=False)
    planted["STRUCT"] = [i]
    # RAPID: 200,000 in at fund (day 10), 190,000 out at futures (day 11)
    i, p = new("欧阳晓岚")
    b.record("fund", i, p, rich, [(10, 20_000_000, True)], variant=False)
    b.record("futures", i, p, rich, [(11, 19_000_000, False)], variant=False)
    planted["RAPID"] = [i]
    # INCOME only through a second account at securities: 25,000 + 25,000 vs 100,000 a year
    i, p = new("诸葛明远")
    b.record("securities", i, p, 10_000_000, [(2, 2_500_000, True)])
    second = dict(p, phone=f"+86 {p['phone'][:3]} {p['phone'][3:7]} {p['phone'][7:]}")
    b.record("securities", i, second, 10_000_000, [(20, 2_500_000, True)])
    planted["INCOME"] = [i]
    controls = []
    # structuring at one company only: no STRUCT
    i, p = new("上官婉清")
    b.record("securities", i, p, rich, [(4, 3_000_000, True), (5, 3_000_000, True)])
    controls.append(i)
    # deposits at two companies but 19 days apart: no STRUCT
    i, p = new("皇甫嘉树")
    b.record("fund", i, p, rich, [(1, 3_000_000, True)], variant=False)
    b.record("futures", i, p, rich, [(20, 3_000_000, True)], variant=False)
    controls.append(i)
    # outflow 50% of the inflow: no RAPID
    i, p = new("慕容雪松")
    b.record("fund", i, p, rich, [(10, 20_000_000, True)], variant=False)
    b.record("futures", i, p, rich, [(11, 10_000_000, False)], variant=False)
    controls.append(i)
    planted["CONTROL"] = controls
    # STRUCT across scripts: securities writes 黃秋生, offshore the Hong Kong romanisation
    # (as on the HK ID card; spelled by hand, not by the code's table) with no phone or ID
    # number, so only name (Cantonese) + birth date can link them
    i, p = new("黃秋生")
    b.record("securities", i, p, rich, [(3, 3_000_000, True)], variant=False)
    b.record("offshore", i, {**p, "name": "WONG Chau Sang", "phone": "", "id_number": ""},
             rich, [(6, 2_800_000, True)], variant=False)
    planted["STRUCT_HK"] = [i]
    # near-empty records: the name of the one-company structurer only, and a birth date only;
    # linking the first would give 上官婉清 a STRUCT alert
    near = []
    b.count["futures"] += 1
    rid = f"FUT{b.count['futures']:07d}"
    b.tables["futures"].append({"record_id": rid, "name": "上官婉清", "dob": "", "id_no": "",
                                "phone": "", "declared_income": "", **_tx("futures", 6,
                                                                          3_000_000, True)})
    b.person_of[("futures", rid)] = nxt
    near.append(("futures", rid))
    nxt += 1
    b.count["fund"] += 1
    rid = f"FUN{b.count['fund']:07d}"
    b.tables["fund"].append({"record_id": rid, "name": "", "dob": "1980年1月1日", "id_no": "",
                             "phone": "", "declared_income": "", "tx_date": "", "amount": "",
                             "direction": ""})
    b.person_of[("fund", rid)] = nxt
    near.append(("fund", rid))
    nxt += 1
    # bad cells at securities: two unreadable birth dates, one unreadable transaction date
    rows = b.tables["securities"]
    rows[0]["dob"] = "生日不详"
    rows[1]["dob"] = "31/31/31"
    rows[2]["tx_date"] = "not a date" if rows[2]["tx_date"] else rows[2]["tx_date"]
    return AmlCase(b.tables, b.person_of, planted, near, b.transactions)


def plaintext_codes(case: AmlCase, groups: dict[tuple[str, str], int], days: int = 30,
                    threshold: float = 50_000, struct_window: int = 7, rapid_window: int = 3,
                    rapid_min: float = 50_000, rapid_pct: float = 90,
                    income_multiple: float = 5.0) -> dict[tuple[str, str], set[str]]:
    """The rules in plain Python over the raw rows, grouped by `groups` ((company, record
    id) -> group): the reasons each record's group raises. Independent of the app's code
    paths (its own date and amount reading for the generator's formats)."""
    from collections import defaultdict

    inflow: dict = defaultdict(lambda: np.zeros((len(COMPANIES), days)))
    outflow: dict = defaultdict(lambda: np.zeros((len(COMPANIES), days)))
    small: dict = defaultdict(lambda: np.zeros((len(COMPANIES), days)))
    income: dict = defaultdict(float)
    for c, rows in case.tables.items():
        k = COMPANIES.index(c)
        for r in rows:
            g = groups[(c, r["record_id"])]
            inc = r["declared_income"]
            if inc:
                income[g] = max(income[g], float(inc))
            day = _day(c, r["tx_date"])
            if day is None or not 0 <= day < days:
                continue
            amt = float(r["amount"].replace(",", ""))
            into = {"转入": True, "转出": False, "C": True, "D": False, "in": True,
                    "out": False}.get(r["direction"], amt > 0)
            amt = abs(amt)
            (inflow if into else outflow)[g][k, day] += amt
            if into and amt < threshold:
                small[g][k, day] += amt
    out = {}
    for key, g in groups.items():
        reasons = set()
        sm, inn, ou = small[g], inflow[g], outflow[g]
        for w0 in range(days - struct_window + 1):
            win = sm[:, w0:w0 + struct_window].sum(axis=1)
            if win.sum() >= threshold and (win > 0).sum() >= 2:
                reasons.add("STRUCT")
        for w0 in range(days - rapid_window + 1):
            i_ = inn[:, w0:w0 + rapid_window].sum(axis=1)
            o_ = ou[:, w0:w0 + rapid_window].sum(axis=1)
            if (i_.sum() >= rapid_min and 100 * o_.sum() >= rapid_pct * i_.sum()
                    and ((i_ + o_) > 0).sum() >= 2):
                reasons.add("RAPID")
        if income[g] > 0 and inn.sum() * 365 > income_multiple * days * income[g]:
            reasons.add("INCOME")
        out[key] = reasons
    return out


def _day(company: str, text: str) -> int | None:
    import re

    nums = re.findall(r"\d+", text)
    if len(nums) != 3:
        return None
    a, b_, c = (int(x) for x in nums)
    y, m, d = (c, b_, a) if company == "offshore" else (a, b_, c)
    try:
        return (datetime.date(y, m, d) - START).days
    except ValueError:
        return None


def run_in_process(case: AmlCase, home: Path, params: dict | None = None,
                   recipients: list[str] | None = None, officer: str = "officer",
                   spy: dict | None = None, views: dict | None = None,
                   timeout: float = 600.0, progress=None) -> dict[str, object]:  # noqa: ANN001
    """Run `joint-aml` on `case` with the four companies and the officer as parties in one
    process (in-memory network; keys under `home/<company>`). `spy` receives each company's
    group index per record ({company: {record id: group}}); `views` each party's received
    messages (yinji.testing.parties.record_received); `progress(party, fraction, step)` is
called as each party reports progress. Returns {party: Report or None}."""
    from yinji.apps import joint_aml
    from yinji.crypto.certs import write_private
    from yinji.node.runners import RunContext
    from yinji.testing.parties import record_received, run_parties

    app = joint_aml.APP
    for c in COMPANIES:
        (home / c / "linkage").mkdir(parents=True, exist_ok=True)
        if not (home / c / "linkage" / "aml.key").exists():
            write_private(home / c / "linkage" / "aml.key", bytes(range(7, 39)))
    resolved = app.resolve_params({"aml_officer": officer, "period_start": START.isoformat(),
                                   **(params or {})})
    spec = {"params": {**resolved, "app_version": app.version,
                       "roles": dict.fromkeys(COMPANIES, "aml"),
                       "compute": ["fund", "futures", "offshore"]},
            "inputs": {c: {"dataset": "aml", "columns": list(COLUMNS)} for c in COMPANIES},
            "recipients": recipients or [*COMPANIES, officer]}
    problems = app.validate(spec)
    if problems:
        raise ValueError("; ".join(problems))
    orig = joint_aml.group_owner

    def spying(party, records, *a, **k):  # noqa: ANN001, ANN202
        g, n = orig(party, records, *a, **k)
        if spy is not None:
            ids = list(dict.fromkeys(r["record_id"] for r in case.tables[party.name]
                                     if r["record_id"]))
            spy[party.name] = dict(zip(ids, g.tolist(), strict=True))
        return g, n

    def body(party):  # noqa: ANN001, ANN202
        if views is not None:
            views[party.name] = record_received(party)
        me = party.name
        ctx = RunContext(spec, me, party, case.columns(me) if me in COMPANIES else None,
                         (lambda f, s: progress(me, f, s)) if progress else (lambda f, s: None),
                         home / me)
        return app.run(ctx)

    joint_aml.group_owner = spying
    try:
        names = [*COMPANIES, officer]
        return dict(zip(names, run_parties(body, names=names, timeout=timeout), strict=True))
    finally:
        joint_aml.group_owner = orig
