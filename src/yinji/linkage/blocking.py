"""Blocking with keyed blocking keys: candidate pairs without comparing all pairs.

Each data owner turns every record into one 64-bit token per blocking pass: a keyed BLAKE2b
hash (key derived from the owners' secret) of a blocking-key value — e.g. the pinyin initials
of the name plus the birth year (`initials+year`), the birth date, the phone number — or of
the bits of its own plain Bloom filter at keyed positions (Hamming LSH, Indyk & Motwani 1998;
for PPRL Karapiperis & Verykios 2015): `lsh` makes `lsh_tables` tokens of `lsh_bits` bits
each, so pairs whose filters differ in few bits collide in some table with high probability.

Whoever computes candidates (the linkage unit, or the MPC helper) receives only tokens.
`candidate_pairs` is a sort-based hash join, O((n_a + n_b) log n + pairs); a block with more
pairs than the cap (a huge common-name block) is not compared whole: with `partners`
(`refine_partners`: the schema's `refine_by`, birth date, else initials + birth year) it is
joined again on (token, partner pass's token), and what is still over the cap is dropped —
other passes still cover its records. The cap is size-aware (`block_cap`): the schema's
`max_block_pairs` up to `scale_from` records a side, `min_block_pairs` beyond, so that
candidates grow ~linearly with the files instead of with the square of the blocks.

Adversary model: the receiver of tokens is semi-honest and does not know the key. Leakage:
equality of blocking keys between records, i.e. block sizes per pass and which records
share a block; not the key values themselves (a dictionary attack needs the key). The cap
and the refinement are computed from these tokens and the record counts, which the
receiver holds anyway; they add nothing to what it learns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yinji.crypto.prg import Prg
from yinji.linkage import normalise as nz
from yinji.linkage.encoding import Record, Schema, subkey


def _initials_year(schema: Schema, rec: Record) -> str | None:
    f = schema.field("name")
    d = schema.field("dob")
    toks = nz.name_tokens(f.value(rec)) if f else []
    date = nz.date_parts(d.value(rec)) if d else None
    if not toks or date is None:
        return None
    return "".join(sorted(t[0] for t in toks)) + date[0]


def _name(schema: Schema, rec: Record) -> str | None:
    f = schema.field("name")
    toks = nz.name_tokens(f.value(rec)) if f else []
    return " ".join(toks) or None


def _dob(schema: Schema, rec: Record) -> str | None:
    d = schema.field("dob")
    parts = nz.date_parts(d.value(rec)) if d else None
    return "".join(parts) if parts else None


def _norm(kind: str, fname: str):  # noqa: ANN202
    def get(schema: Schema, rec: Record) -> str | None:
        f = schema.field(fname)
        if f is None:
            return None
        v = {"phone": nz.phone_digits, "id": nz.id_number, "digits": nz.digits}.get(
            kind, lambda x: nz.text(x))(f.value(rec))
        return v if len(v) >= 4 else None
    return get


PASSES = {
    "initials+year": _initials_year,
    "name": _name,
    "dob": _dob,
    "phone": _norm("phone", "phone"),
    "id": _norm("id", "id_number"),
}


def keyed_token(key: bytes, label: str, value: bytes) -> int:
    """A blocking token: keyed BLAKE2b of `value` under `label`, 64 bits, never 0 (0 means
    "no key")."""
    t = int.from_bytes(hashlib.blake2b(value, key=key, digest_size=8,
                                       person=label.encode()[:16]).digest(), "little")
    return t or 1  # 0 means "no key"


def blocking_tokens(records: Sequence[Record], bits: np.ndarray, schema: Schema,
                    key: bytes) -> np.ndarray:
    """Tokens (n, passes) uint64 for the schema's blocking passes; 0 where a record has no
    key for a pass. `bits` are the owner's plain filters (for `lsh`)."""
    bkey = subkey(key, "blocking")
    cols: list[np.ndarray] = []
    for p in schema.blocking:
        if p == "lsh":
            cols += list(lsh_tokens(bits, schema, key).T)
            continue
        parts = p.split("+") if p not in PASSES else [p]
        if any(x not in PASSES for x in parts):
            raise ValueError(f"unknown blocking pass {p!r} (known: lsh, {', '.join(PASSES)})")
        col = np.zeros(len(records), dtype=np.uint64)
        for i, rec in enumerate(records):
            vals = [PASSES[x](schema, rec) for x in parts]
            if all(v is not None for v in vals):
                col[i] = keyed_token(bkey, p, "\x1f".join(vals).encode())  # type: ignore[arg-type]
        cols.append(col)
    if not cols:
        return np.zeros((len(records), 0), dtype=np.uint64)
    return np.stack(cols, axis=1)


