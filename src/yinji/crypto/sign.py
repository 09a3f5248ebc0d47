"""Ed25519 signatures (RFC 8032) through OpenSSL (`cryptography`): node identity keys that sign
audit entries and job approvals. Private keys only go to 0600 files and never into reprs."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yinji.crypto.certs import write_private


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key (hidden from repr) with its public half."""

    _key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        return cls(key)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key as PKCS#8 PEM to a file only its owner can read."""
        write_private(path, self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    @property
    def public(self) -> str:
        """The public key as base64 of its 32 raw bytes."""
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                  serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def verify(public: str, signature: bytes, message: bytes) -> bool:
    """True if `signature` is `public`'s (base64 raw Ed25519 key) signature of `message`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public, validate=True))
        key.verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


__all__ = ["SigningKey", "verify"]
