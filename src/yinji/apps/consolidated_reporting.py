"""Group consolidated reporting (集团并表报送): holdings and revenue by segment, product line
and region across the group's companies (offshore figures converted at the approved HKD/USD
rates), distinct customers and the Venn of shared customers, small cells suppressed; the
report (.xlsx in a fixed layout, HTML with charts, CSVs) to the group reporting node only.

Each company supplies its book: rows (id_no, product_line, segment, region, holdings, revenue,
currency); a client may have several rows. The recipient R (the group reporting node) holds
no rows.

Pipeline (this node's side in `run`):
1. Each company, locally: its distinct clients (normalised ID numbers), per client a payload of
   0/1 columns -- which company (one-hot) and presence in every cell (segment x product line x
   region) and every margin -- and its per-cell totals of holdings and revenue per currency
   (integer cents).
2. yinji.psi.overlap.hidden_groups: the clients' payloads grouped by client across companies
   with R as the lookup party (it sees only shuffled pseudonymous tags).
3. In MPC (the three compute parties; other companies are input parties): per client the OR of
   each presence column over its companies (1 - prod(1 - p)) and the one-hot of its exact set
   of companies; summed: distinct clients per cell and margin, the Venn counts (clients whose
   set of companies is exactly S). The per-cell value totals are summed over companies and
   converted at the approved rates (4 decimals; linear, local); margins are sums of cells.
4. Primary suppression: every count is compared with `min_cohort` in MPC; the flags (not the
   counts) are opened to the compute parties, which run the public secondary-suppression audit
   (yinji.apps.consolidated_tables: no suppressed figure is a linear combination of the
   published ones). A cell with fewer than `min_cohort` distinct clients is published as
   "suppressed": its count, holdings and revenue are never opened.
5. The published figures are opened to R only; R renders the report.

Adversary model: semi-honest; the three compute parties form an honest majority; R colludes
with no company (yinji.psi.overlap).

What each party learns:
- R: the published figures and which figures are suppressed; from step 2 the class-size
  histogram with noise: per m the number of clients at exactly m companies plus the sum of
  three independent uniform draws from 0..`noise` (one per compute party; R knows none), and
  the total number of rows pooled (distinct clients per company summed, plus dummies).
- Compute parties: each company's number of distinct clients; the same noisy class-size
  histogram (each knows one of the three noise draws); the primary suppression flags (which
  cells, margins and Venn cells have fewer than `min_cohort` clients). Nothing else: every
  value and count stays secret-shared.
- The other companies (input parties): nothing.
No company's rows, clients or figures leave its node except as protocol messages (OPRF
blinded points and secret shares).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role
from yinji.apps.columns import amounts, per_value
from yinji.apps.consolidated_report import build_report
from yinji.apps.consolidated_tables import (
    RATE_SCALE,
    Layout,
    count_slices,
    figure_slices,
    shown_mask,
    subsets,
    venn_margins,
)
from yinji.ids import normalize
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.net.expect import recv_array
from yinji.psi.overlap import Grouped, hidden_groups

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

CURRENCIES = ("CNY", "HKD", "USD")
MAX_RATE = 20.0
MAX_AMOUNT = 1e12            # per row, in the row's currency
MAX_TOTAL = 9e12             # every published figure stays below this (CNY): 9e12 * UNIT < 2^63
MAX_CELLS = 1000
SEGMENTS = ("retail", "affluent", "private", "institutional")
PRODUCTS = ("equities", "funds", "futures", "bonds", "wealth")
REGIONS = ("north", "east", "south", "west", "hk")
VALUE_FIELDS = ("holdings", "revenue")


# ------------------------------------------------------------------ one company's book


def _categories(column: Any, names: tuple[str, ...], what: str) -> np.ndarray:
    texts = np.array(["" if v is None else str(v).strip().lower() for v in column], dtype=str)
    index = {n.lower(): i for i, n in enumerate(names)}
    uniq, inverse = np.unique(texts, return_inverse=True)
    codes = np.array([index.get(u, -1) for u in uniq], np.int64)[inverse] if len(texts) \
        else np.zeros(0, np.int64)
    bad = np.flatnonzero(codes < 0)
    if bad.size:  # the value is not echoed: a failed run's reason reaches the other companies
        raise AppError(f"row {bad[0] + 1}: {what} is not one of the approved categories")
    return codes


def _currency(value: str, row: int) -> int:
    c = value.strip().upper()
    names = {"": 0, "RMB": 0, **{c: i for i, c in enumerate(CURRENCIES)}}
    if c not in names:
        raise AppError(f"row {row}: currency must be one of {', '.join(CURRENCIES)}")
    return names[c]


def book(cols: dict[str, Any], layout: Layout, rates: dict[str, float], companies: int
         ) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """One company's input: its distinct clients' keys, their 0/1 presence per cell and
    margin ((clients, presence_columns) int64), and the per-cell totals ((cells, 2, 3) int64
    cents: holdings, revenue; per currency)."""
    ids = list(cols["id_no"])
    n = len(ids)
    uniq_raw, inv_raw = np.unique(np.array(["" if v is None else str(v) for v in ids], str),
                                  return_inverse=True)
    norm = [normalize(v, kind="id") for v in uniq_raw]
    empty = [i for i, v in enumerate(norm) if not v]
    if empty:
        row = int(np.flatnonzero(inv_raw == empty[0])[0]) + 1
        raise AppError(f"row {row}: id_no is empty")
    keys_all = np.array(norm, dtype=object)[inv_raw] if n else np.zeros(0, object)
    keys, client = np.unique(keys_all.astype(str), return_inverse=True)
    s = _categories(cols["segment"], layout.segments, "segment")
    p = _categories(cols["product_line"], layout.products, "product_line")
    r = _categories(cols["region"], layout.regions, "region")
    cell = layout.cell(s, p, r)
    hold = amounts(cols["holdings"], "holdings", False, MAX_AMOUNT)
    rev = amounts(cols["revenue"], "revenue", True, MAX_AMOUNT)
    cur = per_value(cols["currency"], _currency) if "currency" in cols else \
        np.zeros(n, np.int64)
    scale = np.array([1.0] + [max(rates[c], 1.0) for c in CURRENCIES[1:]])[cur]
    for what, v in (("holdings", hold), ("revenue", rev)):
        if float(np.sum(np.abs(v) / 100 * scale)) > MAX_TOTAL / max(companies, 1):
            raise AppError(f"{what}: the book's total is over {MAX_TOTAL / companies:.1e} CNY, "
                           "the bound per company")
    presence = np.zeros((len(keys), layout.cells), np.int64)
    presence[client, cell] = 1
    marg = np.array([m for _, _, m in layout.margins()], np.int64)
    in_margin = (presence @ marg.T > 0).astype(np.int64)
    values = np.zeros((layout.cells, 2, len(CURRENCIES)), np.int64)
    np.add.at(values, (cell, 0, cur), hold)
    np.add.at(values, (cell, 1, cur), rev)
    return [k.encode("utf-8") for k in keys], np.concatenate([presence, in_margin], 1), values


# -------------------------------------------------------------------- MPC on the groups


def _any(s: Session, p: rep.Shares) -> rep.Shares:
    """OR over axis 1 of 0/1 shares: 1 - prod(1 - p); log2(slots) rounds."""
    q = cmp.one_minus(s, p)
    while q[0].shape[1] > 1:
        if q[0].shape[1] % 2:
            one = rep.public(s, np.ones(q[0][:, :1].shape, np.uint64))
            q = (np.concatenate([q[0], one[0]], 1), np.concatenate([q[1], one[1]], 1))
        h = q[0].shape[1] // 2
        q = rep.mul(s, (q[0][:, :h], q[1][:, :h]), (q[0][:, h:], q[1][:, h:]))
    return cmp.one_minus(s, (q[0][:, 0], q[1][:, 0]))


def _onehot(s: Session, bits: rep.Shares) -> rep.Shares:
    """(C, n) 0/1 shares -> (C, 2^n) one-hot of the code sum_j bit_j 2^j; n - 1 rounds."""
    v = cmp.one_minus(s, (bits[0][:, :1], bits[1][:, :1]))
    v = (np.concatenate([v[0], bits[0][:, :1]], 1), np.concatenate([v[1], bits[1][:, :1]], 1))
    for j in range(1, bits[0].shape[1]):
        b = (np.repeat(bits[0][:, j:j + 1], v[0].shape[1], 1),
             np.repeat(bits[1][:, j:j + 1], v[1].shape[1], 1))
        t = rep.mul(s, v, b)
        v = (np.concatenate([v[0] - t[0], t[0]], 1), np.concatenate([v[1] - t[1], t[1]], 1))
    return v


def figures(s: Session, g: Grouped, values: rep.Shares, layout: Layout, n: int,
            rates: dict[str, float]) -> tuple[rep.Shares, dict[str, slice]]:
    """All figures of the report as one shared int vector, and where each part is: counts
    of cells and margins, holdings and revenue (ring units, UNIT per CNY) of cells and
    margins, the Venn cells (in `subsets(n)` order) and the Venn margins."""
    per = (g.shares[0].sum(axis=1, dtype=np.uint64), g.shares[1].sum(axis=1, dtype=np.uint64))
    member = (per[0][:, :n], per[1][:, :n])
    pres = g.shares[0][:, :, n:], g.shares[1][:, :, n:]
    c, slots, k = pres[0].shape
    flat = (pres[0].transpose(0, 2, 1).reshape(c * k, slots),
            pres[1].transpose(0, 2, 1).reshape(c * k, slots))
    seen = _any(s, flat)
    counts = (seen[0].reshape(c, k).sum(0, dtype=np.uint64),
              seen[1].reshape(c, k).sum(0, dtype=np.uint64))
    onehot = _onehot(s, member)
    codes = subsets(n)
    venn = (onehot[0].sum(0, dtype=np.uint64)[codes], onehot[1].sum(0, dtype=np.uint64)[codes])
    vm = np.array([v for _, v in venn_margins([str(i) for i in range(n)])], np.int64)
    vmarg = tuple((vm.astype(np.uint64) @ x) for x in venn)
    r = np.array([RATE_SCALE] + [round(rates[cur] * RATE_SCALE) for cur in CURRENCIES[1:]],
                 np.int64).astype(np.uint64)
    conv = tuple((x * r).sum(-1, dtype=np.uint64) for x in values)      # (cells, 2)
    marg = np.array([m for _, _, m in layout.margins()], np.int64).astype(np.uint64)
    mvals = tuple(marg @ x for x in conv)                               # (margins, 2)
    cells = layout.cells
    parts = {"cell_counts": [x[:cells] for x in counts],
             "margin_counts": [x[cells:] for x in counts],
             "cell_holdings": [x[:, 0] for x in conv], "cell_revenue": [x[:, 1] for x in conv],
             "margin_holdings": [x[:, 0] for x in mvals],
             "margin_revenue": [x[:, 1] for x in mvals],
             "venn": list(venn), "venn_margins": list(vmarg)}
    where = figure_slices(layout, n)
    order = [(k, parts[k]) for k in where]
    vec = (np.concatenate([x[0] for _, x in order]), np.concatenate([x[1] for _, x in order]))
    return vec, where


# ----------------------------------------------------------------------------- the app


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise AppError(f"parameter 'report_date' must be a date YYYY-MM-DD, got {value!r}") \
            from None


class ConsolidatedReporting(App):
    name = "consolidated-reporting"
    version = "1"
    title = "Group consolidated reporting (集团并表报送)"
    summary = ("Holdings and revenue by segment, product line and region across the group, "
               "offshore figures converted at the approved rates; distinct customers and the "
               "shared-customer Venn; small cells suppressed; to the group reporting node only.")
    roles = (Role("book", (
        Column("id_no", "id", "ID number (证件号码)"),
        Column("product_line", "text", "one of the approved product lines"),
        Column("segment", "text", "one of the approved segments"),
        Column("region", "text", "one of the approved regions"),
        Column("holdings", "number", "holdings at the report date, in the row's currency"),
        Column("revenue", "number", "revenue in the period, in the row's currency (may be < 0)"),
        Column("currency", "text", "CNY, HKD or USD (empty: CNY)"),
    ), help="every company's book: one row per client and product line", optional=("currency",)),)
    params = (
        Param("recipient", "str", required=True,
              help="the group reporting node: holds no rows, sees pseudonyms, gets the report"),
        Param("report_date", "str", None, help="YYYY-MM-DD (default: today, UTC)"),
        Param("rates", "rates", {"HKD": 0.91, "USD": 7.1},
              help="CNY per unit at the report date, 4 decimals, fixed at approval"),
        Param("min_cohort", "int", 10, 3, 10_000,
              help="a figure of fewer distinct clients is suppressed"),
        Param("segments", "names", list(SEGMENTS)),
        Param("product_lines", "names", list(PRODUCTS)),
        Param("regions", "names", list(REGIONS)),
        Param("input_only", "names", ["offshore"],
              help="companies that only input (never compute) unless `compute` names them"),
        Param("noise", "int", 20, 0, 1000,
              help="dummy classes per size per compute party (hides the overlap histogram "
                   "from the lookup and compute parties)"),
    )

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        out = super().resolve_params(given)
        out["report_date"] = _date(out.get("report_date") or
                                   dt.datetime.now(dt.UTC).date().isoformat()).isoformat()
        rates = out["rates"]
        if set(rates) != set(CURRENCIES[1:]):
            raise AppError(f"parameter 'rates' must give exactly {', '.join(CURRENCIES[1:])}")
        if any(not 0 < v <= MAX_RATE for v in rates.values()):
            raise AppError(f"parameter 'rates': each rate must be in (0, {MAX_RATE:g}]")
        out["rates"] = {c: round(float(rates[c]), 4) for c in CURRENCIES[1:]}
        for key in ("segments", "product_lines", "regions"):
            names = [str(v).strip() for v in out[key]]
            if not names or len(names) > 50 or len({v.lower() for v in names}) != len(names):
                raise AppError(f"parameter {key!r} must list 1..50 distinct names")
            out[key] = names
        cells = len(out["segments"]) * len(out["product_lines"]) * len(out["regions"])
        if cells > MAX_CELLS:
            raise AppError(f"segments x product lines x regions is {cells} cells, over "
                           f"{MAX_CELLS}")
        return out

    def layout(self, params: dict[str, Any]) -> Layout:
        return Layout(tuple(params["segments"]), tuple(params["product_lines"]),
                      tuple(params["regions"]))

    def default_compute(self, roles: dict[str, str], proposer: str,
                        params: dict[str, Any]) -> list[str]:
        skip = set(params.get("input_only") or [])
        order = [r for r in sorted(roles) if r not in skip] + [r for r in sorted(roles)
                                                               if r in skip]
        return order[:3]

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return [params.get("recipient") or proposer]

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        p = spec.get("params") or {}
        inputs = spec.get("inputs") or {}
        recipient = p.get("recipient")
        if len(inputs) < 3:
            problems.append(f"{self.name} needs at least 3 companies with a book (three "
                            f"compute parties), got {len(inputs)}")
        if spec.get("recipients") != [recipient]:
            problems.append("the recipient parameter must name the only recipient")
        elif recipient in inputs:
            problems.append(f"the recipient {recipient!r} supplies a book: it sees the "
                            "pseudonymous tags and must hold no rows (it would recognise its "
                            "own clients)")
        return problems

    def participants_needing_channels(self, spec: dict[str, Any]) -> list[str]:
        recipient = (spec.get("params") or {}).get("recipient")
        return sorted(set(spec.get("inputs") or {}) | ({recipient} if recipient else set()))

    # -- the run ---------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        p, me, party = ctx.spec["params"], ctx.me, ctx.party
        companies = sorted(p["roles"])
        compute, recipient = list(p["compute"]), p["recipient"]
        layout, n = self.layout(p), len(companies)
        columns = n + layout.presence_columns()
        keys = payload = values = None
        if me in companies:
            cols = inputs_by_role(ctx, self)
            if cols is None:
                raise AppError(f"{me} has no book for this run")
            keys, pres, values = book(cols, layout, p["rates"], n)
            member = np.zeros((len(keys), n), np.int64)
            member[:, companies.index(me)] = 1
            payload = np.concatenate([member, pres], 1).astype(np.uint64)
        ctx.progress(0.1, "grouping clients across companies")
        g = hidden_groups(party, companies, compute, recipient, keys, payload,
                          columns=columns, noise=int(p["noise"]))
        if me == recipient:
            return self._receive(ctx, companies, compute, layout)
        shape = (layout.cells, 2, len(CURRENCIES))
        if me not in compute:
            send_input(party, compute, values, frac_bits=0)  # type: ignore[arg-type]
            return None
        ctx.progress(0.5, "consolidating in MPC")
        s = Session(party, compute)
        total = None
        for h in companies:
            if h in compute:
                x = rep.share(s, values.view(np.uint64) if h == me else None,  # type: ignore[union-attr]
                              compute.index(h), shape)
            else:
                got = receive_input(s, h, frac_bits=0, max_elements=int(np.prod(shape)))
                if got.shape != shape:
                    raise AppError(f"{h} sent totals of shape {got.shape}, expected {shape}")
                x = got.shares
            total = x if total is None else (total[0] + x[0], total[1] + x[1])
        vec, where = figures(s, g, total, layout, n, p["rates"])  # type: ignore[arg-type]
        idx = count_slices(where)
        cnt = (vec[0][idx], vec[1][idx])
        limit = rep.public(s, np.full(len(idx), int(p["min_cohort"]), np.uint64))
        flags = np.zeros(len(vec[0]), bool)
        flags[idx] = rep.reveal(s, cmp.lt(s, cnt, limit)).astype(bool)
        shown = shown_mask(flags, where, layout, n)
        party.channel(recipient).send_array(shown.astype(np.uint8))
        sel = np.flatnonzero(shown)
        reveal_outside(SharedTensor(s, (vec[0][sel], vec[1][sel]), 0), recipient)
        ctx.progress(0.9, "report sent to the recipient")
        return None

    def _receive(self, ctx: RunContext, companies: list[str], compute: list[str],
                 layout: Layout) -> Report:
        n_figures = figure_slices(layout, len(companies))["venn_margins"].stop
        masks = [recv_array(ctx.party.channel(c), f"which of the {n_figures} figures are "
                            "published", np.uint8, (n_figures,), error=AppError) for c in compute]
        if any((m != masks[0]).any() for m in masks):
            raise AppError("the compute parties disagree on which figures are published")
        shown = masks[0].astype(bool)
        got = receive_output(ctx.party, compute, frac_bits=0)
        if got.shape != (int(shown.sum()),):
            raise AppError("the compute parties opened a different number of figures")
        full: list[int | None] = [None] * len(shown)
        for i, v in zip(np.flatnonzero(shown), got, strict=True):
            full[int(i)] = int(v)
        return build_report(self.title, ctx.spec["params"], companies, layout, full)

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        from yinji.apps.consolidated_demo import demo

        return demo(self, data, seed)


APP = ConsolidatedReporting()


def plaintext(books: dict[str, dict[str, Any]], params: dict[str, Any]) -> list[int | None]:
    """The same figure vector computed in the clear, row by row with Python sets and sums
    (tests and the demo's check); None where the figure is suppressed."""
    companies = sorted(books)
    n, layout = len(companies), APP.layout(params)
    rate = {"CNY": RATE_SCALE, "RMB": RATE_SCALE, "": RATE_SCALE,
            **{c: round(params["rates"][c] * RATE_SCALE) for c in CURRENCIES[1:]}}
    labels = {lab: i for i, lab in enumerate(layout.labels())}
    cells: dict[int, set[str]] = {}
    value = np.zeros((layout.cells, 2), object)
    where: dict[str, set[str]] = {}
    for h, cols in books.items():
        for j in range(len(cols["id_no"])):
            x = normalize(cols["id_no"][j], kind="id")
            key = tuple(str(cols[c][j]).strip().lower() for c in
                        ("segment", "product_line", "region"))
            cell = labels[next(lab for lab in labels if tuple(v.lower() for v in lab) == key)]
            cur = str(cols["currency"][j] if "currency" in cols else "").strip().upper()
            for f, field in enumerate(VALUE_FIELDS):
                v = cols[field][j]
                cents = 0 if v is None or v == "" or v != v else round(float(v) * 100)
                value[cell, f] += cents * rate[cur]
            cells.setdefault(cell, set()).add(x)
            where.setdefault(x, set()).add(h)
    margins = layout.margins()
    cell_counts = [len(cells.get(i, ())) for i in range(layout.cells)]
    margin_counts = [len(set().union(*[cells.get(i, set()) for i in np.flatnonzero(m)]))
                     for _, _, m in margins]
    mvals = [[int(sum(value[i, f] for i in np.flatnonzero(m))) for _, _, m in margins]
             for f in (0, 1)]
    code = {x: sum(1 << companies.index(h) for h in hs) for x, hs in where.items()}
    venn = [sum(1 for c in code.values() if c == s) for s in subsets(n)]
    vmarg = [int(np.dot(v, venn)) for _, v in venn_margins(companies)]
    full: list[int] = (cell_counts + margin_counts + [int(v) for v in value[:, 0]]
                       + [int(v) for v in value[:, 1]] + mvals[0] + mvals[1] + venn + vmarg)
    w = figure_slices(layout, n)
    flags = np.zeros(len(full), bool)
    idx = count_slices(w)
    flags[idx] = np.array(full, object)[idx] < int(params["min_cohort"])
    shown = shown_mask(flags, w, layout, n)
    return [v if ok else None for v, ok in zip(full, shown, strict=True)]
