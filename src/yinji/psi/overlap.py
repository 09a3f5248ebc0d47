"""Hidden grouping of secret-shared rows by a common client key (union and overlap
cardinality with payloads): the keyed-OPRF tags of yinji.psi.multiparty (2HashDH, Jarecki,
Kiayias & Krawczyk 2014, with the key split over three parties), the rows secret-shared and
shuffled obliviously, the tags opened to ONE party that holds no rows, which tells the compute
parties only which shuffled rows belong together (cf. the hidden join of Mohassel, Rindal &
Rosulek, CCS 2020).

Parties: the holders H (every company with rows: one row per distinct key, with a payload of
k ring integers), the three compute parties C = [c0, c1, c2] (session order; holders too,
usually) and the lookup party L, which holds no rows and is no compute party (e.g. the group
reporting node, the result's recipient).

1. c0, c1, c2 each draw an OPRF key k_i; the tag of key x is T(x) = first 16 bytes of
   k0·k1·k2·H(x) (one tag for x at every holder: that is what makes equality visible).
   Each holder blinds r·H(x) for its keys and sends the batch to c0; c0, c1, c2 in turn
   multiply by their keys; c2 returns it to the holder, which removes r.
2. Each holder secret-shares its rows [T(x), payload] into C (a compute party with
   `replicated.share`, any other holder as an input party, `mpc.inputs.send_input`). Each
   compute party appends dummy classes: for every class size m = 1..|H| a number drawn
   uniformly from 0..`noise` of fresh tags (prefixes of random group elements, distributed
   as real tags), each repeated m times, payload 0.
3. The pool is shuffled obliviously (`mpc.shuffle`); its tag columns are opened to L only.
4. L groups equal tags and sends every compute party the class index of each shuffled row
   (classes numbered by tag value: a random order). The compute parties gather their
   shares into a (classes, |H|, k) array (a class's rows in slots 0.., zero shares after):
   the caller combines a class's rows in MPC (e.g. the sum of per-holder one-hot columns is
   the set of holders that have the client) and opens only its own result.

Why L holds no rows: a holder knows the tags of its own keys (it unblinds them). A party that
both held tags and saw the opened pool could find its own clients in it and learn how many
companies have each of them. L holds no key, no tag and no ID; the compute parties hold tags
but never see the pool (only masked shares).

Adversary model: semi-honest. c0, c1, c2 form an honest majority (no two collude); L colludes
with no holder and no compute party. Holders outside C may collude with one compute party.

Leakage:
- Compute parties: every holder's number of distinct keys (share shapes), k, and from the
  grouping the number of classes of each size m, i.e. the multiplicity histogram of the union
  (clients held by exactly m companies) plus the dummy classes: per m the true count plus the
  sum of three independent uniform draws from 0..noise, of which each compute party knows one
  (its own). The grouping names shuffled positions only: nothing links a class to a holder or
  a key.
- L: the same class-size histogram (with the same noise, of which L knows none) and the total
  row count; the opened tags are pseudorandom values of keys L cannot evaluate.
- Holders: their own tags; nothing else (a holder outside C receives only its OPRF answer).
- The caller's opened result, to whom the caller opens it.
If L colludes with a holder they learn, for each of that holder's clients, how many holders
have it; if two compute parties collude they learn the shuffle and so which holder each row
came from.

Rounds: 4 chain hops, 1 size exchange, 1 sharing, 3 shuffle, 1 opening to L, 1 grouping.
Group operations per key: 1 hash and 2 by its holder (blind, unblind), 1 each by c0, c1, c2.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.crypto import group
from yinji.mpc import replicated as rep
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.net.channel import Party
from yinji.net.expect import recv_array

DOMAIN = b"yinji/psi/overlap/ristretto255/v1"
DUMMY_DOMAIN = b"yinji/psi/overlap/dummy/v1"
TAG_BYTES = 16
WORDS = TAG_BYTES // 8
MAX_ROWS = 5_000_000
MAX_PAYLOAD = 4096
MAX_NOISE = 100_000


class OverlapError(ValueError):
    """A grouping that cannot be run as asked, or a peer's message that does not fit."""


@dataclass
class Grouped:
    """A compute party's result: `shares` of the (classes, slots, k) payload array (a class's
    rows in its first slots, zero shares after), and `sizes` (rows per class, dummies
    included)."""

    shares: rep.Shares
    sizes: np.ndarray


