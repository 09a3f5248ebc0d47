"""`SharedTensor`: secret-shared arrays that feel like NumPy arrays (in the spirit of
CrypTen's MPCTensor).

Every party runs the same program on its own `SharedTensor`s; each operation calls the
protocols in replicated.py / boolean.py / compare.py / nonlinear.py / shuffle.py. A tensor
carries its fixed-point scale: `frac_bits` = f for real numbers, 0 for integers and the 0/1
results of comparisons (so that `where` and multiplying by a comparison need no truncation).

`share` and `reveal`/`reveal_to` are the only ways in and out of shared form.
Adversary model: semi-honest, honest majority (no two of the three parties collude); only
values explicitly revealed are learnt, by the parties they are revealed to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from yinji.mpc import compare as cmp
from yinji.mpc import nonlinear as nl
from yinji.mpc import replicated as rep
from yinji.mpc.ring import decode, encode
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows

Public = float | int | np.ndarray


class SharedTensor:
    """One party's replicated shares of an array, with its fixed-point scale."""

    __array_priority__ = 100  # make ndarray <op> SharedTensor defer to us

    def __init__(self, session: Session, shares: rep.Shares, frac_bits: int) -> None:
        self.session = session
        self.shares = shares
        self.frac_bits = frac_bits

    # ------------------------------------------------------------ in / out
    @classmethod
    def share(cls, session: Session, value: Any, owner: int | str, *,
              frac_bits: int | None = None, shape: tuple[int, ...] | None = None) -> SharedTensor:
        """Secret-share `value`, known only to `owner` (rank or party name); the others pass
        None. Floats are fixed-point encoded with `frac_bits` (default: the session's);
        pass frac_bits=0 for integers."""
        rank = _rank(session, owner)
        f = session.frac_bits if frac_bits is None else frac_bits
        raw = None
        if session.rank == rank:
            if value is None:
                raise ValueError(f"party {session.party.name} owns the input but gave no value")
            arr = np.asarray(value)
            raw = encode(arr, f) if f else _integers(arr)
        return cls(session, rep.share(session, raw, rank, shape), f)

    @classmethod
    def public(cls, session: Session, value: Any, frac_bits: int | None = None) -> SharedTensor:
        """A public value in shared form (no communication)."""
        f = session.frac_bits if frac_bits is None else frac_bits
        arr = np.asarray(value)
        raw = encode(arr, f) if f else _integers(arr)
        return cls(session, rep.public(session, raw), f)

    def reveal(self) -> np.ndarray:
        """Open to all three parties: floats for fixed-point tensors, int64 for integers."""
        return decode(rep.reveal(self.session, self.shares), self.frac_bits)

    def reveal_to(self, party: int | str) -> np.ndarray | None:
        """Open to one party only; the others get None and receive no message."""
        out = rep.reveal_to(self.session, self.shares, _rank(self.session, party))
        return None if out is None else decode(out, self.frac_bits)

    # ------------------------------------------------------------- shape
    @property
    def shape(self) -> tuple[int, ...]:
        return self.shares[0].shape

    @property
    def ndim(self) -> int:
        return self.shares[0].ndim

    @property
    def size(self) -> int:
        return self.shares[0].size

    def __len__(self) -> int:
        return self.shape[0]

    def _new(self, shares: rep.Shares, frac_bits: int | None = None,
             shape: tuple[int, ...] | None = None) -> SharedTensor:
        if shape is not None and shares[0].shape != shape:  # protocols run on >= 1-d arrays
            shares = (shares[0].reshape(shape), shares[1].reshape(shape))
        return SharedTensor(self.session, shares,
                            self.frac_bits if frac_bits is None else frac_bits)

    def _map(self, fn) -> SharedTensor:  # type: ignore[no-untyped-def]
        return self._new((np.asarray(fn(self.shares[0])), np.asarray(fn(self.shares[1]))))

    def __getitem__(self, key: Any) -> SharedTensor:
        if isinstance(key, SharedTensor):
            raise TypeError("indexing by a shared tensor is not oblivious; use where()")
        return self._map(lambda a: a[key])

    def reshape(self, *shape: Any) -> SharedTensor:
        return self._map(lambda a: a.reshape(*shape))

    def flatten(self) -> SharedTensor:
        return self.reshape(-1)

    def transpose(self, *axes: int) -> SharedTensor:
        return self._map(lambda a: a.transpose(*axes))

    @property
    def T(self) -> SharedTensor:  # noqa: N802 - NumPy's name
        return self.transpose()

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> SharedTensor:
        """Sum along axes (local: no communication)."""
        return self._map(lambda a: np.asarray(a.sum(axis=axis, keepdims=keepdims, dtype=np.uint64)))

    def mean(self, axis: int | None = None, keepdims: bool = False) -> SharedTensor:
        count = self.size if axis is None else self.shape[axis]
        if count == 0:
            raise ValueError("mean of an empty axis")
        return self.sum(axis, keepdims) * (1.0 / count)

    # --------------------------------------------------------- arithmetic
    def _coerce(self, other: Any) -> SharedTensor:
        if isinstance(other, SharedTensor):
            if other.session is not self.session:
                raise ValueError("tensors from different sessions")
            return other
        arr = np.asarray(other)
        f = 0 if arr.dtype.kind in "iub" else self.session.frac_bits
        return SharedTensor.public(self.session, arr, f)

    def _aligned(self, other: Any) -> tuple[SharedTensor, SharedTensor]:
        a, b = self, self._coerce(other)
        if a.frac_bits == b.frac_bits:
            return a, b
        if a.frac_bits < b.frac_bits:
            return a._rescale(b.frac_bits), b
        return a, b._rescale(a.frac_bits)

    def _rescale(self, f: int) -> SharedTensor:
        k = np.uint64(1 << (f - self.frac_bits))
        return self._new((self.shares[0] * k, self.shares[1] * k), f)

    def __add__(self, other: Any) -> SharedTensor:
        a, b = self._aligned(other)
        return a._new((a.shares[0] + b.shares[0], a.shares[1] + b.shares[1]))

    __radd__ = __add__

    def __sub__(self, other: Any) -> SharedTensor:
        a, b = self._aligned(other)
        return a._new((a.shares[0] - b.shares[0], a.shares[1] - b.shares[1]))

    def __rsub__(self, other: Any) -> SharedTensor:
        return (-self) + other

    def __neg__(self) -> SharedTensor:
        return self._map(lambda a: np.uint64(0) - a)

    def __mul__(self, other: Any) -> SharedTensor:
        """Elementwise product. Shared x shared: one multiplication (three rounds with
        truncation when both are fixed-point, one round otherwise). Public integers: local.
        Public reals: local product then one truncation."""
        s = self.session
        if not isinstance(other, SharedTensor):
            arr = np.asarray(other)
            if arr.dtype.kind in "iub":
                k = arr.astype(np.int64).view(np.uint64)
                return self._new((self.shares[0] * k, self.shares[1] * k))
            x = self._fixed()
            shape = np.broadcast_shapes(self.shape, arr.shape)
            return x._new(_mul_public_real(s, _to(x.shares, shape), arr), shape=shape)
        shape = np.broadcast_shapes(self.shape, other.shape)
        x, y = _to(self.shares, shape), _to(other.shares, shape)
        if self.frac_bits and other.frac_bits:
            d = min(self.frac_bits, other.frac_bits)
            return self._new(rep.mul_trunc(s, x, y, d), self.frac_bits + other.frac_bits - d, shape)
        return self._new(rep.mul(s, x, y), self.frac_bits + other.frac_bits, shape)

    __rmul__ = __mul__

    def __matmul__(self, other: Any) -> SharedTensor:
        """Matrix product (shared @ shared or shared @ public)."""
        s = self.session
        other = self._coerce(other)
        shape = np.matmul(np.empty(self.shape, np.uint8), np.empty(other.shape, np.uint8)).shape
        x = self.reshape(1, -1) if self.ndim == 1 else self
        y = other.reshape(-1, 1) if other.ndim == 1 else other
        if self.frac_bits and other.frac_bits:
            d = min(self.frac_bits, other.frac_bits)
            z = rep.matmul_trunc(s, x.shares, y.shares, d)
            return self._new(z, self.frac_bits + other.frac_bits - d, shape)
        return self._new(rep.matmul(s, x.shares, y.shares), self.frac_bits + other.frac_bits, shape)

    def __rmatmul__(self, other: Any) -> SharedTensor:
        return self._coerce(other) @ self

    dot = __matmul__

    def __truediv__(self, other: Any) -> SharedTensor:
        """Division by a public number (one truncation) or by a shared tensor (Newton
        reciprocal, see nonlinear.divide for its range and error)."""
        if not isinstance(other, SharedTensor):
            return self * (1.0 / np.asarray(other, dtype=np.float64))
        a, b = self._fixed(), other._fixed()
        shape = np.broadcast_shapes(a.shape, b.shape)
        q = nl.divide(self.session, _to(a.shares, shape), _to(b.shares, shape), a.frac_bits)
        return a._new(q, shape=shape)

    def _fixed(self) -> SharedTensor:
        return self if self.frac_bits else self._rescale(self.session.frac_bits)

    # ---------------------------------------------------------- comparisons
    def _compare(self, other: Any, swap: bool) -> SharedTensor:
        a, b = self._aligned(other)
        x, y = (b, a) if swap else (a, b)
        shape = np.broadcast_shapes(x.shape, y.shape)
        return self._new(cmp.lt(self.session, _to(x.shares, shape), _to(y.shares, shape)), 0, shape)

    def __lt__(self, other: Any) -> SharedTensor:
        return self._compare(other, swap=False)

    def __gt__(self, other: Any) -> SharedTensor:
        return self._compare(other, swap=True)

    def __le__(self, other: Any) -> SharedTensor:
        return 1 - self._compare(other, swap=True)

    def __ge__(self, other: Any) -> SharedTensor:
        return 1 - self._compare(other, swap=False)

    def eq(self, other: Any) -> SharedTensor:
        """[self == other] as a 0/1 integer tensor."""
        a, b = self._aligned(other)
        shape = np.broadcast_shapes(a.shape, b.shape)
        return self._new(cmp.eq(self.session, _to(a.shares, shape), _to(b.shares, shape)), 0, shape)

    def ne(self, other: Any) -> SharedTensor:
        return 1 - self.eq(other)

    def sign_bit(self) -> SharedTensor:
        """[self < 0]."""
        return self._new(cmp.ltz(self.session, _to(self.shares, self.shape)), 0, self.shape)

    def relu(self) -> SharedTensor:
        return self * (1 - self.sign_bit())

    def abs(self) -> SharedTensor:
        return self * (1 - 2 * self.sign_bit())

    def max(self, axis: int = -1) -> SharedTensor:
        return self.max_argmax(axis)[0]

    def argmax(self, axis: int = -1) -> SharedTensor:
        return self.max_argmax(axis)[1]

    def max_argmax(self, axis: int = -1) -> tuple[SharedTensor, SharedTensor]:
        """Maximum and index of its first occurrence along `axis` (index as integer tensor)."""
        m, i = nl.max_argmax(self.session, self.shares, axis)
        return self._new(m), self._new(i, 0)

    def min(self, axis: int = -1) -> SharedTensor:
        return -((-self).max(axis))

    # ------------------------------------------------------------ functions
    def sigmoid(self) -> SharedTensor:
        """Piecewise-cubic sigmoid; error <= 1.5e-4 + fixed-point rounding (nonlinear.sigmoid)."""
        x = self._fixed()
        return x._new(nl.sigmoid(self.session, _to(x.shares, x.shape), x.frac_bits), shape=x.shape)

    def reciprocal(self) -> SharedTensor:
        x = self._fixed()
        return x._new(nl.reciprocal(self.session, _to(x.shares, x.shape), x.frac_bits),
                      shape=x.shape)

    def rsqrt(self) -> SharedTensor:
        """1/sqrt(x) for x > 0."""
        x = self._fixed()
        return x._new(nl.rsqrt_positive(self.session, _to(x.shares, x.shape), x.frac_bits),
                      shape=x.shape)

    def sqrt(self) -> SharedTensor:
        """sqrt(x) for x >= 0."""
        x = self._fixed()
        return x._new(nl.sqrt_positive(self.session, _to(x.shares, x.shape), x.frac_bits),
                      shape=x.shape)

    def shuffle(self) -> SharedTensor:
        """Rows (axis 0) in an order that no single party knows."""
        return self._new(shuffle_rows(self.session, self.shares))

    def __repr__(self) -> str:
        return (f"SharedTensor(shape={self.shape}, frac_bits={self.frac_bits}, "
                f"party={self.session.party.name})")

    def __bool__(self) -> bool:
        raise TypeError("a SharedTensor has no public truth value; reveal it or use where()")


