"""Cryptographic long-term key (CLK) Bloom-filter encodings (Schnell, Bachteler, Reiher 2009
and 2011), hardened with keyed random hashing.

A record becomes one L-bit filter: every feature (a q-gram of a normalised field, a date
component, a category) of field F sets k_F bit positions chosen by a keyed hash. k_F is the
field's weight (Schnell et al. 2011, "field weighting" via the number of hash functions).
Similar records share features and so share bits; similarity is the Dice coefficient
2|A∩B| / (|A| + |B|).

Hardening (see docs/SECURITY.md, "Record linkage", for the attacks and citations):
  - *Keyed random hashing*: the k positions of a feature are k independent outputs of keyed
    BLAKE2b (key per field, derived from the owners' secret), not double hashing
    h1 + i·h2, whose linear structure the attack of Niedermeyer et al. (2014) exploits.
    Without the key nobody can compute a feature's positions (no dictionary attack).
  - *One filter per record* (CLK) instead of one per field: field-level filters are
    attacked value by value (Kuzu et al. 2011); a CLK mixes all fields.

Balanced filters (Schnell, Borgs, Encheva 2016; `Schema.balanced`) are a choice of score,
not a hardening: the filter is concatenated with its complement and the 2L bits are put in a
keyed order, so every transmitted encoding has L ones and Dice on them equals
1 - Hamming(A, B) / L on the plain filters. Balancing does not hide the popcount: from a
corpus of encodings alone, every position has a partner that is its complement in every
record, so the unit pairs all 2L positions and is left with the plain filters XOR a keyed
mask (which of a pair is the plain bit); orienting each pair by frequency (plain bits are
mostly sparse) recovers the plain bit wherever fewer than half of the records set it, and a
popcount estimate correlated with the true one (0.57 on the test's 600 Chinese records,
0.76 on 1,000 FEBRL4 records with `FEBRL`;
`tests/linkage/test_encoding.py::test_pairing_attack_undoes_balancing_and_the_leakage_says_so`).
No reordering or per-field placement of the complements helps: an encoding whose Hamming
distances are twice the plain ones holds every plain bit twice (up to complement), so the
pairs are always there; and plain Dice needs each popcount by definition. Only the MPC mode
hides popcounts.

Adversary model: whoever receives encodings (the linkage unit) is semi-honest and does not
know the encoding key; the key is shared only among the data owners. Leakage: to a holder
of encodings without the key, each record's plain filter up to a keyed order of positions
(balanced: up to a keyed mask as well, most of which frequency recovers), so its popcount
(about the number of q-grams: name and address lengths); equal records have equal
encodings and similar records similar ones (that is the point). Frequency and
pattern-mining attacks on large populations of encodings remain possible in principle
(Christen et al. 2017, 2018; Vidanage et al. 2019); the MPC mode (mpc_match.py) shows
encodings to nobody.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from yinji.crypto.prg import Prg
from yinji.linkage import normalise as nz

KEY_BYTES = 32
KINDS = ("name", "text", "date", "digits", "phone", "id", "category")
Record = Mapping[str, object]


def new_key() -> bytes:
    """A fresh encoding key (to be shared among the data owners only)."""
    return secrets.token_bytes(KEY_BYTES)


def subkey(key: bytes, label: str, size: int = KEY_BYTES) -> bytes:
    """An independent key for `label`, derived from the owners' key with keyed BLAKE2b."""
    if len(key) < 16:
        raise ValueError("the linkage key must have at least 16 bytes")
    return hashlib.blake2b(label.encode(), key=key[:64], digest_size=size,
                           person=b"yinji-linkage").digest()


@dataclass(frozen=True)
class Field:
    """One encoded field: the record columns it reads (joined by a space), how they are
    normalised (`kind`), its weight `k` (bit positions per feature) and q-gram length."""

    name: str
    kind: str
    k: int
    columns: tuple[str, ...] = ()
    q: int = 2

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind!r} (one of {KINDS})")
        if not 1 <= self.k <= 32:
            raise ValueError(f"field {self.name}: k must be 1..32")

    def value(self, record: Record) -> str:
        cols = self.columns or (self.name,)
        parts = [record.get(c) for c in cols]
        return " ".join(str(p).strip() for p in parts
                        if p is not None and p == p and str(p).strip())  # p == p: not NaN


