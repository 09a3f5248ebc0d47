"""SimplePIR: single-server PIR from LWE (Henzinger, Hong, Corrigan-Gibbs, Meiklejohn,
Vaikuntanathan, "One Server for the Price of Two", USENIX Security 2023, ePrint 2022/949).

The database is a `rows x cols` matrix D over Z_p. The server publishes a 16-byte seed from
which everyone expands the public LWE matrix A in Z_q^{cols x n} (AES-CTR, `yinji.crypto.prg`)
and a hint H = D·A (rows x n). To read column j the client sends
q = A·s + e + Δ·u_j  (s uniform in Z_q^n, fresh per query; e discrete Gaussian; Δ = q/p),
the server returns a = D·q, and the client recovers D[:, j] = round((a - H·s) / Δ) mod p.
Batched answers stack queries as columns: D·[q_1 … q_b] is one matrix product.

Parameters (the paper's §4.2 and its `params.csv`): n = 1024, q = 2^32, σ = 6.4 — chosen in
the paper for 128-bit security with the lattice estimator, for up to m = 2^21 LWE samples
(our `cols`). The paper picks the largest plaintext modulus p that keeps the decryption error
below 2^-40 for m samples: p = 991 for m ≤ 2^13, 833 (2^14), 701 (2^15), 589 (2^16),
495 (2^17), 416 (2^18), 350 (2^19), 294 (2^20). We use p = 2^8 = 256 for every width up to
2^20 columns: one byte per entry, Δ = 2^24, and (being smaller than every p in the table)
at least the paper's correctness margin. Security depends only on (n, q, σ) and the number of
samples, never on p or on the data.

Arithmetic: Z_{2^32} products are computed exactly with float64 BLAS (OpenBLAS dgemm/dgemv),
which measured 2x faster than NumPy's uint32 matmul here at batch 1 and 60x at batch 256.
Every operand is kept centred (|D| ≤ 2^7, |A|, |q| ≤ 2^31) and inner dimensions are chunked
so that every partial sum stays below 2^53, where float64 is exact; results are reduced mod
2^32 through int64.

Leakage: the server sees only q, which is pseudorandom under LWE(n, q, σ) whatever j is.
SimplePIR gives the client more than column j: it knows A and its own s and e, so the hint
H = D·A hands it n linear combinations of D's columns (per row) and every answer one more
(D·e, since a - H·s - Δ·D·u_j = D·e). After about cols - n queries a client could solve for
all of D. SimplePIR therefore protects the query, not the database; `keyword.py` makes D a
matrix of AEAD ciphertexts under OPRF-derived keys so that what leaks is ciphertext only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from yinji.crypto.prg import Prg, derive, fresh_seed

LWE_N = 1024
LOG_Q = 32
SIGMA = 6.4
PLAINTEXT_MODULUS = 256
MAX_COLS = 1 << 20  # the paper's table row m = 2^20 has p = 294 ≥ 256
DELTA = (1 << LOG_Q) // PLAINTEXT_MODULUS
MASK = np.uint64(0xFFFFFFFF)
# Exactness budget: |x| < 2^53 for every partial sum of a float64 product.
_EXACT_BITS = 52
# Gaussian tail cut: mass beyond 12σ is below 2^-100.
_TAIL = int(np.ceil(12 * SIGMA))


@dataclass(frozen=True)
class LweParams:
    """Public parameters of one database: shape, LWE dimension and the seed of A."""

    rows: int
    cols: int
    seed: bytes
    n: int = LWE_N
    sigma: float = SIGMA
    p: int = PLAINTEXT_MODULUS

    def __post_init__(self) -> None:
        if not 1 <= self.cols <= MAX_COLS:
            raise ValueError(f"cols={self.cols} outside 1..{MAX_COLS} (paper's parameter table)")
        if self.rows < 1 or self.p != PLAINTEXT_MODULUS or self.n != LWE_N:
            raise ValueError("only rows ≥ 1, p = 256, n = 1024 are supported")

    @property
    def hint_bytes(self) -> int:
        return self.rows * self.n * 4

    def to_json(self) -> dict:
        return {"rows": self.rows, "cols": self.cols, "seed": self.seed.hex(), "n": self.n,
                "sigma": self.sigma, "p": self.p}

    @classmethod
    def from_json(cls, obj: dict) -> LweParams:
        return cls(rows=int(obj["rows"]), cols=int(obj["cols"]), seed=bytes.fromhex(obj["seed"]),
                   n=int(obj["n"]), sigma=float(obj["sigma"]), p=int(obj["p"]))


def expand_a(params: LweParams) -> np.ndarray:
    """The public matrix A (cols x n, uint32) expanded from the published seed with AES-CTR."""
    words = Prg(derive(params.seed, "lwe/A")).uint64((params.cols * params.n + 1) // 2)
    return words.view(np.uint32)[: params.cols * params.n].reshape(params.cols, params.n)


def expand_a_rows(params: LweParams, start: int, stop: int) -> np.ndarray:
    """Rows start..stop of A (equal to `expand_a(params)[start:stop]`), expanded on their own
    by starting the AES-CTR stream at their offset: a worker computing one block of the hint
    needs only its block of A."""
    if not 0 <= start <= stop <= params.cols:
        raise ValueError(f"rows {start}..{stop} outside A's 0..{params.cols}")
    prg = Prg(derive(params.seed, "lwe/A"), offset=start * params.n * 4)
    count = (stop - start) * params.n
    return prg.uint64((count + 1) // 2).view(np.uint32)[:count].reshape(stop - start, params.n)


def hint_block(block: np.ndarray, params: LweParams, start: int,
               row_chunk: int = 4096) -> np.ndarray:
    """D[:, start:start+c] · A[start:start+c] mod 2^32 (rows x n, uint32) from one block of
    the database stored bucket-major (`block` is c x rows uint8: columns start.. of D as
    rows). Summing the blocks of all columns mod 2^32 gives the hint; output rows go in
    chunks of `row_chunk` so temporaries stay bounded by the block, not by the database."""
    c, rows = block.shape
    if rows != params.rows:
        raise ValueError(f"block has {rows} rows, the database {params.rows}")
    a = _centred(expand_a_rows(params, start, start + c))
    out = np.empty((rows, params.n), dtype=np.uint32)
    signed = block.view(np.int8)
    for r in range(0, rows, row_chunk):
        left = signed[:, r:r + row_chunk].T.astype(np.float64)
        out[r:r + row_chunk] = _exact_matmul(left, a, 7, 31)
    return out


def answer_block(block: np.ndarray, queries: np.ndarray, start: int) -> np.ndarray:
    """D[:, start:start+c] · Q[start:start+c] mod 2^32 (rows x b, uint64) for one
    bucket-major block (c x rows uint8) and a (cols x b) uint32 query batch."""
    c = block.shape[0]
    left = block.view(np.int8).T.astype(np.float64)
    return _exact_matmul(left, _centred(queries[start:start + c]), 7, 31)


def _centred(x: np.ndarray) -> np.ndarray:
    """uint32 -> float64 representative in [-2^31, 2^31)."""
    return x.astype(np.uint32).view(np.int32).astype(np.float64)


def _wrap(x: np.ndarray) -> np.ndarray:
    """Exact float64 integers -> uint64 residues mod 2^32."""
    return x.astype(np.int64).astype(np.uint64) & MASK


def _exact_matmul(left: np.ndarray, right: np.ndarray, left_bits: int,
                  right_bits: int) -> np.ndarray:
    """left @ right mod 2^32 (uint64), both float64 with |left| ≤ 2^left_bits etc.

    Chunks the inner dimension so that every partial sum stays exact in float64.
    """
    inner = left.shape[1]
    chunk = 1 << max(0, _EXACT_BITS - left_bits - right_bits)
    if inner <= chunk:
        return _wrap(left @ right)
    out = np.zeros((left.shape[0],) + right.shape[1:], dtype=np.uint64)
    for start in range(0, inner, chunk):
        out += _wrap(left[:, start:start + chunk] @ right[start:start + chunk])
        out &= MASK
    return out


# 11-bit limbs of a uint32 right operand: |centred uint32| · 2^11 · 2^10 (n) ≤ 2^52.
_LIMB_BITS = 11


def _mulmod_secret(left_centred: np.ndarray, secret: np.ndarray) -> np.ndarray:
    """left @ secret mod 2^32 for uint32-valued left (centred float64) and uint32 secret.

    The secret is split into 11-bit limbs stacked as extra columns: one BLAS call, exact.
    """
    s = secret.astype(np.uint64)
    limbs = [(s >> np.uint64(k)) & np.uint64((1 << _LIMB_BITS) - 1)
             for k in range(0, LOG_Q, _LIMB_BITS)]
    stacked = np.concatenate(limbs, axis=1).astype(np.float64)
    prod = _exact_matmul(left_centred, stacked, 31, _LIMB_BITS)
    b = secret.shape[1]
    out = np.zeros((left_centred.shape[0], b), dtype=np.uint64)
    for i, k in enumerate(range(0, LOG_Q, _LIMB_BITS)):
        out += prod[:, i * b:(i + 1) * b] << np.uint64(k)
    return out & MASK


def _gaussian_cdf() -> np.ndarray:
    xs = np.arange(-_TAIL, _TAIL + 1)
    w = np.exp(-(xs.astype(np.float64) ** 2) / (2 * SIGMA**2))
    cdf = np.cumsum(w / w.sum())
    return np.minimum((cdf * 2.0**53).astype(np.uint64), np.uint64(1 << 53))


_CDF = _gaussian_cdf()


def sample_error(shape: tuple[int, ...], prg: Prg) -> np.ndarray:
    """Discrete Gaussian (σ = 6.4, rounded-Gaussian CDF table, tails cut at 12σ) as int64."""
    u = prg.uint64(shape) >> np.uint64(11)  # 53 uniform bits
    return np.searchsorted(_CDF, u, side="right").astype(np.int64) - _TAIL


class SimplePirServer:
    """Holds D (as centred float64 for BLAS) and answers query batches; immutable after init."""

    def __init__(self, db: np.ndarray, params: LweParams) -> None:
        if db.dtype != np.uint8 or db.shape != (params.rows, params.cols):
            raise ValueError(f"db must be uint8 {params.rows}x{params.cols}, got "
                             f"{db.dtype} {db.shape}")
        self.params = params
        # Entries as signed bytes: the same residues mod p = 256, half the noise.
        self._db = db.view(np.int8).astype(np.float64)
        self.hint = _exact_matmul(self._db, _centred(expand_a(params)), 7, 31).astype(np.uint32)

    def answer(self, queries: np.ndarray) -> np.ndarray:
        """D · [q_1 … q_b] mod 2^32 for a (cols x b) uint32 batch; returns (rows x b) uint32."""
        if queries.ndim != 2 or queries.shape[0] != self.params.cols:
            raise ValueError(f"queries must be {self.params.cols} x b, got {queries.shape}")
        return _exact_matmul(self._db, _centred(queries), 7, 31).astype(np.uint32)


@dataclass
class QueryState:
    """The client's secret for one batch: columns asked and the LWE secrets (n x b)."""

    columns: list[int]
    secret: np.ndarray
    hint_s: np.ndarray | None = None  # H·s when precomputed offline (rows x b, uint64)