def _check(party: Party, holders: Sequence[str], compute: Sequence[str], lookup: str,
           keys: Sequence[bytes] | None, payload: np.ndarray | None) -> None:
    if len(set(holders)) != len(holders) or len(holders) < 2:
        raise OverlapError(f"need at least two distinct holders, got {list(holders)}")
    if len(compute) != 3 or len(set(compute)) != 3:
        raise OverlapError(f"three distinct compute parties needed, got {list(compute)}")
    if lookup in holders or lookup in compute:
        raise OverlapError(f"the lookup party {lookup!r} must hold no rows and not compute: "
                           "it would recognise its own clients among the opened tags")
    me = party.name
    if me in holders:
        if keys is None or payload is None:
            raise OverlapError(f"holder {me} must pass keys and a payload")
        if any(not isinstance(k, bytes) or not k for k in keys):
            raise OverlapError("keys must be non-empty bytes (normalised IDs)")
        if len(set(keys)) != len(keys):
            raise OverlapError("keys must be distinct: one row per client")
        if payload.dtype != np.uint64 or payload.ndim != 2 or len(payload) != len(keys):
            raise OverlapError(f"payload must be uint64 (len(keys), k), got {payload.dtype} "
                               f"{payload.shape}")
        if len(keys) > MAX_ROWS or payload.shape[1] > MAX_PAYLOAD:
            raise OverlapError(f"at most {MAX_ROWS:,} keys and {MAX_PAYLOAD} payload columns")
    elif me not in compute and me != lookup:
        raise OverlapError(f"{me} has no part in this grouping")


def _tags(party: Party, holders: Sequence[str], chain: Sequence[str], keys: Sequence[bytes] | None,
          workers: int | None) -> np.ndarray | None:
    """Step 1: this holder's tags ((n, WORDS) uint64 in key order), None to non-holders."""
    me = party.name
    blinded = answer = None
    if keys is not None:
        r = group.random_scalar()
        blinded = group.hash_and_mult_points(r, list(keys), DOMAIN, workers) if keys else \
            np.zeros((0, group.POINT_BYTES), np.uint8)
        if me != chain[0]:
            party.channel(chain[0]).send_array(blinded)
    if me in chain:
        pos = chain.index(me)
        k = group.random_scalar()
        for h in holders:
            sender = chain[pos - 1] if pos else h
            got = blinded if sender == me else recv_array(
                party.channel(sender), "blinded keys", np.uint8, (None, group.POINT_BYTES),
                most=MAX_ROWS, error=OverlapError)
            try:
                out = group.mult_points(k, got, workers) if len(got) else got
            except group.InvalidPoint as exc:
                raise OverlapError(f"{sender} sent invalid points: {exc}") from None
            dest = chain[pos + 1] if pos + 1 < len(chain) else h
            if dest == me:
                answer = out
            else:
                party.channel(dest).send_array(out)
    if keys is None:
        return None
    if answer is None:
        answer = recv_array(party.channel(chain[-1]), f"the tags of {len(keys)} keys",
                            np.uint8, (len(keys), group.POINT_BYTES), error=OverlapError)
    if not len(keys):
        return np.zeros((0, WORDS), np.uint64)
    full = group.mult_points(group.scalar_inverse(r), answer, workers)
    return np.ascontiguousarray(full[:, :TAG_BYTES]).view(np.uint64).reshape(-1, WORDS)


def _dummies(n_holders: int, noise: int, k: int) -> np.ndarray:
    """Rows of dummy classes: per size m, uniform 0..noise classes of a fresh tag. A dummy
    tag is the prefix of a random group element, distributed as a real tag is (a ristretto255
    encoding has fixed bits, e.g. its lowest: uniform bytes would stand out)."""
    counts = [secrets.randbelow(noise + 1) if noise else 0 for _ in range(n_holders)]
    total = sum(counts)
    if not total:
        return np.zeros((0, WORDS + k), np.uint64)
    points = group.hash_and_mult_points(group.random_scalar(),
                                        [secrets.token_bytes(16) for _ in range(total)],
                                        DUMMY_DOMAIN)
    fresh = np.ascontiguousarray(points[:, :TAG_BYTES]).view(np.uint64).reshape(-1, WORDS)
    sizes = np.repeat(np.arange(1, n_holders + 1), counts)
    tags = np.repeat(fresh, sizes, axis=0)
    return np.concatenate([tags, np.zeros((len(tags), k), np.uint64)], axis=1)


