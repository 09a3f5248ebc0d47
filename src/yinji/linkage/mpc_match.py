"""MPC-mode matching: Dice similarity and the threshold test inside the 3-party replicated
secret-sharing engine (yinji.mpc), so that no party ever sees another party's encodings.

Parties (session ranks): 0 = data owner A, 1 = data owner B, 2 = the receiver (e.g. the
group's compliance node), which has no records and does not know the encoding key.

  1. Each owner shuffles its records (private permutation), computes its plain CLK filters
     (L bits) and keyed blocking tokens (as in linkage-unit mode) and sends only the tokens
     to the receiver, which computes the candidate pairs (ia, ib) and sends them to both
     owners (the MPC needs public gather indices).
  2. Each owner secret-shares its filters as 0/1 ring elements plus each filter's popcount
     (which it knows in the clear) — one extra column, no extra round.
  3. For every candidate pair the parties compute c = |A∩B| = Σ_l A_l·B_l: the replicated
     product's local parts are summed over l *before* resharing, so the whole inner product
     costs one reshared ring element per pair (one round, 8 bytes per pair per party), like
     one entry of a matrix product. Everything after is linear in shares: on balanced
     encodings the intersection is c' = 2c + L - |A| - |B| and |A'|+|B'| = 2L (public); on
     plain ones num = 2c, den = |A|+|B|. The threshold test needs no division:
     flag = [num·10^4 - t·10^4·den ≥ 0], one secure comparison per pair.
  4. flag and flag·num (and flag·den on plain encodings) are opened to the receiver only;
     it runs the same one-to-one step (margin rule, then greedy) as the linkage unit, on
     the opened pairs only, so both modes give the same links on the same candidates and
     the step adds no leakage. Optionally it secret-shares the final 0/1 link
     flag of every candidate pair for a following joint computation (aml.py).

Cost for m candidate pairs and L-bit filters: sharing n·(L+1) ring elements per owner;
locally 2·m·L 64-bit multiply-adds per party; ~1 + 10 + 1 + 1 rounds and ~170 bytes per pair.

Adversary model: semi-honest, honest majority (no two parties collude; the receiver in
particular does not collude with an owner, who holds the key). Leakage: owners learn the
other owner's record count and the candidate pairs (`match.unit_candidates`: blocks within
the size-aware cap, over-cap blocks split by the partner pass) — for each of their own
records, which of the other's (shuffled, opaque) record tokens share a blocking key (or a
key and its partner key) with it, i.e. block sizes; nothing about the other's encodings (every array an owner receives is a share
component masked by a PRG stream it does not hold, or the candidate index list). The
receiver learns both owners' blocking tokens (as the linkage unit would), which candidate
pairs are at or above the threshold and their Dice coefficients — never encodings or the
similarity of pairs below the threshold. The links are the receiver's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.linkage.blocking import refine_partners
from yinji.linkage.encoding import Record, Schema
from yinji.linkage.match import (
    MAX_RECORDS,
    SCALE,
    LinkTable,
    greedy_one_to_one,
    prepare,
    threshold_units,
    unit_candidates,
)
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session
from yinji.net.expect import recv_array, recv_count
from yinji.net.workers import Workers

OWNER_A, OWNER_B, RECEIVER = 0, 1, 2


@dataclass
class MpcLinkOutput:
    """One party's result. `ia`, `ib` (candidate pairs) are known to all three parties;
    `links` only to the receiver; `order` (token → own record) only to an owner;
    `link_flags` are shares of the final 0/1 link flag of each candidate pair."""

    ia: np.ndarray
    ib: np.ndarray
    links: LinkTable | None = None
    order: np.ndarray | None = None
    link_flags: Shares | None = None
    sizes: tuple[int, int] = (0, 0)


def mpc_link(s: Session, records: Sequence[Record] | None, schema: Schema,
             key: bytes | None, *, share_links: bool = True, chunk: int = 4096,
             workers: Workers | None = None) -> MpcLinkOutput:
    """Run MPC-mode matching as party `s.rank` (owners pass records and key; the receiver
    passes None for both). `workers`: where an owner encodes its chunks (match.prepare)."""
    owner = s.rank in (OWNER_A, OWNER_B)
    if owner and (records is None or key is None):
        raise ValueError("a data owner must supply its records and the encoding key")
    if not owner and (records is not None or key is not None):
        raise ValueError("the receiver must not hold records or the encoding key")
    size = schema.size

    # 1. blocking tokens to the receiver, candidates back
    prep = prepare(records, schema, key, workers=workers) if owner else None  # type: ignore[arg-type]
    s.rounds += 2
    if owner:   # the sizes first: at most n_a x n_b candidates come back
        s.send(RECEIVER, prep.tokens)
        n_own = len(prep.order)
        s.send(1 - s.rank, np.array([n_own], dtype=np.int64))
        n_other = recv_count(s.chan(1 - s.rank), "its record count", MAX_RECORDS)
        cand = recv_array(s.chan(RECEIVER), "the candidate pairs", np.int64, (2, None),
                          most=n_own * n_other)
        ia, ib = cand[0], cand[1]
        sizes = (n_own, n_other) if s.rank == OWNER_A else (n_other, n_own)
    else:
        passes = len(refine_partners(schema))
        tok_a, tok_b = (recv_array(s.chan(o), "its blocking tokens", np.uint64, (None, passes),
                                   most=MAX_RECORDS) for o in (OWNER_A, OWNER_B))
        ia, ib = unit_candidates(tok_a, tok_b, schema)
        cand = np.stack([ia, ib]).astype(np.int64)
        s.send(OWNER_A, cand)
        s.send(OWNER_B, cand)
        sizes = (len(tok_a), len(tok_b))
    m = len(ia)

    # 2. filters and popcounts, secret-shared by their owners
    mine = None
    if owner:
        mine = np.empty((n_own, size + 1), dtype=np.uint64)
        mine[:, :size] = prep.bits
        mine[:, size] = prep.bits.sum(axis=1, dtype=np.uint64)
    xa = rep.share(s, mine if s.rank == OWNER_A else None, OWNER_A, (sizes[0], size + 1))
    xb = rep.share(s, mine if s.rank == OWNER_B else None, OWNER_B, (sizes[1], size + 1))

    # 3. c = |A∩B| per pair: local inner-product parts, one reshare
    z = np.empty(m, dtype=np.uint64)
    b_sum = xb[0][:, :size] + xb[1][:, :size]
    for lo in range(0, m, chunk):
        a_, b_ = ia[lo:lo + chunk], ib[lo:lo + chunk]
        part = (xa[0][a_, :size] * b_sum[b_]).sum(axis=1, dtype=np.uint64)
        part += (xa[1][a_, :size] * xb[0][b_, :size]).sum(axis=1, dtype=np.uint64)
        z[lo:lo + chunk] = part
    z += s.zero_share(z.shape)
    c = rep.reshare(s, z)
    pa = (xa[0][ia, size], xa[1][ia, size])
    pb = (xb[0][ib, size], xb[1][ib, size])
    opened = open_above_threshold(s, schema, c, pa, pb, m, size)
    out = MpcLinkOutput(ia, ib, sizes=sizes, order=prep.order if owner else None)
    cols = None if opened is None else \
        opened.view(np.int64).reshape(2 if schema.balanced else 3, m).T
    return finish_links(s, out, schema, cols, size, share_links)


def finish_links(s: Session, out: MpcLinkOutput, schema: Schema, opened: np.ndarray | None,
                 size: int, share_links: bool) -> MpcLinkOutput:
    """Step 5: the receiver runs the margin rule and the one-to-one step on the opened
    (flag, num[, den]) columns of the m candidate pairs (None at the owners); the final
    0/1 link flag of each pair is secret-shared if `share_links`."""
    ia, ib, m = out.ia, out.ib, len(out.ia)
    linked = None
    if s.rank == RECEIVER:
        assert opened is not None
        f = opened[:, 0] == 1
        den = np.full(m, 2 * size, np.int64) if schema.balanced else opened[:, 2]
        out.links = greedy_one_to_one(ia[f], ib[f], opened[f, 1], den[f], schema.margin)
        linked = np.zeros(m, dtype=np.uint64)
        code = ia.astype(np.int64) * max(out.sizes[1], 1) + ib
        lcode = out.links.a * max(out.sizes[1], 1) + out.links.b
        linked[np.isin(code, lcode)] = 1
    if share_links:
        out.link_flags = rep.share(s, linked, RECEIVER, (m,))
    return out


def open_above_threshold(s: Session, schema: Schema, c: Shares, pa: Shares, pb: Shares, m: int,
                         size: int) -> np.ndarray | None:
    """Steps 3-4 for m candidate pairs, from the shared |A∩B| (c) and popcounts (pa, pb):
    Dice's numerator and denominator (balanced filters: 2(2c + L - a - b) over 2L), the
    shared flag [Dice >= threshold], and flag, flag·num (and flag·den) opened to the
    receiver only: its (1 + values) x m words, concatenated; None at the other parties."""
    two = np.uint64(2)
    if schema.balanced:  # num = 2(2c + L - a - b), den = 2L
        lpub = rep.public(s, np.full(m, size, dtype=np.uint64))
        num = tuple(two * (two * c[i] + lpub[i] - pa[i] - pb[i]) for i in range(2))
        den = rep.public(s, np.full(m, 2 * size, dtype=np.uint64))
    else:
        num = (two * c[0], two * c[1])
        den = (pa[0] + pb[0], pa[1] + pb[1])
    sc, tu = np.uint64(SCALE), np.uint64(threshold_units(schema))
    diff = (num[0] * sc - den[0] * tu, num[1] * sc - den[1] * tu)
    flag = cmp.one_minus(s, cmp.ltz(s, diff)) if m else diff
    values = [num] if schema.balanced else [num, den]
    masked = rep.mul(s, (np.concatenate([flag[0]] * len(values)),
                         np.concatenate([flag[1]] * len(values))),
                     (np.concatenate([v[0] for v in values]),
                      np.concatenate([v[1] for v in values])))
    return rep.reveal_to(s, (np.concatenate([flag[0], masked[0]]),
                             np.concatenate([flag[1], masked[1]])), RECEIVER)
