"""Hidden-intersection join: the shared customers' rows of two data owners, aligned as a
secret-shared table, without anyone learning who the shared customers are (in the spirit of
Mohassel, Rindal & Rosulek, "Fast Database Joins and PSI for Secret Shared Data", CCS 2020,
with tokens revealed to a helper after an oblivious shuffle).

Parties: the three MPC parties of one `Session` — data owners A (rank 0) and B (rank 1) and
the helper C (rank 2), who holds no data.

1. A draws a fresh token key K (32 bytes) and sends it to B over their channel; C never sees
   it. Each owner computes a token t(x) = BLAKE2b-K(x) (`token_words` x 64 bits) of each of
   its (unique, prepared) keys.
2. A secret-shares the rows [t(x) | A's features | 0 ... 0] and B the rows
   [t(y) | 0 ... 0 | B's features] (features in fixed point with `frac_bits`); the zero
   blocks are public and cost nothing.
3. The nA + nB rows are shuffled obliviously (`SharedTensor.shuffle`: no single party
   knows the permutation).
4. The token columns are revealed to C only. A customer held by both owners shows up as two
   equal tokens; C sends the list of position pairs (p, q) to A and B.
5. Every party adds rows p and q of its shares (A's row has zeros where B's row has
   features, and vice versa): the result is a sharing of [A's features | B's features] for
   each shared customer, in an order that is random to everyone.

Returns a `SharedTensor` of shape (|A∩B|, dA + dB) to each of the three parties.

Tokens: with 64-bit tokens (token_words=1), the chance that some key of A and some other key
of B collide is about nA·nB/2^64: 5e-10 at 10^5 x 10^5, 5e-8 at 10^6 x 10^6, 5e-6 at
10^7 x 10^7 (a false match joins two different customers); token_words=2 (the default) makes
it below 2^-80 at any practical size, for one more column in the shuffle. A collision inside
one side's tokens (or a duplicate key) is detected by C and the run fails.

Adversary model: semi-honest; honest majority among A, B, C (no two collude). If C colludes
with A or B, it learns K and so which tokens belong to which customers, i.e. A∩B.

Leakage:
- C learns nA + nB and |A∩B| (the number of equal token pairs), and the tokens: PRF values
  under a key it does not know, fresh per run, so they say nothing else; it does not learn
  which row of A or B a position came from.
- A and B learn nA, nB, dA, dB (public shapes) and |A∩B| (the number of pairs). The pair
  positions refer to the shuffled order, which is uniformly random and unknown to each of
  them, so they say nothing about which of their rows matched; every other message they
  receive is masked by randomness they do not know.
- The output stays secret-shared; only what is later revealed from it is learnt.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.ring import encode
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.net.expect import recv_array, recv_bytes
from yinji.psi.keys import PreparedKeys

KEY_BYTES = 32


class TokenCollision(RuntimeError):
    """More than two rows carry the same token (a duplicate key or a hash collision)."""


def tokens(keys: Sequence[bytes], key: bytes, words: int) -> np.ndarray:
    """BLAKE2b keyed tokens, (n, words) uint64."""
    size = 8 * words
    out = bytearray(len(keys) * size)
    base = hashlib.blake2b(key=key, digest_size=size, person=b"yinji-psi-join")
    pos = 0
    for k in keys:
        h = base.copy()
        h.update(k)
        out[pos:pos + size] = h.digest()
        pos += size
    return np.frombuffer(bytes(out), dtype=np.uint64).reshape(-1, words).copy()


def match_pairs(tok: np.ndarray) -> np.ndarray:
    """Position pairs (p, q), p < q, of equal rows of `tok` (n, w) uint64; sorted by p.
    Raises `TokenCollision` if a token occurs more than twice."""
    n = tok.shape[0]
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    v = np.ascontiguousarray(tok).view(f"V{8 * tok.shape[1]}").ravel()
    order = np.argsort(v, kind="stable")
    sv = v[order]
    same = sv[1:] == sv[:-1]
    if np.any(same[1:] & same[:-1]):
        raise TokenCollision("a token occurs three or more times")
    idx = np.flatnonzero(same)
    pairs = np.stack([order[idx], order[idx + 1]], axis=1).astype(np.int64)
    pairs.sort(axis=1)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


MAX_ROWS = 1 << 31      # a peer's announced shape is checked against these before any
MAX_COLUMNS = 1 << 16   # allocation (a malformed shape must not exhaust memory)


def hidden_join(session: Session, keys: PreparedKeys | Sequence[bytes] | None = None,
                features: np.ndarray | None = None, *, frac_bits: int | None = None,
                token_words: int = 2) -> SharedTensor:
    """Secret-shared inner join of A's and B's feature rows on their keys (module docstring).

    Owners (ranks 0 and 1) pass their prepared unique `keys` and `features` ((n, d) array,
    one row per key, same order); the helper (rank 2) passes neither. Returns each party's
    shares of the (|A∩B|, dA + dB) joined table, fixed point with `frac_bits` (the
    session's by default; 0 for integer features).
    """
    s = session
    f = s.frac_bits if frac_bits is None else frac_bits
    w = token_words
    table, (na, _), (nb, _) = pooled_table(
        s, keys, features, w,
        lambda x: encode(x, f) if f else x.astype(np.int64).view(np.uint64))
    table = shuffle_rows(s, table, overwrite=True)  # the concatenation is ours
    pairs = matched_pairs(s, table, w, na + nb)
    p, q = pairs[:, 0], pairs[:, 1]
    joined = tuple(c[p, w:] + c[q, w:] for c in table)
    return SharedTensor(s, joined, f)


def pooled_table(s: Session, keys: PreparedKeys | Sequence[bytes] | None,
                 features: np.ndarray | None, w: int,
                 encode_rows: Callable[[np.ndarray], np.ndarray], extra: int = 0,
                 ) -> tuple[rep.Shares, tuple[int, int], tuple[int, int]]:
    """Steps 1-2 (also `yinji.psi.join_back`): checks, public shapes, the owners' token key,
    and the shares of the pooled (nA + nB, w + width_A + width_B) table [t | A's row | 0]
    over [t | 0 | B's row], where a row is `encode_rows(features)`: uint64, `extra` columns
    wider than the features. Returns it with (nA, dA) and (nB, dB), in feature columns."""
    if w not in (1, 2):
        raise ValueError("token_words must be 1 or 2")
    if s.rank < 2:
        if keys is None or features is None:
            raise ValueError(f"data owner {s.party.name} must pass keys and features")
        klist = keys.keys if isinstance(keys, PreparedKeys) else list(keys)
        if len(set(klist)) != len(klist):
            raise ValueError("keys must be unique (use prepare_keys)")
        feats = np.asarray(features)
        if feats.ndim == 1:
            feats = feats.reshape(-1, 1)
        if feats.shape[0] != len(klist):
            raise ValueError(f"{len(klist)} keys but {feats.shape[0]} feature rows")
        # Shapes are public: tell the other owner and the helper.
        shape = np.array(feats.shape, dtype=np.int64)
        s.send(1 - s.rank, shape)
        s.send(2, shape)
        other = _recv_shape(s, 1 - s.rank)
        if s.rank == 0:
            token_key = secrets.token_bytes(KEY_BYTES)
            s.chan(1).send_bytes(token_key)
        else:
            token_key = recv_bytes(s.chan(0), "a token key", KEY_BYTES, exact=True)
        rows = encode_rows(feats)
        assert rows.shape == (feats.shape[0], feats.shape[1] + extra)
        raw = np.concatenate([tokens(klist, token_key, w), rows], axis=1)
        shapes = {s.rank: tuple(feats.shape), 1 - s.rank: other}
    else:
        if keys is not None or features is not None:
            raise ValueError(f"the helper {s.party.name} holds no data")
        shapes = {0: _recv_shape(s, 0), 1: _recv_shape(s, 1)}
        raw = None
    (na, da), (nb, db) = shapes[0], shapes[1]
    wa, wb = da + extra, db + extra
    xa = rep.share(s, raw if s.rank == 0 else None, 0, (na, w + wa))
    xb = rep.share(s, raw if s.rank == 1 else None, 1, (nb, w + wb))

    def widen(x: rep.Shares, left: int, right: int) -> rep.Shares:
        n = x[0].shape[0]
        return tuple(np.concatenate([c[:, :w], np.zeros((n, left), np.uint64), c[:, w:],
                                     np.zeros((n, right), np.uint64)], axis=1) for c in x)

    pa, pb = widen(xa, 0, wb), widen(xb, wa, 0)
    return (np.concatenate([pa[0], pb[0]]), np.concatenate([pa[1], pb[1]])), \
        (na, da), (nb, db)


def matched_pairs(s: Session, table: rep.Shares, w: int, n: int) -> np.ndarray:
    """Step 4 (also `yinji.psi.join_back`): the token columns of the shuffled table opened to
    the helper, which sends both owners the (k, 2) positions of equal tokens; checked here."""
    tok = rep.reveal_to(s, (table[0][:, :w].copy(), table[1][:, :w].copy()), 2)
    if s.rank == 2:
        try:
            pairs = match_pairs(tok)
        except TokenCollision:
            pairs = np.full((1, 2), -1, dtype=np.int64)  # tell the owners the run failed
        s.send(0, pairs)
        s.send(1, pairs)
    else:   # at most n // 2 disjoint pairs, or the one-row failure signal
        pairs = recv_array(s.chan(2), "the match list", np.int64, (None, 2),
                           most=max(n // 2, 1))
    if len(pairs) and pairs[0, 0] < 0:
        raise TokenCollision("the helper found a token three or more times "
                             "(duplicate keys or a token collision)")
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n
                       or len(np.unique(pairs)) != pairs.size):
        raise ValueError("malformed match list from the helper")
    return pairs


def _recv_shape(s: Session, rank: int) -> tuple[int, int]:
    """The (rows, columns) the owner of `rank` announces: two int64, refused unread past."""
    return _peer_shape(recv_array(s.chan(rank), "its table shape", np.int64, (2,)),
                       s.names[rank])


def _peer_shape(got: np.ndarray, who: str) -> tuple[int, int]:
    if not isinstance(got, np.ndarray) or got.shape != (2,) or got.dtype.kind not in "iu" \
            or not (0 <= got[0] <= MAX_ROWS and 0 <= got[1] <= MAX_COLUMNS):
        raise ValueError(f"{who} sent a malformed table shape")
    return int(got[0]), int(got[1])


__all__ = ["TokenCollision", "hidden_join", "match_pairs", "matched_pairs", "pooled_table",
           "tokens"]
