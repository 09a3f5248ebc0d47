"""PIR client: keyword lookups against one member over a `Channel`.

A lookup of k keys is two round trips: one OPRF round (k blinded points) and one SimplePIR
round (k query columns), plus a hint download whenever the member has published a new
version (the answer to a query says "stale", with the current version id).

Keys are normalised locally by the member's rule, the layout's `key_kind` (`yinji.ids`), so
the client needs the layout before its OPRF round: the first query downloads the hint first.
If a new version changes the rule mid-query, the tokens are computed again.

Leakage: see `keyword.py` (what each side learns) and `server.py` (timing and batch sizes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from yinji.crypto.group import POINT_BYTES
from yinji.net.channel import Channel
from yinji.pir import oprf
from yinji.pir.hint_cache import HintCache
from yinji.pir.keyword import Key, Layout, as_key, open_bucket
from yinji.pir.lwe import LweParams, SimplePirClient
from yinji.pir.wire import PirError, expect_array, expect_bytes, recv_msg, send_msg

# A member's reply part is refused unread past this: the largest, the hint, is ~34 MB at 10^6
# records with 32-byte labels and grows with the square root of the list (docs/pir.md).
MAX_REPLY_PART = 1 << 30


class _KindChanged(Exception):
    """The member's new version normalises keys by another rule than the tokens used."""


class PirClient:
    """Queries one member. One request at a time per client (calls are serialised)."""

    def __init__(self, channel: Channel, *, max_refresh: int = 3,
                 hint_cache: tuple[HintCache, str] | None = None) -> None:
        """`hint_cache`: (cache, key naming this member and list) to start from a hint kept
        on disk (`yinji.pir.hint_cache`); a stale one is replaced on the member's word."""
        self.channel = channel
        self._cache = hint_cache
        self._cache_tried = hint_cache is None
        self.max_refresh = max_refresh
        self.version: str | None = None
        self.layout: Layout | None = None
        self._pir: SimplePirClient | None = None
        self._next_id = 0
        self.lock = threading.Lock()
        self.hint_downloads = 0

    def _call(self, header: dict, parts: tuple = ()) -> tuple[dict, list]:
        self._next_id += 1
        rid = self._next_id
        send_msg(self.channel, dict(header, id=rid), parts)
        while True:
            reply, got = recv_msg(self.channel, max_part=MAX_REPLY_PART)
            if reply.get("id") == rid:
                break  # anything else is a late reply to a request we gave up on
        status = reply.get("status")
        if status == "rate_limited":
            raise oprf.RateLimited(str(reply.get("error", "rate limited")))
        if status == "error":
            raise PirError(f"{self.channel.peer}: {reply.get('error')}")
        return reply, got

    def refresh(self) -> None:
        """Download the current version's parameters and hint."""
        with self.lock:
            self._refresh()

    def _refresh(self) -> None:
        if not self._cache_tried:   # once: a stale cached hint is then downloaded anew
            self._cache_tried = True
            assert self._cache is not None
            cached = self._cache[0].load(self._cache[1])
            if cached is not None:
                meta, hint = cached
                try:
                    self._use(meta["lwe"], meta["layout"], str(meta["version"]), hint)
                    return
                except (KeyError, TypeError, ValueError):
                    self._cache[0].drop(self._cache[1])
        reply, parts = self._call({"op": "hint"})
        hint = expect_array(parts, np.uint32, 2)
        self._use(reply["lwe"], reply["layout"], str(reply["version"]), hint)
        self.hint_downloads += 1
        if self._cache is not None:
            self._cache[0].save(self._cache[1], self.version, reply["lwe"], reply["layout"],
                                hint)

    def _use(self, lwe: dict, layout: dict, version: str, hint: np.ndarray) -> None:
        self._pir = SimplePirClient(LweParams.from_json(lwe), hint)
        self.layout = Layout.from_json(layout)
        self.version = version

    @property
    def prepared(self) -> int:
        """Query secrets ready for the current hint (0 before the first download)."""
        pir = self._pir
        return 0 if pir is None else pir.prepared

    def prepare(self, count: int) -> int:
        """Precompute `count` query secrets for the current hint (offline work, see lwe.py).

        Fetches the hint first if needed; returns how many are ready. A new version discards
        them (they depend on A and the hint).
        """
        with self.lock:
            if self._pir is None:
                self._refresh()
            assert self._pir is not None
            self._pir.precompute(count - self._pir.prepared)
            return self._pir.prepared

    def _layout(self) -> Layout:
        if self._pir is None:
            self._refresh()
        assert self.layout is not None
        return self.layout

    def tokens(self, keys: Sequence[Key]) -> list[bytes]:
        """OPRF round: the member's PRF of each key (normalised by the member's rule, see
        the module docstring), without the member seeing the keys."""
        with self.lock:
            kind = self._layout().key_kind
            return self._tokens([as_key(k, kind) for k in keys])

    def _tokens(self, keys: list[bytes]) -> list[bytes]:
        state, blinded = oprf.blind(keys)
        _, parts = self._call({"op": "oprf"}, (b"".join(blinded),))
        blob = expect_bytes(parts)
        if len(blob) != POINT_BYTES * len(keys):
            raise PirError(f"{self.channel.peer}: OPRF reply has the wrong length")
        return oprf.finalize(state, [blob[i:i + POINT_BYTES]
                                     for i in range(0, len(blob), POINT_BYTES)])

    def query(self, keys: Sequence[Key]) -> list[bytes | None]:
        """The label of each key, or None where the member has no record for it."""
        with self.lock:
            if not keys:
                return []
            for _ in range(self.max_refresh + 1):
                kind = self._layout().key_kind
                try:
                    return self._lookup(self._tokens([as_key(k, kind) for k in keys]), kind)
                except _KindChanged:
                    continue
        raise PirError(f"{self.channel.peer}: key normalisation kept changing")

    def lookup(self, tokens: Sequence[bytes]) -> list[bytes | None]:
        """PIR round only, for tokens already obtained with `tokens` (under the current
        version's key normalisation; PirError if a new version changed it)."""
        with self.lock:
            try:
                return self._lookup(list(tokens), self._layout().key_kind)
            except _KindChanged:
                raise PirError(f"{self.channel.peer}: the member changed its key normalisation; "
                               "compute the tokens again") from None

    def _lookup(self, tokens: list[bytes], kind: str) -> list[bytes | None]:
        for _ in range(self.max_refresh + 1):
            if self._pir is None:
                self._refresh()
            assert self._pir is not None and self.layout is not None
            layout, version = self.layout, self.version
            if layout.key_kind != kind:
                raise _KindChanged
            state, q = self._pir.query([layout.bucket_of(t) for t in tokens])
            reply, parts = self._call({"op": "query", "version": version}, (q,))
            if reply.get("status") == "stale":
                self._pir = None  # the member published a new version: fetch its hint
                continue
            columns = self._pir.recover(state, expect_array(parts, np.uint32, 2))
            return [open_bucket(columns[:, i], t, version, layout)
                    for i, t in enumerate(tokens)]
        raise PirError(f"{self.channel.peer}: version kept changing during {self.max_refresh} "
                       "hint refreshes")

    def close(self) -> None:
        """Tell the member this client is done (its `serve` stops waiting for it)."""
        with self.lock:
            self._next_id += 1
            send_msg(self.channel, {"op": "bye", "id": self._next_id})


__all__ = ["PirClient"]
