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


def _in_rowspace(rows: np.ndarray, v: np.ndarray) -> bool:
    if not v.any():
        return False
    if not len(rows):
        return False
    r = np.linalg.matrix_rank(rows)
    return int(np.linalg.matrix_rank(np.vstack([rows, v]))) == int(r)


def audit(cell_hidden: np.ndarray, margin_vecs: list[np.ndarray],
          margin_hidden: np.ndarray) -> np.ndarray:
    """Secondary suppression (module docstring): the final hidden flags of the margins, given
    the primary flags of the cells and margins."""
    hidden = np.asarray(margin_hidden, bool).copy()
    cols = np.flatnonzero(np.asarray(cell_hidden, bool))
    if not cols.size:
        return hidden
    mats = np.array([m[cols] for m in margin_vecs], np.float64).reshape(len(margin_vecs), -1)
    secrets_ = [np.eye(len(cols))[j] for j in range(len(cols))]
    secrets_ += [mats[i] for i in np.flatnonzero(hidden)]
    while True:
        shown = np.flatnonzero(~hidden)
        rows = mats[shown]
        leak = next((v for v in secrets_ if _in_rowspace(rows, v)), None)
        if leak is None:
            return hidden
        touching = [i for i in shown if (mats[i] * leak).any()] or list(shown)
        pick = min(touching, key=lambda i: (int(mats[i].sum()), i))
        hidden[pick] = True
        secrets_.append(mats[pick])
