"""Bucketed two-party PSI: the key sets cut into buckets by a keyed hash, bucket pairs run as
independent ECDH-PSIs in parallel lanes, each lane over its own mutual-TLS connection, on
threads or on the machines of a Ray cluster (`yinji.net.workers`).

Why: one ECDH-PSI costs ~125 µs of CPU per key and party, so 10^8 keys take about 3.5 CPU
hours per party. Equal keys land in the same bucket on both sides, so the intersection is the
union of the buckets' intersections, and the buckets can run anywhere at once.

Steps (`bucketed_psi`): (1) over the ordinary channel the parties agree on the bucket count,
the lane count and who receives, and each sends 32 fresh random bytes; the bucket key is
SHA-256 of both contributions (neither party chooses it). The key is agreed before any key is
partitioned, so a party may read its keys afterwards, in chunks (`yinji.psi.stream`). (2) Each party puts each key in
bucket BLAKE2b(key; bucket key) mod B and pads every bucket with random dummy keys to the
public size `bucket_cap(n, B)`, which a bucket overflows with probability below 2^-40 (the run
then stops with `BucketOverflow`; rerun, a new key is drawn); each party then tells the other
it is ready (or only that it stopped, and the exception's class name). (3) Lane j takes buckets j,
j+W, j+2W, ...; the party whose name sorts second starts W listening lanes and sends their
addresses, the other dials them; both sides' lanes run `ecdh_psi(protocol="auto")` (KKRT16
for buckets of 2^16 keys or more, else ECDH) bucket by bucket over their
own connection. (4) Each receiver maps the matches back to its keys, dropping dummies.

Adversary model: semi-honest parties, as `yinji.psi.ecdh`; lanes authenticate the peer with
the same certificates and checks as the node's data plane.

Leakage: exactly ECDH-PSI's. Both parties learn |A| and |B| (bucket sizes are the public cap
of the set size, never the real per-bucket counts: those would tell the holder of the bucket
key how the peer's keys fall into buckets); a receiver learns A ∩ B and nothing about B \\ A;
a non-receiver learns nothing beyond the sizes. Dummy keys are 32 random bytes: they match a
peer's key with probability |B|·2^-256. The number of lanes and buckets is public.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Iterable, Sequence

import numpy as np

from yinji.net.channel import Party
from yinji.net.connect import Acceptor, Address, TlsConfig, dial
from yinji.net.tls import TlsChannel
from yinji.net.workers import LocalWorkers, Workers
from yinji.psi.ecdh import ecdh_psi, key_list, who_receives
from yinji.psi.keys import PreparedKeys

DOMAIN = b"yinji/psi/bucketed/v1"
FAIL_LOG2 = 40          # a bucket overflows its cap with probability < 2^-40 per run
MAX_BUCKETS = 1 << 16


class BucketOverflow(RuntimeError):
    """A bucket got more keys than its public cap (probability < 2^-40); rerun."""


def bucket_cap(n: int, buckets: int) -> int:
    """Public size of every bucket of a set of `n` keys: the mean plus a Bernstein bound, so
    that any of the `buckets` bins exceeds it with probability below 2^-FAIL_LOG2."""
    if n == 0:
        return 0
    if buckets == 1:
        return n
    mean = n / buckets
    lam = (FAIL_LOG2 + math.log2(buckets)) * math.log(2)
    t = lam / 3 + math.sqrt((lam / 3) ** 2 + 2 * lam * mean)
    return min(n, math.ceil(mean + t))


def bucket_of(keys: Sequence[bytes], key: bytes, buckets: int) -> np.ndarray:
    """The bucket of each key: BLAKE2b keyed with the agreed bucket key, mod `buckets`."""
    out = np.empty(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        h = hashlib.blake2b(k, key=key, digest_size=8, person=b"yinji-psi-bkt")
        out[i] = int.from_bytes(h.digest(), "little") % buckets
    return out


def partition(keys: Sequence[bytes], key: bytes, buckets: int
              ) -> tuple[list[list[bytes]], list[np.ndarray]]:
    """Each bucket's keys padded with random dummies to `bucket_cap`, and the positions (into
    `keys`) of its real keys, which come first."""
    cap = bucket_cap(len(keys), buckets)
    which = bucket_of(keys, key, buckets)
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=buckets)
    if counts.size and counts.max() > cap:
        b = int(counts.argmax())
        raise BucketOverflow(f"bucket {b} got {int(counts[b])} keys, over its cap {cap} "
                             f"(probability < 2^-{FAIL_LOG2}); run the job again")
    rows = np.split(order, np.cumsum(counts)[:-1])
    out = []
    for r in rows:
        real = [keys[int(i)] for i in r]
        out.append(real + [secrets.token_bytes(32) for _ in range(cap - len(real))])
    return out, rows


class Lane:
    """One lane's side: its own TLS connection to the peer's lane, its buckets in turn.

    Constructed where it runs (a thread or a Ray actor); with `bind` it listens at once, so
    `address()` can be sent to the peer before `run`.
    """

    def __init__(self, owner: str, peer: str, tls: TlsConfig, bind: Address | None = None,
                 connect_timeout: float = 120.0) -> None:
        self.owner, self.peer, self.tls = owner, peer, tls
        self.connect_timeout = connect_timeout
        self._acceptor = (Acceptor(owner, bind, {peer}, tls,
                                   time.monotonic() + connect_timeout) if bind else None)

    def address(self) -> Address:
        if self._acceptor is None:
            raise ValueError("this lane dials; it has no address")
        return self._acceptor.address

    def run(self, buckets: Iterable[Sequence[bytes]], dial_to: Address | None,
            receiver: str | None, timeout: float) -> list[np.ndarray | None]:
        if self._acceptor is not None:
            sock = self._acceptor.result()[self.peer]
        else:
            sock = dial(self.owner, self.peer, tuple(dial_to), self.tls,
                        self.tls.context(server=False),
                        time.monotonic() + self.connect_timeout)
        party = Party(self.owner, {self.peer: TlsChannel(self.owner, self.peer, sock,
                                                         timeout=timeout)})
        try:
            # "auto": KKRT16 for buckets of 2^16 keys or more (both lanes see the same
            # padded sizes, so they agree), ECDH below; same result and leakage either way
            return [ecdh_psi(party, self.peer, keys, receiver=receiver, workers=1,
                             protocol="auto") for keys in buckets]
        finally:
            party.close()


def agree_key(party: Party, peer: str, buckets: int, lanes: int,
              receiver: str | None) -> bytes:
    """Exchange settings (refusing a mismatch) and derive the bucket key. Nothing here
    depends on the keys: the key is agreed before either party reads (or partitions) any."""
    ch = party.channel(peer)
    mine = {"buckets": buckets, "lanes": lanes, "receiver": receiver}
    ch.send_bytes(json.dumps(mine).encode())
    theirs = json.loads(ch.recv_bytes_at_most(1024).decode())
    for k in ("buckets", "lanes", "receiver"):
        if theirs.get(k) != mine[k]:
            raise ValueError(f"{party.name} and {peer} disagree on {k}: "
                             f"{mine[k]!r} here, {theirs.get(k)!r} at {peer}")
    nonce = secrets.token_bytes(32)
    ch.send_bytes(nonce)
    other = ch.recv_bytes_at_most(32)
    if len(other) != 32:
        raise ValueError(f"{peer} sent a malformed bucket-key share")
    first, second = (nonce, other) if party.name < peer else (other, nonce)
    return hashlib.sha256(DOMAIN + first + second).digest()


def ready(party: Party, peer: str, problem: Exception | None) -> None:
    """Tell the peer this side partitioned its keys (or why it stopped: only the kind of
    problem, e.g. an overflow, never rows or keys) and hear the same from it; raises if
    either side stopped, so neither waits for lanes that never come."""
    ch = party.channel(peer)
    mine = {"ok": problem is None}
    if problem is not None:
        mine["problem"] = type(problem).__name__
    ch.send_bytes(json.dumps(mine).encode())
    if problem is not None:
        raise problem
    theirs = json.loads(ch.recv_bytes_at_most(1024).decode())
    if not theirs.get("ok"):
        raise RuntimeError(f"{peer} stopped before the lanes: {theirs.get('problem')}")


def bucketed_psi(party: Party, peer: str, keys: PreparedKeys | Sequence[bytes], *,
                 tls: TlsConfig, buckets: int, lanes: int | None = None,
                 receiver: str | None = None, workers: Workers | None = None,
                 bind_host: str = "127.0.0.1", timeout: float = 600.0) -> np.ndarray | None:
    """Two-party PSI in `buckets` buckets over `lanes` parallel TLS lanes (default: as many as
    `workers` runs at once). Same result as `ecdh_psi`: to each receiving party the sorted
    positions (into `keys`) of its keys the peer also holds; None to a non-receiver.

    `party`/`peer`: the ordinary channel, used only to agree settings and lane addresses.
    `tls`: this party's certificate, key and trust, for the lanes. `bind_host`: where this
    party's lanes listen (the address the peer reaches them at; the party whose name sorts
    second listens). Adversary model and leakage: module docstring.
    """
    keys = key_list(keys)
    if not 1 <= buckets <= MAX_BUCKETS:
        raise ValueError(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
    me, _ = who_receives(party, peer, receiver)
    workers = workers or LocalWorkers()
    lanes = max(1, min(lanes or workers.size, buckets))
    bucket_key = agree_key(party, peer, buckets, lanes, receiver)
    try:
        parts, rows = partition(keys, bucket_key, buckets)
    except BucketOverflow as exc:
        ready(party, peer, exc)
    ready(party, peer, None)
    found = run_lanes(party, peer, parts, tls=tls, buckets=buckets, lanes=lanes,
                      receiver=receiver, workers=workers, bind_host=bind_host, timeout=timeout)
    if not me:
        return None
    plan = lane_plan(buckets, lanes)
    hits = [rows[b][pos[pos < len(rows[b])]]
            for j, lane in enumerate(found) for b, pos in zip(plan[j], lane, strict=True)]
    return np.sort(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)


def lane_plan(buckets: int, lanes: int) -> list[list[int]]:
    """Lane j takes buckets j, j+W, j+2W, ..."""
    return [list(range(j, buckets, lanes)) for j in range(lanes)]


def run_lanes(party: Party, peer: str, parts: Sequence[Sequence[bytes]], *, tls: TlsConfig,
              buckets: int, lanes: int, receiver: str | None, workers: Workers,
              bind_host: str, timeout: float) -> list[list[np.ndarray | None]]:
    """Start the lanes, exchange their addresses, run every bucket; per lane, per bucket of
    `lane_plan`, the positions `ecdh_psi` found (into the padded bucket). `parts[b]` is
    bucket b's padded keys; it may be a lazy sequence that loads a bucket when indexed."""
    plan = lane_plan(buckets, lanes)
    listen = party.name > peer
    ch = party.channel(peer)
    objs = workers.start(Lane, [(party.name, peer, tls, (bind_host, 0) if listen else None)
                                for _ in plan])
    try:
        if listen:
            addrs = workers.call(objs, "address", [() for _ in plan])
            ch.send_bytes(json.dumps([list(a) for a in addrs]).encode())
            dials = [None] * lanes
        else:
            dials = [tuple(a) for a in json.loads(ch.recv_bytes_at_most(64 * lanes + 64))]
            if len(dials) != lanes:
                raise ValueError(f"{peer} sent {len(dials)} lane addresses for {lanes} lanes")
        mine = [[parts[b] for b in plan[j]] if isinstance(parts, list)
                else _Picked(parts, plan[j]) for j in range(lanes)]
        return workers.call(objs, "run", [(mine[j], dials[j], receiver, timeout)
                                          for j in range(lanes)])
    finally:
        workers.stop(objs)


class _Picked:
    """Buckets `which` of `parts`, fetched one at a time as a lane reaches them (a lazy
    `parts` then holds one bucket per lane in memory, not all of them)."""

    def __init__(self, parts: Sequence[Sequence[bytes]], which: list[int]) -> None:
        self.parts, self.which = parts, which

    def __len__(self) -> int:
        return len(self.which)

    def __iter__(self):  # noqa: ANN204
        for b in self.which:
            yield self.parts[b]


__all__ = ["BucketOverflow", "Lane", "agree_key", "bucket_cap", "bucket_of", "bucketed_psi",
           "lane_plan", "partition", "ready", "run_lanes"]
