"""Seeded four-company customer files for `customer-view`, with planted cases and known truth.

People (yinji.testing.linkage_data) hold records at one to four companies, each company
writing names, dates and consent its own way (securities yes/no, fund 是/否, futures Y/N,
offshore true/false with HKD and USD assets). A person has a group customer number (GCN)
that each record carries with probability `gcn_rate`. Planted (person indices in
`planted`):
- GCN_ONLY: records at two companies that linkage cannot join (other name, birth date,
  phone and ID number) but that carry the same GCN: one identity;
- GCN_SPLIT: two people with identical identifying fields at two companies but different
  GCNs: two identities;
- ALL / NONE: consented at every company holding them / at none;
- A_NOT_B: consented at fund, not at securities;
- SECOND: two accounts at securities, one consenting and one not (no consent there),
  and a consenting record at futures.

Test use only (seeded NumPy randomness).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yinji.apps.customer_table import COLUMNS
from yinji.testing.aml_data import dob_as_written
from yinji.testing.linkage_data import draw_person, vary_person

COMPANIES = ("fund", "futures", "offshore", "securities")
CONSENT = {"securities": ("yes", "no"), "fund": ("是", "否"), "futures": ("Y", "N"),
           "offshore": ("true", "false")}
CATEGORIES = ("equity", "bond", "fund", "futures", "options", "margin", "wealth", "hk_stocks")
KEY = bytes(range(3, 35))


@dataclass
class CustomerCase:
    tables: dict[str, list[dict[str, str]]]
    person_of: dict[tuple[str, str], int]          # (company, record id) -> person
    planted: dict[str, list[int]] = field(default_factory=dict)

    def columns(self, company: str) -> dict[str, np.ndarray]:
        rows = self.tables[company]
        return {c: np.array([r[c] for r in rows], dtype=object) for c in COLUMNS}


class _Builder:
    def __init__(self, rng: np.random.Generator, gcn_rate: float) -> None:
        self.rng, self.gcn_rate = rng, gcn_rate
        self.tables: dict[str, list[dict[str, str]]] = {c: [] for c in COMPANIES}
        self.person_of: dict[tuple[str, str], int] = {}
        self.count = dict.fromkeys(COMPANIES, 0)

    def record(self, company: str, person: int, p: dict[str, str], consent: bool,
               gcn: str | None = None, variant: bool = True) -> str:
        rng = self.rng
        q = vary_person(p, rng) if (variant and company != "securities") else dict(p)
        self.count[company] += 1
        rid = f"{company[:3].upper()}{self.count[company]:06d}"
        self.person_of[(company, rid)] = person
        if gcn is None:
            gcn = f"G{person:07d}" if rng.random() < self.gcn_rate else ""
        cats = [c for c in CATEGORIES if rng.random() < 0.2]
        amount = float(np.round(rng.lognormal(np.log(300_000), 1.5), 2))
        currency = "CNY"
        if company == "offshore":
            currency = "HKD" if rng.random() < 0.7 else "USD"
        self.tables[company].append({
            "record_id": rid, "gcn": gcn, "name": q["name"], "dob": dob_as_written(company, q["dob"]),
            "id_no": q["id_number"], "phone": "" if company == "futures" else q["phone"],
            "consent": CONSENT[company][0 if consent else 1],
            "rm": f"{company[:2]}-rm{int(rng.integers(1, 4))}",
            "products": ";".join(cats), "assets": f"{amount:,.2f}", "currency": currency})
        return rid


def customer_dataset(people: int = 200, seed: int = 7, gcn_rate: float = 0.5,
                     consent_rate: float = 0.7) -> CustomerCase:
    rng = np.random.default_rng(seed)
    b = _Builder(rng, gcn_rate)
    share = np.array([0.4, 0.3, 0.3, 0.6])
    for i in range(people):
        p = draw_person(rng, 0.05)
        at = rng.random(4) < share
        if not at.any():
            at[3] = True
        for c in np.flatnonzero(at).tolist():
            b.record(COMPANIES[c], i, p, bool(rng.random() < consent_rate))
    planted: dict[str, list[int]] = {}
    nxt = people

    def new(name: str) -> tuple[int, dict[str, str]]:
        nonlocal nxt
        p = draw_person(rng, 0.0)
        p["name"] = name
        nxt += 1
        return nxt - 1, p

    i, p = new("端木承志")
    b.record("securities", i, p, True, gcn=f"G{i:07d}", variant=False)
    other = draw_person(rng, 0.0)
    b.record("fund", i, {**other, "name": "Duanmu Chengzhi"}, True, gcn=f"g{i:07d} ",
             variant=False)
    planted["GCN_ONLY"] = [i]
    i, p = new("司马静怡")
    j, _ = new("司马静怡")
    for c in ("securities", "futures"):
        b.record(c, i, p, True, gcn=f"G{i:07d}", variant=False)
        b.record(c, j, p, True, gcn=f"G{j:07d}", variant=False)
    planted["GCN_SPLIT"] = [i, j]
    i, p = new("欧阳子谦")
    for c in COMPANIES:
        b.record(c, i, p, True, variant=False)
    k, q = new("夏侯明轩")
    for c in COMPANIES:
        b.record(c, k, q, False, variant=False)
    planted["ALL"], planted["NONE"] = [i], [k]
    i, p = new("令狐晓梅")
    b.record("fund", i, p, True, variant=False)
    b.record("securities", i, p, False, variant=False)
    planted["A_NOT_B"] = [i]
    i, p = new("慕容思远")
    b.record("securities", i, p, True, variant=False)
    b.record("securities", i, dict(p, phone=p["phone"][:3] + " " + p["phone"][3:]), False,
             variant=False)
    b.record("futures", i, p, True, variant=False)
    planted["SECOND"] = [i]
    return CustomerCase(b.tables, b.person_of, planted)


def run_in_process(case: CustomerCase, home: Path, params: dict | None = None,
                   recipients: list[str] | None = None, unit: str = "unit",
                   stats_recipient: str = "unit", extra: tuple[str, ...] = (),
                   compute: tuple[str, ...] = ("fund", "futures", "offshore"),
                   spy: dict | None = None, views: dict | None = None,
                   timeout: float = 300.0) -> dict[str, Any]:
    """Run `customer-view` with the four companies, the linkage unit and `extra` nodes as
    parties in one process. `spy` receives each company's identity per record ({company:
    {record id: identity}}); `views` each party's received messages. Returns {party:
    Report or None}."""
    from yinji.apps import customer_identity, customer_view
    from yinji.crypto.certs import write_private
    from yinji.node.runners import RunContext
    from yinji.testing.parties import record_received, run_parties

    app = customer_view.APP
    for c in COMPANIES:
        (home / c / "linkage").mkdir(parents=True, exist_ok=True)
        if not (home / c / "linkage" / "customers.key").exists():
            write_private(home / c / "linkage" / "customers.key", KEY)
    resolved = app.resolve_params({"linkage_unit": unit, "stats_recipient": stats_recipient,
                                   **(params or {})})
    spec = {"params": {**resolved, "app_version": app.version,
                       "roles": dict.fromkeys(COMPANIES, "customers"), "compute": list(compute)},
            "inputs": {c: {"dataset": "customers", "columns": list(COLUMNS)} for c in COMPANIES},
            "recipients": recipients or sorted({*COMPANIES, stats_recipient, unit})}
    problems = app.validate(spec)
    if problems:
        raise ValueError("; ".join(problems))
    orig = customer_identity.identity_owner

    def spying(party, records, gcn, *a, **k):  # noqa: ANN001, ANN202
        ident, n = orig(party, records, gcn, *a, **k)
        if spy is not None:
            ids = [r["record_id"] for r in case.tables[party.name]]
            spy[party.name] = dict(zip(ids, ident.tolist(), strict=True))
        return ident, n

    def body(party):  # noqa: ANN001, ANN202
        if views is not None:
            views[party.name] = record_received(party)
        me = party.name
        ctx = RunContext(spec, me, party, case.columns(me) if me in COMPANIES else None,
                         lambda f, s: None, home / me)
        return app.run(ctx)

    customer_identity.identity_owner = spying
    try:
        names = [*COMPANIES, unit, *extra]
        return dict(zip(names, run_parties(body, names=names, timeout=timeout), strict=True))
    finally:
        customer_identity.identity_owner = orig