@dataclass(frozen=True)
class Schema:
    """What is encoded and how records are matched. `threshold` is on the Dice coefficient
    of the transmitted encodings; `margin` > 0 leaves a record unlinked when two of its
    above-threshold candidates score within `margin` of each other (match.py). `balanced` picks the score 1 - Hamming/L (Dice on filter
    ‖ complement) over plain Dice; it hides nothing from the unit (module docstring)."""

    fields: tuple[Field, ...]
    size: int = 1024
    balanced: bool = True
    threshold: float = 0.8
    margin: float = 0.0
    blocking: tuple[str, ...] = ("lsh",)
    lsh_tables: int = 24
    lsh_bits: int = 24
    max_block_pairs: int = 250_000
    # at scale (blocking.block_cap): beyond scale_from records per side the cap is
    # min_block_pairs, and a block over the cap is split by the first refine_by pass's token
    scale_from: int = 100_000
    min_block_pairs: int = 250
    refine_by: tuple[str, ...] = ("dob", "initials+year")
    name: str = "custom"
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.size & (self.size - 1) or not 64 <= self.size <= 65536:
            raise ValueError("filter size must be a power of two in 64..65536")
        if not 0 < self.threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        if not 0 <= self.margin < 1:
            raise ValueError("margin must be in [0, 1)")

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def features(f: Field, value: str, romanisation: str = "pinyin") -> list[str]:
    """The features (strings) a field value contributes; empty for a missing value. A name
    is read as pinyin/Latin tokens (`nz.name_tokens`) or, with romanisation="hk", as Hong
    Kong romanisation keys (`nz.hk_name_tokens`)."""
    if not value:
        return []
    q = f.q
    if f.kind == "name":
        out = []
        toks = (nz.hk_name_tokens(value, alternatives=True) if romanisation == "hk"
                else nz.name_tokens(value))
        for tok in toks:
            out += _qgrams(f"_{tok}_", q)
        return out
    if f.kind == "text":
        return _qgrams(f" {nz.text(value)} ", q) if nz.text(value) else []
    if f.kind == "date":
        parts = nz.date_parts(value)
        return [] if parts is None else [f"y{parts[0]}", f"m{parts[1]}", f"d{parts[2]}"]
    if f.kind in ("digits", "phone", "id"):
        s = {"digits": nz.digits, "phone": nz.phone_digits, "id": nz.id_number}[f.kind](value)
        return _qgrams(s, q) if len(s) >= q else ([s] if s else [])
    g = nz.gender(value) if f.name == "gender" else value.strip().lower()
    return [g] if g else []


def _qgrams(s: str, q: int) -> list[str]:
    return [s[i:i + q] for i in range(len(s) - q + 1)]


