"""Node-wide crypto profiles: which hash, signature and at-rest cipher a node uses.

- `international`: SHA-256, Ed25519, AES-256-GCM (what Yinji always used).
- `sm` (JR/T 0196-2020 §7.5, 信创 deployments): SM3 (GB/T 32905), SM2 signatures with SM3
  and the default ID 1234567812345678 (GB/T 32918.2), SM4-GCM (GB/T 32907, RFC 8998).

What a profile covers: the audit hash chain and its signatures, job spec / approval hashes
and approval signatures, result digests, and data at rest (gateway vault, PIR labels, keys a
node seals). What it does not: MPC/PSI/PIR protocol internals keep their primitives
(AES-CTR PRG, BLAKE2b/SHA-512 keyed hashing, ristretto255/X25519 OPRF and ECDH, LWE), and the
TLS 1.3 data plane keeps ECDSA P-256 certificates and OpenSSL's default suites.

A profile is fixed when a node is created (`yinji node init --crypto-profile`): its signing
key is of that profile's kind and its audit chain is hashed with that profile's hash, so a
switch would leave the existing log unverifiable; nodes of different profiles refuse each
other (`ProfileMismatch`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from yinji.crypto.aead import PROFILE_CIPHER, Aead
from yinji.crypto.sign import (
    KeyFormatError,
    SigningKey,
    Sm2SigningKey,
    check_public,
    load_signing_key,
    verify,
    verify_sm2,
)

INTERNATIONAL = "international"
SM = "sm"
DEFAULT = INTERNATIONAL


class ProfileMismatch(ValueError):
    """Two parties (or a node and its own files) use different crypto profiles."""


def mismatch(me: str, mine: str, other: str, theirs: str) -> str:
    """The message both sides print when profiles differ."""
    return (f"crypto profile mismatch: {me} uses {mine!r}, {other} uses {theirs!r}; every "
            "node of a network must use the same profile (fixed at `yinji node init "
            "--crypto-profile`)")


@dataclass(frozen=True)
class CryptoProfile:
    name: str
    hash: str        # sha256 | sm3
    signature: str   # Ed25519 | SM2
    cipher: str      # aes-256-gcm | sm4-gcm

    def digest(self, data: bytes) -> bytes:
        if self.hash == "sm3":
            h = hashes.Hash(hashes.SM3())
            h.update(data)
            return h.finalize()
        return hashlib.sha256(data).digest()

    def hash_hex(self, data: bytes) -> str:
        """The profile's 256-bit hash of `data`, hex (64 characters under both profiles)."""
        return self.digest(data).hex()

    def generate_key(self) -> SigningKey | Sm2SigningKey:
        return Sm2SigningKey.generate() if self.name == SM else SigningKey.generate()

    def load_key(self, path: str | os.PathLike[str]) -> SigningKey | Sm2SigningKey:
        """The signing key at `path`; refuses a key of another profile's kind."""
        key = load_signing_key(path)
        if key.profile != self.name:
            raise ProfileMismatch(
                f"{path} is an {key.algorithm} key (profile {key.profile!r}) but this node's "
                f"crypto profile is {self.name!r}; a node's profile is fixed at `yinji node "
                "init` (its audit log and its peers depend on it)")
        return key

    def verify(self, public: str, signature: bytes, message: bytes) -> bool:
        return (verify_sm2 if self.name == SM else verify)(public, signature, message)

    def check_public(self, public: str) -> None:
        """Raise `KeyFormatError` unless `public` is a public key of this profile."""
        check_public(self.name, public)

    def aead(self, key: bytes) -> Aead:
        return Aead(key, self.name)


PROFILES = {
    INTERNATIONAL: CryptoProfile(INTERNATIONAL, "sha256", "Ed25519", PROFILE_CIPHER[INTERNATIONAL]),
    SM: CryptoProfile(SM, "sm3", "SM2", PROFILE_CIPHER[SM]),
}


def get_profile(name: str | CryptoProfile) -> CryptoProfile:
    """The profile called `name`; a clear `ValueError` for anything else."""
    if isinstance(name, CryptoProfile):
        return name
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown crypto profile {name!r}; expected one of "
                         f"{', '.join(map(repr, PROFILES))}") from None


def profile_of_public_key(public: str) -> CryptoProfile:
    """The profile whose signature scheme `public` (base64) belongs to: 32 raw bytes are an
    Ed25519 key, 65 bytes 04||x||y an SM2 point."""
    for p in PROFILES.values():
        try:
            p.check_public(public)
            return p
        except KeyFormatError:
            continue
    raise KeyFormatError("not a public signing key of any crypto profile "
                         f"(base64 of {len(public)} characters)")


def verify_signature(public: str, signature: bytes, message: bytes) -> bool:
    """Check `signature` with `public` under the scheme the key belongs to (Ed25519 or SM2);
    False for a bad signature or a malformed key."""
    try:
        return profile_of_public_key(public).verify(public, signature, message)
    except ValueError:
        return False


__all__ = ["DEFAULT", "INTERNATIONAL", "PROFILES", "SM", "CryptoProfile", "ProfileMismatch",
           "get_profile", "mismatch", "profile_of_public_key", "verify_signature"]
