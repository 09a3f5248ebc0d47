"""Group identities over several data owners: linkage-unit CLK matching (match.py) across all
owners' records at once -- including two records of the same owner (second accounts) --
a minimum-evidence rule, and connected components (union-find) into one identity per person.

Protocol (parties: any number of data owners and a linkage unit that holds no records and
no key, e.g. the group AML officer's node):
  1. each owner shuffles its records (private permutation), computes keyed blocking tokens,
     keyed CLK encodings (as in linkage-unit mode) and four keyed *evidence tokens* per
     record -- one per identifying field (name as a normalised token set, birth date, phone,
     ID number; 0 where the field is empty or unreadable) -- and sends all three to the unit;
  2. the unit blocks across the concatenation of all owners' records (one self-join, pairs
     i < j), computes Dice, keeps a pair iff Dice >= the schema threshold AND it has enough
     evidence: equal non-empty ID-number tokens, or at least two of name/dob/phone equal and
     non-empty. A near-empty record (one identifying field) therefore never links. Inside one
     owner every such pair links (second accounts; components of these act as one node
     below); across owners, per owner pair, the margin rule and the greedy one-to-one step
     of match.py pick the links; the unit then takes connected components over all links;
  3. the unit numbers the components in a random order (secrets) and sends each owner, for
     each of its tokens, the group identity index in [0, G), and G.

Adversary model: semi-honest; the unit does not know the key and does not collude with an
owner (as match.py). Leakage: the unit learns what linkage-unit mode shows it (every
record's encoding up to a keyed order of positions, the blocking tokens, hence all pairwise
similarities) for all owners at once, plus, per pair of records, which of name / birth
date / phone / ID number are equal (evidence tokens), each owner's record count, and the
resulting link graph (in shuffled tokens). An owner learns G (the number of identities) and
which of its own records the unit put in one identity; nothing about other owners' records
(its group indices are a random numbering; whether an index also occurs elsewhere is not
sent). Transitive links can join two people through a third record (A~B, B~C): a property
of any union-find grouping, visible in the unit's statistics (largest group).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.linkage import normalise as nz
from yinji.linkage.blocking import _token
from yinji.linkage.encoding import ClkEncoder, Record, Schema, subkey
from yinji.linkage.match import above, dice_counts, greedy_one_to_one, prepare
from yinji.net.channel import Party

EVIDENCE = ("name", "dob", "phone", "id_number")


def _evidence_value(field: str, schema: Schema, rec: Record) -> str:
    f = schema.field(field)
    v = f.value(rec) if f else ""
    if field == "name":
        return " ".join(nz.name_tokens(v))
    if field == "dob":
        parts = nz.date_parts(v)
        return "".join(parts) if parts else ""
    if field == "phone":
        d = nz.phone_digits(v)
        return d if len(d) >= 6 else ""
    d = nz.id_number(v)
    return d if len(d) >= 6 else ""


def evidence_fields(schema: Schema, rec: Record) -> int:
    """How many identifying fields of a record are non-empty and readable."""
    return sum(bool(_evidence_value(f, schema, rec)) for f in EVIDENCE)


def evidence_tokens(records: Sequence[Record], schema: Schema, key: bytes) -> np.ndarray:
    """(n, 4) keyed uint64 tokens of name / dob / phone / ID number; 0 = empty."""
    ekey = subkey(key, "groups/evidence")
    out = np.zeros((len(records), len(EVIDENCE)), dtype=np.uint64)
    for i, rec in enumerate(records):
        for j, f in enumerate(EVIDENCE):
            v = _evidence_value(f, schema, rec)
            if v:
                out[i, j] = _token(ekey, f, v.encode())
    return out


def enough_evidence(ev_a: np.ndarray, ev_b: np.ndarray) -> np.ndarray:
    """Per pair (rows of two (m, 4) token arrays): equal ID number, or >= 2 of name, dob,
    phone equal (empty fields never agree)."""
    agree = (ev_a == ev_b) & (ev_a != 0)
    return agree[:, 3] | (agree[:, :3].sum(axis=1) >= 2)


def self_pairs(tok: np.ndarray, max_block_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (i < j) of one record set with itself: per blocking pass, every pair
    inside a block (a block of more than `max_block_pairs` pairs is skipped for that pass,
    as in blocking.candidate_pairs); union over passes. Only i < j is generated: half the
    pairs of `candidate_pairs(tok, tok)` and no (i, i)."""
    n = tok.shape[0]
    codes = []
    for p in range(tok.shape[1]):
        col = tok[:, p]
        idx = np.flatnonzero(col)
        idx = idx[np.argsort(col[idx], kind="stable")]  # ascending index inside a block
        _, start, count = np.unique(col[idx], return_index=True, return_counts=True)
        size = count * (count - 1) // 2
        keep = (count >= 2) & (size <= max_block_pairs)
        start, count, size = start[keep], count[keep], size[keep]
        total = int(size.sum())
        if total == 0:
            continue
        block = np.repeat(np.arange(size.size), size)
        k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(size) - size, size)
        c = count[block].astype(np.int64)
        # k-th pair (i < j) of a block of c in row-major order of the upper triangle
        i = c - 2 - np.floor(np.sqrt(-8 * k + 4 * c * (c - 1) - 7) / 2 - 0.5).astype(np.int64)
        j = k + i + 1 - c * (c - 1) // 2 + (c - i) * (c - i - 1) // 2
        s0 = start[block]
        codes.append(idx[s0 + i].astype(np.int64) * n + idx[s0 + j])
    if not codes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    allc = np.unique(np.concatenate(codes))
    return allc // n, allc % n