def lsh_positions(schema: Schema, key: bytes) -> np.ndarray:
    """(tables, bits) keyed sample of filter positions for Hamming LSH."""
    prg = Prg(subkey(key, "blocking/lsh-positions", 16))
    return np.stack([np.argsort(prg.uint64(schema.size), kind="stable")[: schema.lsh_bits]
                     for _ in range(schema.lsh_tables)])


def lsh_tokens(bits: np.ndarray, schema: Schema, key: bytes) -> np.ndarray:
    """(n, tables) keyed tokens of the filter bits at each table's positions; 0 for an
    empty filter. Token = AES_k(table || bits) (a keyed PRP through OpenSSL), truncated to
    64 bits: one OpenSSL call for all records and tables."""
    if schema.lsh_bits > 64:
        raise ValueError("lsh_bits must be at most 64")
    pos = lsh_positions(schema, key)
    n, t = bits.shape[0], len(pos)
    weights = np.uint64(1) << np.arange(schema.lsh_bits, dtype=np.uint64)
    vals = np.empty((n, t), dtype=np.uint64)
    for s in range(0, n, 2048):   # (rows, t, bits) uint64 temporaries: ~9 KB per row
        vals[s:s + 2048] = (bits[s:s + 2048, pos].astype(np.uint64) * weights).sum(
            axis=2, dtype=np.uint64)
    blocks = np.empty((n, t, 2), dtype=np.uint64)
    blocks[:, :, 0] = np.arange(t, dtype=np.uint64)
    blocks[:, :, 1] = vals
    aes = Cipher(algorithms.AES(subkey(key, "blocking/lsh", 16)), modes.ECB()).encryptor()
    enc = np.frombuffer(aes.update(blocks.tobytes()) + aes.finalize(), dtype=np.uint64)
    out = enc.reshape(n, t, 2)[:, :, 0].copy()
    out[out == 0] = 1
    out[~bits.any(axis=1)] = 0
    return out


def candidate_pairs(tok_a: np.ndarray, tok_b: np.ndarray, max_block_pairs: int = 250_000,
                    partners: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Union over passes of pairs (i, j) whose tokens agree; sorted, without repeats.
    `partners` (`refine_partners`): per pass, the pass whose token splits its blocks over
    `max_block_pairs` (-1 or None: such blocks are dropped)."""
    if tok_a.ndim != 2 or tok_b.ndim != 2 or tok_a.shape[1] != tok_b.shape[1]:
        raise ValueError("token arrays must be (n, passes) with the same number of passes")
    n_b = tok_b.shape[0]
    codes = []
    for p in range(tok_a.shape[1]):
        r = -1 if partners is None else partners[p]
        a, b = tok_a[:, p], tok_b[:, p]
        ia, ib = np.flatnonzero(a), np.flatnonzero(b)
        sub = (tok_a[ia, r], tok_b[ib, r]) if r >= 0 else (None, None)
        parts = list(join_pieces(ia, a[ia], ib, b[ib], max_block_pairs, sub_a=sub[0],
                                 sub_b=sub[1]))
        codes += [pa.astype(np.int64) * n_b + pb for pa, pb in parts]
    allc = np.unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
    return allc // max(n_b, 1), allc % max(n_b, 1)


def refine_partners(schema: Schema) -> list[int]:
    """Per token column (the `lsh` tables expanded), the column whose token splits that
    column's blocks over the cap: the first pass of `schema.refine_by` other than the
    column's own pass; -1 when there is none (over-cap blocks are then dropped)."""
    cols: list[str] = []
    for p in schema.blocking:
        cols += [p] * (schema.lsh_tables if p == "lsh" else 1)
    return [next((cols.index(r) for r in schema.refine_by if r in cols and r != c), -1)
            for c in cols]


def block_cap(schema: Schema, n_a: int, n_b: int) -> int:
    """The pair cap for files of n_a and n_b records: `max_block_pairs` up to
    `schema.scale_from` records on the larger side (small files link as before); beyond,
    `min_block_pairs`: a block then holds at most ~sqrt(cap) records a side, so each pass
    adds at most ~sqrt(cap) candidates per record and candidates grow ~linearly with n,
    while blocks that grow with n (birth dates, common names) are split by `refine_by` or
    dropped (measured in docs/linkage.md, Streaming and Ray)."""
    if max(n_a, n_b) <= schema.scale_from:
        return schema.max_block_pairs
    return min(schema.min_block_pairs, schema.max_block_pairs)


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(31),
        np.uint64(29))