class ClkEncoder:
    """Encodes records under a schema and the owners' secret key.

    `bits(records)` gives the plain L-bit filters (0/1 uint8, one row per record) that the
    owner keeps; `encode(records)` gives what leaves the owner in linkage-unit mode: packed
    filters (if balanced: filter ‖ complement in a keyed order, which the unit can pair up).
    """

    def __init__(self, schema: Schema, key: bytes, romanisation: str = "pinyin") -> None:
        if romanisation not in ("pinyin", "hk"):
            raise ValueError(f"romanisation must be 'pinyin' or 'hk', not {romanisation!r}")
        self.schema = schema
        self.romanisation = romanisation
        self._keys = {f.name: subkey(key, f"clk/{f.name}/{f.kind}") for f in schema.fields}
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._features: dict[tuple[str, str], list[int]] = {}
        perm_seed = subkey(key, "clk/balance-permutation", 16)
        self._perm = np.argsort(Prg(perm_seed).uint64(2 * schema.size), kind="stable")

    def __getstate__(self) -> dict:
        """Pickled (sent to a Ray worker) without its caches, which the worker rebuilds."""
        return {**self.__dict__, "_cache": {}, "_features": {}}

    def trim(self, limit: int = 1 << 16) -> None:
        """Forget cached field values past `limit` entries (bounds memory when one encoder
        reads a stream of chunks)."""
        if len(self._cache) > limit:
            self._cache.clear()
        if len(self._features) > 4 * limit:
            self._features.clear()

    def positions(self, f: Field, feature: str) -> list[int]:
        """The k keyed bit positions of one feature of field f."""
        hit = self._features.get((f.name, feature))
        if hit is None:
            d = hashlib.blake2b(feature.encode(), key=self._keys[f.name],
                                digest_size=2 * f.k).digest()
            hit = [int.from_bytes(d[2 * j:2 * j + 2], "little") % self.schema.size
                   for j in range(f.k)]  # L divides 2^16: unbiased
            self._features[(f.name, feature)] = hit
        return hit

    def field_positions(self, f: Field, value: str) -> np.ndarray:
        """All bit positions set by one field value (cached: values repeat a lot)."""
        hit = self._cache.get((f.name, value))
        if hit is None:
            feats = features(f, value, self.romanisation)
            hit = np.asarray([p for x in feats for p in self.positions(f, x)], dtype=np.int64)
            if len(self._cache) < 1 << 20:
                self._cache[(f.name, value)] = hit
        return hit

    def bits(self, records: Sequence[Record], step: int = 4096) -> np.ndarray:
        """Plain filters, one 0/1 row of L bits per record (`step` records at a time: the
        position lists cost ~8 KB per record while they exist)."""
        if len(records) <= step:
            return self._fill(len(records), [self._collect(records, self.schema.fields)])
        out = np.empty((len(records), self.schema.size), dtype=np.uint8)
        for s in range(0, len(records), step):
            part = records[s:s + step]
            out[s:s + len(part)] = self._fill(len(part), [self._collect(part, self.schema.fields)])
        return out

    def _collect(self, records: Sequence[Record], fields: Sequence[Field]
                 ) -> tuple[list[np.ndarray], list[int], list[int]]:
        """The cached position arrays of `fields` of every record, with their rows."""
        arrs, rows, lens = [], [], []
        for i, rec in enumerate(records):
            for f in fields:
                p = self.field_positions(f, f.value(rec))
                if p.size:
                    arrs.append(p)
                    rows.append(i)
                    lens.append(p.size)
        return arrs, rows, lens

    def _fill(self, n: int, parts: Sequence[tuple[list[np.ndarray], list[int], list[int]]]
              ) -> np.ndarray:
        size = self.schema.size
        out = np.zeros(n * size, dtype=np.uint8)
        for arrs, rows, lens in parts:
            if arrs:
                out[np.concatenate(arrs) + np.repeat(np.asarray(rows, np.int64) * size, lens)] = 1
        return out.reshape(n, size)

    def _reading(self, romanisation: str) -> ClkEncoder:
        """This encoder (same key, feature positions shared) with names read otherwise."""
        if romanisation not in ("pinyin", "hk"):
            raise ValueError(f"romanisation must be 'pinyin' or 'hk', not {romanisation!r}")
        other = copy.copy(self)
        other.romanisation, other._cache = romanisation, {}
        return other

    def encode_views(self, records: Sequence[Record], views: Sequence[str] = ("pinyin", "hk"),
                     chunk: int = 1 << 14) -> list[np.ndarray]:
        """Transmitted encodings of the same records with names read in each romanisation
        (`views`), sharing the other fields' work; in chunks of records to bound memory."""
        coders = {v: self if v == self.romanisation else self._reading(v) for v in views}
        names = [f for f in self.schema.fields if f.kind == "name"]
        others = [f for f in self.schema.fields if f.kind != "name"]
        out: list[list[np.ndarray]] = [[] for _ in views]
        for s in range(0, max(len(records), 1), chunk):
            part = records[s:s + chunk]
            common = self._collect(part, others)
            for k, v in enumerate(views):
                out[k].append(self.transmit(self._fill(len(part),
                                                       [common, coders[v]._collect(part, names)])))
        return [np.concatenate(o) for o in out]

    def transmit(self, bits: np.ndarray) -> np.ndarray:
        """Plain filters → what leaves the owner: balanced and permuted if the schema says
        so, packed to bytes (rows of L/8 or 2L/8 bytes)."""
        if self.schema.balanced:
            bits = np.concatenate([bits, 1 - bits], axis=1)[:, self._perm]
        return np.packbits(bits, axis=1)

    def encode(self, records: Sequence[Record]) -> np.ndarray:
        return self.transmit(self.bits(records))


def popcount(packed: np.ndarray) -> np.ndarray:
    """Number of ones per row of packed filters."""
    return np.bitwise_count(packed).sum(axis=1, dtype=np.int64)


def as_records(rows: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    return [dict(r) for r in rows]
