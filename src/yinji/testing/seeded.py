"""Test-only: MPC sessions whose randomness comes from a keyed PRG instead of the OS.

For tests whose point is what a typical run computes (accuracy against scikit-learn), where
the random row order of a shuffle moves the result enough to fail a tight bound once in a
few thousand runs. Never for leakage tests: those must see the real randomness.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING

from yinji.crypto.prg import derive

if TYPE_CHECKING:
    import pytest


def seed_sessions(monkeypatch: pytest.MonkeyPatch, key: bytes) -> None:
    """From now on (for the test's life) every `yinji.mpc.Session` draws its seeds as
    derive(key, "<thread name>/<count>"): run_parties names each party's thread after the
    party, and a party creates its sessions in program order, so a run is the same every
    time whatever the thread scheduling."""
    counts: defaultdict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def seed() -> bytes:
        name = threading.current_thread().name
        with lock:
            i = counts[name]
            counts[name] += 1
        return derive(key, f"{name}/{i}")

    monkeypatch.setattr("yinji.mpc.session.fresh_seed", seed)


def seed_secrets(monkeypatch: pytest.MonkeyPatch, module: object, key: bytes) -> None:
    """Replace `module.secrets` (that module's name only, not the `secrets` module) with one
    whose token_bytes(n) reads a keyed PRG stream per thread, e.g. the join's token key."""
    import types

    from yinji.crypto.prg import Prg

    streams: dict[str, Prg] = {}
    lock = threading.Lock()

    def token_bytes(n: int) -> bytes:
        name = threading.current_thread().name
        with lock:
            prg = streams.setdefault(name, Prg(derive(key, f"secrets/{name}")))
        return prg.bytes(n)

    monkeypatch.setattr(module, "secrets", types.SimpleNamespace(token_bytes=token_bytes))
