"""Adapter between the node's PSI job runners and `yinji.psi` (two-party ECDH-PSI).

Keys are normalised by `yinji.psi.keys.prepare_keys` (duplicates: first row kept); the
intersection is returned as the recipient's own original values. Leakage is that of
`yinji.psi.ecdh` (see docs/SECURITY.md): only the named recipients learn the intersection,
or only its size for cardinality jobs.
"""

from __future__ import annotations

import importlib.util

from yinji.net.channel import Party


def unavailable() -> str | None:
    if importlib.util.find_spec("yinji.psi") is None:
        return "PSI is not available on this node: yinji.psi is not installed"
    return None


def _receiver(party: Party, peer: str, recipients: list[str]) -> str | None:
    wanted = set(recipients) & {party.name, peer}
    return None if wanted == {party.name, peer} else next(iter(wanted))


def intersect(party: Party, peer: str, items: list[str], recipients: list[str]) -> list[str] | None:
    from yinji.psi.ecdh import ecdh_psi
    from yinji.psi.keys import prepare_keys

    prepared = prepare_keys(items)
    found = ecdh_psi(party, peer, prepared, receiver=_receiver(party, peer, recipients))
    if found is None:
        return None
    return [items[int(prepared.rows[i])] for i in found]


def cardinality(party: Party, peer: str, items: list[str], recipients: list[str]) -> int | None:
    from yinji.psi.ecdh import psi_cardinality
    from yinji.psi.keys import prepare_keys

    receiver = _receiver(party, peer, recipients)
    if receiver is None:
        raise ValueError("a PSI cardinality job has exactly one recipient")
    return psi_cardinality(party, peer, prepare_keys(items), receiver=receiver)