def hidden_groups(party: Party, holders: Sequence[str], compute: Sequence[str], lookup: str,
                  keys: Sequence[bytes] | None = None, payload: np.ndarray | None = None, *,
                  columns: int, noise: int = 0, workers: int | None = None) -> Grouped | None:
    """Group every holder's rows by key without anyone seeing a key (module docstring).

    Holders pass their distinct `keys` (normalised IDs as bytes) and a uint64 `payload` of
    `columns` ring integers per key; compute parties and L pass neither unless they are
    holders. Returns a `Grouped` to the compute parties, None to everyone else."""
    holders, compute = list(holders), list(compute)
    _check(party, holders, compute, lookup, keys, payload)
    if not 0 <= noise <= MAX_NOISE:
        raise OverlapError(f"noise must be in 0..{MAX_NOISE}")
    me, width = party.name, WORDS + columns
    if payload is not None and payload.shape[1] != columns:
        raise OverlapError(f"payload has {payload.shape[1]} columns, expected {columns}")
    if me == lookup:
        return _lookup(party, compute, len(holders))
    tags = _tags(party, holders, compute, keys, workers)
    rows = None if tags is None else np.concatenate([tags, payload], axis=1)  # type: ignore[list-item]
    if me not in compute:
        send_input(party, compute, rows.astype(np.int64), frac_bits=0)  # type: ignore[union-attr]
        return None

    s = Session(party, compute)
    extra = _dummies(len(holders), noise, columns)
    own = [len(rows)] if me in holders else []  # type: ignore[arg-type]
    for other in compute:
        if other != me:
            party.channel(other).send_array(np.array(own + [len(extra)], np.int64))
    sizes = {}
    for other in compute:
        got = recv_array(party.channel(other), "its row counts", np.int64,
                         (2,) if other in holders else (1,), error=OverlapError) \
            if other != me else np.array(own + [len(extra)], np.int64)
        if (got < 0).any() or (got > MAX_ROWS).any():
            raise OverlapError(f"{other} announced row counts {got!r} (at most {MAX_ROWS:,})")
        sizes[other] = [int(v) for v in got]
    pieces: list[rep.Shares] = []
    for h in holders:
        if h in compute:
            rank = compute.index(h)
            pieces.append(rep.share(s, rows if h == me else None, rank, (sizes[h][0], width)))
        else:
            got = receive_input(s, h, frac_bits=0, max_elements=MAX_ROWS * width)
            if got.shape[1:] != (width,):
                raise OverlapError(f"input from {h!r}: rows of {width} values expected")
            pieces.append(got.shares)
    for rank, c in enumerate(compute):
        pieces.append(rep.share(s, extra if c == me else None, rank, (sizes[c][-1], width)))
    pool = (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))
    pool = shuffle_rows(s, pool)
    reveal_outside(SharedTensor(s, (pool[0][:, :WORDS], pool[1][:, :WORDS]), 0), lookup)
    classes = recv_array(party.channel(lookup), f"the classes of {len(pool[0])} rows",
                         np.int64, (len(pool[0]),), error=OverlapError)
    return _gather(pool, classes, len(holders), lookup)


def _lookup(party: Party, compute: Sequence[str], n_holders: int) -> None:
    """L: group the opened tags; send every compute party the class of each row."""
    tags = receive_output(party, compute, frac_bits=0).view(np.uint64)
    if tags.ndim != 2 or tags.shape[1] != WORDS:
        raise OverlapError(f"opened tags have shape {tags.shape}")
    v = np.ascontiguousarray(tags).view(f"V{TAG_BYTES}").ravel()
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    bad = bool(counts.size and counts.max() > n_holders)
    for c in compute:
        party.channel(c).send_array(np.full(len(v), -1, np.int64) if bad
                                    else inverse.astype(np.int64))
    if bad:
        raise OverlapError("a tag occurs more often than there are holders (duplicate keys "
                           "or a tag collision)")
    return None


def _gather(pool: rep.Shares, classes: np.ndarray, slots: int, lookup: str) -> Grouped:
    n, k = pool[0].shape[0], pool[0].shape[1] - WORDS
    if classes.dtype != np.int64 or classes.shape != (n,):
        raise OverlapError(f"{lookup} sent a malformed grouping {classes.dtype} {classes.shape}")
    if n and (classes < 0).any():
        raise OverlapError(f"{lookup} found duplicate keys or a tag collision")
    sizes = np.bincount(classes, minlength=0) if n else np.zeros(0, np.int64)
    if (sizes == 0).any() or (sizes > slots).any():
        raise OverlapError(f"{lookup} sent a grouping with empty or oversized classes")
    order = np.argsort(classes, kind="stable")
    starts = (np.cumsum(sizes) - sizes).astype(np.int64)
    slot = np.arange(n) - np.repeat(starts, sizes)
    out = []
    for comp in pool:
        a = np.zeros((len(sizes), slots, k), np.uint64)
        a[classes[order], slot] = comp[order, WORDS:]
        out.append(a)
    return Grouped((out[0], out[1]), sizes)


__all__ = ["Grouped", "OverlapError", "hidden_groups"]
