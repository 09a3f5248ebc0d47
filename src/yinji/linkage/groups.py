"""Group identities over several data owners: linkage-unit CLK matching (match.py) across all
owners' records at once -- including two records of the same owner (second accounts) --
a minimum-evidence rule, and connected components into one identity per person.

Protocol (parties: any number of data owners and a linkage unit that holds no records and
no key, e.g. the group AML officer's node):
  1. each owner shuffles its records (private permutation) and sends the unit, per record,
     two keyed CLK encodings (as in linkage-unit mode) -- names read as pinyin/Latin tokens,
     and names read in Hong Kong Cantonese romanisation (cantonese.py) -- and six evidence
     values: five keyed *evidence tokens* (name as a normalised token set, birth date,
     phone, ID number, the name's Hong Kong romanisation skeleton; 0 where empty or
     unreadable) and the name's script (1 Chinese characters, 2 Latin letters, 0 none);
  2. the unit blocks on keys it derives from the evidence tokens (`evidence_keys`: ID
     number, phone, birth date + name, birth date + Hong Kong name). That loses no pair the
     evidence rule could accept, and the blocks are single people, so candidates grow
     linearly with the records (a block of more than the schema's max_block_pairs pairs,
     e.g. a placeholder phone shared by thousands, is skipped and its records counted in
     `Resolution.capped`). It keeps a pair iff it has enough evidence -- equal ID-number
     tokens, or two of name / birth date / phone equal and non-empty, where names agree on
     the pinyin token set or, one name in characters and one in Latin letters, on the Hong
     Kong skeleton -- AND its Dice >= the schema threshold (across scripts: the better of the
     two encodings). A near-empty record (one identifying field) never links. Inside one
     owner every such pair links (second accounts; components of these act as one node
     below); across owners, per owner pair, the margin rule and the greedy one-to-one step
     of match.py pick the links; the unit then takes connected components over all links;
  3. the unit numbers the components in a random order (secrets) and sends each owner, for
     each of its tokens, the group identity index in [0, G), and G.

Adversary model: semi-honest; the unit does not know the key and does not collude with an
owner (as match.py). Leakage: the unit learns, for all owners' records at once, what
linkage-unit mode shows of an encoding (each record's plain filter up to a keyed order of
positions, hence its popcount, and similarities), for both encodings of a record -- so also
which positions differ between its two name readings (the name's bits); per pair of records
which of name / birth date / phone / ID number / Hong Kong skeleton are equal (evidence
tokens; the skeleton is coarse, so equal skeletons say less than equal names); per record
whether the name was written in characters or Latin letters (the script value, not keyed);
each owner's record count; and the resulting link graph (in shuffled tokens). It receives
no blocking tokens (no LSH bits, no initials). An owner learns G and which of its own records
the unit put in one identity; nothing about other owners' records (its group indices are a
random numbering; whether an index also occurs elsewhere is not sent). Transitive links can
join two people through a third record (A~B, B~C): a property of any union-find grouping,
visible in the unit's statistics (largest group).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yinji.linkage import normalise as nz
from yinji.linkage.blocking import keyed_token
from yinji.linkage.encoding import ClkEncoder, Record, Schema, subkey
from yinji.linkage.match import MAX_RECORDS, above, dice_counts, greedy_one_to_one
from yinji.net.channel import Party
from yinji.net.expect import recv_array

EVIDENCE = ("name", "dob", "phone", "id_number", "name_hk", "script")
SCRIPT_HAN, SCRIPT_LATIN = 1, 2  # the `script` column: how the name was written (0: no name)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@functools.lru_cache(maxsize=1 << 18)
def _normalised(field: str, v: str) -> str:
    if field == "name":
        return " ".join(nz.name_tokens(v))
    if field == "name_hk":
        return " ".join(nz.hk_name_skeleton(v))
    if field == "dob":
        parts = nz.date_parts(v)
        return "".join(parts) if parts else ""
    if field == "phone":
        d = nz.phone_digits(v)
        return d if len(d) >= 6 else ""
    d = nz.id_number(v)
    return d if len(d) >= 6 else ""


def _evidence_value(field: str, schema: Schema, rec: Record) -> str:
    f = schema.field("name" if field == "name_hk" else field)
    v = f.value(rec) if f else ""
    return _normalised(field, v) if v else ""


def evidence_fields(schema: Schema, rec: Record) -> int:
    """How many identifying fields of a record are non-empty and readable."""
    return sum(bool(_evidence_value(f, schema, rec)) for f in EVIDENCE[:4])


def evidence_tokens(records: Sequence[Record], schema: Schema, key: bytes) -> np.ndarray:
    """(n, 6) uint64: keyed tokens of name / dob / phone / ID number / the skeleton of the
    name's Hong Kong romanisation (normalise.hk_name_skeleton), 0 = empty; then the name's script (1 Chinese
    characters, 2 Latin letters, 0 no name), which `enough_evidence` needs to compare the
    Hong Kong spellings only across scripts."""
    ekey = subkey(key, "groups/evidence")
    out = np.zeros((len(records), len(EVIDENCE)), dtype=np.uint64)
    cache: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(records):
        for j, f in enumerate(EVIDENCE[:5]):
            v = _evidence_value(f, schema, rec)
            if v:
                t = cache.get((f, v))
                if t is None:
                    t = cache[(f, v)] = keyed_token(ekey, f, v.encode())
                out[i, j] = t
        if out[i, 0]:
            f = schema.field("name")
            out[i, 5] = SCRIPT_HAN if f and nz.has_han(f.value(rec)) else SCRIPT_LATIN
    return out


def name_agrees(ev_a: np.ndarray, ev_b: np.ndarray) -> np.ndarray:
    """Per pair: the names agree -- equal pinyin/Latin token sets, or (one name in Chinese
    characters, the other in Latin letters) equal Hong Kong skeletons. Two names in
    characters never agree through the romanisation: it merges surnames that characters
    keep apart (王 and 黄 are both Wong)."""
    same = (ev_a[:, 0] == ev_b[:, 0]) & (ev_a[:, 0] != 0)
    if ev_a.shape[1] < len(EVIDENCE):
        return same
    cross = (ev_a[:, 5] != ev_b[:, 5]) & (ev_a[:, 5] != 0) & (ev_b[:, 5] != 0)
    return same | (cross & (ev_a[:, 4] == ev_b[:, 4]) & (ev_a[:, 4] != 0))


def enough_evidence(ev_a: np.ndarray, ev_b: np.ndarray) -> np.ndarray:
    """Per pair (rows of two (m, 6) evidence arrays; (m, 4) without the romanisation):
    equal ID number, or >= 2 of name (`name_agrees`), dob, phone equal (empty fields never
    agree)."""
    agree = (ev_a[:, :4] == ev_b[:, :4]) & (ev_a[:, :4] != 0)
    agree[:, 0] = name_agrees(ev_a, ev_b)
    return agree[:, 3] | (agree[:, :3].sum(axis=1) >= 2)


def evidence_keys(ev: np.ndarray) -> np.ndarray:
    """Blocking keys the unit derives from the evidence tokens it holds: ID number, phone,
    birth date with name, birth date with Hong Kong name (0 = no key). Every pair that
    `enough_evidence` accepts shares one of these keys (ID; or two of name/dob/phone: then
    phone, or dob and name), so blocking on them loses no pair the rule could accept --
    and the blocks are people, not name or date groups, so their number of pairs grows
    linearly with the number of records."""
    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = a * _MIX ^ (b + (b >> np.uint64(29)))
        out[(a == 0) | (b == 0)] = 0
        return out
    cols = [ev[:, 3], ev[:, 2], mix(ev[:, 1], ev[:, 0])]
    if ev.shape[1] >= len(EVIDENCE):
        cols.append(mix(ev[:, 1], ev[:, 4]))
    return np.stack(cols, axis=1) if len(ev) else np.zeros((0, len(cols)), np.uint64)


def self_pairs(tok: np.ndarray, max_block_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (i < j) of one record set with itself: per blocking pass, every pair
    inside a block (a block of more than `max_block_pairs` pairs is skipped for that pass,
    as in blocking.candidate_pairs); union over passes. Only i < j is generated: half the
    pairs of `candidate_pairs(tok, tok)` and no (i, i)."""
    ia, ib, _ = _self_pairs(tok, max_block_pairs)
    return ia, ib


