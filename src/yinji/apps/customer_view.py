"""Unified customer view (统一客户信息管理): one group identity per client, the group-wide profile
of consenting clients to their own relationship managers, suppressed statistics to a group
recipient.

Each company supplies one dataset (role `customers`, yinji.apps.customer_table): record id,
group customer number (GCN, may be empty), name, birth date, ID number, phone, consent,
relationship manager, product categories, assets and currency.

Pipeline:
  1. every company reads and checks its file (a bad cell refuses the run, naming the row);
  2. identities (yinji.apps.customer_identity): the GCN where both records carry one, else
     the identity resolution of yinji.linkage.groups, with `linkage_unit` (a node with no
     records and no key) as linkage unit; N identities;
  3. MPC (yinji.apps.customer_mpc; three compute companies, the others input parties):
     profiles and statistics;
  4. each company receives, for its clients who consented AT IT, the profile built from the
     facts of the companies where the client consented -- which of them serve the client,
     the union of product categories there, the band of the total assets there (converted
     at the run's approved rates, band edges a parameter) -- one table per relationship
     manager; nothing at all about a client who did not consent at it; the statistics
     recipient gets counts per cross-holding pattern, asset band of the group total,
     product category and consenting clients per company, over every client, suppressed
     below `min_cohort`.

Consent rule (PIPL: a company's consent covers sharing ITS data): company A's facts appear
in a client's profile only if the client consented at A, and the profile is delivered to
company B only if the client consented at B. A client with several records at one company
has consented there only if every one of those records says yes (a withdrawal on any
account counts). Identity resolution and the statistics use every record, consenting or
not (keyed encodings and secret shares only); consent governs profiles.

Adversary model: semi-honest; no two compute companies collude; the linkage unit does not
collude with a company. What each party learns:
- linkage unit: what groups.py shows it (linkage-unit-mode encodings, evidence tokens, the
  link graph) plus, per record in a random order, its linkage group and keyed GCN token
  (customer_identity.py); the resolution statistics; the statistics only if it is their
  recipient;
- company B: N and which of its own records are one identity; profile rows only for
  identities that consented at B (each built only from consenting companies' facts); the
  statistics if it is their recipient; shares and uniform output components otherwise;
- statistics recipient: the suppressed counts and which cells are suppressed (primary
  suppression below min_cohort, one secondary cell where a lone suppressed cell of a table
  adding up to N could be derived; category and consent counts are not complemented).
Key: `params.key` names linkage/<key>.key in each company's home (as linkage jobs).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps import customer_identity
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
from yinji.apps.customer_mpc import Plan, company_side, features, receive_stats
from yinji.apps.customer_table import COLUMNS, OPTIONAL, CustomerTable, read_customers
from yinji.node.linkage_runner import agreed_key

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

CATEGORIES = ["equity", "bond", "fund", "futures", "options", "margin", "wealth", "hk_stocks"]
KINDS = ("id", "id", "text", "date", "id", "text", "flag", "text", "text", "number", "text")


class CustomerView(App):
    name = "customer-view"
    version = "1"
    title = "Unified customer view (统一客户信息管理)"
    summary = ("One group identity per client; the group profile of clients who consented to "
               "their relationship manager; suppressed group statistics to a group recipient.")
    roles = (Role("customers", tuple(Column(c, k) for c, k in zip(COLUMNS, KINDS, strict=True)),
                  help="one row per customer record; consent yes/no, products ;-separated",
                  optional=OPTIONAL),)
    params = (
        Param("linkage_unit", "str", required=True,
              help="node that resolves identities: holds no records and no key"),
        Param("stats_recipient", "str", required=True,
              help="node that receives the suppressed group statistics"),
        Param("key", "str", "customers", help="linkage key id (linkage/<key>.key)"),
        Param("categories", "names", CATEGORIES, help="product categories accepted"),
        Param("fx_rates", "rates", {"HKD": 0.92, "USD": 7.1}, help="approved CNY rates"),
        Param("band_edges", "str", "500000,1000000,5000000,10000000",
              help="asset band edges in CNY, ascending, comma-separated"),
        Param("min_cohort", "int", 10, 2, 100000, help="smallest count shown"),
        Param("link_threshold", "float", 0.75, 0.5, 1.0),
    )

    # -- run planning ---------------------------------------------------------------------------
    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        from yinji.apps.customer_view_demo import demo

        return demo(self, data, seed)

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return sorted({*roles, params.get("stats_recipient") or proposer})

    def participants_needing_channels(self, spec: dict[str, Any]) -> list[str]:
        unit = (spec.get("params") or {}).get("linkage_unit")
        return sorted(set(super().participants_needing_channels(spec)) | ({unit} if unit else set()))

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        params = spec.get("params") or {}
        inputs = spec.get("inputs") or {}
        recipients = spec.get("recipients") or []
        unit, stats_to = params.get("linkage_unit"), params.get("stats_recipient")
        if len(inputs) < 3:
            problems.append(f"customer-view needs at least 3 companies with input, got "
                            f"{len(inputs)}")
        if not isinstance(unit, str) or not unit:
            problems.append("params.linkage_unit must name the linkage unit's node")
        elif unit in inputs:
            problems.append(f"params.linkage_unit {unit!r} has an input: the linkage unit "
                            "holds no records and no key")
        if not isinstance(stats_to, str) or stats_to not in recipients:
            problems.append(f"params.stats_recipient {stats_to!r} must be a recipient")
        stray = [r for r in recipients if r not in inputs and r not in (unit, stats_to)]
        if stray:
            problems.append(f"recipient(s) {', '.join(stray)} are neither companies of the run, "
                            "the linkage unit nor the statistics recipient")
        cats = params.get("categories") or []
        if not cats or len(cats) > 64 or len({c.lower() for c in cats}) != len(cats) \
                or any(";" in c or "；" in c for c in cats):
            problems.append("params.categories must be 1-64 distinct names without ';'")
        try:
            band_edges(params)
        except AppError as exc:
            problems.append(str(exc))
        return problems

    # -- the run ----------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        params = ctx.spec["params"]
        companies = sorted(ctx.spec["inputs"])
        recipients = set(ctx.spec["recipients"])
        plan = Plan(companies, list(params["compute"]),
                    [c for c in companies if c in recipients], params["stats_recipient"],
                    len(params["categories"]), [int(round(e * 100)) for e in band_edges(params)],
                    int(params["min_cohort"]))
        from yinji.linkage.schemas import PERSON

        schema = dataclasses.replace(PERSON, threshold=float(params["link_threshold"]))
        if ctx.me == params["linkage_unit"]:
            ctx.progress(0.2, "identity resolution (linkage unit)")
            res, merged = customer_identity.identity_unit(ctx.party, companies, schema)
            stats = receive_stats(ctx.party, plan) if ctx.me == plan.stats_to else None
            if ctx.me not in recipients:
                return None
            rep = Report("Unified customer view: identity resolution")
            _resolution(rep, companies, res, merged)
            if stats is not None:
                _statistics(rep, plan, params, stats)
            return rep
        if ctx.inputs is None:   # a statistics recipient outside the companies
            ctx.progress(0.5, "waiting for the statistics")
            rep = Report("Unified customer view: group statistics")
            _statistics(rep, plan, params, receive_stats(ctx.party, plan))
            return rep
        cols = inputs_by_role(ctx, self)
        assert cols is not None
        ctx.progress(0.05, "reading the file")
        table = read_customers(cols, params["categories"], params["fx_rates"])
        key = agreed_key(ctx.party, ctx.home, params["key"], ctx.me, companies,
                         "yinji-apps/customer-view-key-check")
        ctx.progress(0.2, "identity resolution")
        ident, count = customer_identity.identity_owner(ctx.party, table.records, table.gcn,
                                                        schema, key, params["linkage_unit"])
        ctx.progress(0.5, "profiles and statistics in MPC")
        prof, stats = company_side(ctx.party, plan, features(table, ident, count))
        if ctx.me not in recipients:
            return None
        rep = company_report(ctx.me, plan, params, table, ident, count, prof)
        if stats is not None:
            _statistics(rep, plan, params, stats)
        return rep


def band_edges(params: dict[str, Any]) -> list[float]:
    text = str(params.get("band_edges", ""))
    try:
        edges = [float(e) for e in text.split(",") if e.strip()]
    except ValueError:
        raise AppError(f"params.band_edges must be CNY amounts separated by commas, got "
                       f"{text!r}") from None
    if not edges or len(edges) > 20 or any(not 0 < e <= 1e13 for e in edges) \
            or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise AppError("params.band_edges must be 1-20 ascending positive CNY amounts "
                       f"(at most 10^13), got {text!r}")
    return edges


def band_labels(params: dict[str, Any]) -> list[str]:
    e = [f"{x:,.0f}" for x in band_edges(params)]
    return [f"< {e[0]}", *(f"{a} - {b}" for a, b in zip(e, e[1:], strict=False)),
            f">= {e[-1]}"]


def pattern_labels(companies: list[str]) -> list[str]:
    return ["+".join(c for b, c in enumerate(companies) if p >> b & 1)
            for p in range(1, 2**len(companies))]


def profiles_of(plan: Plan, params: dict[str, Any], table: CustomerTable, ident: np.ndarray,
                prof: np.ndarray) -> dict[str, dict[str, Any]]:
    """record id -> profile, for this company's records whose client consented here."""
    m, j = len(plan.companies), plan.categories
    labels = band_labels(params)
    out = {}
    for rid, i in zip(table.ids, ident.tolist(), strict=True):
        row = prof[i]
        if not row[:m].any():
            continue
        out[rid] = {"companies": [c for c, b in zip(plan.companies, row[:m], strict=True) if b],
                    "categories": [c for c, b in zip(params["categories"], row[m:m + j],
                                                     strict=True) if b],
                    "band": labels[int(row[m + j])]}
    return out


