"""Adapter between the PSI job runners and `yinji.psi` (two-party ECDH-PSI).

Kept in one small module so the runner does not depend on yinji.psi's exact API; if the
package is not installed the PSI runners report themselves unavailable and the node refuses
PSI jobs with that reason instead of failing mid-job.
"""

from __future__ import annotations

import importlib.util

from yinji.net.channel import Party


def unavailable() -> str | None:
    if importlib.util.find_spec("yinji.psi") is None:
        return "PSI is not available on this node: yinji.psi is not installed"
    return None


def intersect(party: Party, peer: str, items: list[str], recipients: list[str]) -> list[str] | None:
    raise NotImplementedError(unavailable() or "PSI adapter not written for this yinji.psi")


def cardinality(party: Party, peer: str, items: list[str], recipients: list[str]) -> int | None:
    raise NotImplementedError(unavailable() or "PSI adapter not written for this yinji.psi")
