"""Matching in linkage-unit mode: Dice similarity over candidate pairs, a threshold, and a
greedy one-to-one assignment (as in anonlink's greedy solver; Christen 2012, ch. 6).

Protocol (parties: two data owners and a linkage unit, e.g. the group's compliance node):
  1. each owner shuffles its records with a private permutation, computes keyed blocking
     tokens and keyed (balanced) CLK encodings, and sends both to the linkage unit;
  2. the linkage unit computes candidate pairs (blocking.py), Dice coefficients, keeps pairs
     at or above the threshold and assigns them one-to-one (highest similarity first); with
     the schema's `margin` > 0 a pair links only if it beats every other above-threshold
     pair of both its records by more than the margin (`unambiguous`): namesakes that
     several records match about equally are left unlinked, which keeps precision as files
     grow (issue #16; docs/linkage.md, "Scaling");
  3. the linkage unit holds the link table: pairs of record tokens (positions in each owner's
     shuffled order), which only the owning party can resolve to its own records.

Adversary model: semi-honest parties; the linkage unit does not know the encoding key and
does not collude with an owner (an owner has the key and could dictionary-attack the other
owner's encodings). Leakage: the linkage unit sees each owner's encodings and blocking
tokens (see encoding.py and blocking.py for what they reveal without the key), hence all
pairwise similarities; owners receive nothing. Both owners learn the other's record count.

Scores are exact integers: a pair links iff 2·|A∩B|·10^4 ≥ t·10^4·(|A|+|B|), with the
threshold t rounded to 4 decimals, so the MPC mode (mpc_match.py) reproduces the same links.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.linkage.blocking import block_cap, blocking_tokens, candidate_pairs, refine_partners
from yinji.linkage.encoding import ClkEncoder, Record, Schema, popcount
from yinji.net.channel import Party
from yinji.net.expect import recv_array
from yinji.net.workers import Workers

SCALE = 10_000  # threshold resolution
MAX_RECORDS = 1 << 24   # records an owner may send in the in-memory modes (larger: streamed)


@dataclass
class LinkTable:
    """Links as record tokens: row r says record a[r] of owner A is record b[r] of owner B
    (indices in the owners' shuffled orders), with Dice coefficient score[r]."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def pairs(self) -> set[tuple[int, int]]:
        return set(zip(self.a.tolist(), self.b.tolist(), strict=True))


@dataclass
class OwnerPrep:
    """What an owner computes locally: its record order (`order[t]` = index of the record
    sent as token t), plain filters and blocking tokens in that order."""

    order: np.ndarray
    bits: np.ndarray
    tokens: np.ndarray


def threshold_units(schema: Schema) -> int:
    return round(schema.threshold * SCALE)


def prepare(records: Sequence[Record], schema: Schema, key: bytes,
            shuffle: bool = True, workers: Workers | None = None,
            chunk: int = 1 << 14) -> OwnerPrep:
    """Owner-side: shuffle (private permutation from the OS CSPRNG), encode, block. With
    `workers` (yinji.net.workers: threads, or Ray tasks when the node names a Ray cluster)
    chunks of `chunk` records are encoded and blocked in parallel; the result is the same,
    since every record's filter and tokens depend on that record and the key only."""
    n = len(records)
    order = np.arange(n)
    if shuffle and n > 1:
        order = np.argsort(np.frombuffer(secrets.token_bytes(8 * n), dtype=np.uint64),
                           kind="stable")
    recs = [records[i] for i in order]
    enc = ClkEncoder(schema, key)
    if workers is None or n <= chunk:
        bits, tokens = encode_chunk(enc, recs, key)
    else:
        parts = workers.map(encode_chunk, [(enc, recs[s:s + chunk], key)
                                           for s in range(0, n, chunk)])
        bits = np.concatenate([p[0] for p in parts])
        tokens = np.concatenate([p[1] for p in parts])
    return OwnerPrep(order, bits, tokens)


def encode_chunk(enc: ClkEncoder, records: Sequence[Record], key: bytes
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Plain filters and blocking tokens of a chunk of records: one piece of work for
    `Workers.map` (a Ray task gets `enc` without its caches)."""
    bits = enc.bits(records)
    tokens = blocking_tokens(records, bits, enc.schema, key)
    enc.trim()
    return bits, tokens


def dice_counts(enc_a: np.ndarray, enc_b: np.ndarray, ia: np.ndarray, ib: np.ndarray,
                chunk: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """(2|A∩B|, |A|+|B|) for candidate pairs over packed filters."""
    pa, pb = popcount(enc_a), popcount(enc_b)
    inter = np.empty(len(ia), dtype=np.int64)
    for s in range(0, len(ia), chunk):
        x, y = enc_a[ia[s:s + chunk]], enc_b[ib[s:s + chunk]]
        inter[s:s + chunk] = np.bitwise_count(x & y).sum(axis=1, dtype=np.int64)
    return 2 * inter, pa[ia] + pb[ib]


def above(num: np.ndarray, den: np.ndarray, schema: Schema) -> np.ndarray:
    """num/den ≥ threshold, in integers."""
    return num * SCALE - threshold_units(schema) * den >= 0


def _runner_up(idx: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per pair: the best score among the *other* pairs that share its record `idx`
    (-inf if none)."""
    o = np.lexsort((-score, idx))
    si, ss = idx[o], score[o]
    start = np.r_[True, si[1:] != si[:-1]]
    grp = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    top = ss[first]
    nxt = np.where(first + 1 < len(si), first + 1, first)
    second = np.where((nxt != first) & (si[nxt] == si[first]), ss[nxt], -np.inf)
    out = np.empty(len(idx))
    out[o] = np.where(start, second[grp], top[grp])
    return out


def unambiguous(ia: np.ndarray, ib: np.ndarray, num: np.ndarray, den: np.ndarray,
                margin: float) -> np.ndarray:
    """Mask of the pairs that beat every other given pair of both their records by more
    than `margin` (so at most one per record). Namesakes that several records match about
    equally well are left out: at scale they are most of the false links (docs/linkage.md).
    Uses only the pairs it is given (in MPC mode: the opened above-threshold pairs)."""
    if len(ia) == 0:
        return np.zeros(0, dtype=bool)
    return clear_winner(ia, num, den, margin) & clear_winner(ib, num, den, margin)


def clear_winner(idx: np.ndarray, num: np.ndarray, den: np.ndarray, margin: float
                 ) -> np.ndarray:
    """Mask of the pairs that beat every other given pair of their record `idx` by more
    than `margin` (one side of `unambiguous`: a record's pairs are all it needs, so the
    streamed unit applies it bucket by bucket of records)."""
    if len(idx) == 0:
        return np.zeros(0, dtype=bool)
    score = num / np.maximum(den, 1)
    return _runner_up(idx, score) < score - margin


def greedy_one_to_one(ia: np.ndarray, ib: np.ndarray, num: np.ndarray, den: np.ndarray,
                      margin: float = 0.0) -> LinkTable:
    """Highest score first (ties by token a, then b); each record is used at most once.
    With `margin` > 0 only `unambiguous` pairs are kept (then already one-to-one)."""
    if margin > 0 and len(ia):
        ok = unambiguous(ia, ib, num, den, margin)
        ia, ib, num, den = ia[ok], ib[ok], num[ok], den[ok]
    if len(ia) == 0:
        return LinkTable(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    score = num / np.maximum(den, 1)
    order = np.lexsort((ib, ia, -score))
    if margin > 0:   # unambiguous pairs are already one-to-one: no Python loop, no sets
        return LinkTable(ia[order].astype(np.int64), ib[order].astype(np.int64),
                         score[order])
    used_a: set[int] = set()
    used_b: set[int] = set()
    keep = []
    for r in order.tolist():
        x, y = int(ia[r]), int(ib[r])
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            keep.append(r)
    k = np.asarray(keep, dtype=np.int64)
    return LinkTable(ia[k], ib[k], score[k])


def unit_candidates(tok_a: np.ndarray, tok_b: np.ndarray, schema: Schema
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs both modes compare: `candidate_pairs` with the size-aware cap
    (`block_cap`) and over-cap blocks split by the schema's `refine_by` pass."""
    return candidate_pairs(tok_a, tok_b, block_cap(schema, len(tok_a), len(tok_b)),
                           refine_partners(schema))


def link_encodings(enc_a: np.ndarray, enc_b: np.ndarray, tok_a: np.ndarray,
                   tok_b: np.ndarray, schema: Schema) -> tuple[LinkTable, int]:
    """The linkage unit's work; returns the link table and the number of candidates."""
    ia, ib = unit_candidates(tok_a, tok_b, schema)
    num, den = dice_counts(enc_a, enc_b, ia, ib)
    ok = above(num, den, schema)
    return greedy_one_to_one(ia[ok], ib[ok], num[ok], den[ok], schema.margin), len(ia)


# ----------------------------------------------------------------- protocol over channels
def linkage_unit_owner(party: Party, records: Sequence[Record], schema: Schema, key: bytes,
                       unit: str, workers: Workers | None = None) -> np.ndarray:
    """Data owner in linkage-unit mode: send tokens and encodings to `unit`. Returns the
    owner's token→record map (`order`), which never leaves the owner. `workers`: as
    `prepare`."""
    prep = prepare(records, schema, key, workers=workers)
    ch = party.channel(unit)
    ch.send_array(prep.tokens)
    ch.send_array(ClkEncoder(schema, key).transmit(prep.bits))
    return prep.order


def linkage_unit(party: Party, schema: Schema, owners: tuple[str, str]) -> LinkTable:
    """The linkage unit: receive both owners' tokens and encodings, return the links."""
    got = []
    passes, width = len(refine_partners(schema)), (2 if schema.balanced else 1) * schema.size // 8
    for o in owners:   # the tokens fix the record count the encodings must have
        ch = party.channel(o)
        tok = recv_array(ch, "its blocking tokens", np.uint64, (None, passes), most=MAX_RECORDS)
        enc = recv_array(ch, f"the encodings of {len(tok)} records", np.uint8,
                         (len(tok), width))
        got.append((tok, enc))
    (tok_a, enc_a), (tok_b, enc_b) = got
    table, _ = link_encodings(enc_a, enc_b, tok_a, tok_b, schema)
    return table
