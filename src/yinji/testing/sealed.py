"""Opening a value sealed by `yinji.crypto.aead.Aead` without Yinji's code: AES-256-GCM with
the key, or SM4-GCM with HKDF-SM3 of it -- the oracle the crypto-profile tests compare with."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def open_outside(profile: str, key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of `sealed` (nonce || ciphertext || tag); raises InvalidTag if altered
    or sealed under another key or profile."""
    nonce, body = sealed[:12], sealed[12:]
    if profile == "international":
        return AESGCM(key).decrypt(nonce, body, aad)
    sm4 = HKDF(hashes.SM3(), 16, salt=None, info=b"yinji/aead/sm4-gcm").derive(key)
    dec = Cipher(algorithms.SM4(sm4), modes.GCM(nonce, body[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(body[:-16]) + dec.finalize()
