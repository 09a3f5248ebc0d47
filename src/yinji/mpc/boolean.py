"""Boolean (XOR) replicated sharing on packed uint64 words, and conversions to/from arithmetic.

Same layout as the arithmetic sharing (party i holds (x_i, x_{i+1})) but x = x0 ^ x1 ^ x2, so
XOR, NOT and shifts are local, and AND costs one round. Each uint64 word packs the 64 bits
of one ring element, so a circuit over 64-bit values runs on all bits at once.

Conversions (ABY3 §5.3 with a parallel-prefix adder):
  - `a2b`/`msb`: x = (x0 + x1) + x2; party 0 inputs x0 + x1 as a boolean sharing, x2 is
    trivially shared by parties 1 and 2, and a Kogge–Stone adder adds them: 1 + 1 + 6 rounds.
  - `bit2a`: a shared bit b = (b0 ^ b1) ^ b2 → arithmetic via t + b2 - 2*t*b2, 2 rounds.
  - `b2a`: party 1 deals x1, x2 from its pair streams, inputs -(x1 + x2) as boolean, the
    adder computes x0 = x - x1 - x2 in boolean form, opened to parties 0 and 2 only.

Adversary model: semi-honest, honest majority (as replicated.py). Leakage: none; every
received value is a share component masked by a stream unknown to the receiver.
"""

from __future__ import annotations

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session

ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
ONE = np.uint64(1)
KOGGE_STONE = (1, 2, 4, 8, 16, 32)


def share_xor(s: Session, value: np.ndarray | None, owner: int) -> Shares:
    """Boolean-share `value` held by `owner`. One round, 8 bytes per word to each other party."""
    s.rounds += 1
    if s.rank == owner:
        value = np.ascontiguousarray(value, dtype=np.uint64)
        mine = s.pair_prev.uint64(value.shape)
        nxt = s.pair_next.uint64(value.shape)
        last = value ^ mine
        last ^= nxt
        s.send(s.next, last)
        s.send(s.prev, last)
        return mine, nxt
    last = s.recv(owner)
    if owner == s.prev:
        return s.pair_prev.uint64(last.shape), last
    return last, s.pair_next.uint64(last.shape)


def reveal_xor(s: Session, x: Shares) -> np.ndarray:
    """Open a boolean sharing to all. One round."""
    s.rounds += 1
    s.send(s.prev, x[1])
    return x[0] ^ x[1] ^ s.recv(s.next)


def xor(x: Shares, y: Shares) -> Shares:
    return x[0] ^ y[0], x[1] ^ y[1]


def xor_public(s: Session, x: Shares, c: np.ndarray | np.uint64) -> Shares:
    """x XOR a public constant (party 0 and party 2 hold component x0)."""
    a = x[0] ^ c if s.rank == 0 else x[0]
    b = x[1] ^ c if s.rank == 2 else x[1]
    return a, b


def shl(x: Shares, k: int) -> Shares:
    return x[0] << np.uint64(k), x[1] << np.uint64(k)


def shr(x: Shares, k: int) -> Shares:
    return x[0] >> np.uint64(k), x[1] >> np.uint64(k)


def and_(s: Session, x: Shares, y: Shares) -> Shares:
    """Bitwise AND of two boolean sharings. One round, 8 bytes per word per party."""
    shape = np.broadcast_shapes(x[0].shape, y[0].shape)
    xf, yf = rep._flat(x, shape), rep._flat(y, shape)

    def part(c: slice) -> np.ndarray:
        z = yf[0][c] ^ yf[1][c]
        z &= xf[0][c]
        z ^= xf[1][c] & yf[0][c]
        z ^= s.zero_share_xor(z.shape)
        return z

    return rep.reshare_streamed(s, shape, part)


def _stack(*xs: Shares) -> Shares:
    return np.stack([x[0] for x in xs]), np.stack([x[1] for x in xs])


