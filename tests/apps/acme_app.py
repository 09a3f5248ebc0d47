"""An app as an outside organisation would ship it (installed as a package in the tests via
yinji.testing.apps): group totals per segment over every company's customers, to the
proposer only."""

from yinji.apps.base import App, Column, Param, Report, Role, inputs_by_role

SEGMENTS = ["retail", "affluent", "private", "institutional"]


class AcmeTotals(App):
    name = "acme-totals"
    version = "2"
    title = "Acme group totals"
    summary = "Sum of assets per segment across the companies"
    roles = (Role("customers", (Column("segment"), Column("assets", "number"))),)
    params = (Param("scale", "float", 1.0, minimum=0.001, maximum=1000.0,
                    help="multiply every total by this"),)

    def run(self, ctx):
        from yinji.mpc import Session
        from yinji.mpc.aggregate import aggregate_input, group_aggregate, local_group_totals

        mine = inputs_by_role(ctx, self)
        sums, counts = local_group_totals(mine["segment"], mine["assets"], SEGMENTS)
        compute = ctx.spec["params"]["compute"]
        recipients = ctx.spec["recipients"]
        if ctx.me not in compute:
            out = aggregate_input(ctx.party, compute, sums, counts, ["sum"], recipients)
        else:
            others = [p for p in sorted(ctx.spec["inputs"]) if p not in compute]
            out = group_aggregate(Session(ctx.party, compute), sums, counts, ["sum"],
                                  recipients, input_parties=others)
        if out is None:
            return None
        scale = ctx.spec["params"]["scale"]
        report = Report("Acme group totals", [f"{len(ctx.spec['inputs'])} companies"])
        report.table("totals", ["segment", "assets"],
                      [[s, round(v * scale, 2)] for s, v in zip(SEGMENTS, out["sum"],
                                                                strict=True)])
        return report


APP = AcmeTotals()
