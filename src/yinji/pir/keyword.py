"""Keyword PIR with database privacy: an OPRF token picks a bucket and decrypts a label; the
bucket is fetched with SimplePIR (keyword PIR: Chor, Gilboa, Naor 1997; OPRF-keyed buckets
make it symmetric, i.e. private for the database too).

The member evaluates its OPRF on every key; token = F_k(key) (64 bytes). Bytes 0..8 select
one of `buckets` buckets (a power of two); bytes 32..64 key an AEAD encryption of the label,
bound to the database version: AES-256-GCM (key by keyed BLAKE2b), or SM4-GCM (key by
HKDF-SM3) for a node of the `sm` crypto profile; the layout names the cipher. Each bucket
holds `slots` fixed-size slots (2-byte length + label padded to `label_size` + 16-byte tag);
unused slots are random bytes, indistinguishable from ciphertexts. Bucket j is column j of the SimplePIR matrix, so one PIR
query fetches a whole bucket and the client trial-decrypts its slots: exactly one opens for a
present key, none for an absent one (false positive probability 2^-128 per slot).

Keys: both sides apply the member's key normalisation, `yinji.ids` of the layout's
`key_kind` ("auto" by default: ID numbers with a lower-case x, full-width digits, `="..."` /
`'...` spreadsheet exports and 15-digit legacy IDs all become the canonical 18-digit form;
"exact" keeps keys as given). The member normalises its records; the client reads the kind
from the public layout before its OPRF round, so both sides agree without configuration.

Leakage: the server learns nothing about the key (OPRF element and PIR query are
pseudorandom). The client learns its own label or "absent", plus ciphertexts: its bucket's
column, and through SimplePIR's hint and answers linear combinations of all columns — in the
limit the whole encrypted matrix, as with the trivial download. Every slot is AEAD under a
key derived from F_k(key); without an OPRF evaluation of a key the client cannot test or
open its slot, and evaluations are rate-limited per client. Public layout: record capacity
buckets x slots (slots = the maximum bucket load, which hints at the number of records), the
label size, the key kind and the version id.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag

from yinji import ids
from yinji.crypto.aead import AES_256_GCM, CIPHERS, SM4_GCM, gcm, hkdf_sm3
from yinji.crypto.prg import fresh_seed
from yinji.pir.lwe import MAX_COLS, LweParams, SimplePirServer
from yinji.pir.oprf import TOKEN_BYTES, OprfServer

TAG_BYTES = 16
LEN_BYTES = 2
_NONCE = bytes(12)  # each (record, version) has its own key, so a fixed nonce is never reused
_PERSON = b"yinji.pir.label"
MAX_LABEL_SIZE = (1 << 16) - 1
_PROGRESS_CHUNK = 50_000  # keys per OPRF call when reporting progress


class DuplicateKey(ValueError):
    """The same key appears twice among a member's records."""


Key = bytes | str
EXACT = "exact"  # key kind: keys used as given, no normalisation
KEY_KINDS = (EXACT, *ids.KINDS)
DEFAULT_KEY_KIND = "auto"


def as_key(key: Key, kind: str = EXACT) -> bytes:
    """The bytes a key is matched by: `key` normalised as `kind` (`yinji.ids`), UTF-8;
    kind "exact" takes bytes as they are and text as UTF-8. Bytes that are not UTF-8 text
    are never normalised."""
    if kind == EXACT:
        return key.encode() if isinstance(key, str) else bytes(key)
    if kind not in KEY_KINDS:
        raise ValueError(f"unknown key kind {kind!r}; expected one of {KEY_KINDS}")
    if not isinstance(key, str):
        try:
            key = bytes(key).decode()
        except UnicodeDecodeError:
            return bytes(key)
    return ids.normalize(key, kind).encode()


def _usable(key: bytes) -> None:
    """A normalised key must not be empty or in spreadsheet notation (its digits are lost)."""
    if not key:
        raise ValueError(f"a key is {ids.REASONS[ids.EMPTY]}")
    if ids.is_spreadsheet_float(key.decode(errors="replace")):
        raise ValueError(f"a key is {ids.REASONS[ids.SPREADSHEET]}")


def check_key_kind(kind: str) -> str:
    if kind not in KEY_KINDS:
        raise ValueError(f"unknown key kind {kind!r}; expected one of {', '.join(KEY_KINDS)}")
    return kind


