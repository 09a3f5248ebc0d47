"""Unbalanced PSI: a large server set prepared once and reused, against many small client
sets — the OPRF-based PSI of Jarecki & Liu (2010) / Kiss et al. ("Private Set Intersection
for Unequal Set Sizes with Mobile Applications", PETS 2017), on ristretto255.

Server (e.g. a 10^7-row customer base): a long-lived OPRF key b; the tag of each of its keys
y is F_b(y) = first 16 bytes of b·H(y). Preparing costs one group operation per key, once;
the tags are persisted (`UbServer.create`), and keys can be added or removed later at one
operation each (`add`, `remove`), with a version number and per-version deltas.

Client, per run: it syncs its cached copy of the server's tags (full copy the first time, then
only the deltas since its version), blinds H(x) with a fresh scalar r, the server multiplies by
b, the client unblinds with 1/r and gets F_b(x) for each of its keys, which it looks up in the
cached tags. Server cost per run: one group operation per client key.

Files: the OPRF key is written to its own file (mode 0600, also when the file already
existed with a wider mode), never into the tag cache, which
holds nothing secret (it is what every client receives). Arrays are stored with NumPy's
.npy format with pickling disabled.

Adversary model: semi-honest server and client, authenticated channels.

Leakage:
- The client learns the intersection, the size of the server's set, and the tags of the
  server's keys (pseudo-random; testing a candidate key needs one online OPRF query, which
  the server sees as one more element in the client's set size). Across versions it learns
  how many tags were added and removed, and whether keys it queried before were added or
  removed since. With the key reused across runs, a client learns the union of the answers
  to all its runs (by design of the reusable mode).
- The server learns the size of each client set, nothing about its elements (every point it
  receives is uniformly random).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yinji.crypto import group
from yinji.crypto.certs import write_private
from yinji.net.channel import Party
from yinji.net.expect import recv_array
from yinji.psi.ecdh import TAG_BYTES, member
from yinji.psi.keys import PreparedKeys

DOMAIN = b"yinji/psi/unbalanced/ristretto255/v1"
MAX_QUERY = 1 << 22        # keys a client may query in one run (points: 128 MB)
MAX_SERVER_KEYS = 1 << 27  # tags a client accepts from a server (the full copy: 2 GB)


def _points(items: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(items), dtype=np.uint8).reshape(-1, group.POINT_BYTES)


def _list(points: np.ndarray) -> list[bytes]:
    raw = np.ascontiguousarray(points, dtype=np.uint8).tobytes()
    return [raw[i:i + group.POINT_BYTES] for i in range(0, len(raw), group.POINT_BYTES)]


def _keys(keys: PreparedKeys | Sequence[bytes]) -> list[bytes]:
    klist = keys.keys if isinstance(keys, PreparedKeys) else list(keys)
    if len(set(klist)) != len(klist):
        raise ValueError("keys must be unique (use prepare_keys)")
    return klist


def _save(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr, allow_pickle=False)
    os.replace(tmp, path)


def _load(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


class UbServer:
    """The large side's persisted state: OPRF key file + tag cache directory."""

    def __init__(self, directory: Path, key: bytes, tags: np.ndarray, version: int) -> None:
        self.directory = directory
        self._key = key
        self.tags = tags
        self.version = version

    @classmethod
    def create(cls, directory: str | Path, keys: PreparedKeys | Sequence[bytes], *,
               key_file: str | Path | None = None, workers: int | None = None) -> UbServer:
        """Draw a fresh OPRF key, compute the tags of `keys` once, persist both."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        key = group.random_scalar()
        kf = Path(key_file) if key_file else d / "oprf.key"
        write_private(kf, key)   # 0600 even when the file existed with a wider mode
        tags = cls._tags(key, _keys(keys), workers)
        srv = cls(d, key, np.zeros((0, TAG_BYTES), np.uint8), 0)
        srv._key_file = kf
        srv._commit(tags, tags, np.zeros((0, TAG_BYTES), np.uint8))
        return srv

    @classmethod
    def open(cls, directory: str | Path, *, key_file: str | Path | None = None) -> UbServer:
        d = Path(directory)
        meta = json.loads((d / "meta.json").read_text())
        kf = Path(key_file) if key_file else d / "oprf.key"
        srv = cls(d, kf.read_bytes(), _load(d / "tags.npy"), int(meta["version"]))
        srv._key_file = kf
        return srv

    @staticmethod
    def _tags(key: bytes, keys: list[bytes], workers: int | None) -> np.ndarray:
        if not keys:
            return np.zeros((0, TAG_BYTES), np.uint8)
        pts = group.hash_and_mult(key, keys, DOMAIN, workers)
        return np.ascontiguousarray(_points(pts)[:, :TAG_BYTES])

    def _commit(self, tags: np.ndarray, added: np.ndarray, removed: np.ndarray) -> None:
        self.tags = tags
        self.version += 1
        _save(self.directory / "tags.npy", self.tags)
        _save(self.directory / f"delta-{self.version}-added.npy", added)
        _save(self.directory / f"delta-{self.version}-removed.npy", removed)
        (self.directory / "meta.json").write_text(json.dumps(
            {"version": self.version, "size": len(self.tags), "tag_bytes": TAG_BYTES,
             "key_file": str(self._key_file)}))

    def add(self, keys: PreparedKeys | Sequence[bytes], workers: int | None = None) -> int:
        """Add keys (one group operation each); keys already present are ignored."""
        new = self._tags(self._key, _keys(keys), workers)
        new = new[~member(new, self.tags)] if len(self.tags) else new
        self._commit(np.concatenate([self.tags, new]), new, np.zeros((0, TAG_BYTES), np.uint8))
        return len(new)

    def remove(self, keys: PreparedKeys | Sequence[bytes], workers: int | None = None) -> int:
        """Remove keys (one group operation each); absent keys are ignored."""
        gone = self._tags(self._key, _keys(keys), workers)
        drop = member(self.tags, gone)
        removed = self.tags[drop]
        self._commit(self.tags[~drop], np.zeros((0, TAG_BYTES), np.uint8), removed)
        return int(drop.sum())

    def serve(self, party: Party, client: str, workers: int | None = None, *,
              max_query: int = MAX_QUERY) -> None:
        """One client run: sync its tag cache, then evaluate the OPRF on its blinded keys
        (at most `max_query` of them)."""
        ch = party.channel(client)
        client_version = int(recv_array(ch, "its cache version", np.int64, (1,))[0])
        have = all((self.directory / f"delta-{v}-added.npy").exists()
                   for v in range(client_version + 1, self.version + 1))
        if 0 < client_version <= self.version and have:
            added = [_load(self.directory / f"delta-{v}-added.npy")
                     for v in range(client_version + 1, self.version + 1)]
            removed = [_load(self.directory / f"delta-{v}-removed.npy")
                       for v in range(client_version + 1, self.version + 1)]
            ch.send_array(np.array([self.version, 0], dtype=np.int64))  # 0: deltas follow
            ch.send_array(_cat(added))
            ch.send_array(_cat(removed))
        else:
            ch.send_array(np.array([self.version, 1], dtype=np.int64))  # 1: full copy
            ch.send_array(self.tags)
        blinded = recv_array(ch, "a query of blinded keys", np.uint8, (None, 32), most=max_query)
        ch.send_array(_points(group.scalar_mult(self._key, _list(blinded), workers)))


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, TAG_BYTES), np.uint8)


class UbClientCache:
    """The client's copy of the server's tags (nothing secret), kept between runs."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "meta.json"
        if meta.exists():
            self.version = int(json.loads(meta.read_text())["version"])
            self.tags = _load(self.directory / "tags.npy")
        else:
            self.version, self.tags = 0, np.zeros((0, TAG_BYTES), np.uint8)

    def save(self) -> None:
        _save(self.directory / "tags.npy", self.tags)
        (self.directory / "meta.json").write_text(json.dumps({"version": self.version}))