def components(n: int, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Connected-component label per node (the smallest node index in its component):
    min-label propagation with pointer jumping, vectorised."""
    label = np.arange(n, dtype=np.int64)
    if len(ia) == 0:
        return label
    while True:
        m = np.minimum(label[ia], label[ib])
        new = label.copy()
        np.minimum.at(new, ia, m)
        np.minimum.at(new, ib, m)
        new = new[new]  # pointer jumping
        while True:
            nxt = new[new]
            if np.array_equal(nxt, new):
                break
            new = nxt
        if np.array_equal(new, label):
            return label
        label = new


@dataclass
class Resolution:
    """The unit's result: group index per record (owners in the order given, each in its
    shuffled token order), the number of groups and statistics."""

    groups: list[np.ndarray]
    count: int
    links: int
    same_owner_links: int
    multi_owner: int
    largest: int


def resolve(tokens: Sequence[np.ndarray], encodings: Sequence[np.ndarray],
            evidence: Sequence[np.ndarray], schema: Schema,
            relabel: bool = True) -> Resolution:
    """The unit's work over all owners' (tokens, transmitted encodings, evidence tokens)."""
    sizes = [len(t) for t in tokens]
    n = sum(sizes)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    tok = np.concatenate(tokens) if n else np.zeros((0, tokens[0].shape[1]), np.uint64)
    enc = np.concatenate(encodings)
    ev = np.concatenate(evidence)
    ia, ib = self_pairs(tok, schema.max_block_pairs)
    num, den = dice_counts(enc, enc, ia, ib)
    ok = above(num, den, schema) & enough_evidence(ev[ia], ev[ib])
    ia, ib, num, den = ia[ok], ib[ok], num[ok], den[ok]
    # second accounts: every qualifying pair inside one owner links (no one-to-one step:
    # a person may hold three accounts); they then act as one node across owners, so a
    # person with two accounts is not "ambiguous" for the margin rule elsewhere
    same = owner[ia] == owner[ib]
    sa, sb = ia[same], ib[same]
    rep = components(n, sa, sb)
    xa, xb, xn, xd = rep[ia[~same]], rep[ib[~same]], num[~same], den[~same]
    if len(xa):  # one candidate per pair of nodes: the best score
        best = np.lexsort((-(xn / np.maximum(xd, 1)),))
        code = xa[best] * n + xb[best]
        _, first = np.unique(code, return_index=True)
        pick = best[first]
        xa, xb, xn, xd = xa[pick], xb[pick], xn[pick], xd[pick]
    la, lb = [sa], [sb]
    pair = owner[xa] * len(sizes) + owner[xb]
    for code in np.unique(pair).tolist():  # margin rule and one-to-one per owner pair
        sel = pair == code
        t = greedy_one_to_one(xa[sel], xb[sel], xn[sel], xd[sel], schema.margin)
        la.append(t.a)
        lb.append(t.b)
    ea, eb = np.concatenate(la), np.concatenate(lb)
    label = components(n, ea, eb)
    roots, dense = np.unique(label, return_inverse=True)
    count = len(roots)
    if relabel and count > 1:
        perm = np.argsort(np.frombuffer(secrets.token_bytes(8 * count), dtype=np.uint64),
                          kind="stable")
        dense = perm[dense]
    owners_per = np.zeros(count, np.int64)
    pairs_go = np.unique(dense.astype(np.int64) * len(sizes) + owner)
    np.add.at(owners_per, pairs_go // len(sizes), 1)
    cuts = np.cumsum(sizes)[:-1]
    return Resolution([g.astype(np.int64) for g in np.split(dense, cuts)], count, len(ea),
                      int((owner[ea] == owner[eb]).sum()), int((owners_per >= 2).sum()),
                      int(np.bincount(dense).max()) if n else 0)


# ----------------------------------------------------------------- protocol over channels
def group_owner(party: Party, records: Sequence[Record], schema: Schema, key: bytes,
                unit: str) -> tuple[np.ndarray, int]:
    """Data owner: send tokens, encodings and evidence tokens to `unit`; returns the group
    index of each of its records (in the order given) and the number of groups G."""
    prep = prepare(records, schema, key)
    ev = evidence_tokens([records[i] for i in prep.order], schema, key)
    ch = party.channel(unit)
    ch.send_array(prep.tokens)
    ch.send_array(ClkEncoder(schema, key).transmit(prep.bits))
    ch.send_array(ev)
    got = ch.recv_array()
    count = int(ch.recv_array()[0])
    if got.dtype != np.int64 or got.shape != (len(records),) or \
            (len(got) and (got.min() < 0 or got.max() >= count)):
        raise ValueError(f"{unit} sent malformed group indices")
    out = np.empty(len(records), dtype=np.int64)
    out[prep.order] = got
    return out, count


def group_unit(party: Party, owners: Sequence[str], schema: Schema) -> Resolution:
    """The linkage unit: receive every owner's tokens, encodings and evidence, resolve the
    group identities and send each owner its records' group indices and G."""
    width = (2 if schema.balanced else 1) * schema.size // 8
    toks, encs, evs = [], [], []
    for o in owners:
        ch = party.channel(o)
        tok, enc, ev = ch.recv_array(), ch.recv_array(), ch.recv_array()
        n = len(tok)
        if (tok.dtype != np.uint64 or tok.ndim != 2 or enc.dtype != np.uint8
                or enc.shape != (n, width) or ev.dtype != np.uint64
                or ev.shape != (n, len(EVIDENCE))):
            raise ValueError(f"malformed encodings from {o}")
        toks.append(tok)
        encs.append(enc)
        evs.append(ev)
    if len({t.shape[1] for t in toks}) > 1:
        raise ValueError("owners sent different numbers of blocking passes")
    res = resolve(toks, encs, evs, schema)
    for o, g in zip(owners, res.groups, strict=True):
        ch = party.channel(o)
        ch.send_array(g)
        ch.send_array(np.array([res.count], dtype=np.int64))
    return res


__all__ = ["EVIDENCE", "Resolution", "components", "enough_evidence", "evidence_fields",
           "evidence_tokens", "group_owner", "group_unit", "resolve", "self_pairs"]
