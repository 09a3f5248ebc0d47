"""Two-party ECDH-PSI (Meadows 1986; Huberman, Franklin & Hogg 1999) on ristretto255, and its
cardinality-only variant (De Cristofaro, Gasti & Tsudik 2012, "Fast and private computation of
cardinality of set intersection and union").

Each party hashes its keys to the group, blinds them with a fresh secret scalar per run
(`a` for us, `b` for the peer), shuffles them and streams them to the peer in batches. Each
party blinds what it receives with its own scalar: the doubly blinded value a·b·H(x) is the
same for both parties exactly when the keys are equal, and it is pseudo-random otherwise
(DDH in ristretto255). A party that receives output gets its own doubly blinded values back
from the peer — in its own (shuffled) order to learn *which* keys match, or sorted to learn only
*how many* (cardinality) — and compares them with the peer's doubly blinded values, which it
computed itself. Comparisons use the first 16 bytes (false-match probability
|A|·|B|/2^128). Work is streamed in batches of `batch_size` elements; group operations run on
`workers` threads (libsodium releases the GIL), see `yinji.crypto.group`.

Group: ristretto255 (prime order ℓ), hash-to-group by SHA-512 and libsodium's
`crypto_core_ristretto255_from_hash`. Every point a party sends or receives is a canonical
encoding of an element of the prime-order group, so no bit of it (such as the twist/curve bit
a raw X25519 u-coordinate carries, which this module used before and which told the peer,
for each key, on which of the two curves its hash lay) depends on the key: a·H(x) is uniform
in the group for a uniform a. Received batches that are not canonical encodings are refused
(`InvalidPoint`).

Rounds: 1 for sizes, then one message per batch in each direction, plus the returned batches.
Bytes: 32 per own element sent, 16 per peer element returned to a receiving peer.

Adversary model: semi-honest parties; no third party; channels authenticated and encrypted.

Leakage:
- Both parties learn |A| and |B| (set sizes; pad the input with random dummy keys to hide it).
- Receiver of the intersection: A ∩ B (its own matching keys), nothing about B \\ A.
- Receiver of the cardinality: |A ∩ B| only; the returned values are sorted, so it cannot tell
  which of its keys matched (`psi_cardinality` runs `yinji.psi.cardinality`'s exchange:
  blocks, and the receiver counts on disk partitions; same messages' content and leakage).
- A party that is not a receiver learns nothing beyond the sizes: every point it receives is
  a uniformly random element of the prime-order group (a fresh scalar times a group element).
- Both receive: both learn A ∩ B. Payload join (`psi_join`) needs both to know the
  intersection: the holder of the payload sends only the matching rows' payload.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from yinji.crypto import group
from yinji.crypto.prg import Prg, fresh_seed
from yinji.net.channel import Channel, Party
from yinji.net.expect import UnexpectedMessage, recv_array, recv_json
from yinji.psi.keys import PreparedKeys

DOMAIN = b"yinji/psi/ecdh/ristretto255/v1"
TAG_BYTES = 16
DEFAULT_BATCH = 1 << 15
MAX_KEYS = 1 << 32          # a peer's announced set size (its tags arrive batch by batch)
JOIN_ROW_BYTES = 1 << 16    # psi_join: a shared row's payload values, as JSON (64 KiB)
PROTOCOLS = ("ecdh", "kkrt", "auto", "rr22")
# protocol="auto" runs KKRT16 from this many keys per side: below it ECDH's cost is small
# (seconds) and its fixed costs lower; above it KKRT is over ten times faster.
AUTO_KKRT_MIN = 1 << 16


def random_permutation(n: int) -> np.ndarray:
    """A uniformly random permutation of range(n) from a fresh OS seed (AES-CTR keys, argsort)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return np.argsort(Prg(fresh_seed()).uint64(n), kind="stable")


def tags_view(tags: np.ndarray) -> np.ndarray:
    """(n, 16) uint8 rows as a 1-d array of 16-byte opaque values (sortable, comparable)."""
    return np.ascontiguousarray(tags).view(f"V{TAG_BYTES}").ravel()