def where(cond: SharedTensor, x: Any, y: Any) -> SharedTensor:
    """cond ? x : y elementwise for a 0/1 integer tensor `cond`. One round."""
    if cond.frac_bits != 0:
        raise ValueError("where() needs a 0/1 integer condition (the result of a comparison)")
    xs, ys = cond._coerce(x)._aligned(y)
    shape = np.broadcast_shapes(cond.shape, xs.shape, ys.shape)
    c, a, b = (_to(t.shares, shape) for t in (cond, xs, ys))
    return xs._new(cmp.select(cond.session, c, a, b), shape=shape)


def concatenate(tensors: Sequence[SharedTensor], axis: int = 0) -> SharedTensor:
    """Join shared tensors along an existing axis (local)."""
    first = _same_scale(tensors)
    return first._new((np.concatenate([t.shares[0] for t in tensors], axis),
                       np.concatenate([t.shares[1] for t in tensors], axis)))


def stack(tensors: Sequence[SharedTensor], axis: int = 0) -> SharedTensor:
    """Join shared tensors along a new axis (local)."""
    first = _same_scale(tensors)
    return first._new((np.stack([t.shares[0] for t in tensors], axis),
                       np.stack([t.shares[1] for t in tensors], axis)))


def _same_scale(tensors: Sequence[SharedTensor]) -> SharedTensor:
    if not tensors:
        raise ValueError("need at least one tensor")
    f = {t.frac_bits for t in tensors}
    if len(f) != 1:
        raise ValueError(f"tensors have different fixed-point scales {sorted(f)}")
    return tensors[0]


