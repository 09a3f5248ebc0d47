"""Joint anti-money-laundering (联合反洗钱) across the group's companies.

Each company supplies ONE dataset (role `aml`): its customers' transactions, one row per
transaction with the customer's record id, name, birth date, ID number, phone and declared
annual income repeated (a customer without transactions: one row with empty transaction
cells). That is what a SQL view joining the customer and transaction tables gives, so the
framework's one-dataset-per-company binding and column policies apply unchanged; a second
role would need a company to take two roles in one run, which the app spec does not allow.

Pipeline (yinji.apps.aml_table, yinji.linkage.groups, yinji.linkage.aml_rules):
  1. every company reads its file and reports its data quality (per file, to itself);
  2. identity resolution over all companies at once with the AML officer's node as linkage
     unit (no records, no key): names read as pinyin and as Hong Kong Cantonese
     romanisation (陳大文 = CHAN Tai Man), blocking on the evidence keys, Dice >= threshold
     and a minimum-evidence rule (equal ID number, or two of name / birth date / phone
     equal), components into G group identities -- second accounts at one company included;
  3. every company aggregates its transactions per identity and day and the rules STRUCT
     (sub-threshold deposits across >= 2 companies within W days reaching the threshold),
     RAPID (inflow then >= p% outflow within R days, >= 2 companies active) and INCOME
     (period inflow > k x declared income x D/365) run in MPC: three compute companies, the
     others input parties;
  4. each company receives the reason codes of its own records only; the officer receives
     counts per rule and company (and group-wide), and the resolution statistics.

Adversary model: semi-honest; no two compute companies collude; the officer (linkage unit)
does not collude with a company. What each party learns: see groups.py (the officer sees
two linkage-unit-mode encodings of every record (pinyin and Hong Kong name readings),
field-equality tokens, each name's script (characters or Latin) and the link graph;
companies learn G and which of their own records were joined) and aml_rules.py (a company
learns the reason codes of identities holding its records; the officer the counts only).
Key: `params.key` names linkage/<key>.key in each company's home (as linkage jobs).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps.aml_table import COLUMNS, ActivityByGroup, read_table
from yinji.apps.base import (
    App,
    AppError,
    Column,
    DemoRun,
    Param,
    Report,
    Role,
    inputs_by_role,
)
from yinji.node.linkage_runner import agreed_key

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

REASONS = (("STRUCT", 1), ("RAPID", 2), ("INCOME", 4))


def group_owner(*args: Any, **kw: Any):  # noqa: ANN201 - indirection for tests
    from yinji.linkage.groups import group_owner as fn

    return fn(*args, **kw)


class JointAml(App):
    name = "joint-aml"
    version = "1"
    title = "Joint anti-money-laundering (联合反洗钱)"
    summary = ("Group identities across the companies, AML rules on each identity's combined "
               "transactions in MPC; alerts to each company for its own clients, counts to "
               "the group AML officer.")
    roles = (Role("aml", tuple(Column(c, k) for c, k in zip(COLUMNS, (
        "id", "text", "date", "id", "text", "number", "date", "number", "text"), strict=True)),
        help="customers' transactions, one row per transaction (customer fields repeated)",
        optional=("id_no", "phone", "declared_income")),)
    params = (
        Param("aml_officer", "str", required=True,
              help="node of the group AML officer: linkage unit, receives counts only"),
        Param("period_start", "str", required=True, help="first day of the period, YYYY-MM-DD"),
        Param("period_days", "int", 30, 1, 366),
        Param("key", "str", "aml", help="linkage key id (linkage/<key>.key at each company)"),
        Param("reporting_threshold", "float", 50_000.0, 1, 1e9, help="CNY"),
        Param("structuring_window_days", "int", 7, 1, 366),
        Param("rapid_window_days", "int", 3, 1, 366),
        Param("rapid_min_inflow", "float", 50_000.0, 1, 1e9, help="CNY"),
        Param("rapid_out_percent", "int", 90, 1, 1000),
        Param("income_multiple", "float", 5.0, 0.01, 100.0),
        Param("link_threshold", "float", 0.75, 0.5, 1.0),
    )

    # -- run planning ---------------------------------------------------------------------------
    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return sorted({*roles, params.get("aml_officer") or proposer})

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        from yinji.apps.joint_aml_demo import demo

        return demo(self, data, seed)

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        params = spec.get("params") or {}
        inputs = spec.get("inputs") or {}
        officer = params.get("aml_officer")
        recipients = spec.get("recipients") or []
        if len(inputs) < 3:
            problems.append(f"joint-aml needs at least 3 companies with input, got {len(inputs)}")
        if not isinstance(officer, str) or not officer:
            problems.append("params.aml_officer must name the AML officer's node")
        elif officer in inputs:
            problems.append(f"params.aml_officer {officer!r} has an input: the officer is the "
                            "linkage unit and holds no records and no key")
        elif officer not in recipients:
            problems.append(f"params.aml_officer {officer!r} must be a recipient (counts)")
        stray = [r for r in recipients if r != officer and r not in inputs]
        if stray:
            problems.append(f"recipient(s) {', '.join(stray)} are neither companies of the run "
                            "nor the officer")
        try:
            rules_of(params)
            period_start(params)
        except (AppError, ValueError, KeyError, TypeError) as exc:
            problems.append(str(exc))
        return problems

    # -- the run ----------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        params = ctx.spec["params"]
        companies = sorted(ctx.spec["inputs"])
        compute = list(params["compute"])
        outside = [c for c in companies if c not in compute]
        order = compute + outside
        officer = params["aml_officer"]
        rules = rules_of(params)
        from yinji.linkage.schemas import PERSON

        schema = dataclasses.replace(PERSON, threshold=float(
            params.get("link_threshold", PERSON.threshold)))
        recipients = set(ctx.spec["recipients"])
        if ctx.me == officer:
            return self._officer(ctx, companies, compute, order, schema, recipients)
        if ctx.inputs is None:
            return None
        cols = inputs_by_role(ctx, self)
        assert cols is not None
        ctx.progress(0.05, "reading the file")
        table = read_table(cols, period_start(params), rules.days)
        key = agreed_key(ctx.party, ctx.home, params["key"], ctx.me, companies,
                         "yinji-apps/joint-aml-key-check")
        ctx.progress(0.2, "identity resolution")
        groups, count = group_owner(ctx.party, table.records, schema, key, officer)
        acts = ActivityByGroup(table, groups, count, rules.days, rules.threshold)
        from yinji.linkage.aml_rules import aml_compute, aml_input, features

        feats = (count, lambda lo, hi: features(acts.rows(lo, hi), rules))
        ctx.progress(0.5, "rules in MPC")
        if ctx.me in compute:
            from yinji.mpc.session import Session

            codes = aml_compute(Session(ctx.party, compute, frac_bits=0), feats, outside,
                                order, officer, rules, deliver=recipients)
        else:
            codes = aml_input(ctx.party, compute, feats, rules, receive=ctx.me in recipients)
        if ctx.me not in recipients:
            return None
        return company_report(ctx.me, table, groups, codes, count, params)

    def _officer(self, ctx: RunContext, companies: list[str], compute: list[str],
                 order: list[str], schema: Any, recipients: set[str]) -> Report | None:
        from yinji.linkage.aml_rules import COUNT_RULES, aml_officer
        from yinji.linkage.groups import group_unit

        ctx.progress(0.2, "identity resolution (linkage unit)")
        res = group_unit(ctx.party, companies, schema)
        ctx.progress(0.5, "waiting for the rules")
        counts = aml_officer(ctx.party, compute, order)
        rep = Report(f"Joint AML: alert counts ({ctx.spec['params']['period_start']}, "
                     f"{ctx.spec['params']['period_days']} days)")
        rep.summary += [f"{sum(len(g) for g in res.groups)} records at {len(companies)} "
                        f"companies resolved into {res.count} group identities",
                        f"{res.multi_owner} identities hold records at two or more companies; "
                        f"{res.same_owner_links} links join two records of one company",
                        f"largest identity: {res.largest} records",
                        f"{res.capped} records were in a blocking block too large to pair "
                        "(e.g. a shared placeholder phone): they link only through their "
                        "other keys",
                        "counts only: the alerted clients go to each company's compliance"]
        rows = [[c, *[counts[c][r] for r in COUNT_RULES]] for c in companies]
        rows.append(["group (distinct identities)", *[counts["group"][r] for r in COUNT_RULES]])
        rep.table("alert_counts", ["company", *COUNT_RULES], rows)
        rep.table("resolution", ["company", "records"],
                  [[c, len(g)] for c, g in zip(companies, res.groups, strict=True)]
                  + [["group identities", res.count]])
        rep.charts.append({"kind": "bar", "title": "alerts by company and rule",
                           "table": "alert_counts", "x": "company", "y": list(COUNT_RULES[:3])})
        rep.data = {"counts": counts, "identities": res.count}
        return rep


def company_report(me: str, table: Any, groups: np.ndarray, codes: np.ndarray, count: int,
                   params: dict[str, Any]) -> Report:
    """A company's alerts (its own records only, with reason codes) and its file's quality."""
    local: dict[int, str] = {}
    rows = []
    for k, rid in enumerate(table.ids):
        g = int(groups[k])
        code = int(codes[g])
        label = local.setdefault(g, f"P{len(local) + 1}")
        if code:
            rows.append([rid, label, ";".join(n for n, b in REASONS if code & b)])
    rep = Report(f"Joint AML alerts for {me} ({params['period_start']}, "
                 f"{params['period_days']} days)")
    people = len({r[1] for r in rows})
    rep.summary += [f"{len(table.ids)} records, {len(table.tx_day)} transactions counted; "
                    f"{count} group identities across the companies",
                    f"{len(rows)} of your records ({people} persons) raise an alert",
                    "reason codes: STRUCT structuring across companies, RAPID rapid in-and-out,"
                    " INCOME activity far above declared income"]
    if table.quality.issues:
        rep.summary.append(f"data quality: {len(table.quality.issues)} kind(s) of problem "
                           "in your file (table data_quality)")
    rep.table("alerts", ["record_id", "person (same label = same person here)", "reasons"], rows)
    rep.table("data_quality", ["issue", "count", "rows or records (first 10)"],
              table.quality.rows())
    rep.data = {"alerts": {r[0]: r[2].split(";") for r in rows}}
    return rep


def period_start(params: dict[str, Any]) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(params.get("period_start")))
    except ValueError:
        raise AppError("params.period_start must be a date YYYY-MM-DD, got "
                       f"{params.get('period_start')!r}") from None


def rules_of(params: dict[str, Any]):  # noqa: ANN201 - aml_rules.Rules
    from yinji.linkage.aml_rules import Rules

    fen = lambda v: int(round(float(v) * 100))  # noqa: E731
    days = int(params.get("period_days", 30))
    try:
        return Rules(days=days, threshold=fen(params.get("reporting_threshold", 50_000)),
                     struct_window=min(int(params.get("structuring_window_days", 7)), days),
                     rapid_window=min(int(params.get("rapid_window_days", 3)), days),
                     rapid_min=fen(params.get("rapid_min_inflow", 50_000)),
                     rapid_pct=int(params.get("rapid_out_percent", 90)),
                     income_pct=int(round(float(params.get("income_multiple", 5.0)) * 100)))
    except ValueError as exc:
        raise AppError(f"rule parameters: {exc}") from None


APP = JointAml()
