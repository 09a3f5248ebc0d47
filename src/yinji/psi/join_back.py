"""Hidden-intersection join with a way back: the join of `yinji.psi.join`, keeping every row of
both owners (not only the shared ones) so that a value computed per row on shares can be
returned to the row's owner, in the owner's own row order.

Parties and steps 1-4 are those of `yinji.psi.join.hidden_join` (A rank 0, B rank 1, helper C
rank 2; keyed tokens, secret-shared rows, oblivious shuffle, tokens revealed to C only, C
sends the matched position pairs to A and B). Each owner's block carries one more column, a
presence flag fixed to 1, so that the shuffled table's rows are

    [A's features | hA | B's features | hB]   (the other owner's block all zeros)

5'. For each matched pair (p, q) both rows p and q become the sum of the two: a shared
    customer's row, at both positions, holds both owners' features and hA = hB = 1; a row
    whose customer only one owner holds keeps zeros in the other block and a 0 flag.
6'. `to_owners(values)` undoes the shuffle (`yinji.mpc.shuffle.unshuffle_rows`: the inverse
    permutations, three resharing passes) and opens rows 0..nA-1 to A and rows nA.. to B:
    each owner gets one value row per own row, in its own order, for shared and unshared
    customers alike.

Adversary model: semi-honest, honest majority among A, B, C (as `yinji.psi.join`; if C
colludes with A or B it learns A∩B).

Leakage: that of `hidden_join` (everyone learns nA, nB, dA, dB and |A∩B|; C the tokens of a
fresh PRF key; the pair positions refer to a uniformly random order nobody knows); the
unshuffle adds nothing (every message is masked by a stream its receiver does not know).
What `to_owners` opens is whatever the caller computed: an owner learns its rows' values
only, and whether those reveal which rows are shared is up to that computation.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.ring import encode
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows_recorded, unshuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.psi.join import KEY_BYTES, TokenCollision, match_pairs, tokens
from yinji.psi.keys import PreparedKeys


@dataclass
class OwnersJoin:
    """One party's view of the joined table (every row of both owners, shuffled)."""

    session: Session
    table: SharedTensor       # (nA + nB, dA + 1 + dB + 1): [A | hA | B | hB], pair-summed
    pairs: np.ndarray         # (|A∩B|, 2) positions of the shared customers' two rows
    na: int
    nb: int
    da: int
    db: int
    _record: list[np.ndarray | None]

    @property
    def a_cols(self) -> slice:
        return slice(0, self.da)

    @property
    def b_cols(self) -> slice:
        return slice(self.da + 1, self.da + 1 + self.db)

    @property
    def flags(self) -> SharedTensor:
        """(nA + nB, 2) shares of [hA, hB]: both 1 on a shared customer's rows."""
        t = self.table
        return SharedTensor(t.session, tuple(c[:, [self.da, self.da + 1 + self.db]]
                                             for c in t.shares), t.frac_bits)

    def joined(self) -> SharedTensor:
        """The shared customers' rows [A's features | B's features], one per customer, in
        an order nobody knows (what `hidden_join` returns)."""
        t = self.table
        cols = list(range(self.da)) + list(range(self.da + 1, self.da + 1 + self.db))
        p = self.pairs[:, 0]
        return SharedTensor(t.session, tuple(c[p][:, cols] for c in t.shares), t.frac_bits)

    def to_owners(self, values: SharedTensor, a_cols: Sequence[int] | slice = slice(None),
                  b_cols: Sequence[int] | slice = slice(None)) -> np.ndarray | None:
        """Return per-row `values` ((nA + nB, k), rows in this table's order) to the rows'
        owners: A gets the columns `a_cols` of its nA rows, B the columns `b_cols` of its
        nB rows, each in its own input order; the helper gets None."""
        s = self.session
        if values.shape[0] != self.na + self.nb:
            raise ValueError(f"need one value row per table row ({self.na + self.nb}), got "
                             f"{values.shape[0]}")
        back = unshuffle_rows(s, values.shares, self._record)
        a = SharedTensor(s, tuple(c[: self.na][:, a_cols] for c in back), values.frac_bits)
        b = SharedTensor(s, tuple(c[self.na:][:, b_cols] for c in back), values.frac_bits)
        out_a, out_b = a.reveal_to(0), b.reveal_to(1)
        return out_a if s.rank == 0 else out_b if s.rank == 1 else None


