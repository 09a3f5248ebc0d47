"""SecureBoost's messages between parties: JSON control messages, seeds, packed bits and the
fixed-point (g, h) histograms, each refused unread when larger than expected. Shared by the
two histogram modes (`secureboost_he`, `secureboost_assisted`) and `secureboost` itself."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from yinji.crypto.prg import SEED_BYTES
from yinji.net.channel import Channel, Party

GH_BITS = 20  # fixed-point fractional bits of g and h in the plaintext slots
CONTROL_LIMIT = 16 << 20  # bytes: a JSON control message (split lists, node names, counts)


def send(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(json.dumps(obj).encode())


def recv(party: Party, peer: str) -> Any:
    return json.loads(party.channel(peer).recv_bytes_at_most(CONTROL_LIMIT))


def recv_seed(party: Party, peer: str) -> bytes:
    seed = party.channel(peer).recv_bytes_at_most(SEED_BYTES)
    if len(seed) != SEED_BYTES:
        raise ValueError(f"{peer} sent a {len(seed)}-byte seed, expected {SEED_BYTES}")
    return seed


def reply(party: Party, peer: str) -> None:
    """A passive party's go-ahead, or its refusal as a ValueError."""
    msg = recv(party, peer)
    if "error" in msg:
        raise ValueError(f"{peer} refused: {msg['error']}")


def features(party: Party, peer: str) -> int:
    """A passive party's feature count, or its refusal as a ValueError."""
    msg = recv(party, peer)
    if "error" in msg:
        raise ValueError(f"{peer} refused: {msg['error']}")
    return int(msg["features"])


def recv_bits(ch: Channel, shape: tuple[int, ...], peer: str) -> np.ndarray:
    """Packed split-direction bits of a known shape from `peer`, refused unread if larger."""
    arr = ch.recv_array_at_most(int(np.prod(shape)))
    if arr.dtype != np.uint8 or arr.shape != shape:
        raise ValueError(f"{peer}: split-direction bits have shape {arr.shape} ({arr.dtype}), "
                         f"expected {shape} (uint8)")
    return arr


def cumulative(sums: np.ndarray, d: int, nb: int) -> np.ndarray:
    """(d * nb, 2) fixed-point bin sums → cumulative real histograms (as the active party's
    own, `secureboost._own_hist`)."""
    real = sums.view(np.int64).astype(np.float64) / 2.0**GH_BITS
    return real.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2)
