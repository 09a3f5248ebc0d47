"""A one-company app for the console and notifier tests: its report has a table and a bar chart,
and it runs on a single node (no MPC), so a run needs no peers."""

from yinji.apps.base import App, Column, Report, Role


class ChartApp(App):
    """A one-company app whose report has a table and a bar chart (the console's run page)."""

    name = "console-chart"
    version = "1"
    title = "Segment counts"
    summary = "Customers per segment, as a table and a chart"
    roles = (Role("customers", (Column("segment"),)),)

    def default_compute(self, roles, proposer, params):
        return [proposer]   # no MPC: the one company computes alone

    def validate(self, spec):
        return [p for p in super().validate(spec) if not p.startswith("params.compute")]

    def run(self, ctx):
        seg = [str(s) for s in ctx.inputs[ctx.spec["inputs"][ctx.me]["columns"][0]]]
        report = Report("Segment counts", [f"{len(seg)} customers"])
        report.table("segments", ["segment", "customers"],
                     [[s, seg.count(s)] for s in sorted(set(seg))])
        report.charts.append({"kind": "bar", "title": "Customers per segment",
                              "table": "segments", "x": "segment", "y": ["customers"]})
        return report
