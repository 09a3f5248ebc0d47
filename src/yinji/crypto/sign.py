"""Node identity signatures: Ed25519 (RFC 8032) through OpenSSL (`cryptography`) for the
`international` profile, SM2 (GB/T 32918.2, SM3 digest, default ID 1234567812345678) through
GmSSL (`gmssl_pyx`) for the `sm` profile. They sign audit entries and job approvals.

SM2 message preprocessing (GB/T 32918.2 §6.1 A1-A2): e = SM3(Z_A || M) with
Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A). Z_A is computed once per key
with OpenSSL's SM3; GmSSL signs / verifies e (`sm2_sign_sm3_digest`), which avoids GmSSL's
per-call precomputation in `sm2_sign` (2.9 ms against 0.26 ms here). The published example
of GM/T 0003.5 Annex A pins the result (tests/crypto/test_profile.py).

Private keys only go to 0600 files (PKCS#8 PEM; SM2 keys in the layout OpenSSL writes for
`openssl genpkey -algorithm SM2`) and never into reprs. Public keys are base64 of the raw
32-byte Ed25519 key or of the 65-byte uncompressed SM2 point 04||x||y.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

import gmssl_pyx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from yinji.crypto.certs import write_private

SM2_DEFAULT_ID = b"1234567812345678"
# GB/T 32918.5 recommended curve sm2p256v1: a, b, G (for Z_A only; the curve arithmetic is
# GmSSL's).
_SM2_CURVE = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
# PKCS#8 PrivateKeyInfo { v0, {id-ecPublicKey, sm2p256v1}, ECPrivateKey { v1, d, [1] Q } }:
# the fixed framing around d (32 bytes) and Q (04||x||y) of a 138-byte DER key.
_SM2_PKCS8_HEAD = bytes.fromhex("308187020100301306072a8648ce3d020106082a811ccf5501822d"
                                "046d306b0201010420")
_SM2_PKCS8_MID = bytes.fromhex("a144034200")
_SM2_PKCS8_LEN = len(_SM2_PKCS8_HEAD) + 32 + len(_SM2_PKCS8_MID) + 65


class KeyFormatError(ValueError):
    """A key file or public key that is not what the node's crypto profile expects."""


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def sm2_z(point: bytes, user_id: bytes = SM2_DEFAULT_ID) -> bytes:
    """Z_A of GB/T 32918.2 for the uncompressed public point 04||x||y."""
    bits = 8 * len(user_id)
    return sm3(bits.to_bytes(2, "big") + user_id + _SM2_CURVE + point[1:])


def sm2_digest(point: bytes, message: bytes) -> bytes:
    """e = SM3(Z_A || M): what an SM2 signature of `message` by `point` signs."""
    return sm3(sm2_z(point) + message)


