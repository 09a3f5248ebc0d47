"""Boolean (XOR) replicated sharing on packed uint64 words, and conversions to/from arithmetic.

Same layout as the arithmetic sharing (party i holds (x_i, x_{i+1})) but x = x0 ^ x1 ^ x2, so
XOR, NOT and shifts are local, and AND costs one round. Each uint64 word packs the 64 bits
of one ring element, so a circuit over 64-bit values runs on all bits at once.

Conversions (ABY3 §5.3 with a parallel-prefix adder):
  - `a2b`: x = (x0 + x1) + x2; party 0 inputs x0 + x1 as a boolean sharing, x2 is
    trivially shared by parties 1 and 2, and a Kogge–Stone adder adds them: 1 + 1 + 6 rounds.
  - `msb`: the same inputs, but only the carry into bit 63, by a carry-only tree that folds
    the word array in half at each level: same 8 rounds, 3.5x fewer bytes than `a2b`.
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


def share_xor(s: Session, value: np.ndarray | None, owner: int,
              shape: tuple[int, ...] | None = None) -> Shares:
    """Boolean-share `value` held by `owner`. One round, 8 bytes per word to each other party.
    `shape` as in `replicated.share`: given at every party, or announced by the owner first
    and checked against the same limits. Leakage: the shape of `value`; nothing else."""
    return rep.deal(s, value, owner, shape, np.bitwise_xor)


def reveal_xor(s: Session, x: Shares) -> np.ndarray:
    """Open a boolean sharing to all. One round."""
    s.rounds += 1
    s.send(s.prev, x[1])
    return x[0] ^ x[1] ^ s.recv(s.next, x[1].shape)


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
    xf, yf = rep.flat_shares(x, shape), rep.flat_shares(y, shape)

    def part(c: slice) -> np.ndarray:
        z = yf[0][c] ^ yf[1][c]
        z &= xf[0][c]
        z ^= xf[1][c] & yf[0][c]
        z ^= s.zero_share_xor(z.shape)
        return z

    return rep.reshare_streamed(s, shape, part)


def _stack(*xs: Shares) -> Shares:
    return np.stack([x[0] for x in xs]), np.stack([x[1] for x in xs])


def _level(s: Session, p: Shares, g: Shares, k: int) -> tuple[Shares, Shares]:
    """One prefix level: each group's (P, G) joined with the group k bits below it,
    G' = G ^ (P & (G << k)), P' = P & (P << k). One round; both ANDs go out as one message."""
    both = and_(s, _stack(p, p), _stack(shl(g, k), shl(p, k)))
    return (both[0][1], both[1][1]), xor(g, (both[0][0], both[1][0]))


def _carries(s: Session, p: Shares, g: Shares) -> Shares:
    """Kogge–Stone parallel prefix: returns G where bit i says 'a carry leaves bit i'.
    Six rounds, 11 AND words per word."""
    for k in KOGGE_STONE[:-1]:
        p, g = _level(s, p, g, k)
    return xor(g, and_(s, p, shl(g, KOGGE_STONE[-1])))


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
    a = share_xor(s, x[0] + x[1] if s.rank == 0 else None, owner=0,
                  shape=np.broadcast_shapes(x[0].shape, x[1].shape))
    return a, component2(s, x)


def a2b(s: Session, x: Shares) -> Shares:
    """Arithmetic → boolean sharing of the same 64-bit values. 8 rounds, 304 bytes per
    element in total: 16 to input x0 + x1, then 12 AND words per element, 24 bytes each."""
    a, b = _a2b_inputs(s, x)
    p, g = _add(s, a, b)
    return xor(p, shl(g, 1))


# The carry tree of `msb`. Level L = 1..6 joins groups at bits i and i - 2^(L-1); the join
# is complete where bit i of FOLD_MASKS[L-1] is set (the top 2^(L-1) bits of each 2^L-bit
# block), so the level's operands are first folded onto those bits (`_fold`).
FOLD_MASKS = tuple(np.uint64(m) for m in (0xAAAAAAAAAAAAAAAA, 0xCCCCCCCCCCCCCCCC,
                                         0xF0F0F0F0F0F0F0F0, 0xFF00FF00FF00FF00,
                                         0xFFFF0000FFFF0000, 0xFFFFFFFF00000000))
PACK = 1 << len(FOLD_MASKS)  # elements per word after the six folds
# Element i + (m/64)*k (m = padded size) ends in bit 63 - rev6(k) of final word i: fold L
# moves the second half (bit 6 - L of k set) 2^(L-1) bits down.
SLOTS = np.array([63 - int(f"{k:06b}"[::-1], 2) for k in range(PACK)], dtype=np.uint64)


def _shl1_padded(x: Shares, m: int) -> Shares:
    """x << 1, zero-padded to m words (the padding's g = p = 0 never produces a carry)."""
    out = np.zeros((2, m), np.uint64)
    np.left_shift(x[0], ONE, out=out[0, :x[0].size])
    np.left_shift(x[1], ONE, out=out[1, :x[1].size])
    return out[0], out[1]


def _fold(w: np.ndarray, mask: np.uint64, k: int, hi: np.ndarray | None = None,
          lo: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """fold(w) and fold(w << k) (into `hi`, `lo` if given), where fold keeps the bits of word
    i under mask and fills the others with word i + h's, moved k bits down (h = half the
    length). A bit-matrix transpose step (delta swap): the k-bit field pairs of a = w[i] and
    b = w[i + h] become (hi a, hi b) and (lo a, lo b). Local: a bit permutation is linear on
    XOR shares, and it commutes with AND, so it may be applied to AND operands instead."""
    h, k64 = w.size // 2, np.uint64(k)
    a, b = w[:h], w[h:]
    t = b >> k64
    t ^= a
    t &= mask >> k64
    hi = np.bitwise_xor(a, t, out=hi)
    t <<= k64
    return hi, np.bitwise_xor(t, b, out=lo)


def _tree_level(s: Session, p: Shares, g: Shares, k: int, mask: np.uint64,
                last: bool) -> tuple[Shares, Shares]:
    """`_level` computed only where the join is complete: the operands are folded first, so
    the ANDs run on half the words (folded in place: fresh large temporaries cost more than
    the arithmetic). One round; the last level needs G only."""
    h = g[0].size // 2
    # AND operands per share component c: x[c] = (P, P), y[c] = (G << k, P << k), folded
    x, y = np.empty((2, 2, h), np.uint64), np.empty((2, 2, h), np.uint64)
    gf = tuple(_fold(g[c], mask, k, lo=y[c, 0])[0] for c in (0, 1))
    for c in (0, 1):
        _fold(p[c], mask, k, hi=x[c, 0], lo=y[c, 1])
        x[c, 1] = x[c, 0]
    if last:
        return (x[0, 0], x[1, 0]), xor(gf, and_(s, (x[0, 0], x[1, 0]), (y[0, 0], y[1, 0])))
    both = and_(s, (x[0], x[1]), (y[0], y[1]))
    return (both[0][1], both[1][1]), xor(gf, (both[0][0], both[1][0]))


def _unfold(w: np.ndarray) -> np.ndarray:
    """Inverse bookkeeping of the folds: element i + len(w)*k from bit SLOTS[k] of word i,
    into bit 0 of its own word."""
    return ((w >> SLOTS[:, None]) & ONE).reshape(-1)


def msb(s: Session, x: Shares) -> Shares:
    """Boolean sharing of the most significant bit of x (in bit 0 of each word): the sign of
    a two's-complement value. msb(a + b) = a63 ^ b63 ^ c63, with c63 the carry into bit 63.

    Only that carry is computed: the group-generate of (a, b) << 1 over all 64 bits, by a
    carry-only tree. Level L joins adjacent groups of 2^(L-1) bits and only the top half of
    each joined pair is needed, so each level folds the word array in half first (`_fold`);
    at the end a word holds the carries of 64 elements. The input is padded to a multiple
    of 64 elements. 8 rounds (input, g = a & b, six levels). AND words per element:
    1 + 1 + 1/2 + 1/4 + 1/8 + 1/16 + 1/64 = 2.953125, 24 bytes each, plus 16 to input
    x0 + x1: 86.875 bytes per element in total (a2b: 304). Adversary model: semi-honest,
    honest majority. Leakage: none beyond the (still shared) output; every received value
    is an AND part masked by a fresh zero-sharing, and shifts, folds and padding are local.
    """
    shape, n = x[0].shape, x[0].size
    m = -(-n // PACK) * PACK
    a, b = _a2b_inputs(s, (x[0].reshape(-1), x[1].reshape(-1)))
    p = xor(a, b)
    gt, pt = _shl1_padded(and_(s, a, b), m), _shl1_padded(p, m)
    for level, mask in enumerate(FOLD_MASKS):
        pt, gt = _tree_level(s, pt, gt, 1 << level, mask, last=level == len(FOLD_MASKS) - 1)
    top = shr(p, 63)
    return ((top[0] ^ _unfold(gt[0])[:n]).reshape(shape),
            (top[1] ^ _unfold(gt[1])[:n]).reshape(shape))


def bit2a(s: Session, b: Shares) -> Shares:
    """Bits (0/1 in bit 0 of each word, boolean-shared) → arithmetic 0/1 sharing.

    Party 0 knows t = b0 ^ b1 and inputs it; b2 is known to parties 1 and 2;
    b = t + b2 - 2*t*b2. Two rounds, 24 bytes per element in total.
    """
    b = (b[0] & ONE, b[1] & ONE)
    t = rep.share(s, (b[0] ^ b[1]) if s.rank == 0 else None, owner=0,
                  shape=np.broadcast_shapes(b[0].shape, b[1].shape))
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
    v = share_xor(s, (np.uint64(0) - x1 - x2) if s.rank == 1 else None, owner=1,
                  shape=shape)
    p, g = _add(s, x, v)
    y = xor(p, shl(g, 1))
    # open y (= x0) to parties 0 and 2: 0 needs component 2 (from 1), 2 needs component 1 (from 0)
    s.rounds += 1
    if s.rank == 0:
        s.send(2, y[1])
        x0 = y[0] ^ y[1] ^ s.recv(1, y[1].shape)
        return x0, x1
    if s.rank == 1:
        s.send(0, y[1])
        return x1, x2
    x0 = y[0] ^ y[1] ^ s.recv(0, y[1].shape)
    return x2, x0
