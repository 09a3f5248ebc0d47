"""A SimplePIR database kept on disk and answered block by block (bounded memory).

Why: `SimplePirServer` holds D as float64 (8 bytes per entry), ~0.9 GB at 10^6 records and
far more at 10^8. `DiskPirServer` keeps D in one file, stored bucket-major (column j of D,
i.e. bucket j, is `rows` consecutive bytes), and answers a query batch by reading
`block` columns at a time: D·Q = Σ_blocks D[:, c0:c1]·Q[c0:c1] mod 2^32. Memory is one block
(as bytes and as float64) plus the hint clients download; the file stays in the page cache
when there is room for it, and is read from disk when there is not.

Same answers as `SimplePirServer` on the same D (test: tests/pir/test_build_stream.py), so
clients cannot tell which one served them. Leakage: as `lwe.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from yinji.pir.lwe import MASK, LweParams, answer_block

MATRIX_FILE = "matrix.u8"  # D, bucket-major: cols x rows bytes


def block_columns(rows: int, budget: int) -> int:
    """How many columns (buckets) make a block of about `budget` bytes as float64."""
    return max(1, min(1 << 14, budget // max(1, rows * 8)))


class DiskPirServer:
    """Answers SimplePIR batches from a bucket-major matrix file; immutable, thread-safe
    (every read uses its own offset: `os.pread`)."""

    def __init__(self, path: str | os.PathLike[str], params: LweParams, hint: np.ndarray,
                 block: int) -> None:
        self.path = Path(path)
        self.params, self.hint, self.block = params, hint, max(1, block)
        size = self.path.stat().st_size
        if size != params.rows * params.cols:
            raise ValueError(f"{self.path}: {size} bytes, expected {params.rows} x "
                             f"{params.cols}")
        if hint.shape != (params.rows, params.n) or hint.dtype != np.uint32:
            raise ValueError(f"hint must be uint32 {params.rows} x {params.n}")

    def read_block(self, start: int, stop: int) -> np.ndarray:
        """Columns start..stop of D as a (stop-start) x rows uint8 array."""
        rows = self.params.rows
        fd = os.open(self.path, os.O_RDONLY)
        try:
            want = (stop - start) * rows
            out = bytearray(want)
            view, at = memoryview(out), 0
            while at < want:
                got = os.preadv(fd, [view[at:]], start * rows + at)
                if got <= 0:
                    raise OSError(f"{self.path}: file ended early at column {start}")
                at += got
        finally:
            os.close(fd)
        return np.frombuffer(out, dtype=np.uint8).reshape(stop - start, rows)

    def matrix(self) -> np.ndarray:
        """The whole D (rows x cols uint8): for tests and small databases only."""
        return np.ascontiguousarray(self.read_block(0, self.params.cols).T)

    def answer(self, queries: np.ndarray) -> np.ndarray:
        """D · [q_1 … q_b] mod 2^32 for a (cols x b) uint32 batch; returns (rows x b) uint32."""
        p = self.params
        if queries.ndim != 2 or queries.shape[0] != p.cols:
            raise ValueError(f"queries must be {p.cols} x b, got {queries.shape}")
        out = np.zeros((p.rows, queries.shape[1]), dtype=np.uint64)
        for start in range(0, p.cols, self.block):
            stop = min(start + self.block, p.cols)
            out += answer_block(self.read_block(start, stop), queries, start)
            out &= MASK
        return out.astype(np.uint32)


__all__ = ["MATRIX_FILE", "DiskPirServer", "block_columns"]
