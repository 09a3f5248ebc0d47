"""The `product-heatmap` app: a cross-company product-holding heat map for one recipient,
installed through the `yinji.apps` entry point (no edit of Yinji's source).

Each company supplies rows (id_no, product_line); for each pair of product lines, at any
companies (e.g. "securities: margin" x "fund: bond funds"), the recipient learns how many
distinct clients of the group hold both, cells below `min_cohort` suppressed. The diagonal
is the number of distinct clients holding each line. Pipeline, adversary model and exactly
what each party learns: `yinji_heatmap.protocol` (semi-honest, honest majority among the
three compute parties, the group ledger's non-collusion assumption for its lookup party).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role

from yinji_heatmap.protocol import HeatmapError, joint_heatmap, plaintext, suppress

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

TOP_PAIRS = 20


class ProductHeatmap(App):
    name = "product-heatmap"
    version = "1"
    title = "Cross-company product-holding heat map"
    summary = ("For each pair of product lines across the companies, how many distinct "
               "clients of the group hold both; small cells suppressed; one recipient.")
    roles = (Role("holdings", (
        Column("id_no", "id", "client ID number"),
        Column("product_line", "text", "the product line the client holds here"),
    ), help="one row per client and product line held (duplicates are counted once)"),)
    params = (Param("min_cohort", "int", 5, 1, 1000,
                    help="cells with fewer clients are shown as suppressed"),)

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        if len(spec.get("inputs") or {}) < 3:
            problems.append("product-heatmap needs at least three companies with holdings")
        if len(spec.get("recipients") or []) != 1:
            problems.append("product-heatmap delivers to exactly one recipient")
        return problems

    def run(self, ctx: RunContext) -> Report | None:
        params = ctx.spec["params"]
        cols = inputs_by_role(ctx, self)
        rows = None if cols is None else (list(cols["id_no"]), list(cols["product_line"]))
        try:
            got = joint_heatmap(ctx.party, sorted(ctx.spec["inputs"]), params["compute"],
                                ctx.spec["recipients"][0], rows,
                                min_cohort=int(params["min_cohort"]), progress=ctx.progress)
        except HeatmapError as exc:
            raise AppError(str(exc)) from None
        if got is None:
            return None
        return heatmap_report(*got, min_cohort=int(params["min_cohort"]))

    def render(self, report: dict[str, Any], directory: Path) -> list[Path]:
        """The standard files (CSV, .xlsx, report.html) plus heatmap.html: the matrix as a
        coloured grid (the Report API draws bar and line charts only)."""
        from yinji_heatmap.render import render_with_heatmap

        return render_with_heatmap(report, directory)

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        """Generated holdings for every company; the recipient is securities (else the first
        company); checked against the plaintext twin."""
        from yinji_heatmap.sample import read_rows, write_sample_data

        companies = sorted(data)
        if len(companies) < 3:
            return None
        paths = write_sample_data(data, clients=300, seed=seed, name="heatmap_holdings.csv")
        recipient = "securities" if "securities" in companies else companies[0]
        schema = {"id_no": "string", "product_line": "string"}
        datasets = {c: [{"id": "heatmap-holdings", "kind": "csv",
                         "location": "data/heatmap_holdings.csv",
                         "schema": schema,
                         "policy": [{"columns": list(schema), "protocols": [self.protocol]}]}]
                    for c in companies}
        request = {"params": {"min_cohort": 5}, "recipients": [recipient],
                   "inputs": {c: {"dataset": "heatmap-holdings"} for c in companies}}

        def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
            rows = {c: read_rows(p) for c, p in paths.items()}
            axis, m = plaintext({c: (r["id_no"], r["product_line"]) for c, r in rows.items()})
            want = suppress(m, 5).tolist()
            got = ((reports.get(recipient) or {}).get("data") or {})
            return [] if got.get("labels") == axis and got.get("matrix") == want \
                else ["the heat map differs from the plaintext"]

        return DemoRun(recipient, datasets, request, check)


def heatmap_report(axis: list[str], cells: np.ndarray, min_cohort: int) -> Report:
    """What the recipient receives: the matrix (table and data), the largest pairs as a bar
    chart, and the pairs as a long table."""
    n = len(axis)
    matrix = [[None if v is None else int(v) for v in row] for row in cells.tolist()]
    report = Report("Product-holding heat map")
    report.table("heatmap", ["product line", *axis],
                 [[axis[i], *matrix[i]] for i in range(n)])
    pairs = [[f"{axis[i]} x {axis[j]}", axis[i], axis[j], matrix[i][j]]
             for i in range(n) for j in range(i + 1, n)]
    pairs.sort(key=lambda r: (r[3] is None, -(r[3] or 0), r[0]))
    report.table("pairs", ["pair", "product line A", "product line B", "clients"], pairs)
    top = [r for r in pairs if r[3] is not None][:TOP_PAIRS]
    report.table("top_pairs", ["pair", "clients"], [[r[0], r[3]] for r in top])
    report.charts.append({"kind": "bar", "title": f"Largest {len(top)} cross-holdings",
                          "table": "top_pairs", "x": "pair", "y": ["clients"]})
    hidden = sum(v is None for row in matrix for v in row)
    report.summary.append(f"{n} product lines; each cell counts the distinct clients of the "
                          "group holding both lines (the diagonal: holding the line).")
    report.summary.append(f"{hidden} of {n * n} cells below {min_cohort} clients are "
                          "suppressed (shown empty).")
    report.data.update({"labels": axis, "matrix": matrix, "min_cohort": min_cohort})
    return report


APP = ProductHeatmap()
__all__ = ["APP", "ProductHeatmap", "heatmap_report"]
