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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.mpc.ring import encode
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows_recorded, unshuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.psi.join import matched_pairs, pooled_table
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
                features: np.ndarray | None = None, *, token_words: int = 2,
                frac_bits: int | None = None) -> OwnersJoin:
    """Join A's and B's feature rows on their keys, keeping every row (module docstring).
    Owners pass unique `keys` and `features` ((n, d) floats, one row per key); the helper
    passes neither. Features are shared in the session's fixed point, or with `frac_bits`
    (0: integer features such as 0/1 indicators, shared exactly)."""
    s = session
    f = s.frac_bits if frac_bits is None else frac_bits
    w = token_words
    table, (na, da), (nb, db) = pooled_table(
        s, keys, features, w,
        lambda x: encode(np.concatenate([np.asarray(x, np.float64),
                                         np.ones((len(x), 1))], axis=1), f), extra=1)
    table, record = shuffle_rows_recorded(s, table, overwrite=True)  # the pool is ours
    pairs = matched_pairs(s, table, w, na + nb)
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