def _sm2_point(raw: bytes) -> bytes:
    """Check that `raw` is an uncompressed point on the SM2 curve; return it."""
    if len(raw) != 65 or raw[0] != 4:
        raise KeyFormatError(f"SM2 public key must be 65 bytes 04||x||y, got {len(raw)} bytes")
    try:
        gmssl_pyx.normalize_sm2_public_key(raw)
    except gmssl_pyx.InvalidValueError:
        raise KeyFormatError("SM2 public key is not a point on the SM2 curve") from None
    return raw


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key (hidden from repr) with its public half."""

    _key: Ed25519PrivateKey = field(repr=False)
    profile = "international"
    algorithm = "Ed25519"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError(f"{path}: not an Ed25519 private key")
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


@dataclass(frozen=True)
class Sm2SigningKey:
    """An SM2 private key d (hidden from repr) with its public point 04||x||y."""

    _d: bytes = field(repr=False)
    point: bytes
    _z: bytes = field(repr=False, compare=False, default=b"")
    profile = "sm"
    algorithm = "SM2"

    def __post_init__(self) -> None:
        _sm2_point(self.point)
        if len(self._d) != 32:
            raise KeyFormatError("SM2 private key must be 32 bytes")
        object.__setattr__(self, "_z", sm2_z(self.point))

    @classmethod
    def generate(cls) -> Sm2SigningKey:
        public, private = gmssl_pyx.sm2_key_generate()
        return cls(private, b"\x04" + public)

    @classmethod
    def from_pkcs8(cls, der: bytes, where: str = "SM2 key") -> Sm2SigningKey:
        head, mid = len(_SM2_PKCS8_HEAD), len(_SM2_PKCS8_HEAD) + 32
        if (len(der) != _SM2_PKCS8_LEN or not der.startswith(_SM2_PKCS8_HEAD)
                or der[mid:mid + len(_SM2_PKCS8_MID)] != _SM2_PKCS8_MID):
            raise KeyFormatError(f"{where}: not an SM2 private key in PKCS#8 with its public "
                                 "point (as `yinji node init` or `openssl genpkey -algorithm "
                                 "SM2` write it)")
        key = cls(der[head:mid], der[mid + len(_SM2_PKCS8_MID):])
        probe = b"yinji/sm2/pairwise-check"
        if not verify_sm2(key.public, key.sign(probe), probe):
            raise KeyFormatError(f"{where}: SM2 private and public key do not match")
        return key

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Sm2SigningKey:
        der = _pem_body(Path(path).read_bytes(), str(path))
        return cls.from_pkcs8(der, str(path))

    def pkcs8(self) -> bytes:
        return _SM2_PKCS8_HEAD + self._d + _SM2_PKCS8_MID + self.point

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key as PKCS#8 PEM to a file only its owner can read."""
        b64 = base64.b64encode(self.pkcs8()).decode()
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
        pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
        write_private(path, pem.encode())

    def sign(self, message: bytes) -> bytes:
        """DER-encoded SM2 signature (r, s) of e = SM3(Z_A || message)."""
        return gmssl_pyx.sm2_sign_sm3_digest(self._d, sm3(self._z + message))

    @property
    def public(self) -> str:
        return base64.b64encode(self.point).decode()


def _pem_body(pem: bytes, where: str) -> bytes:
    lines = pem.decode("ascii", errors="replace").strip().splitlines()
    if len(lines) < 3 or lines[0] != "-----BEGIN PRIVATE KEY-----" \
            or lines[-1] != "-----END PRIVATE KEY-----":
        raise KeyFormatError(f"{where}: not a PKCS#8 PEM private key")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except ValueError:
        raise KeyFormatError(f"{where}: PEM body is not base64") from None


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey | Sm2SigningKey:
    """Load a node signing key of either kind (Ed25519 or SM2), by what the file holds."""
    der = _pem_body(Path(path).read_bytes(), str(path))
    if der.startswith(_SM2_PKCS8_HEAD[:27]):
        return Sm2SigningKey.from_pkcs8(der, str(path))
    return SigningKey.load(path)


def verify(public: str, signature: bytes, message: bytes) -> bool:
    """True if `signature` is `public`'s (base64 raw Ed25519 key) signature of `message`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public, validate=True))
        key.verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_sm2(public: str, signature: bytes, message: bytes) -> bool:
    """True if `signature` (DER r, s) is `public`'s (base64 of 04||x||y) SM2 signature of
    `message` with the default ID. GmSSL prints a trace line to stderr when it fails."""
    try:
        point = _sm2_point(base64.b64decode(public, validate=True))
        return bool(gmssl_pyx.sm2_verify_sm3_digest(point[1:], sm2_digest(point, message),
                                                    bytes(signature)))
    except (ValueError, gmssl_pyx.GmsslInnerError):
        return False


def check_public(profile: str, public: str) -> None:
    """Raise `KeyFormatError` unless `public` is a well-formed public key of `profile`."""
    try:
        raw = base64.b64decode(public, validate=True)
    except ValueError:
        raise KeyFormatError("signing key is not base64") from None
    if profile == "sm":
        _sm2_point(raw)
    elif len(raw) != 32:
        raise KeyFormatError(f"Ed25519 public key must be 32 bytes, got {len(raw)} "
                             f"({'an SM2 key?' if len(raw) == 65 else 'not a key'})")


__all__ = ["KeyFormatError", "SigningKey", "Sm2SigningKey", "check_public", "load_signing_key",
           "sm2_digest", "verify", "verify_sm2"]
