"""Secure aggregation with pairwise masks and dropout recovery (Bonawitz et al., "Practical
Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017), semi-honest variant.

One aggregation among n clients and a server; the server learns sum_i x_i over the clients
that finished, nothing about any single x_i. Vectors are float arrays, fixed-point encoded in
Z_2^64 (`FRAC_BITS` fractional bits), so sums wrap like ring elements and masks are uniform.

Rounds (every message goes through the server, as in the paper):

0. AdvertiseKeys: client i makes an X25519 key pair (OpenSSL via `cryptography`) and sends
   its public key; the server forwards the list to every client.
1. ShareKeys: client i draws a self-mask seed b_i, Shamir-shares (threshold t) its X25519
   private key and b_i among all clients, and sends share j to client j encrypted with
   AES-256-GCM under a key derived from X25519(i, j) (label "enc"); the server relays them.
2. MaskedInput: y_i = x_i + PRG(b_i) + sum_{j > i} PRG(s_ij) - sum_{j < i} PRG(s_ij), with
   s_ij derived from X25519(i, j) (label "mask") and PRG = AES-CTR (`yinji.crypto.prg`).
   A client that stops before this step (or whose message does not arrive) has dropped out.
3. Unmasking: the server names the survivors U; each survivor sends its shares of b_k for
   k in U and of the private key of every dropped client. With >= t shares the server removes
   PRG(b_k) and the dropped clients' pairwise masks; the pairwise masks among survivors cancel.

Adversary model: semi-honest server and clients (they follow the protocol); the server does
not collude with t - 1 or more clients (t = floor(n/2) + 1 by default). Authenticated channels
(mutual TLS) stand in for the paper's signatures. Needs n >= 3 clients to tolerate a dropout
(t <= n - 1).

Leakage: the server learns the sum over the surviving clients, the set of survivors, and
the vector length. Clients learn the other clients' public keys and names and nothing else:
the shares they hold are of keys and seeds, below the threshold. For no client does the server
hold both the private key (reconstructed only for dropped clients) and b_i (only for
survivors), so a late masked input of a dropped client stays masked by PRG(b_i).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from yinji.crypto.aead import Aead
from yinji.crypto.prg import SEED_BYTES, Prg
from yinji.net.channel import ChannelClosed, ChannelTimeout, Party
from yinji.net.expect import recv_array, recv_bytes, recv_json

FRAC_BITS = 24
PRIME = (1 << 521) - 1  # Shamir field (Mersenne prime), secrets are 32-byte strings
DROPPED = (ChannelClosed, ChannelTimeout)
KEY_BYTES = 32          # an X25519 public key
HEAD_BYTES = 1024       # a JSON message besides its per-client entries
ENTRY_BYTES = 4096      # per client in a JSON message (a sealed share bundle: ~1.3 KB as hex)


# ---------------------------------------------------------------- encoding
def encode(x: np.ndarray, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """Floats -> Z_2^64 fixed point with `frac_bits` fractional bits (|x| < 2^(62 - f))."""
    v = np.asarray(x, np.float64) * 2.0**frac_bits
    if v.size and not np.all(np.abs(v) < 2.0**62):
        raise ValueError(f"value out of range for secure aggregation with {frac_bits} fractional bits")
    return np.rint(v).astype(np.int64).view(np.uint64)


def decode(x: np.ndarray, frac_bits: int = FRAC_BITS) -> np.ndarray:
    return x.view(np.int64).astype(np.float64) / 2.0**frac_bits


# ---------------------------------------------------------------- Shamir over GF(2^521 - 1)
def shamir_share(secret: bytes, n: int, t: int) -> list[int]:
    """Shares for x = 1..n of a degree-(t-1) polynomial with constant term `secret`."""
    coef = [int.from_bytes(secret, "big")] + [secrets.randbelow(PRIME) for _ in range(t - 1)]
    return [sum(c * pow(x, k, PRIME) for k, c in enumerate(coef)) % PRIME for x in range(1, n + 1)]


def shamir_reconstruct(points: dict[int, int], size: int) -> bytes:
    """The secret from {x: share} (x = 1-based client index), Lagrange at 0. Raises
    ValueError when the points do not determine a `size`-byte secret (too few shares)."""
    total = 0
    for xi, yi in points.items():
        num, den = 1, 1
        for xj in points:
            if xj != xi:
                num = num * (-xj) % PRIME
                den = den * (xi - xj) % PRIME
        total = (total + yi * num * pow(den, -1, PRIME)) % PRIME
    if total >= 1 << (8 * size):
        raise ValueError("shares do not reconstruct a secret of this size (below threshold?)")
    return total.to_bytes(size, "big")


# ---------------------------------------------------------------- key agreement
def _kdf(shared: bytes, label: str, a: str, b: str, size: int) -> bytes:
    lo, hi = sorted((a, b))
    info = f"yinji-secagg/{label}/{lo}/{hi}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=size, salt=None, info=info).derive(shared)


def _raw_private(sk: X25519PrivateKey) -> bytes:
    return sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _raw_public(pk: X25519PublicKey) -> bytes:
    return pk.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _pair_mask(shared: bytes, me: str, other: str, n: int) -> np.ndarray:
    return Prg(_kdf(shared, "mask", me, other, SEED_BYTES)).uint64(n)


def _send_json(party: Party, peer: str, obj: object) -> None:
    party.channel(peer).send_bytes(json.dumps(obj).encode())


def _recv_json(party: Party, peer: str, what: str, clients: int, kind: type = dict) -> Any:
    """A JSON `kind` with at most one entry per client, refused unread past its bound."""
    return recv_json(party.channel(peer), what, HEAD_BYTES + ENTRY_BYTES * clients, kind)


# ---------------------------------------------------------------- roles
@dataclass
class ServerView:
    """Everything the server received in one aggregation (for tests of its view)."""

    public_keys: dict[str, str] = field(default_factory=dict)
    masked: dict[str, np.ndarray] = field(default_factory=dict)
    survivors: list[str] = field(default_factory=list)


class SecAggClient:
    """Client side of one aggregation; `run(x)` returns nothing (the server gets the sum)."""

    def __init__(self, party: Party, server: str, clients: Sequence[str],
                 threshold: int | None = None, frac_bits: int = FRAC_BITS):
        self.party, self.server, self.clients = party, server, list(clients)
        self.frac_bits = frac_bits
        self.t = threshold or len(self.clients) // 2 + 1
        self.me = party.name

    def run(self, x: np.ndarray, *, drop_after_share_keys: bool = False) -> None:
        ch = self.party.channel(self.server)
        n_clients, my_x = len(self.clients), self.clients.index(self.me) + 1
        # 0. AdvertiseKeys
        sk = X25519PrivateKey.generate()
        ch.send_bytes(_raw_public(sk.public_key()))
        pks = {k: bytes.fromhex(v) for k, v in _recv_json(
            self.party, self.server, "the public keys", n_clients).items()}
        shared = {j: sk.exchange(X25519PublicKey.from_public_bytes(pks[j]))
                  for j in self.clients if j != self.me}
        # 1. ShareKeys
        b = secrets.token_bytes(SEED_BYTES)
        key_shares = shamir_share(_raw_private(sk), n_clients, self.t)
        b_shares = shamir_share(b, n_clients, self.t)
        bundle = {}
        for idx, j in enumerate(self.clients):
            msg = json.dumps({"from": self.me, "sk": key_shares[idx], "b": b_shares[idx]}).encode()
            if j == self.me:
                own = json.loads(msg)
                continue
            aead = Aead(_kdf(shared[j], "enc", self.me, j, 32))
            bundle[j] = aead.seal(msg, aad=f"{self.me}->{j}".encode()).hex()
        _send_json(self.party, self.server, bundle)
        inbox = _recv_json(self.party, self.server, "the key shares",
                           n_clients)  # {sender: sealed hex}
        held = {self.me: own}
        for i, sealed in inbox.items():
            aead = Aead(_kdf(shared[i], "enc", self.me, i, 32))
            held[i] = json.loads(aead.open(bytes.fromhex(sealed), aad=f"{i}->{self.me}".encode()))
        if drop_after_share_keys:
            self.party.close()
            return
        # 2. MaskedInput
        v = encode(x, self.frac_bits).ravel()
        y = v + Prg(b).uint64(v.size)
        for j in self.clients:
            if j == self.me:
                continue
            m = _pair_mask(shared[j], self.me, j, v.size)
            y = y + m if self.me < j else y - m
        ch.send_array(y)
        # 3. Unmasking: shares of b for survivors, of private keys for dropped clients
        survivors = _recv_json(self.party, self.server, "the survivors", n_clients, list)
        reply = {k: {"x": my_x, "kind": "b" if k in survivors else "sk",
                     "share": held[k]["b" if k in survivors else "sk"]}
                 for k in self.clients if k in held}
        _send_json(self.party, self.server, reply)


class SecAggServer:
    """Server side: `run(length)` returns the sum over surviving clients (floats) and the
    survivors; `view` keeps what it received."""

    def __init__(self, party: Party, clients: Sequence[str], threshold: int | None = None,
                 frac_bits: int = FRAC_BITS):
        self.party, self.clients = party, list(clients)
        self.frac_bits = frac_bits
        self.t = threshold or len(self.clients) // 2 + 1
        self.view = ServerView()

    def run(self, length: int) -> tuple[np.ndarray, list[str]]:
        alive = list(self.clients)

        def gather(fn):  # type: ignore[no-untyped-def]
            got = {}
            for c in list(alive):
                try:
                    got[c] = fn(c)
                except DROPPED:
                    alive.remove(c)
            return got

        pks = gather(lambda c: recv_bytes(self.party.channel(c), "an X25519 public key",
                                          KEY_BYTES, exact=True))
        self.view.public_keys = {c: k.hex() for c, k in pks.items()}
        if len(alive) < len(self.clients):
            raise RuntimeError("a client dropped before advertising its key; restart the round")
        for c in alive:
            _send_json(self.party, c, self.view.public_keys)
        n = len(self.clients)
        bundles = gather(lambda c: _recv_json(self.party, c, "its key shares", n))
        if len(alive) < self.t:
            raise RuntimeError(f"only {len(alive)} clients shared keys; threshold is {self.t}")
        for c in alive:
            _send_json(self.party, c, {i: bundles[i][c] for i in alive if i != c and c in bundles[i]})
        shared_keys = list(alive)
        masked = gather(lambda c: recv_array(self.party.channel(c), "its masked input",
                                             np.uint64, (length,)))
        self.view.masked = dict(masked)
        survivors = [c for c in shared_keys if c in masked]
        if len(survivors) < self.t:
            raise RuntimeError(f"only {len(survivors)} survivors; threshold is {self.t}")
        self.view.survivors = survivors
        for c in survivors:
            _send_json(self.party, c, survivors)
        replies = gather(lambda c: _recv_json(self.party, c, "its unmasking shares", n))
        if len(replies) < self.t:
            raise RuntimeError("too few clients answered the unmasking round")
        total = np.zeros(length, dtype=np.uint64)
        for c in survivors:
            total += masked[c]
        dropped = [c for c in shared_keys if c not in survivors]
        for k in self.clients:
            if k not in survivors and k not in dropped:
                continue
            pts = {r[k]["x"]: int(r[k]["share"]) for r in replies.values() if k in r}
            if len(pts) < self.t:
                raise RuntimeError(f"not enough shares to unmask {k}")
            if k in survivors:
                total -= Prg(shamir_reconstruct(pts, SEED_BYTES)).uint64(length)
            else:  # dropped: rebuild its key, remove its masks with every survivor
                sk = X25519PrivateKey.from_private_bytes(shamir_reconstruct(pts, 32))
                for j in survivors:
                    s = sk.exchange(X25519PublicKey.from_public_bytes(pks[j]))
                    m = _pair_mask(s, k, j, length)
                    # survivor j added +m if j < k, -m if j > k
                    total = total - m if j < k else total + m
        return decode(total, self.frac_bits), survivors