def _carries(s: Session, p: Shares, g: Shares) -> Shares:
    """Kogge–Stone parallel prefix: returns G where bit i says 'a carry leaves bit i'.
    Six rounds; the (G, P) updates of one level go out as a single message."""
    for k in KOGGE_STONE:
        gk = shl(g, k)
        if k == KOGGE_STONE[-1]:
            return xor(g, and_(s, p, gk))
        both = and_(s, _stack(p, p), _stack(gk, shl(p, k)))
        g = xor(g, (both[0][0], both[1][0]))
        p = (both[0][1], both[1][1])
    raise AssertionError("unreachable")


def _add(s: Session, a: Shares, b: Shares) -> tuple[Shares, Shares]:
    """Boolean sharings of a + b: returns (propagate bits a^b, carry-out bits)."""
    p = xor(a, b)
    g = and_(s, a, b)
    return p, _carries(s, p, g)


def component2(s: Session, x: Shares) -> Shares:
    """The sharing (0, 0, x2) of component x2 alone, which parties 1 and 2 both hold; valid
    for XOR and for additive sharing alike. Local."""
    zero = np.zeros_like(x[0])
    if s.rank == 0:
        return zero, zero
    if s.rank == 1:
        return zero, x[1]
    return x[0], zero


def _a2b_inputs(s: Session, x: Shares) -> tuple[Shares, Shares]:
    """Two boolean sharings whose sum is x: party 0's x0 + x1, and x2 held by parties 1, 2."""
    a = share_xor(s, x[0] + x[1] if s.rank == 0 else None, owner=0)
    return a, component2(s, x)


def a2b(s: Session, x: Shares) -> Shares:
    """Arithmetic → boolean sharing of the same 64-bit values. 8 rounds,
    about 8 * 14 = 112 bytes per element in total."""
    a, b = _a2b_inputs(s, x)
    p, g = _add(s, a, b)
    return xor(p, shl(g, 1))


def msb(s: Session, x: Shares) -> Shares:
    """Boolean sharing of the most significant bit of x (in bit 0 of each word): the sign of
    a two's-complement value. 8 rounds, about 112 bytes per element in total."""
    a, b = _a2b_inputs(s, x)
    p, g = _add(s, a, b)
    top = xor(p, shl(g, 1))
    return shr(top, 63)


def bit2a(s: Session, b: Shares) -> Shares:
    """Bits (0/1 in bit 0 of each word, boolean-shared) → arithmetic 0/1 sharing.

    Party 0 knows t = b0 ^ b1 and inputs it; b2 is known to parties 1 and 2;
    b = t + b2 - 2*t*b2. Two rounds, 24 bytes per element in total.
    """
    b = (b[0] & ONE, b[1] & ONE)
    t = rep.share(s, (b[0] ^ b[1]) if s.rank == 0 else None, owner=0)
    c = component2(s, b)
    tc = rep.mul(s, t, c)
    return (t[0] + c[0] - (tc[0] << ONE), t[1] + c[1] - (tc[1] << ONE))


def b2a(s: Session, x: Shares) -> Shares:
    """Boolean → arithmetic sharing of full 64-bit words. 1 + 7 + 1 = 9 rounds.

    x1 (pair stream of parties 0,1) and x2 (parties 1,2) are random; party 1 inputs
    -(x1 + x2) in boolean form; the adder yields x0 = x - x1 - x2, opened to parties 0 and 2
    (masked by x2, resp. x1, which each of them does not know)."""
    shape = x[0].shape
    if s.rank == 0:
        x1 = s.pair(1).uint64(shape)
    elif s.rank == 1:
        x1, x2 = s.pair(0).uint64(shape), s.pair(2).uint64(shape)
    else:
        x2 = s.pair(1).uint64(shape)
    v = share_xor(s, (np.uint64(0) - x1 - x2) if s.rank == 1 else None, owner=1)
    p, g = _add(s, x, v)
    y = xor(p, shl(g, 1))
    # open y (= x0) to parties 0 and 2: 0 needs component 2 (from 1), 2 needs component 1 (from 0)
    s.rounds += 1
    if s.rank == 0:
        s.send(2, y[1])
        x0 = y[0] ^ y[1] ^ s.recv(1)
        return x0, x1
    if s.rank == 1:
        s.send(0, y[1])
        return x1, x2
    x0 = y[0] ^ y[1] ^ s.recv(0)
    return x2, x0