def owners_join(session: Session, keys: PreparedKeys | Sequence[bytes] | None = None,
                features: np.ndarray | None = None, *, token_words: int = 2) -> OwnersJoin:
    """Join A's and B's feature rows on their keys, keeping every row (module docstring).
    Owners pass unique `keys` and `features` ((n, d) floats, one row per key); the helper
    passes neither. Features are shared in the session's fixed point."""
    s = session
    f = s.frac_bits
    if token_words not in (1, 2):
        raise ValueError("token_words must be 1 or 2")
    w = token_words
    if s.rank < 2:
        if keys is None or features is None:
            raise ValueError(f"data owner {s.party.name} must pass keys and features")
        klist = keys.keys if isinstance(keys, PreparedKeys) else list(keys)
        if len(set(klist)) != len(klist):
            raise ValueError("keys must be unique (use prepare_keys)")
        feats = np.asarray(features, dtype=np.float64)
        if feats.ndim == 1:
            feats = feats.reshape(-1, 1)
        if feats.shape[0] != len(klist):
            raise ValueError(f"{len(klist)} keys but {feats.shape[0]} feature rows")
        shape = np.array(feats.shape, dtype=np.int64)
        s.send(1 - s.rank, shape)
        s.send(2, shape)
        other = tuple(int(v) for v in s.recv(1 - s.rank))
        if s.rank == 0:
            token_key = secrets.token_bytes(KEY_BYTES)
            s.chan(1).send_bytes(token_key)
        else:
            token_key = s.chan(0).recv_bytes()
        flagged = np.concatenate([feats, np.ones((len(klist), 1))], axis=1)
        raw = np.concatenate([tokens(klist, token_key, w), encode(flagged, f)], axis=1)
        shapes = {s.rank: tuple(feats.shape), 1 - s.rank: other}
    else:
        if keys is not None or features is not None:
            raise ValueError(f"the helper {s.party.name} holds no data")
        shapes = {0: tuple(int(v) for v in s.recv(0)), 1: tuple(int(v) for v in s.recv(1))}
        raw = None
    (na, da), (nb, db) = shapes[0], shapes[1]
    xa = rep.share(s, raw if s.rank == 0 else None, 0, (na, w + da + 1))
    xb = rep.share(s, raw if s.rank == 1 else None, 1, (nb, w + db + 1))

    def widen(x: rep.Shares, left: int, right: int) -> rep.Shares:
        n = x[0].shape[0]
        return tuple(np.concatenate([c[:, :w], np.zeros((n, left), np.uint64), c[:, w:],
                                     np.zeros((n, right), np.uint64)], axis=1) for c in x)

    wa, wb = widen(xa, 0, db + 1), widen(xb, da + 1, 0)
    table = (np.concatenate([wa[0], wb[0]]), np.concatenate([wa[1], wb[1]]))
    table, record = shuffle_rows_recorded(s, table)
    tok = rep.reveal_to(s, (table[0][:, :w].copy(), table[1][:, :w].copy()), 2)
    if s.rank == 2:
        try:
            pairs = match_pairs(tok)
        except TokenCollision:
            pairs = np.full((1, 2), -1, dtype=np.int64)
        s.send(0, pairs)
        s.send(1, pairs)
    else:
        pairs = s.recv(2)
    if len(pairs) and pairs[0, 0] < 0:
        raise TokenCollision("the helper found a token three or more times "
                             "(duplicate keys or a token collision)")
    if pairs.ndim != 2 or pairs.shape[1] != 2 or (len(pairs) and (
            pairs.min() < 0 or pairs.max() >= na + nb)) or \
            len(np.unique(pairs)) != pairs.size:
        raise ValueError("malformed match list from the helper")
    p, q = pairs[:, 0], pairs[:, 1]
    summed = []
    for c in table:
        body = c[:, w:]
        out = body.copy()
        out[p] += body[q]
        out[q] += body[p]
        summed.append(out)
    return OwnersJoin(s, SharedTensor(s, tuple(summed), f), pairs, na, nb, da, db, record)


__all__ = ["OwnersJoin", "owners_join"]
