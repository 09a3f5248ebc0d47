"""Parsing an app's input columns with errors that name the row (never the value: a failed
run's reason reaches the other companies). Shared by the apps that read amounts and codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from yinji.apps.base import AppError


def amount(value: object, row: int, name: str, signed: bool, limit: float) -> int:
    """One amount in units -> integer cents (fen); empty or NaN is 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AppError(f"row {row}: {name} is not a number") from None
    if v != v:
        return 0
    if not abs(v) <= limit or (v < 0 and not signed):
        raise AppError(f"row {row}: {name} must be a {'' if signed else 'non-negative '}"
                       f"amount of at most {limit:.0e}")
    return round(v * 100)


def amounts(column: Any, name: str, signed: bool, limit: float) -> np.ndarray:
    """A column of amounts -> int64 cents, vectorised where the column is numeric; the first
    bad row is named."""
    try:
        v = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([amount(x, r + 1, name, signed, limit) for r, x in enumerate(column)],
                        np.int64)
    v = np.where(np.isnan(v), 0.0, v)
    bad = np.flatnonzero(~(np.abs(v) <= limit) | ((v < 0) & (not signed)))
    if bad.size:
        amount(column[bad[0]], int(bad[0]) + 1, name, signed, limit)  # raises, naming the row
    return np.rint(v * 100).astype(np.int64)


def texts(column: Any) -> np.ndarray:
    """Cells as text ('' for None or NaN)."""
    return np.array(["" if v is None or (isinstance(v, float) and v != v) else str(v)
                     for v in column], dtype=str)


def per_value(column: Any, parse: Callable[[str, int], int]) -> np.ndarray:
    """parse(value, row) for each distinct value once (dates and currencies repeat); int64."""
    t = texts(column)
    if not len(t):
        return np.zeros(0, np.int64)
    uniq, first, inverse = np.unique(t, return_index=True, return_inverse=True)
    return np.array([parse(str(u), int(i) + 1) for u, i in zip(uniq, first, strict=True)],
                    np.int64)[inverse]
