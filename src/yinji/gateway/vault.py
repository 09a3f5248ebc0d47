"""Per-caller, per-conversation vault: personal value <-> placeholder, in memory with expiry.

Why a vault: the same customer must get the same placeholder in every message of a conversation
(so the model can reason about "[PERSON_1]"), and only the gateway may map it back. A vault
belongs to one (authenticated caller, conversation id) scope: another caller who sends the same
conversation id gets a different vault, so it can neither look up nor restore the first
caller's values. With a master key, each scope's values are sealed under a key derived for that
scope only (AES-256-GCM under HKDF-SHA256, or SM4-GCM under HKDF-SM3 with the `sm` crypto
profile) and looked up by a keyed tag (BLAKE2b, or HMAC-SM3), so a memory or swap dump of the
vault does not show them in clear, and one scope's key opens no other scope's values. The
master key lives only in the gateway process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from yinji.crypto.aead import KEY_BYTES, SM4_GCM, Aead, fresh_key, hkdf_sm3, profile_cipher

LABELS = {
    "id_number": "ID_NUMBER", "mobile": "MOBILE", "landline": "PHONE", "bank_card": "BANK_CARD",
    "email": "EMAIL", "uscc": "USCC", "passport": "PASSPORT", "account": "ACCOUNT",
    "person": "PERSON", "address": "ADDRESS", "amount": "AMOUNT",
}


class Vault:
    """One conversation's mapping. Thread-safe; `token_for` is consistent per (category, value)."""

    def __init__(self, aead: Aead | None = None, ttl: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._aead = aead
        self._by_value: dict[bytes | tuple[str, str], str] = {}
        self._by_token: dict[str, bytes | str] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.ttl = ttl
        self.touched = clock()

    def _key(self, category: str, value: str) -> bytes | tuple[str, str]:
        if self._aead:
            return self._aead.tag(f"{category}\x00{value}".encode())
        return (category, value)

    def token_for(self, category: str, value: str,
                  surrogate: Callable[[str, str, int], str] | None = None) -> str:
        """The placeholder (or surrogate) for `value`, created on first use."""
        key = self._key(category, value)
        with self._lock:
            self.touched = self._clock()
            token = self._by_value.get(key)
            if token is not None:
                return token
            n = self._counters.get(category, 0) + 1
            self._counters[category] = n
            token = f"[{LABELS.get(category, category.upper())}_{n}]"
            if surrogate is not None:
                for attempt in range(20):
                    cand = surrogate(category, value, attempt)
                    if cand and cand not in self._by_token and cand != value:
                        token = cand
                        break
            self._by_value[key] = token
            self._by_token[token] = self._aead.seal(value.encode(), token.encode()) \
                if self._aead else value
            return token

    def value_of(self, token: str) -> str | None:
        with self._lock:
            stored = self._by_token.get(token)
        if stored is None:
            return None
        if isinstance(stored, bytes):
            assert self._aead is not None
            return self._aead.open(stored, token.encode()).decode()
        return stored

    def tokens(self) -> list[str]:
        with self._lock:
            return list(self._by_token)

    def expired(self, now: float | None = None) -> bool:
        return (self._clock() if now is None else now) - self.touched > self.ttl

    def __len__(self) -> int:
        return len(self._by_token)


def scope_key(master: bytes, caller: str, conversation: str,
              profile: str = "international") -> bytes:
    """The AEAD key of one (caller, conversation) scope: HKDF of the master key (SHA-256, or
    SM3 under the `sm` profile). Both names are length-prefixed, so ("ab", "c") and
    ("a", "bc") get different keys.
    """
    info = b"yinji/gateway/vault/v1"
    for part in (caller, conversation):
        b = part.encode()
        info += len(b).to_bytes(4, "big") + b
    if profile_cipher(profile) == SM4_GCM:
        return hkdf_sm3(master, info, KEY_BYTES)
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


class VaultStore:
    """Vaults by (caller, conversation id); expired vaults are dropped on access (no thread).

    `caller` must be an authenticated identity: the proxy refuses conversation ids from
    unauthenticated requests, so a caller can reach only vaults created under its own name.
    """

    def __init__(self, *, ttl: float = 3600.0, key: bytes | None = None,
                 clock: Callable[[], float] = time.monotonic, max_conversations: int = 10000,
                 profile: str = "international") -> None:
        if key is not None and len(key) != KEY_BYTES:
            raise ValueError(f"vault key must be {KEY_BYTES} bytes, got {len(key)}")
        profile_cipher(profile)  # an unknown profile fails here, not at the first request
        self.ttl = ttl
        self._master = key
        self.profile = profile
        self._clock = clock
        self._vaults: dict[tuple[str, str], Vault] = {}
        self._lock = threading.Lock()
        self.max_conversations = max_conversations

    def new(self) -> Vault:
        """A vault not kept in the store (one request without a conversation id), own key."""
        return Vault(Aead(fresh_key(), self.profile) if self._master else None, self.ttl,
                     self._clock)

    def get(self, caller: str, conversation: str) -> Vault:
        """The vault of `caller`'s conversation, created on first use."""
        if not caller or not conversation:
            raise ValueError("a stored vault needs both a caller and a conversation id")
        scope = (caller, conversation)
        with self._lock:
            self._purge()
            v = self._vaults.get(scope)
            if v is None:
                if len(self._vaults) >= self.max_conversations:
                    oldest = min(self._vaults, key=lambda k: self._vaults[k].touched)
                    del self._vaults[oldest]
                aead = Aead(scope_key(self._master, caller, conversation, self.profile),
                            self.profile) if self._master else None
                v = self._vaults[scope] = Vault(aead, self.ttl, self._clock)
            v.touched = self._clock()
            return v

    def _purge(self) -> None:
        now = self._clock()
        for k in [k for k, v in self._vaults.items() if v.expired(now)]:
            del self._vaults[k]

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._vaults)
