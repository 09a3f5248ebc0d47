"""The consolidated report (a `Report`) in its fixed layout, from the opened figure vector.

Sheets, in order (SHEETS; a sheet is a table, the .xlsx also has "Summary" first):
Summary (the summary lines); By segment, By product line, By region (the category, then
VALUE_COLUMNS); Cells (segment, product_line, region, then VALUE_COLUMNS); Overlap (companies,
number_of_companies, clients, suppressed: one row per non-empty set of companies, by size);
Overlap totals (figure, clients, suppressed). A suppressed figure is an empty cell and its row
says suppressed = yes.
"""

from __future__ import annotations

from typing import Any

from yinji.apps.base import Report
from yinji.apps.consolidated_tables import (
    UNIT,
    Layout,
    figure_slices,
    subset_label,
    subsets,
    venn_margins,
)

SUPPRESSED = "suppressed"
SHEETS = ("Summary", "By segment", "By product line", "By region", "Cells", "Overlap",
          "Overlap totals")
VALUE_COLUMNS = ["clients", "holdings_cny", "revenue_cny", "suppressed"]


def build_report(title: str, params: dict[str, Any], companies: list[str], layout: Layout,
                 full: list[int | None]) -> Report:
    """The report from the figure vector (None: suppressed) in the fixed layout (SHEETS):
    Summary (the summary lines); By segment, By product line, By region (the category, then
    VALUE_COLUMNS); Cells (segment, product_line, region, then VALUE_COLUMNS); Overlap
    (companies, number_of_companies, clients, suppressed: one row per non-empty set of
    companies, by size); Overlap totals (figure, clients, suppressed). A suppressed figure is
    an empty cell and its row says suppressed = yes."""
    n = len(companies)
    w = figure_slices(layout, n)

    def part(key: str) -> list[int | None]:
        return full[w[key]]

    def money(v: int | None) -> float | None:
        return None if v is None else round(v / UNIT, 2)

    def flag(*vs: Any) -> str:
        return "yes" if any(v is None for v in vs) else ""

    rep_ = Report(f"{title}: {params['report_date']}")
    mc, mh, mr = part("margin_counts"), part("margin_holdings"), part("margin_revenue")
    margins = layout.margins()
    for table, head in (("By segment", "segment"), ("By product line", "product_line"),
                        ("By region", "region")):
        rows = [[label, mc[i], money(mh[i]), money(mr[i]), flag(mc[i], mh[i], mr[i])]
                for i, (t, label, _) in enumerate(margins) if t == table]
        rep_.table(table, [head, *VALUE_COLUMNS], rows)
    cc, ch, cr = part("cell_counts"), part("cell_holdings"), part("cell_revenue")
    rep_.table("Cells", ["segment", "product_line", "region", *VALUE_COLUMNS],
               [[a, b, c, cc[i], money(ch[i]), money(cr[i]), flag(cc[i], ch[i], cr[i])]
                for i, (a, b, c) in enumerate(layout.labels())])
    venn, vm = part("venn"), part("venn_margins")
    rep_.table("Overlap", ["companies", "number_of_companies", "clients", "suppressed"],
               [[subset_label(code, companies), bin(code).count("1"), venn[i], flag(venn[i])]
                for i, code in enumerate(subsets(n))])
    rep_.table("Overlap totals", ["figure", "clients", "suppressed"],
               [[label, vm[i], flag(vm[i])]
                for i, (label, _) in enumerate(venn_margins(companies))])
    grand = len(margins) - 1
    distinct = vm[-1]

    def shown(v: Any) -> str:
        return SUPPRESSED if v is None else f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"
    rates = ", ".join(f"{c} {v:.4f}" for c, v in params["rates"].items())
    hidden = sum(v is None for v in full)
    rep_.summary += [
        f"Report date {params['report_date']}; companies: {', '.join(companies)}; "
        f"rates (CNY per unit): {rates}; minimum cohort {params['min_cohort']} clients.",
        f"Distinct customers across the group: {shown(distinct)}.",
        f"Group holdings {shown(money(mh[grand]))} CNY, revenue {shown(money(mr[grand]))} CNY.",
        f"{hidden} of {len(full)} figures suppressed (fewer than {params['min_cohort']} "
        "clients, or derivable from the published totals).",
    ]
    rep_.charts += [
        {"kind": "bar", "title": "Holdings by segment (CNY)", "table": "By segment",
         "x": "segment", "y": ["holdings_cny"]},
        {"kind": "bar", "title": "Revenue by product line (CNY)", "table": "By product line",
         "x": "product_line", "y": ["revenue_cny"]},
        {"kind": "bar", "title": "Clients by region", "table": "By region", "x": "region",
         "y": ["clients"]},
        {"kind": "bar", "title": "Shared customers: clients per exact set of companies",
         "table": "Overlap", "x": "companies", "y": ["clients"]},
    ]
    rep_.data = {"figures": full, "companies": companies, "distinct_clients": distinct}
    return rep_
