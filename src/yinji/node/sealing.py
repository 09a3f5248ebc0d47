"""The node's state key: seals state the node keeps on disk between runs (today: each PIR
service's OPRF key and budgets, `yinji.pir.oprf.SealedOprfState`).

Why a separate key: the signing key signs, this one encrypts; losing one does not weaken
the other. It is 32 random bytes in `state.key` (mode 0600, like `signing.key`), created on
first use; a key file readable by others is refused rather than used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from yinji.crypto.aead import KEY_BYTES, Aead, fresh_key
from yinji.crypto.certs import write_private
from yinji.node.config import ConfigError

STATE_KEY = "state.key"


def state_aead(home: str | os.PathLike[str], profile: str = "international") -> Aead:
    """The node's sealing AEAD under its crypto profile's cipher (AES-256-GCM or SM4-GCM),
    creating `home/state.key` (0600) if it does not exist."""
    path = Path(home) / STATE_KEY
    if not path.exists():
        write_private(path, fresh_key())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path}: readable or writable by others (mode {mode:o}); "
                          f"run chmod 600 {path}")
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{path}: expected {KEY_BYTES} bytes, found {len(key)}")
    return Aead(key, profile)


__all__ = ["STATE_KEY", "state_aead"]