def company_report(me: str, plan: Plan, params: dict[str, Any], table: CustomerTable,
                   ident: np.ndarray, count: int, prof: np.ndarray | None) -> Report:
    profiles = profiles_of(plan, params, table, ident, prof) if prof is not None else {}
    rep = Report(f"Unified customer view for {me}")
    rep.summary += [f"{len(table.ids)} records here; {count} group identities across "
                    f"{len(plan.companies)} companies",
                    f"{len(profiles)} records have a group profile (client consented here); "
                    f"{len(table.ids) - len(profiles)} have none (no consent here)",
                    "a profile shows only companies where the client consented, and the "
                    "categories and asset band there"]
    by_rm: dict[str, list[list[Any]]] = {}
    for k, rid in enumerate(table.ids):
        p = profiles.get(rid)
        if p is not None:
            by_rm.setdefault(table.rm[k], []).append(
                [rid, table.records[k]["name"], ";".join(p["companies"]),
                 ";".join(p["categories"]), p["band"]])
    cols = ["record_id", "name", "served_by", "product_categories", "asset_band"]
    rep.table("profiles", ["relationship_manager", *cols],
              [[rm, *r] for rm in sorted(by_rm) for r in by_rm[rm]])
    for rm in sorted(by_rm):
        rep.table(f"rm {rm}", cols, by_rm[rm])
    rep.data = {"profiles": profiles}
    return rep


