"""On-disk helpers of streamed linkage (`yinji.linkage.stream`, `mpc_stream`): rows of spill
files read in bounded windows, and work files cut into buckets.

Spill files are read through mappings of `WINDOW` rows at a time (`take_rows`) or with plain
reads (`read_rows`), so the pages mapped into a process, which count in its RSS as
file-backed pages, stay bounded by what is read, not by the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

WINDOW = 1 << 9   # rows gathered per mapping of a spill file: <= 512 x 64 KB fault-around


def to_buckets(d: Path, prefix: str, rows: np.ndarray, which: np.ndarray,
               buckets: int) -> None:
    """Append `rows` to the files prefix{k} of their buckets `which` (k < buckets)."""
    o = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[o], np.arange(buckets + 1))
    for k in range(buckets):
        if cuts[k] < cuts[k + 1]:
            with open(d / f"{prefix}{k}", "ab") as fh:
                fh.write(rows[o[cuts[k]:cuts[k + 1]]].tobytes())


def read_bucket(path: Path, dtype: np.dtype) -> np.ndarray:
    """A bucket file's rows, the file removed."""
    if not path.exists():
        return np.zeros(0, dtype)
    got = np.fromfile(path, dtype=dtype)
    path.unlink()
    return got


def read_rows(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows lo..hi of a 2-d array; of a memmap, read from its file (its pages are then not
    mapped into this process, so RSS follows the rows read, not the file)."""
    if isinstance(arr, np.memmap) and arr.filename and arr.offset == 0 \
            and arr.flags.c_contiguous:
        hi = min(hi, len(arr))
        per = arr.shape[1] if arr.ndim > 1 else 1
        out = np.fromfile(arr.filename, dtype=arr.dtype, count=max(hi - lo, 0) * per,
                          offset=lo * per * arr.dtype.itemsize)
        return out.reshape((-1, *arr.shape[1:]))
    return np.asarray(arr[lo:hi])


def take_rows(path: str, dtype: Any, n: int, width: int, rows: np.ndarray,
              out: np.ndarray | None = None) -> np.ndarray:
    """Rows `rows` of an (n, width) file, read through mappings of `WINDOW` rows' worth of
    pages at a time (in file order): the pages mapped into this process, which count in its
    RSS, stay bounded by the window instead of growing to the file. `out`: a buffer of
    (len(rows), width) to fill (reused across pieces: no allocation per piece)."""
    if out is None:
        out = np.empty((len(rows), width), dtype=dtype)
    if not len(rows):
        return out
    o = np.argsort(rows, kind="stable")
    for s in range(0, len(rows), WINDOW):
        mm = np.memmap(path, dtype=dtype, mode="r", shape=(n, width))
        out[o[s:s + WINDOW]] = mm[rows[o[s:s + WINDOW]]]
        del mm
    return out


def member(x: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """x in sorted_set, by binary search (the set is sorted once, x never)."""
    if not len(sorted_set) or not len(x):
        return np.zeros(len(x), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, x), len(sorted_set) - 1)
    return sorted_set[at] == x


__all__ = ["WINDOW", "member", "read_bucket", "read_rows", "take_rows", "to_buckets"]
