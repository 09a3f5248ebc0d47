"""`run_mpc`: run one program per party in a fresh 3-party MPC session, in one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yinji.mpc.session import Session
from yinji.net.channel import Party
from yinji.testing.parties import run_parties

NAMES = ("P0", "P1", "P2")


def run_mpc(program: Callable[[Session], Any], frac_bits: int = 16,
            timeout: float = 120.0) -> list[Any]:
    """Call `program(session)` for each of three parties; return the three results."""

    def body(party: Party) -> Any:
        return program(Session(party, NAMES, frac_bits=frac_bits))

    return run_parties(body, names=NAMES, timeout=timeout)
