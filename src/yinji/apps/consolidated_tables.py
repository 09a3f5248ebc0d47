"""The consolidated report's public structure: the cells (segment x product line x region),
their margins, the Venn of companies, and the secondary-suppression audit.

Everything here is plain NumPy on public data (category lists, which cells are below the
minimum cohort): the MPC side is in `consolidated_reporting`.

Secondary suppression (differencing). A published margin (a segment's, product line's or
region's total, the grand total; in the Venn: a company's clients, the clients at exactly m
companies, at >= 2, all distinct clients) is an exact linear function of the detail cells
(values and Venn counts add up; distinct-client counts of the value table do not, a client can
be in several cells). A suppressed figure is "revealed" if its vector, restricted to the
suppressed detail cells, lies in the row space of the published margins restricted likewise
(then margin - visible cells pins it down). Rule: while some suppressed cell or suppressed
margin is revealed, also suppress the published margin that involves it with the fewest
suppressed cells (ties: the first in the layout). This only removes margins, so it ends;
afterwards no single suppressed figure is a linear combination of published ones (sums of
several suppressed cells may be, e.g. a margin with two suppressed cells gives their sum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE_SCALE = 10_000          # rates with 4 decimals
UNIT = 100 * RATE_SCALE      # ring units per CNY (cents x rate scale)


@dataclass(frozen=True)
class Layout:
    """Cells and margins of the value table for public category lists."""

    segments: tuple[str, ...]
    products: tuple[str, ...]
    regions: tuple[str, ...]

    @property
    def cells(self) -> int:
        return len(self.segments) * len(self.products) * len(self.regions)

    def cell(self, s: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return (s * len(self.products) + p) * len(self.regions) + r

    def labels(self) -> list[tuple[str, str, str]]:
        return [(a, b, c) for a in self.segments for b in self.products for c in self.regions]

    def margins(self) -> list[tuple[str, str, np.ndarray]]:
        """(table, label, 0/1 vector over cells) for each published margin, in layout order:
        segments, product lines, regions, the grand total."""
        shape = (len(self.segments), len(self.products), len(self.regions))
        out = []
        for axis, table, names in ((0, "By segment", self.segments),
                                   (1, "By product line", self.products),
                                   (2, "By region", self.regions)):
            for i, name in enumerate(names):
                v = np.zeros(shape, np.int64)
                v[(slice(None),) * axis + (i,)] = 1
                out.append((table, name, v.ravel()))
        out.append(("Summary", "all", np.ones(self.cells, np.int64)))
        return out

    def presence_columns(self) -> int:
        """Payload columns per client: presence in every detail cell and every margin."""
        return self.cells + len(self.margins())


def subsets(n: int) -> list[int]:
    """Venn cells: non-empty subsets of n companies as bit codes, by size then code."""
    return sorted(range(1, 1 << n), key=lambda c: (bin(c).count("1"), c))


def venn_margins(companies: list[str]) -> list[tuple[str, np.ndarray]]:
    """(label, 0/1 vector over `subsets(n)`) for the Venn's derived figures."""
    n = len(companies)
    codes = subsets(n)
    size = np.array([bin(c).count("1") for c in codes])
    out = [(f"clients of {name}", np.array([(c >> i) & 1 for c in codes], np.int64))
           for i, name in enumerate(companies)]
    out += [(f"at exactly {m} companies", (size == m).astype(np.int64)) for m in range(1, n + 1)]
    out.append(("at 2 or more companies", (size >= 2).astype(np.int64)))
    out.append(("distinct clients", np.ones(len(codes), np.int64)))
    return out


def subset_label(code: int, companies: list[str]) -> str:
    return " + ".join(c for i, c in enumerate(companies) if (code >> i) & 1)


def _revealed(rows: np.ndarray, secrets_: np.ndarray) -> np.ndarray:
    """Which rows of `secrets_` (non-zero vectors) lie in the row space of `rows`: one SVD,
    then every secret's residual after projecting onto that space."""
    if not len(rows) or not len(secrets_):
        return np.zeros(len(secrets_), bool)
    _, sv, vt = np.linalg.svd(rows, full_matrices=False)
    basis = vt[sv > sv.max() * max(rows.shape) * np.finfo(float).eps] if sv.size else vt[:0]
    residual = secrets_ - (secrets_ @ basis.T) @ basis
    return np.linalg.norm(residual, axis=1) < 1e-6 * np.linalg.norm(secrets_, axis=1)


def audit(cell_hidden: np.ndarray, margin_vecs: list[np.ndarray],
          margin_hidden: np.ndarray) -> np.ndarray:
    """Secondary suppression (module docstring): the final hidden flags of the margins, given
    the primary flags of the cells and margins."""
    hidden = np.asarray(margin_hidden, bool).copy()
    cols = np.flatnonzero(np.asarray(cell_hidden, bool))
    if not cols.size:
        return hidden
    mats = np.array([m[cols] for m in margin_vecs], np.float64).reshape(len(margin_vecs), -1)
    secret = [np.eye(len(cols))] + [mats[hidden]]
    while True:
        shown = np.flatnonzero(~hidden)
        protect = np.vstack(secret)
        protect = protect[protect.any(axis=1)]
        leaks = np.flatnonzero(_revealed(mats[shown], protect))
        if not leaks.size:
            return hidden
        leak = protect[leaks[0]]
        touching = [i for i in shown if (mats[i] * leak).any()] or list(shown)
        pick = min(touching, key=lambda i: (int(mats[i].sum()), i))
        hidden[pick] = True
        secret.append(mats[pick:pick + 1])


def figure_slices(layout: Layout, n: int) -> dict[str, slice]:
    """Where each part of the report's figure vector is (see
    consolidated_reporting.figures)."""
    cells, nm = layout.cells, len(layout.margins())
    nv, nvm = (1 << n) - 1, len(venn_margins([str(i) for i in range(n)]))
    sizes = [("cell_counts", cells), ("margin_counts", nm), ("cell_holdings", cells),
             ("cell_revenue", cells), ("margin_holdings", nm), ("margin_revenue", nm),
             ("venn", nv), ("venn_margins", nvm)]
    out, at = {}, 0
    for k, size in sizes:
        out[k] = slice(at, at + size)
        at += size
    return out


def shown_mask(flags: np.ndarray, where: dict[str, slice], layout: Layout, n: int
               ) -> np.ndarray:
    """Which figures are published, from the primary flags [count < min_cohort] of the counts
    (cells, margins, Venn cells, Venn margins): primary plus secondary suppression."""
    cell_f = flags[where["cell_counts"]]
    marg_vecs = [m for _, _, m in layout.margins()]
    marg_f = audit(cell_f, marg_vecs, flags[where["margin_counts"]])
    venn_f = flags[where["venn"]]
    vm_f = audit(venn_f, [v for _, v in venn_margins([str(i) for i in range(n)])],
                 flags[where["venn_margins"]])
    hidden = np.zeros(where["venn_margins"].stop, bool)
    for key, f in (("cell_counts", cell_f), ("cell_holdings", cell_f), ("cell_revenue", cell_f),
                   ("margin_counts", marg_f), ("margin_holdings", marg_f),
                   ("margin_revenue", marg_f), ("venn", venn_f), ("venn_margins", vm_f)):
        hidden[where[key]] = f
    return ~hidden


def count_slices(where: dict[str, slice]) -> np.ndarray:
    """Positions (in the figure vector) of the counts compared with min_cohort."""
    return np.concatenate([np.arange(where[k].start, where[k].stop)
                           for k in ("cell_counts", "margin_counts", "venn", "venn_margins")])