def member(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Boolean mask: which rows of `mine` occur among `theirs` (both (n, 16) uint8)."""
    if len(mine) == 0 or len(theirs) == 0:
        return np.zeros(len(mine), dtype=bool)
    a, b = tags_view(mine), tags_view(theirs)
    # Cheap 64-bit pre-filter, then exact 128-bit check on the candidates.
    a64 = np.ascontiguousarray(mine[:, :8]).view("<u8").ravel()
    b64 = np.ascontiguousarray(theirs[:, :8]).view("<u8").ravel()
    cand = np.isin(a64, b64)
    out = np.zeros(len(mine), dtype=bool)
    idx = np.flatnonzero(cand)
    if len(idx):
        bcand = b[np.isin(b64, a64[idx])]
        out[idx] = np.isin(a[idx], bcand)
    return out


def key_list(keys: PreparedKeys | Sequence[bytes]) -> list[bytes]:
    if isinstance(keys, PreparedKeys):
        return keys.keys
    out = list(keys)
    if any(not isinstance(k, bytes) for k in out):
        raise TypeError("keys must be bytes (use yinji.psi.keys.prepare_keys)")
    if len(set(out)) != len(out):
        raise ValueError("keys must be unique (use prepare_keys(..., duplicates=...))")
    return out


def blind_received(scalar: bytes, x: np.ndarray, peer: str, workers: int | None,
                    pool: ThreadPoolExecutor) -> np.ndarray:
    """scalar · P for a batch received from `peer`; refuses anything but group elements."""
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != group.POINT_BYTES:
        raise ValueError(f"{peer} sent a malformed batch {x.dtype} {x.shape}")
    try:
        return group.mult_points(scalar, x, workers, pool)
    except group.InvalidPoint as exc:
        raise group.InvalidPoint(f"{peer} sent a batch with invalid points: {exc}") from None


@dataclass
class _Exchange:
    mine: np.ndarray | None    # my doubly blinded tags in input order (if the peer returned them)
    theirs: np.ndarray | None  # the peer's doubly blinded tags (if kept), peer-shuffled order
    peer_size: int


def exchange(party: Party, peer: str, keys: Sequence[bytes], *, i_receive: bool,
             peer_receives: bool, sort_returned: bool = False, batch_size: int = DEFAULT_BATCH,
             workers: int | None = None, progress=None) -> _Exchange:  # noqa: ANN001
    """The blinded exchange both parties run (see the module docstring).

    `i_receive`: keep the peer's doubly blinded tags and expect mine back. `peer_receives`:
    return the peer's tags to it (sorted if `sort_returned`, for cardinality).
    """
    ch: Channel = party.channel(peer)
    n = len(keys)
    ch.send_array(np.array([n, int(i_receive), int(sort_returned)], dtype=np.int64))
    hdr = recv_array(ch, "its header", np.int64, (3,))
    m, peer_expects, peer_sorted = int(hdr[0]), bool(hdr[1]), bool(hdr[2])
    if not 0 <= m <= MAX_KEYS:
        raise UnexpectedMessage(f"{peer} announced {m} keys, expected 0..{MAX_KEYS}")
    if peer_expects != peer_receives:
        raise ValueError(f"{party.name} and {peer} disagree on who receives the output")
    if i_receive and peer_receives and (peer_sorted != sort_returned):
        raise ValueError(f"{party.name} and {peer} disagree on the output kind")
    a = group.random_scalar()
    perm = random_permutation(n)
    nb_mine, nb_peer = -(-n // batch_size), -(-m // batch_size)
    kept: list[np.ndarray] = []
    back: list[np.ndarray] = []
    workers = max(1, workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psi") as pool:
        for i in range(max(nb_mine, nb_peer)):
            if i < nb_mine:
                idx = perm[i * batch_size:(i + 1) * batch_size]
                ch.send_array(group.hash_and_mult_points(a, [keys[j] for j in idx], DOMAIN,
                                                         workers, pool))
            if i < nb_peer:   # the peer's batch i, of the batch size both use
                rows = min(batch_size, m - i * batch_size)
                got = recv_array(ch, f"its batch {i}", np.uint8, (rows, group.POINT_BYTES))
                d = np.ascontiguousarray(blind_received(a, got, peer, workers,
                                                         pool)[:, :TAG_BYTES])
                if peer_receives and not sort_returned:
                    ch.send_array(d)
                if i_receive or (peer_receives and sort_returned):
                    kept.append(d)
            if i < nb_mine and i_receive and not sort_returned:
                back.append(recv_array(  # the peer sends it right after its own batch i
                    ch, f"the tags of my batch {i}", np.uint8, (len(idx), TAG_BYTES)))
            if progress is not None:
                progress(min((i + 1) * batch_size, max(n, m)), max(n, m))
    theirs = np.concatenate(kept) if kept else np.zeros((0, TAG_BYTES), np.uint8)
    if peer_receives and sort_returned:
        ch.send_array(np.sort(tags_view(theirs)).view(np.uint8).reshape(-1, TAG_BYTES))
    mine = None
    if i_receive:
        if sort_returned:
            mine = recv_array(ch, f"the sorted tags of {n} keys", np.uint8, (n, TAG_BYTES))
        else:
            got = np.concatenate(back) if back else np.zeros((0, TAG_BYTES), np.uint8)
            if got.shape != (n, TAG_BYTES):
                raise ValueError(f"{peer} returned {got.shape} tags for {n} keys")
            mine = np.empty_like(got)
            mine[perm] = got
    return _Exchange(mine, theirs if i_receive else None, m)


def who_receives(party: Party, peer: str, receiver: str | None) -> tuple[bool, bool]:
    if receiver is None:
        return True, True
    if receiver not in (party.name, peer):
        raise ValueError(f"receiver {receiver!r} is neither {party.name!r} nor {peer!r}")
    return receiver == party.name, receiver == peer


def ecdh_psi(party: Party, peer: str, keys: PreparedKeys | Sequence[bytes], *,
             receiver: str | None = None, batch_size: int = DEFAULT_BATCH,
             workers: int | None = None, progress=None,  # noqa: ANN001
             protocol: str = "ecdh", spu_python: str | None = None) -> np.ndarray | None:
    """Two-party ECDH-PSI. Returns, to each receiving party, the sorted positions (into
    `keys`) of its keys that the peer also holds; None to a party that receives nothing.

    `receiver`: the name of the one party that learns the intersection, or None for both.
    `protocol="kkrt"` runs our OT-based KKRT16 PSI (`yinji.psi.kkrt`: same result and
    leakage, much faster on large sets); `"auto"` exchanges the set sizes and runs kkrt when
    both sets have at least `AUTO_KKRT_MIN` keys, ECDH otherwise (both parties must pass the
    same protocol); `"rr22"` runs SecretFlow spu's RR22 (optional, see `yinji.psi.rr22`).
    Adversary model and leakage: module docstring.
    """
    keys = key_list(keys)
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol == "auto":
        who_receives(party, peer, receiver)
        protocol = choose_protocol(party, peer, len(keys))
    if protocol == "kkrt":
        from yinji.psi.kkrt import kkrt_psi
        return kkrt_psi(party, peer, keys, receiver=receiver)
    if protocol == "rr22":
        from yinji.psi.rr22 import rr22_psi
        who_receives(party, peer, receiver)
        return rr22_psi(party, peer, keys, receiver=receiver, spu_python=spu_python)
    me, them = who_receives(party, peer, receiver)
    ex = exchange(party, peer, keys, i_receive=me, peer_receives=them, batch_size=batch_size,
                  workers=workers, progress=progress)
    if not me:
        return None
    return np.flatnonzero(member(ex.mine, ex.theirs))


def choose_protocol(party: Party, peer: str, n: int) -> str:
    """`protocol="auto"`: both parties send their set size (which every protocol here reveals
    anyway) and pick kkrt when both sets have at least `AUTO_KKRT_MIN` keys, else ECDH."""
    ch = party.channel(peer)
    ch.send_array(np.array([n], dtype=np.int64))
    got = ch.recv_array_at_most(64)
    if got.dtype != np.int64 or got.shape != (1,) or got[0] < 0:
        raise ValueError(f"{peer} sent a malformed set size {got!r}")
    return "kkrt" if min(n, int(got[0])) >= AUTO_KKRT_MIN else "ecdh"


def psi_cardinality(party: Party, peer: str, keys: PreparedKeys | Sequence[bytes], *,
                    receiver: str | None, batch_size: int = DEFAULT_BATCH,
                    workers: int | None = None, work_dir: str | None = None) -> int | None:
    """|A ∩ B| to `receiver` only (None: to both; the peer returns the receiver's doubly
    blinded keys sorted, so the receiver cannot tell which matched); None to the other party.
    The keys are in memory; the exchange and the receiver's counting are
    `yinji.psi.cardinality`'s (blocks, disk partitions under `work_dir`), so this interoperates
    with `psi_cardinality_stream`, which reads the keys from a file in chunks."""
    from yinji.psi.cardinality import cardinality_exchange

    keys = key_list(keys)
    me, them = who_receives(party, peer, receiver)
    perm = random_permutation(len(keys))
    batches = ([keys[j] for j in perm[i:i + batch_size]] for i in range(0, len(keys), batch_size))
    return cardinality_exchange(party, peer, len(keys), batches, i_receive=me,
                                peer_receives=them, batch_size=batch_size, workers=workers,
                                work_dir=work_dir)


def psi_join(party: Party, peer: str, keys: PreparedKeys | Sequence[bytes],
             payload: Mapping[str, Sequence] | None = None, *, receiver: str,
             how: str = "inner", batch_size: int = DEFAULT_BATCH,
             workers: int | None = None) -> dict[str, list] | None:
    """ECDH-PSI with the peer's payload columns joined to the receiver's rows.

    Both parties learn the intersection (the payload holder must know which rows to send);
    the receiver additionally gets the peer's `payload` columns for the matching rows only.
    Returns to the receiver a dict of columns: "row" (position into its `keys`), then the
    peer's columns; `how="inner"` keeps matching rows, "left" keeps all of the receiver's rows
    with None where the peer has no match. Returns None to the payload holder.
    Values travel as JSON (str, int, float, None).
    """
    if how not in ("inner", "left"):
        raise ValueError(f"how must be 'inner' or 'left', got {how!r}")
    keys = key_list(keys)
    me, them = who_receives(party, peer, receiver)
    if me == them:
        raise ValueError("psi_join needs exactly one receiver")
    ex = exchange(party, peer, keys, i_receive=True, peer_receives=True,
                  batch_size=batch_size, workers=workers)
    hit = np.flatnonzero(member(ex.mine, ex.theirs))
    # Both sides order the intersection by its doubly blinded tag, which they share.
    order = hit[np.argsort(tags_view(ex.mine[hit]), kind="stable")]
    ch = party.channel(peer)
    if them:
        cols = dict(payload or {})
        body = {name: [_jsonable(vals[i]) for i in order] for name, vals in cols.items()}
        ch.send_bytes(json.dumps(body, ensure_ascii=False).encode())
        return None
    body = recv_json(ch, f"the payload of {len(order)} rows", 1024 + JOIN_ROW_BYTES * len(order),
                     dict)
    if any(not isinstance(v, list) or len(v) != len(order) for v in body.values()):
        raise UnexpectedMessage(f"{peer} sent payload columns that are not {len(order)} values")
    out: dict[str, list] = {}
    if how == "inner":
        out["row"] = [int(i) for i in order]
        for name, vals in body.items():
            out[name] = list(vals)
        return out
    pos = {int(r): j for j, r in enumerate(order)}
    out["row"] = list(range(len(keys)))
    for name, vals in body.items():
        out[name] = [vals[pos[i]] if i in pos else None for i in range(len(keys))]
    return out


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


__all__ = ["AUTO_KKRT_MIN", "DOMAIN", "PROTOCOLS", "choose_protocol", "ecdh_psi", "exchange", "member", "psi_cardinality", "psi_join",
           "random_permutation"]
