"""Hidden-intersection join for the SQL engine: the scalable join of two companies' tables on
their unique keys, used only when the query's policy allows the join size to be revealed
(`allow={"join_size"}`); otherwise the engine uses the oblivious equality-matrix join
(context.py), which reveals nothing but costs n*m comparisons.

The steps follow `yinji.psi.join` (Mohassel, Rindal & Rosulek, CCS 2020 style, tokens
revealed to a helper after an oblivious shuffle), generalised to any two owners among the
three compute parties, with the third as the helper H:
1. owner A draws a fresh 32-byte token key K and sends it to owner B (H never sees it);
   each owner shares its rows with a 128-bit keyed BLAKE2b token of the join key (a NULL
   key gets a random token, so it matches nothing);
2. the pooled rows [token | 1 | A's columns | 0 | 0] over [token | 0 | 0 | 1 | B's columns]
   are shuffled obliviously (yinji.mpc.shuffle: no single party knows the permutation);
3. the tokens are opened to H only; H sends the position pairs of equal tokens to A and B;
4. INNER JOIN: each pair's two rows are added -- the context is the |A∩B| joined rows.
   LEFT JOIN: a pair's first row becomes the sum and its second row zeros (flags too);
   every pooled row stays, alive = the A flag, and the B flag is the validity of B's
   columns (NULL where unmatched).

Adversary model: semi-honest, honest majority (no two compute parties collude; if H
colludes with A or B it learns K and so A∩B).
Leakage: all three compute parties learn |A∩B| (the number of pairs) -- the join size the
policy allowed; H also sees the tokens (PRF values under a fresh key it does not know) in
a random order; pair positions refer to that random order, so nobody learns which rows
matched. Everything else stays shared.
"""

from __future__ import annotations

import secrets

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.net.expect import recv_array
from yinji.psi.join import TokenCollision, match_pairs
from yinji.sql.context import Context, share_table
from yinji.sql.parse import Query
from yinji.sql.schema import SqlError

KEY_BYTES = 32


def use_hidden_join(s: Session, q: Query, allow: frozenset[str]) -> bool:
    """The hidden join applies to one join of two declared unique keys of tables owned by two
    different compute parties, and only when the join size may be revealed."""
    if "join_size" not in allow or len(q.joins) != 1:
        return False
    j = q.joins[0]
    a, b = q.table(j.left[0]), q.table(j.right[0])
    keyed = all(t.key is not None and t.key.lower() == c.lower()
                for t, c in ((a, j.left[1]), (b, j.right[1])))
    return keyed and not a.parts and not b.parts and a.owner != b.owner \
        and a.owner in s.names and b.owner in s.names


def token_key(s: Session, q: Query) -> bytes:
    """Step 1: A's fresh key, sent to B over their channel; b"" at the helper."""
    j = q.joins[0]
    a, b = q.table(j.left[0]).owner, q.table(j.right[0]).owner
    if s.party.name == a:
        key = secrets.token_bytes(KEY_BYTES)
        s.party.channel(b).send_bytes(key)
        return key
    if s.party.name == b:
        key = s.party.channel(a).recv_bytes_at_most(KEY_BYTES)
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise SqlError(f"{a} sent a malformed join token key")
        return key
    return b""


def _block(shared: dict, skip: tuple) -> tuple[list, list[int], tuple[np.ndarray, np.ndarray]]:
    specs = [k for k in shared if k != skip]
    widths = [1 if shared[k].ndim == 1 else shared[k].shape[1] for k in specs]
    n = shared[skip].shape[0]
    mats = tuple(np.concatenate([np.zeros((n, 0), np.uint64)]
                                + [shared[k].shares[i].reshape(n, -1) for k in specs], axis=1)
                 for i in range(2))
    return specs, widths, mats