def _statistics(rep: Report, plan: Plan, params: dict[str, Any],
                stats: dict[str, np.ndarray]) -> None:
    k = plan.min_cohort
    cell = lambda v: f"< {k}" if v < 0 else int(v)  # noqa: E731
    rep.summary.append(f"group statistics over every client; counts below {k} suppressed "
                       "(and one more where a lone suppressed cell could be derived)")
    for name, title, labels in (
            ("patterns", "companies", pattern_labels(plan.companies)),
            ("bands", "asset_band", band_labels(params)),
            ("categories", "product_category", list(params["categories"])),
            ("consent", "consenting_at", plan.companies)):
        rep.table(f"stats {name}", [title, "clients"],
                  [[lab, cell(v)] for lab, v in zip(labels, stats[name].tolist(), strict=True)])
    rep.data["statistics"] = {n: v.tolist() for n, v in stats.items()}


def _resolution(rep: Report, companies: list[str], res: Any, merged: Any) -> None:
    rep.summary += [f"{sum(len(g) for g in res.groups)} records at {len(companies)} companies: "
                    f"{res.count} linkage groups, {merged.count} group identities",
                    f"{merged.gcn_identities} identities carry a group customer number; "
                    f"{merged.gcn_joins} of them join records linkage kept apart; "
                    f"{merged.conflicts} linkage groups split by differing numbers"]
    rep.table("resolution", ["company", "records"],
              [[c, len(g)] for c, g in zip(companies, res.groups, strict=True)]
              + [["group identities", merged.count]])
    rep.data = {"identities": merged.count, "linkage_groups": res.count,
                "conflicts": merged.conflicts}


APP = CustomerView()