def refined(t: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The key of the finer block (token t of a pass, token s of its partner): equal iff
    both are equal, up to 64-bit collisions of these pseudorandom tokens (a SplitMix64-style
    mixer, a hash-table key with no secrecy role: the unit holds both tokens anyway)."""
    with np.errstate(over="ignore"):
        x = (t.astype(np.uint64) * _MIX[0]) ^ s.astype(np.uint64)
        x ^= x >> _MIX[2]
        x *= _MIX[1]
        x ^= x >> _MIX[3]
    x[x == 0] = 1
    return x


def _blocks(ta: np.ndarray, tb: np.ndarray):  # noqa: ANN202 - internal
    """Sort orders, then the common tokens with their starts and counts on each side."""
    oa = np.argsort(ta, kind="stable")
    ob = np.argsort(tb, kind="stable")
    ua, sa, ca = np.unique(ta[oa], return_index=True, return_counts=True)
    ub, sb, cb = np.unique(tb[ob], return_index=True, return_counts=True)
    common, xa, xb = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    return oa, ob, common, sa[xa], ca[xa], sb[xb], cb[xb]


def over_cap(ta: np.ndarray, tb: np.ndarray, cap: int, sub_a: np.ndarray | None = None,
             sub_b: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The tokens (nonzero) of one pass whose block has more than `cap` pairs; with the
    partner tokens `sub_a`, `sub_b` also the `refined` keys whose finer block is still over
    the cap (returned as a pair)."""
    nz_a, nz_b = ta != 0, tb != 0
    _, _, common, _, ca, _, cb = _blocks(ta[nz_a], tb[nz_b])
    over = common[ca * cb > cap]
    if sub_a is None or sub_b is None:
        return over
    ka, kb = _refine_keys(ta, sub_a, over), _refine_keys(tb, sub_b, over)
    _, _, common, _, ca, _, cb = _blocks(ka[0], kb[0])
    return over, common[ca * cb > cap]


def _refine_keys(t: np.ndarray, sub: np.ndarray, over: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(keys, positions) of the entries in an over-cap block that have a partner token."""
    at = np.flatnonzero((t != 0) & (sub != 0) & np.isin(t, over)) if len(over) \
        else np.zeros(0, np.int64)
    return refined(t[at], sub[at]), at


def join_rows(ia: np.ndarray, ta: np.ndarray, ib: np.ndarray, tb: np.ndarray, n_b: int,
              cap: int) -> np.ndarray:
    """Pair codes i·n_b + j of rows ia[x], ib[y] with equal nonzero tokens ta[x] == tb[y],
    blocks over `cap` pairs left out (one pass; rows given explicitly, so a partition of
    the tokens joins alone: yinji.linkage.stream)."""
    parts = list(join_pieces(ia, ta, ib, tb, cap))
    if not parts:
        return np.zeros(0, np.int64)
    return np.concatenate([pa.astype(np.int64) * n_b + pb for pa, pb in parts])


def join_pieces(ia: np.ndarray, ta: np.ndarray, ib: np.ndarray, tb: np.ndarray, cap: int,
                piece: int = 1 << 62, sub_a: np.ndarray | None = None,
                sub_b: np.ndarray | None = None):  # noqa: ANN201 - Iterator[(ndarray, ndarray)]
    """`join_rows` as (rows a, rows b) pieces of at most `piece` pairs (a large block is
    cut across pieces), so memory follows the piece, not the join or the cap. With partner
    tokens `sub_a`, `sub_b` (aligned with ta, tb), a block over `cap` is not dropped but
    joined again on `refined(token, partner)`, whose blocks over `cap` are dropped."""
    oa, ob, common, sa, ca, sb, cb = _blocks(ta, tb)
    if common.size == 0:
        return
    sizes = ca * cb
    keep = sizes <= cap
    if sub_a is not None and sub_b is not None and not keep.all():
        (ka, at), (kb, bt) = (_refine_keys(ta, sub_a, common[~keep]),
                              _refine_keys(tb, sub_b, common[~keep]))
        yield from join_pieces(ia[at], ka, ib[bt], kb, cap, piece)
    ia, ib = ia[oa], ib[ob]
    sa, cb, sb, sizes = sa[keep], cb[keep], sb[keep], sizes[keep]
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if len(ends) else 0
    for lo in range(0, total, piece):
        g = np.arange(lo, min(lo + piece, total), dtype=np.int64)
        blk = np.searchsorted(ends, g, side="right")
        k = g - (ends[blk] - sizes[blk])
        yield ia[sa[blk] + k // cb[blk]], ib[sb[blk] + k % cb[blk]]
