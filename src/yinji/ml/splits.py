"""XGBoost's split search on cumulative (g, h) histograms, shared by the boosting methods
(vertical SecureBoost, horizontal FedBoost): whoever holds a histogram in the clear scores it
the same way; and the out-of-time split of rows by a date column (`split_by_date`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np


def best_split(gl: np.ndarray, hl: np.ndarray, g: float, h: float, reg_lambda: float,
               min_child_weight: float) -> tuple[int, int, float]:
    """(feature, bin, gain) of the best split "x <= bin edge" over cumulative left sums gl,
    hl (features x bins) of a node with totals g, h; gain is -inf when no split leaves
    `min_child_weight` of hessian on both sides."""
    gr, hr = g - gl, h - hl
    gain = gl**2 / (hl + reg_lambda) + gr**2 / (hr + reg_lambda) - g**2 / (h + reg_lambda)
    gain = np.where((hl >= min_child_weight) & (hr >= min_child_weight), gain, -np.inf)
    j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    return int(j), int(b), float(gain[j, b])


# -------------------------------------------------------------------------- out-of-time split
_DATE = re.compile(r"^(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?.*)?$")


def _day(value: object) -> np.datetime64:
    """One date as datetime64[D]: a date/datetime/datetime64, or text as 2024-01-31,
    2024/1/31, 2024.01.31, 20240131 or an ISO date-time (the time is dropped)."""
    if isinstance(value, np.datetime64 | dt.date):
        if isinstance(value, np.datetime64) and np.isnat(value):
            raise ValueError("empty date")
        return np.datetime64(value, "D")
    text = str(value).strip()
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)")
    try:
        return np.datetime64(dt.date(int(m[1]), int(m[2]), int(m[3])), "D")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date ({exc})") from None


def parse_dates(dates: Sequence[object] | np.ndarray) -> np.ndarray:
    """A date column as datetime64[D]; the error names the first unparseable row."""
    arr = np.asarray(dates)
    if np.issubdtype(arr.dtype, np.datetime64):
        bad = np.flatnonzero(np.isnat(arr))
        if len(bad):
            raise ValueError(f"date column row {int(bad[0]) + 1}: empty date")
        return arr.astype("datetime64[D]")
    if arr.dtype.kind in "iuf":   # numbers as YYYYMMDD (a spreadsheet's date column)
        whole = np.isfinite(arr) & (arr == np.round(arr)) if arr.dtype.kind == "f" else None
        if whole is not None and not whole.all():
            row = int(np.flatnonzero(~whole)[0])
            raise ValueError(f"date column row {row + 1}: {float(arr[row])!r} is not a date "
                             "(use YYYY-MM-DD or YYYYMMDD)")
        arr = arr.astype(np.int64)
    values, inverse = np.unique(arr.astype(object).astype(str), return_inverse=True)
    parsed = np.empty(len(values), dtype="datetime64[D]")
    for k, v in enumerate(values):
        try:
            parsed[k] = _day(v)
        except ValueError as exc:
            row = int(np.flatnonzero(inverse.ravel() == k)[0])
            raise ValueError(f"date column row {row + 1}: {exc}") from None
    return parsed[inverse.ravel()]


def split_by_date(dates: Sequence[object] | np.ndarray, cutoff: object
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-time validation: (train, test) boolean masks, train = rows dated before
    `cutoff`, test = rows on or after it. Errors name an unparseable row, and a cutoff that
    leaves one side empty (no out-of-time check is possible then)."""
    days = parse_dates(dates)
    try:
        cut = _day(cutoff)
    except ValueError as exc:
        raise ValueError(f"cutoff: {exc}") from None
    test = days >= cut
    if len(days) and (test.all() or not test.any()):
        side = "on or after" if test.all() else "before"
        raise ValueError(f"every one of the {len(days)} rows is dated {side} the cutoff "
                         f"{cut} (dates {days.min()} .. {days.max()}): one side would be empty")
    return ~test, test