@dataclass(frozen=True)
class Layout:
    """How records sit in the SimplePIR matrix: `buckets` columns of `slots` slots each."""

    buckets: int
    slots: int
    label_size: int
    cipher: str = AES_256_GCM
    key_kind: str = EXACT  # how both sides normalise keys (a layout without one: "exact")

    @property
    def slot_bytes(self) -> int:
        return LEN_BYTES + self.label_size + TAG_BYTES

    @property
    def rows(self) -> int:
        return self.slots * self.slot_bytes

    def bucket_of(self, token: bytes) -> int:
        return int.from_bytes(token[:8], "little") & (self.buckets - 1)

    def to_json(self) -> dict:
        return {"buckets": self.buckets, "slots": self.slots, "label_size": self.label_size,
                "cipher": self.cipher, "key_kind": self.key_kind}

    @classmethod
    def from_json(cls, obj: dict) -> Layout:
        cipher = obj.get("cipher", AES_256_GCM)
        if cipher not in CIPHERS:
            raise ValueError(f"layout names unknown label cipher {cipher!r}")
        kind = check_key_kind(str(obj.get("key_kind", EXACT)))
        return cls(int(obj["buckets"]), int(obj["slots"]), int(obj["label_size"]), cipher,
                   kind)


def label_key(token: bytes, version: str, cipher: str = AES_256_GCM) -> bytes:
    """The label key of one record in one version (AES-256-GCM or SM4-GCM)."""
    if cipher == SM4_GCM:
        return hkdf_sm3(token[32:64], _PERSON + b"/" + version.encode(), 16)
    return hashlib.blake2b(version.encode(), key=token[32:64], digest_size=32,
                           person=_PERSON).digest()


def seal_label(token: bytes, version: str, label: bytes, label_size: int,
               cipher: str = AES_256_GCM) -> bytes:
    plain = len(label).to_bytes(LEN_BYTES, "big") + label + bytes(label_size - len(label))
    return gcm(cipher, label_key(token, version, cipher)).encrypt(_NONCE, plain,
                                                                   version.encode())


def open_bucket(column: np.ndarray, token: bytes, version: str, layout: Layout) -> bytes | None:
    """Trial-decrypt every slot of a fetched bucket; the label, or None if no slot opens."""
    aead = gcm(layout.cipher, label_key(token, version, layout.cipher))
    raw = column.astype(np.uint8).tobytes()
    size = layout.slot_bytes
    for start in range(0, layout.rows, size):
        try:
            plain = aead.decrypt(_NONCE, raw[start:start + size], version.encode())
        except InvalidTag:
            continue
        n = int.from_bytes(plain[:LEN_BYTES], "big")
        return plain[LEN_BYTES:LEN_BYTES + n]
    return None


def default_buckets(records: int, slot_bytes: int) -> int:
    """A power of two making the matrix roughly square (rows ≈ 1.4·records/buckets·slot)."""
    if records == 0:
        return 1
    ideal = math.sqrt(1.4 * records * slot_bytes)
    return int(min(MAX_COLS, max(1, 2 ** round(math.log2(ideal)))))


@dataclass(frozen=True)
class KeywordVersion:
    """One immutable, fully built database version: what a server answers from."""

    version: str
    layout: Layout
    pir: SimplePirServer
    records: int
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    path: Path | None = field(default=None, compare=False)  # its folder, when built on disk

    @property
    def params(self) -> LweParams:
        return self.pir.params

    def describe(self) -> dict:
        return {"version": self.version, "layout": self.layout.to_json(),
                "lwe": self.params.to_json()}


def build_version(tokens: Sequence[bytes], labels: Sequence[bytes], label_size: int,
                  version: str, buckets: int | None = None,
                  cipher: str = AES_256_GCM, key_kind: str = EXACT, *,
                  seed: bytes | None = None,
                  fill: Callable[[int], bytes] = os.urandom) -> KeywordVersion:
    """Lay out sealed labels in buckets and preprocess the SimplePIR matrix and hint.

    `seed` (of A; default fresh) and `fill` (the bytes of unused slots, bucket by bucket;
    default os.urandom) exist so tests can compare a build with the streamed one
    (`yinji.pir.build`) byte for byte."""
    n = len(tokens)
    slot_bytes = LEN_BYTES + label_size + TAG_BYTES
    buckets = buckets or default_buckets(n, slot_bytes)
    if buckets & (buckets - 1) or not 1 <= buckets <= MAX_COLS:
        raise ValueError(f"buckets must be a power of two ≤ {MAX_COLS}, got {buckets}")
    start = time.perf_counter()
    tok = np.frombuffer(b"".join(tokens), dtype=np.uint8).reshape(n, TOKEN_BYTES)
    which = (tok[:, :8].copy().view("<u8")[:, 0] & np.uint64(buckets - 1)).astype(np.int64)
    load = np.bincount(which, minlength=buckets)
    layout = Layout(buckets, max(1, int(load.max())), label_size, cipher, key_kind)
    cells = np.frombuffer(fill(buckets * layout.rows), dtype=np.uint8).reshape(
        buckets * layout.slots, slot_bytes).copy()
    if n:
        # Slot order inside a bucket follows the (pseudorandom) token, not the input order.
        order = np.lexsort((tok[:, 8:16].copy().view("<u8")[:, 0], which))
        starts = np.cumsum(load) - load
        rank = np.arange(n) - starts[which[order]]
        sealed = b"".join(seal_label(tokens[i], version, labels[i], label_size, cipher)
                          for i in order)
        cells[which[order] * layout.slots + rank] = np.frombuffer(
            sealed, dtype=np.uint8).reshape(n, slot_bytes)
    db = np.ascontiguousarray(cells.reshape(buckets, layout.rows).T)
    params = LweParams(rows=layout.rows, cols=buckets, seed=seed or fresh_seed())
    laid_out = time.perf_counter()
    pir = SimplePirServer(db, params)
    return KeywordVersion(version, layout, pir, n, {
        "seal_layout_s": laid_out - start, "hint_s": time.perf_counter() - laid_out})


