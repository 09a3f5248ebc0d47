"""Keyed pseudo-random generator: AES-128-CTR from OpenSSL (via `cryptography`).

Why: MPC needs long streams of correlated randomness that two parties can expand from one
shared seed without talking. AES-CTR with AES-NI gives several GB/s; we never build a PRG of
our own. Seeds come from `secrets.token_bytes`; labels separate independent streams that are
derived from one seed (`derive`), so no two uses ever share a keystream.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SEED_BYTES = 16
_BLOCK = 1 << 20  # bytes of keystream per call into OpenSSL


def fresh_seed() -> bytes:
    """A new uniformly random seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def derive(seed: bytes, label: str) -> bytes:
    """An independent seed for `label`, derived from `seed` with keyed BLAKE2b."""
    return hashlib.blake2b(label.encode(), key=seed, digest_size=SEED_BYTES).digest()


class Prg:
    """A deterministic stream of random bytes / uint64 words from a 16-byte seed.

    Two parties holding the same seed and calling the same methods in the same order get the
    same outputs. Not thread-safe: one instance per consumer.
    """

    def __init__(self, seed: bytes, offset: int = 0) -> None:
        """`offset`: start that many bytes into the stream (a multiple of 16, the AES block),
        so a worker can expand its own slice of a long stream without the bytes before it."""
        if len(seed) != SEED_BYTES:
            raise ValueError(f"PRG seed must be {SEED_BYTES} bytes, got {len(seed)}")
        if offset < 0 or offset % 16:
            raise ValueError(f"PRG offset must be a non-negative multiple of 16, got {offset}")
        counter = (offset // 16).to_bytes(16, "big")  # CTR: the 128-bit block counter
        self._enc = Cipher(algorithms.AES(seed), modes.CTR(counter)).encryptor()
        self._zeros = b""

    def bytes(self, n: int) -> bytes:
        """The next `n` bytes of the stream."""
        if len(self._zeros) < n:
            self._zeros = bytes(max(n, 1 << 16))
        return self._enc.update(memoryview(self._zeros)[:n])

    def uint64(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """The next words of the stream as a uniformly random uint64 array of `shape`."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        n = int(np.prod(shape, dtype=np.int64))
        if n == 0:
            return np.zeros(shape, dtype=np.uint64)
        total = n * 8
        out = np.empty(total + 15, dtype=np.uint8)
        # Encrypt a bounded buffer of zeros block by block (the keystream is the same as in
        # one call): a draw of several GB must not keep a zero buffer of that size alive.
        block = min(total, _BLOCK)
        if len(self._zeros) < block:
            self._zeros = bytes(block)
        at = 0
        while at < total:
            size = min(block, total - at)
            written = self._enc.update_into(memoryview(self._zeros)[:size], out[at:])
            assert written == size
            at += size
        return out[:total].view(np.uint64).reshape(shape)

    def fill(self, out: np.ndarray) -> np.ndarray:
        """Overwrite the C-contiguous array `out` with the next `out.nbytes` bytes of the
        stream (for uint64, the words `uint64(out.shape)` would return) and return it: a hot
        loop drawing many blocks of one size reuses one buffer instead of allocating each."""
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("Prg.fill needs a writeable C-contiguous array")
        flat = out.reshape(-1).view(np.uint8)
        total = len(flat)
        block = min(total, _BLOCK)
        if len(self._zeros) < block:
            self._zeros = bytes(block)
        at = 0
        while at < total:  # CTR's block size is one byte: the output may be exactly as long
            size = min(block, total - at)
            self._enc.update_into(memoryview(self._zeros)[:size], flat[at:at + size])
            at += size
        return out

    def bits(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Uniform 0/1 values as uint64 (one random bit per element)."""
        return self.uint64(shape) & np.uint64(1)
