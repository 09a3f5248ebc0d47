"""3-party replicated secret sharing over Z_2^64 (Araki et al. CCS 2016; ABY3, Mohassel &
Rindal CCS 2018): input, output, multiplication and truncation.

A value x is split as x = x0 + x1 + x2 (mod 2^64); party i holds the pair (x_i, x_{i+1}).
Any one party's pair is uniformly random and independent of x; any two parties can
reconstruct. This module is the functional core: `Shares` is that pair of uint64 arrays.
`SharedTensor` (tensor.py) wraps it with shapes and fixed-point bookkeeping.

Adversary model: semi-honest, honest majority: one corrupted party learns nothing beyond
the outputs revealed to it; no two parties collude. Each function states what a party
receives; every received value is masked by randomness unknown to its receiver. Beyond the
model, every read is bounded: a faulty or malicious peer cannot make a party allocate more
than the shape it expects (given by the caller, or announced by an input's owner and
checked against `MAX_SHARE_DIMS` and `MAX_SHARE_ELEMENTS` first); it gets a clear error
naming that peer (`yinji.net.expect.UnexpectedMessage`). This is robustness, not malicious
security: a peer that sends well-formed wrong values is not detected.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from yinji.mpc.ring import ring_matmul
from yinji.mpc.session import Session
from yinji.net import expect

Shares = tuple[np.ndarray, np.ndarray]

OFFSET = np.uint64(1 << 62)
ONE = np.uint64(1)
# Limits on a shape an input's owner announces (`share` without `shape`): a receiver reads
# at most 4 dimensions and then holds at most 2^28 elements, 2 GiB per share component.
# A caller that expects more passes `shape` at every party (no announcement).
MAX_SHARE_DIMS = 4
MAX_SHARE_ELEMENTS = 1 << 28


def share(s: Session, value: np.ndarray | None, owner: int,
          shape: tuple[int, ...] | None = None) -> Shares:
    """Secret-share `value` (uint64 ring elements) held by party `owner`.

    One round; the owner sends 8 bytes per element to each of the two others. The owner
    draws x_o and x_{o+1} from the streams it shares with o-1 and o+1 and sends
    x_{o+2} = value - x_o - x_{o+1}; each receiver misses one uniform component.
    `shape`: given at every party or at none. Given, the owner's value must have it and the
    receivers read exactly that; not given, the owner first announces its value's shape in
    the same flight (at most `MAX_SHARE_DIMS` dimensions and `MAX_SHARE_ELEMENTS` elements,
    checked by the receivers before they read the shares).
    Leakage: the shape of `value` is public; nothing else.
    """
    return deal(s, value, owner, shape, np.subtract)


def deal(s: Session, value: np.ndarray | None, owner: int, shape: tuple[int, ...] | None,
         combine: np.ufunc) -> Shares:
    """`share` (combine = np.subtract) and `boolean.share_xor` (np.bitwise_xor): the owner
    sends x_{o+2} = combine(combine(value, x_o), x_{o+1}), after its shape unless `shape`
    is given; the others receive it, bounded, and draw their other component."""
    s.rounds += 1
    # a 0-d value is shared with shape (1,), as np.ascontiguousarray makes it
    want = None if shape is None else (tuple(int(d) for d in shape) or (1,))
    if s.rank == owner:
        if value is None:
            raise ValueError("the owner must supply the value to share")
        value = np.ascontiguousarray(value, dtype=np.uint64)
        if want is None:
            announce_shape(s, value.shape)
        elif value.shape != want:
            raise ValueError(f"party {owner} shares a value of shape {value.shape}, but "
                             f"the parties were given shape {want}")
        mine = s.pair_prev.uint64(value.shape)
        nxt = s.pair_next.uint64(value.shape)
        last = combine(combine(value, mine), nxt)
        s.send(s.next, last)
        s.send(s.prev, last)
        return mine, nxt
    if want is None:
        want = recv_shape(s, owner)
    last = s.recv(owner, want)
    if owner == s.prev:  # I am owner+1: I hold (x_{o+1}, x_{o+2})
        return s.pair_prev.uint64(last.shape), last
    return last, s.pair_next.uint64(last.shape)  # I am owner+2: (x_{o+2}, x_o)


def _shape_problem(shape: tuple[int, ...]) -> str | None:
    if len(shape) > MAX_SHARE_DIMS:
        return f"more than {MAX_SHARE_DIMS} dimensions"
    if any(d < 0 for d in shape):
        return "a negative size"
    if math.prod(shape) > MAX_SHARE_ELEMENTS:
        return f"more than MAX_SHARE_ELEMENTS = {MAX_SHARE_ELEMENTS:,} elements"
    return None


def announce_shape(s: Session, shape: tuple[int, ...]) -> None:
    """Owner: send the two others the shape of the value it shares (int64, one per
    dimension); then refuse, as they will, a shape beyond the limits."""
    head = np.array(shape, dtype=np.int64)
    s.send(s.next, head)
    s.send(s.prev, head)
    problem = _shape_problem(tuple(shape))
    if problem:
        raise ValueError(f"cannot share a value of shape {tuple(shape)}: {problem} (pass "
                         "`shape` at every party to share it without an announcement)")


def recv_shape(s: Session, owner: int) -> tuple[int, ...]:
    """Receiver: the shape `owner` announces, read bounded (at most `MAX_SHARE_DIMS`
    int64) and checked against the limits before any share is read."""
    ch = s.chan(owner)
    head = expect.recv_array(ch, "the shape of its shares", np.int64, (None,),
                             most=MAX_SHARE_DIMS)
    shape = tuple(int(d) for d in head)
    problem = _shape_problem(shape)
    if problem:
        raise expect.UnexpectedMessage(f"{ch.peer} announced shares of shape {shape}: "
                                       f"{problem}")
    return shape


def public(s: Session, value: np.ndarray) -> Shares:
    """A public constant as a (trivial) sharing: x0 = value, x1 = x2 = 0. No communication."""
    value = np.asarray(value, dtype=np.uint64)
    zero = np.zeros_like(value)
    if s.rank == 0:
        return value.copy(), zero
    if s.rank == 2:
        return zero, value.copy()
    return zero, zero.copy()


def reveal(s: Session, x: Shares) -> np.ndarray:
    """Open x to all three parties. One round, 8 bytes per element sent by each party."""
    s.rounds += 1
    s.send(s.prev, x[1])
    return x[0] + x[1] + s.recv(s.next, x[1].shape)


def reveal_to(s: Session, x: Shares, receiver: int) -> np.ndarray | None:
    """Open x to `receiver` only; the others get None and receive nothing.

    One round: party receiver+1 sends its second component x_{r+2} (8 bytes per element);
    no other message is sent, so the two non-receivers learn nothing new.
    """
    s.rounds += 1
    if s.rank == (receiver + 1) % 3:
        s.send(receiver, x[1])
        return None
    if s.rank == receiver:
        return x[0] + x[1] + s.recv(s.next, x[1].shape)
    return None


def reshare(s: Session, z: np.ndarray) -> Shares:
    """3-out-of-3 additive shares (already masked by a zero-sharing) → replicated.
    One round, 8 bytes per element per party."""
    s.rounds += 1
    s.send(s.prev, z)
    return z, s.recv(s.next, z.shape)


PIPELINE = 1 << 17  # elements per message when a large local product is streamed


def reshare_streamed(s: Session, shape: tuple[int, ...],
                     part: Callable[[slice], np.ndarray]) -> Shares:
    """`reshare` of z = concat(part(chunk) for chunk), computing and sending one chunk at a
    time, so that encrypting and sending a chunk overlaps computing the next (over TLS)."""
    s.rounds += 1
    n = math.prod(shape)
    if n <= PIPELINE:
        z = part(slice(0, n)).reshape(shape)
        s.send(s.prev, z)
        return z, s.recv(s.next, z.shape)
    z, got = np.empty(n, np.uint64), np.empty(n, np.uint64)
    chunks = [slice(a, min(a + PIPELINE, n)) for a in range(0, n, PIPELINE)]
    for c in chunks:
        z[c] = part(c)
        s.send(s.prev, z[c])
    for c in chunks:
        got[c] = s.recv(s.next, (_size(c),))
    return z.reshape(shape), got.reshape(shape)


def cross(x: Shares, y: Shares) -> np.ndarray:
    """Local part of a product: x_i*y_i + x_i*y_{i+1} + x_{i+1}*y_i (the three parts sum to
    x*y), computed as x_i*(y_i + y_{i+1}) + x_{i+1}*y_i."""
    z = y[0] + y[1]
    z *= x[0]
    z += x[1] * y[0]
    return z


def cross_matmul(x: Shares, y: Shares) -> np.ndarray:
    """Local part of a matrix product: x_i@(y_i+y_{i+1}) + x_{i+1}@y_i, as one ring matmul
    with a doubled inner dimension (see ring.ring_matmul)."""
    if x[0].ndim == 2 and y[0].ndim == 2:
        return ring_matmul(np.hstack([x[0], x[1]]), np.vstack([y[0] + y[1], y[0]]))
    return np.asarray((x[0] @ (y[0] + y[1])) + (x[1] @ y[0]))


def mul(s: Session, x: Shares, y: Shares) -> Shares:
    """Ring product x*y (no truncation). One round, 8 bytes per element per party.
    Leakage: none; each received part is masked by a fresh zero-sharing."""
    shape = np.broadcast_shapes(x[0].shape, y[0].shape)
    xf, yf = flat_shares(x, shape), flat_shares(y, shape)

    def part(c: slice) -> np.ndarray:
        z = cross((xf[0][c], xf[1][c]), (yf[0][c], yf[1][c]))
        z += s.zero_share(z.shape)
        return z

    return reshare_streamed(s, shape, part)


def flat_shares(x: Shares, shape: tuple[int, ...]) -> Shares:
    return (np.broadcast_to(x[0], shape).reshape(-1), np.broadcast_to(x[1], shape).reshape(-1))


def matmul(s: Session, x: Shares, y: Shares) -> Shares:
    """Ring matrix product (no truncation). One round, 8 bytes per output element per party."""
    z = cross_matmul(x, y)
    z += s.zero_share(z.shape)
    return reshare(s, z)


def trunc_additive(s: Session, z: np.ndarray, d: int, *, replicated: Shares | None = None) -> Shares:
    """Divide a shared value by 2^d (arithmetic shift), result within one unit of floor(x/2^d).

    Probabilistic truncation with the MSB known to be zero (Escudero, Ghosh, Keller, Rachuri,
    Scholl, CRYPTO 2020, §5.1), with party 2 as the helper that deals the truncation pair —
    secure in the semi-honest honest-majority model because the helper only sends and
    receives values masked by randomness it does not know. Requires |x| < 2^62; unlike
    local (SecureML/ABY3 Π_trunc1) truncation, there is no probability of a large error.

    Input: either 3-out-of-3 additive parts `z` of x (as left by `cross`, unmasked) or, with
    `replicated`, a replicated sharing of x. Steps:
      1. r = r0 + r1 with r0 from the P0–helper stream and r1 from the P1–helper stream; the
         helper deals 2-of-2 shares between P0 and P1 of msb(r) and (r mod 2^63) >> d (P0's
         from its stream, P1's sent); for a product it also sends its part z2 masked with
         rho from the P0–helper stream.
      2. P0 and P1 open c = x + 2^62 + r to each other (uniform for both; the helper gets nothing).
      3. they compute 2-of-2 shares of the truncated value, then reshare to replicated form.
    Large inputs are processed in chunks, so sending one chunk overlaps computing the next.
    Rounds: 3. Bytes per element: 24 (helper→P1; 16 without a product part) + 2x8 (P0↔P1)
    + 8 (P0→P1) + 8 (P1→helper): 56 in total for a product.
    Leakage: none; P0 and P1 see c = x + 2^62 + r with r uniform and unknown to each.
    """
    if not 0 < d < 62:
        raise ValueError(f"truncation by {d} bits is not supported (1..61)")
    s.rounds += 3
    shape = z.shape if replicated is None else replicated[0].shape
    n = math.prod(shape)
    chunks = [slice(a, min(a + PIPELINE, n)) for a in range(0, n, PIPELINE)] or [slice(0, 0)]
    if replicated is None:
        parts: tuple[np.ndarray, ...] = (z.reshape(-1),)
    else:
        parts = (replicated[0].reshape(-1), replicated[1].reshape(-1))
    if s.rank == 2:
        first, second = _trunc_helper(s, parts, chunks, d)
    elif s.rank == 0:
        first, second = _trunc_p0(s, parts, chunks, d)
    else:
        first, second = _trunc_p1(s, parts, chunks, d)
    return first.reshape(shape), second.reshape(shape)


def _size(c: slice) -> int:
    return c.stop - c.start


def _trunc_helper(s: Session, parts: tuple[np.ndarray, ...], chunks: list[slice],
                  d: int) -> Shares:
    product = len(parts) == 1
    s0 = []
    for c in chunks:
        corr = s.pair(0).uint64((5, _size(c)))  # rho, r0, m0, t0, s0 — P0 draws the same
        r = corr[1] + s.pair(1).uint64(_size(c))  # r1 — P1 draws the same
        msg = np.empty((3 if product else 2, _size(c)), dtype=np.uint64)
        np.subtract(r >> np.uint64(63), corr[2], out=msg[0])
        np.subtract((r << ONE) >> np.uint64(d + 1), corr[3], out=msg[1])
        if product:
            np.add(parts[0][c], corr[0], out=msg[2])
        s.send(1, msg)
        s0.append(corr[4])
    s2 = [s.recv(1, (_size(c),)) for c in chunks]
    return np.concatenate(s2), np.concatenate(s0)


def _trunc_p0(s: Session, parts: tuple[np.ndarray, ...], chunks: list[slice],
              d: int) -> Shares:
    product = len(parts) == 1
    corrs, opened = [], []
    for c in chunks:
        corr = s.pair(2).uint64((5, _size(c)))
        mine = (parts[0][c] - corr[0]) if product else parts[0][c].copy()
        mine += OFFSET
        mine += corr[1]
        s.send(1, mine)
        corrs.append(corr)
        opened.append(mine)
    s1 = []
    for c, corr, mine in zip(chunks, corrs, opened, strict=True):
        mine += s.recv(1, mine.shape)
        q = _trunc_share(mine, corr[2], corr[3], d, first=True)
        q -= corr[4]
        q += s.pair(1).uint64(_size(c))
        s.send(1, q)
        s1.append(q)
    return np.concatenate([corr[4] for corr in corrs]), np.concatenate(s1)


def _trunc_p1(s: Session, parts: tuple[np.ndarray, ...], chunks: list[slice],
              d: int) -> Shares:
    product = len(parts) == 1
    msgs, opened = [], []
    for c in chunks:
        msg = s.recv(2, (3 if product else 2, _size(c)))
        mine = (parts[0][c] + msg[2]) if product else (parts[0][c] + parts[1][c])
        mine += s.pair(2).uint64(_size(c))  # r1
        s.send(0, mine)
        msgs.append(msg)
        opened.append(mine)
    s2 = []
    for c, msg, mine in zip(chunks, msgs, opened, strict=True):
        mine += s.recv(0, mine.shape)
        q = _trunc_share(mine, msg[0], msg[1], d, first=False)
        q -= s.pair(0).uint64(_size(c))
        s.send(2, q)
        s2.append(q)
    s1 = [s.recv(0, (_size(c),)) for c in chunks]
    return np.concatenate(s1), np.concatenate(s2)


def _trunc_share(c: np.ndarray, m: np.ndarray, t: np.ndarray, d: int, first: bool) -> np.ndarray:
    """One of P0/P1's 2-of-2 shares of (x >> d) given the opened c and its shares m, t of
    msb(r) and (r mod 2^63) >> d. With w = msb(c) XOR msb(r) (the wrap of the low 63 bits),
    x + 2^62 = (c mod 2^63) - (r mod 2^63) + w * 2^63."""
    cm = c >> np.uint64(63)
    w = m * (ONE - (cm << ONE))  # share of msb(r) * (1 - 2 msb(c))
    if first:
        w += cm
        q = (c << ONE) >> np.uint64(d + 1)
        q -= np.uint64(1 << (62 - d))
        q -= t
    else:
        q = -t
    q += w << np.uint64(63 - d)
    return q


def trunc(s: Session, x: Shares, d: int) -> Shares:
    """Truncate a replicated sharing by d bits; see `trunc_additive`."""
    return trunc_additive(s, x[0], d, replicated=x)


def mul_trunc(s: Session, x: Shares, y: Shares, d: int) -> Shares:
    """Fixed-point product: x*y / 2^d. Three rounds, 56 bytes per element in total.
    Leakage: none (see `trunc_additive`)."""
    return trunc_additive(s, cross(x, y), d)


def matmul_trunc(s: Session, x: Shares, y: Shares, d: int) -> Shares:
    """Fixed-point matrix product. Three rounds, 56 bytes per output element in total."""
    return trunc_additive(s, cross_matmul(x, y), d)