class KeywordDatabase:
    """A member's key -> label records and OPRF key; builds immutable `KeywordVersion`s.

    Tokens are cached per key, so an update only evaluates the OPRF on new keys. `cipher`
    seals the labels: `aes-256-gcm`, or `sm4-gcm` for a node of the `sm` crypto profile.
    `key_kind`: how keys are normalised (`as_key`), published in the layout for clients.
    """

    def __init__(self, records: Iterable[tuple[Key, bytes]] = (), *, label_size: int = 64,
                 oprf: OprfServer | None = None, buckets: int | None = None,
                 cipher: str = AES_256_GCM, key_kind: str = DEFAULT_KEY_KIND) -> None:
        if not 0 <= label_size <= MAX_LABEL_SIZE:
            raise ValueError(f"label_size must be in 0..{MAX_LABEL_SIZE}")
        if cipher not in CIPHERS:
            raise ValueError(f"unknown label cipher {cipher!r}; expected one of "
                             f"{', '.join(CIPHERS)}")
        self.cipher = cipher
        self.key_kind = check_key_kind(key_kind)
        self.label_size = label_size
        self.oprf = oprf if oprf is not None else OprfServer()
        self.buckets = buckets
        self._labels: dict[bytes, bytes] = {}
        self._tokens: dict[bytes, bytes] = {}
        self._builds = 0
        self.add(records)

    def __len__(self) -> int:
        return len(self._labels)

    def add(self, records: Iterable[tuple[Key, bytes]]) -> None:
        """Add new records; a key already present (or repeated, after normalisation) raises
        `DuplicateKey`; one that normalises to nothing or to spreadsheet notation
        ('1.10105E+17', its digits lost) raises ValueError."""
        fresh: dict[bytes, bytes] = {}
        dups: list[bytes] = []
        for key, label in records:
            k, lab = as_key(key, self.key_kind), bytes(label)
            if self.key_kind != EXACT:
                _usable(k)
            if k in self._labels or k in fresh:
                dups.append(k)
                continue
            if len(lab) > self.label_size:
                raise ValueError(f"label of {len(lab)} bytes exceeds label_size={self.label_size}")
            fresh[k] = lab
        if dups:
            shown = ", ".join(repr(d) for d in dups[:3])
            raise DuplicateKey(f"{len(dups)} duplicate key(s), e.g. {shown}; keys must be unique")
        self._labels.update(fresh)

    def remove(self, keys: Iterable[Key]) -> None:
        """Remove records; a key that is not present raises `KeyError`."""
        ks = [as_key(k, self.key_kind) for k in keys]
        missing = [k for k in ks if k not in self._labels]
        if missing:
            raise KeyError(f"{len(missing)} key(s) not present, e.g. {missing[0]!r}")
        for k in ks:
            del self._labels[k]
            self._tokens.pop(k, None)

    def build(self, workers: int | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> KeywordVersion:
        """Snapshot the records into a new immutable version (OPRF, seal, lay out, hint).

        `progress(stage, done, total)` is called as OPRF evaluation advances ("oprf", in
        chunks of keys) and around sealing and preprocessing ("seal+hint", 0 or 1 of 1).
        """
        keys = list(self._labels)
        start = time.perf_counter()
        todo = [k for k in keys if k not in self._tokens]
        if progress is None:
            self._tokens.update(zip(todo, self.oprf.tokens(todo, workers=workers), strict=True))
        else:
            progress("oprf", 0, len(todo))
            for i in range(0, len(todo), _PROGRESS_CHUNK):
                chunk = todo[i:i + _PROGRESS_CHUNK]
                self._tokens.update(zip(chunk, self.oprf.tokens(chunk, workers=workers),
                                        strict=True))
                progress("oprf", i + len(chunk), len(todo))
            progress("seal+hint", 0, 1)
        oprf_s = time.perf_counter() - start
        self._builds += 1
        version = f"v{self._builds}-{secrets.token_hex(6)}"
        built = build_version([self._tokens[k] for k in keys], [self._labels[k] for k in keys],
                              self.label_size, version, self.buckets, self.cipher,
                              self.key_kind)
        built.timings["oprf_s"] = oprf_s
        if progress is not None:
            progress("seal+hint", 1, 1)
        return built


__all__ = ["DEFAULT_KEY_KIND", "EXACT", "KEY_KINDS", "DuplicateKey", "KeywordDatabase", "KeywordVersion", "Layout", "as_key",
           "build_version", "check_key_kind", "default_buckets", "label_key", "open_bucket", "seal_label"]