def _to(x: rep.Shares, shape: tuple[int, ...]) -> rep.Shares:
    """x broadcast to `shape`, as at least 1-d arrays (NumPy 0-d arithmetic gives scalars)."""
    shape = shape or (1,)
    if x[0].shape == shape:
        return x
    return np.broadcast_to(x[0], shape), np.broadcast_to(x[1], shape)


def _rank(session: Session, who: int | str) -> int:
    if isinstance(who, str):
        if who not in session.names:
            raise ValueError(f"unknown party {who!r}; session parties are {session.names}")
        return session.names.index(who)
    if who not in (0, 1, 2):
        raise ValueError(f"party rank must be 0, 1 or 2, got {who}")
    return who


SPLIT = 24  # x = hi * 2^24 + lo for products with a precise public real


def _mul_public_real(s: Session, x: rep.Shares, c: np.ndarray) -> rep.Shares:
    """x * c for a public real c, keeping about 24 significant bits of c at any magnitude of
    x (a plain f-bit encoding turns 1/10000 into 7/65536, 7% off). c is carried as the
    integer K = round(c * 2^B) < 2^24, and x is split by one truncation into
    hi = x >> 24 and lo = x - hi * 2^24 so that neither hi*K nor lo*K can overflow; then
    x*c = hi*K / 2^(B-24) + lo*K / 2^B. Valid whenever x and x*c are representable; two or
    three truncations (6-9 rounds); error a few units of 2^-f plus 2^-24 relative."""
    top = float(np.max(np.abs(c))) if c.size else 0.0
    if top == 0.0:
        return np.zeros_like(x[0]), np.zeros_like(x[1])
    B = int(min(60, max(1, 23 - np.floor(np.log2(top)))))
    k = np.rint(c * 2.0**B).astype(np.int64).view(np.uint64)
    hi = rep.trunc(s, x, SPLIT)
    lo = (x[0] - (hi[0] << np.uint64(SPLIT)), x[1] - (hi[1] << np.uint64(SPLIT)))
    if B > SPLIT:
        a = rep.trunc(s, (hi[0] * k, hi[1] * k), B - SPLIT)
    else:
        up = np.uint64(SPLIT - B)
        a = ((hi[0] * k) << up, (hi[1] * k) << up)
    b = rep.trunc(s, (lo[0] * k, lo[1] * k), B)
    return a[0] + b[0], a[1] + b[1]


def _integers(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind not in "iub":
        raise TypeError(f"frac_bits=0 needs integer input, got dtype {arr.dtype}")
    return arr.astype(np.int64).view(np.uint64)