def hidden_join_context(s: Session, q: Query, key: bytes, string_key: bytes) -> Context:
    j = q.joins[0]
    (aa, ac), (ba, bc) = j.left, j.right
    ta, tb = q.table(aa), q.table(ba)
    tok = ("token", ac, None), ("token", bc, None)
    sa = share_table(s, ta, q.needed[aa] | {tok[0]}, string_key, key if s.party.name == ta.owner else b"")
    sb = share_table(s, tb, q.needed[ba] | {tok[1]}, string_key, key if s.party.name == tb.owner else b"")
    specs_a, wa, ma = _block(sa, tok[0])
    specs_b, wb, mb = _block(sb, tok[1])
    na, nb = ta.rows, tb.rows
    da, db = ma[0].shape[1], mb[0].shape[1]
    one_a = rep.public(s, np.ones((na, 1), np.uint64))
    one_b = rep.public(s, np.ones((nb, 1), np.uint64))
    pooled = tuple(np.concatenate([
        np.concatenate([sa[tok[0]].shares[i], one_a[i], ma[i], np.zeros((na, 1 + db), np.uint64)], axis=1),
        np.concatenate([sb[tok[1]].shares[i], np.zeros((nb, 1 + da), np.uint64), one_b[i], mb[i]], axis=1),
    ]) for i in range(2))
    pooled = shuffle_rows(s, pooled, overwrite=True)
    pairs = _pairs(s, pooled, na + nb, {ta.owner, tb.owner})
    p, r = pairs[:, 0], pairs[:, 1]
    if j.kind == "inner":
        rows = tuple(c[p, 2:] + c[r, 2:] for c in pooled)
        n = len(pairs)
        alive = SharedTensor.public(s, np.ones(n, np.int64), 0)
    else:
        rows = tuple(c[:, 2:].copy() for c in pooled)
        for c in rows:  # a pair's first row becomes the joined row, its second row empty
            c[p] += c[r]
            c[r] = 0
        n = na + nb
        alive = SharedTensor(s, (rows[0][:, 0].copy(), rows[1][:, 0].copy()), 0)
    cols: dict[tuple, SharedTensor] = {}
    pos = 1
    for alias, specs, widths, shared in ((aa, specs_a, wa, sa), (ba, specs_b, wb, sb)):
        for k, w in zip(specs, widths, strict=True):
            part = (rows[0][:, pos:pos + w], rows[1][:, pos:pos + w])
            if shared[k].ndim == 1:
                part = (part[0][:, 0].copy(), part[1][:, 0].copy())
            cols[(alias,) + k] = SharedTensor(s, (np.ascontiguousarray(part[0]),
                                                  np.ascontiguousarray(part[1])), shared[k].frac_bits)
            pos += w
        pos += 1  # the next block's flag
    if j.kind == "left":
        flag_b = SharedTensor(s, (rows[0][:, 1 + da].copy(), rows[1][:, 1 + da].copy()), 0)
        for k in specs_b:
            if k[0] == "raw" and (ba, "valid", k[1], None) not in cols:
                cols[(ba, "valid", k[1], None)] = flag_b
    return Context(n, cols, alive, [aa, ba], {"join_size": len(pairs)})


def _pairs(s: Session, pooled: rep.Shares, n: int, owners: set[str]) -> np.ndarray:
    """Step 3: tokens opened to the helper, which sends the equal-token position pairs."""
    helper = next(r for r in range(3) if s.names[r] not in owners)
    tok = rep.reveal_to(s, (pooled[0][:, :2].copy(), pooled[1][:, :2].copy()), helper)
    if s.rank == helper:
        try:
            pairs = match_pairs(tok)
        except TokenCollision:
            pairs = np.full((1, 2), -1, np.int64)
        for r in range(3):
            if r != helper:
                s.send(r, pairs)
    else:   # at most n // 2 disjoint pairs, or the one-row failure signal
        pairs = recv_array(s.chan(helper), "the match list", np.int64, (None, 2),
                           most=max(n // 2, 1), error=SqlError)
    if len(pairs) and pairs[0, 0] < 0:
        raise SqlError("join keys repeat: a declared unique key holds duplicates")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n or len(np.unique(pairs)) != pairs.size):
        raise SqlError("malformed match list from the join helper")
    return pairs.astype(np.int64)


__all__ = ["hidden_join_context", "token_key", "use_hidden_join"]
