"""Authenticated encryption and keyed lookup tags from audited libraries, per crypto profile:
`international` AES-256-GCM and keyed BLAKE2b; `sm` SM4-GCM (GB/T 32907, RFC 8998) and
HMAC-SM3, both through OpenSSL (`cryptography`).

Why: components that hold secrets in memory or on disk (the LLM gateway's vault, PIR labels,
keys a node seals at rest) must encrypt them without writing any cipher of their own. Keys
and nonces come from `secrets`. An `Aead` key is 32 bytes under both profiles; under `sm` the
128-bit SM4 key and the tag key are derived from it with HKDF-SM3, so one stored key serves
either profile without ever sharing a keystream between them.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
AES_256_GCM = "aes-256-gcm"
SM4_GCM = "sm4-gcm"
CIPHERS = {AES_256_GCM: 32, SM4_GCM: 16}          # cipher -> key size
PROFILE_CIPHER = {"international": AES_256_GCM, "sm": SM4_GCM}


def fresh_key() -> bytes:
    """A new 256-bit key from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


def hkdf_sm3(secret: bytes, info: bytes, size: int) -> bytes:
    """HKDF (RFC 5869) with SM3: a `size`-byte key for `info` from a uniformly random secret."""
    return HKDF(hashes.SM3(), size, salt=None, info=info).derive(secret)


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104) with SM3, through OpenSSL."""
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


class Sm4Gcm:
    """SM4-GCM with AESGCM's interface (`cryptography` has no SM4 AEAD class; its SM4 cipher
    in GCM mode is OpenSSL's): encrypt returns ciphertext || 16-byte tag."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError(f"SM4 key must be 16 bytes, got {len(key)}")
        self._key = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        enc = Cipher(self._key, modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        body = enc.update(data) + enc.finalize()
        return body + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        """Raises `cryptography.exceptions.InvalidTag` if anything was altered."""
        if len(data) < TAG_BYTES:
            raise InvalidTag()
        dec = Cipher(self._key, modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        if associated_data:
            dec.authenticate_additional_data(associated_data)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


def gcm(cipher: str, key: bytes) -> AESGCM | Sm4Gcm:
    """The GCM cipher object named `cipher` (`aes-256-gcm` or `sm4-gcm`) for `key`."""
    if cipher == AES_256_GCM:
        if len(key) != 32:
            raise ValueError(f"AES-256 key must be 32 bytes, got {len(key)}")
        return AESGCM(key)
    if cipher == SM4_GCM:
        return Sm4Gcm(key)
    raise ValueError(f"unknown cipher {cipher!r}; expected one of {', '.join(CIPHERS)}")


def profile_cipher(profile: str) -> str:
    try:
        return PROFILE_CIPHER[profile]
    except KeyError:
        raise ValueError(f"unknown crypto profile {profile!r}; expected one of "
                         f"{', '.join(PROFILE_CIPHER)}") from None


class Aead:
    """A profile's AEAD with a random 96-bit nonce per message; output is nonce || ciphertext
    || tag. `international`: AES-256-GCM; `sm`: SM4-GCM."""

    def __init__(self, key: bytes, profile: str = "international") -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"AEAD key must be {KEY_BYTES} bytes, got {len(key)}")
        self.profile, self.cipher = profile, profile_cipher(profile)
        if self.cipher == SM4_GCM:
            self._aead = gcm(SM4_GCM, hkdf_sm3(key, b"yinji/aead/sm4-gcm", 16))
            self._tag_key = hkdf_sm3(key, b"yinji/aead/lookup-tag", 32)
        else:
            self._aead = AESGCM(key)
            self._tag_key = hashlib.blake2b(b"yinji/aead/lookup-tag", key=key,
                                            digest_size=32).digest()

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate `plaintext` bound to `aad`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes = b"") -> bytes:
        """Decrypt `sealed`; raises `cryptography.exceptions.InvalidTag` if it was altered
        (or sealed under another key or profile)."""
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise InvalidTag()
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)

    def tag(self, data: bytes) -> bytes:
        """A deterministic keyed tag of `data` (for equality lookups without storing `data`)."""
        if self.cipher == SM4_GCM:
            return hmac_sm3(self._tag_key, data)[:16]
        return hashlib.blake2b(data, key=self._tag_key, digest_size=16).digest()