def ub_client(party: Party, server: str, keys: PreparedKeys | Sequence[bytes],
              cache: UbClientCache, workers: int | None = None, *,
              max_server_keys: int = MAX_SERVER_KEYS) -> np.ndarray:
    """Client side of one unbalanced run: sorted positions (into `keys`) of keys the server
    holds. Updates `cache` to the server's current version. A server sending more than
    `max_server_keys` tags is refused (naming it) before they are read."""
    klist = _keys(keys)
    ch = party.channel(server)
    ch.send_array(np.array([cache.version], dtype=np.int64))
    version, full = (int(v) for v in recv_array(ch, "the version header", np.int64, (2,)))
    if full:
        cache.tags = recv_array(ch, "its tags", np.uint8, (None, TAG_BYTES),
                                most=max_server_keys)
    else:   # removed: tags the client holds or that were added since its version
        added = recv_array(ch, "the added tags", np.uint8, (None, TAG_BYTES),
                           most=max_server_keys)
        removed = recv_array(ch, "the removed tags", np.uint8, (None, TAG_BYTES),
                             most=len(cache.tags) + len(added))
        keep = ~member(cache.tags, removed) if len(removed) else slice(None)
        cache.tags = np.concatenate([cache.tags[keep], added])
    cache.version = version
    cache.save()
    r = group.random_scalar()
    blinded = group.hash_and_mult(r, klist, DOMAIN, workers) if klist else []
    ch.send_array(_points(blinded) if klist else np.zeros((0, 32), np.uint8))
    answered = recv_array(ch, f"the answers to {len(klist)} keys", np.uint8, (len(klist), 32))
    if not klist:
        return np.zeros(0, dtype=np.int64)
    tags = _points(group.scalar_mult(group.scalar_inverse(r), _list(answered), workers))
    mine = np.ascontiguousarray(tags[:, :TAG_BYTES])
    return np.flatnonzero(member(mine, cache.tags))


__all__ = ["UbClientCache", "UbServer", "ub_client"]
