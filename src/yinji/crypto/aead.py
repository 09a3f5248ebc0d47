"""Authenticated encryption and keyed lookup tags: AES-256-GCM and BLAKE2b from audited libraries.

Why: components that hold secrets in memory or on disk (e.g. the LLM gateway's vault) must
encrypt them without writing any cipher of their own. Keys and nonces come from `secrets`.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


def fresh_key() -> bytes:
    """A new 256-bit key from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


class Aead:
    """AES-256-GCM with a random 96-bit nonce per message; output is nonce || ciphertext."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"AEAD key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self._tag_key = hashlib.blake2b(b"yinji/aead/lookup-tag", key=key, digest_size=32).digest()

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate `plaintext` bound to `aad`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes = b"") -> bytes:
        """Decrypt `sealed`; raises `cryptography.exceptions.InvalidTag` if it was altered."""
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)

    def tag(self, data: bytes) -> bytes:
        """A deterministic keyed tag of `data` (for equality lookups without storing `data`)."""
        return hashlib.blake2b(data, key=self._tag_key, digest_size=16).digest()