def _self_pairs(tok: np.ndarray, max_block_pairs: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`self_pairs` and a mask of the records that were in a skipped (capped) block."""
    n = tok.shape[0]
    capped = np.zeros(n, dtype=bool)
    codes = []
    for p in range(tok.shape[1]):
        col = tok[:, p]
        idx = np.flatnonzero(col)
        idx = idx[np.argsort(col[idx], kind="stable")]  # ascending index inside a block
        _, start, count = np.unique(col[idx], return_index=True, return_counts=True)
        size = count * (count - 1) // 2
        big = size > max_block_pairs
        if big.any():
            capped[idx[np.repeat(big, count)]] = True
        keep = (count >= 2) & ~big
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
        return np.zeros(0, np.int64), np.zeros(0, np.int64), capped
    allc = np.unique(np.concatenate(codes))
    return allc // n, allc % n, capped


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
    shuffled token order), the number of groups and statistics (`capped`: records in a
    block too large to pair, i.e. more than the schema's max_block_pairs pairs: such a
    record may miss links that its other keys do not give)."""

    groups: list[np.ndarray]
    count: int
    links: int
    same_owner_links: int
    multi_owner: int
    largest: int
    capped: int = 0
    candidates: int = 0


def _scores(enc: np.ndarray, enc_hk: np.ndarray | None, ev: np.ndarray, ia: np.ndarray,
            ib: np.ndarray, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Dice (as integer num/den) per candidate pair; across scripts (one name in characters,
    one in Latin letters) the better of the pinyin and the Hong Kong encodings. Chunked to
    bound memory."""
    num = np.empty(len(ia), np.int64)
    den = np.empty(len(ia), np.int64)
    for s in range(0, len(ia), chunk):
        a, b = ia[s:s + chunk], ib[s:s + chunk]
        n1, d1 = dice_counts(enc, enc, a, b)
        if enc_hk is not None and ev.shape[1] >= len(EVIDENCE):
            sa, sb = ev[a, 5], ev[b, 5]
            cross = np.flatnonzero((sa != sb) & (sa != 0) & (sb != 0))
            if len(cross):
                n2, d2 = dice_counts(enc_hk, enc_hk, a[cross], b[cross])
                better = n2 * d1[cross] > n1[cross] * d2
                n1[cross[better]], d1[cross[better]] = n2[better], d2[better]
        num[s:s + chunk], den[s:s + chunk] = n1, d1
    return num, den


def resolve(tokens: Sequence[np.ndarray], encodings: Sequence[np.ndarray],
            evidence: Sequence[np.ndarray], schema: Schema,
            relabel: bool = True, hk_encodings: Sequence[np.ndarray] | None = None
            ) -> Resolution:
    """The unit's work over all owners' (blocking tokens, transmitted encodings, evidence
    tokens[, Hong Kong-view encodings]). Candidates are the pairs sharing a blocking token
    (may be (n, 0): none) or an `evidence_keys` key."""
    sizes = [len(e) for e in evidence]
    n = sum(sizes)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    ev = np.concatenate(evidence) if n else np.zeros((0, len(EVIDENCE)), np.uint64)
    tok = np.concatenate(tokens) if n else np.zeros((0, tokens[0].shape[1]), np.uint64)
    tok = np.concatenate([tok, evidence_keys(ev)], axis=1)
    enc = np.concatenate(encodings)
    enc_hk = np.concatenate(hk_encodings) if hk_encodings is not None else None
    ia, ib, capped = _self_pairs(tok, schema.max_block_pairs)
    candidates = len(ia)
    ok = enough_evidence(ev[ia], ev[ib])  # cheap: filter before Dice
    ia, ib = ia[ok], ib[ok]
    num, den = _scores(enc, enc_hk, ev, ia, ib)
    ok = above(num, den, schema)
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
                      int(np.bincount(dense).max()) if n else 0, int(capped.sum()),
                      candidates)


# ----------------------------------------------------------------- protocol over channels
def group_owner(party: Party, records: Sequence[Record], schema: Schema, key: bytes,
                unit: str) -> tuple[np.ndarray, int]:
    """Data owner: send encodings (pinyin and Hong Kong views) and evidence tokens to
    `unit`; returns the group index of each of its records (in the order given) and the
    number of groups G."""
    n = len(records)
    order = np.arange(n)
    if n > 1:
        order = np.argsort(np.frombuffer(secrets.token_bytes(8 * n), dtype=np.uint64),
                           kind="stable")
    recs = [records[i] for i in order]
    ch = party.channel(unit)
    for enc in ClkEncoder(schema, key).encode_views(recs, ("pinyin", "hk")):
        ch.send_array(enc)
    ch.send_array(evidence_tokens(recs, schema, key))
    got = recv_array(ch, f"the group indices of {n} records", np.int64, (n,))
    count = int(recv_array(ch, "the group count", np.int64, (1,))[0])
    if len(got) and (got.min() < 0 or got.max() >= count):
        raise ValueError(f"{unit} sent malformed group indices")
    out = np.empty(n, dtype=np.int64)
    out[order] = got
    return out, count


def group_unit(party: Party, owners: Sequence[str], schema: Schema) -> Resolution:
    """The linkage unit: receive every owner's encodings (two views) and evidence, resolve
    the group identities and send each owner its records' group indices and G."""
    width = (2 if schema.balanced else 1) * schema.size // 8
    encs, hks, evs = [], [], []
    for o in owners:
        ch = party.channel(o)
        enc = recv_array(ch, "its encodings", np.uint8, (None, width), most=MAX_RECORDS)
        n = len(enc)
        hk = recv_array(ch, f"the HK encodings of {n} records", np.uint8, (n, width))
        ev = recv_array(ch, f"the evidence of {n} records", np.uint64, (n, len(EVIDENCE)))
        if not np.isin(ev[:, 5], (0, 1, 2)).all():
            raise ValueError(f"{o} sent evidence with an unknown script")
        encs.append(enc)
        hks.append(hk)
        evs.append(ev)
    res = resolve([np.zeros((len(e), 0), np.uint64) for e in evs], encs, evs, schema,
                  hk_encodings=hks)
    for o, g in zip(owners, res.groups, strict=True):
        ch = party.channel(o)
        ch.send_array(g)
        ch.send_array(np.array([res.count], dtype=np.int64))
    return res


__all__ = ["EVIDENCE", "Resolution", "components", "enough_evidence", "evidence_fields",
           "evidence_keys", "evidence_tokens", "group_owner", "group_unit", "name_agrees",
           "resolve", "self_pairs"]