class SimplePirClient:
    """Builds queries and decodes answers from the public params and the downloaded hint."""

    def __init__(self, params: LweParams, hint: np.ndarray) -> None:
        if hint.shape != (params.rows, params.n):
            raise ValueError(f"hint must be {params.rows} x {params.n}, got {hint.shape}")
        self.params = params
        self._a = _centred(expand_a(params))
        self._hint = _centred(hint)
        self._ready: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque()

    @property
    def prepared(self) -> int:
        return len(self._ready)

    def precompute(self, count: int) -> None:
        """Offline phase (the paper's §4 remark): A·s + e and H·s do not depend on the column
        asked, so they can be computed before the query is known; `query` then only adds Δ."""
        if count <= 0:
            return
        p = self.params
        prg = Prg(fresh_seed())
        secret = prg.uint64((p.n, count)).astype(np.uint32)
        masked = (_mulmod_secret(self._a, secret)
                  + sample_error((p.cols, count), prg).astype(np.uint64)) & MASK
        hint_s = _mulmod_secret(self._hint, secret)
        self._ready.extend((secret[:, i], masked[:, i], hint_s[:, i]) for i in range(count))

    def query(self, columns: list[int]) -> tuple[QueryState, np.ndarray]:
        """One query column per requested DB column: A·s + e + Δ·u_j (cols x b, uint32)."""
        p = self.params
        if any(not 0 <= j < p.cols for j in columns):
            raise ValueError(f"column index outside 0..{p.cols - 1}")
        b = len(columns)
        hint_s = None
        if b <= len(self._ready):
            parts = [self._ready.popleft() for _ in range(b)]
            secret = np.stack([x[0] for x in parts], axis=1)
            q = np.stack([x[1] for x in parts], axis=1)
            hint_s = np.stack([x[2] for x in parts], axis=1)
        else:
            prg = Prg(fresh_seed())
            secret = prg.uint64((p.n, b)).astype(np.uint32)  # low 32 bits: uniform in Z_q
            q = _mulmod_secret(self._a, secret)
            q += sample_error((p.cols, b), prg).astype(np.uint64)
        q[columns, np.arange(b)] += np.uint64(DELTA)
        return QueryState(list(columns), secret, hint_s), (q & MASK).astype(np.uint32)

    def recover(self, state: QueryState, answer: np.ndarray) -> np.ndarray:
        """The requested columns as a (rows x b) uint8 array."""
        if answer.shape != (self.params.rows, len(state.columns)):
            raise ValueError(f"answer shape {answer.shape} does not match the query")
        hint_s = state.hint_s if state.hint_s is not None else _mulmod_secret(self._hint,
                                                                              state.secret)
        noisy = (answer.astype(np.uint64) - hint_s) & MASK
        return (((noisy + np.uint64(DELTA // 2)) >> np.uint64(24)) & np.uint64(0xFF)).astype(
            np.uint8)


__all__ = [
    "DELTA",
    "LWE_N",
    "LOG_Q",
    "MAX_COLS",
    "PLAINTEXT_MODULUS",
    "SIGMA",
    "LweParams",
    "QueryState",
    "SimplePirClient",
    "SimplePirServer",
    "answer_block",
    "expand_a",
    "expand_a_rows",
    "hint_block",
    "sample_error",
]
