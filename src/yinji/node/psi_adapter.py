"""Adapter between the node's PSI job runners and `yinji.psi` (two-party ECDH-PSI, or
KKRT16 for large sets: `params.protocol`).

Keys are normalised by `yinji.psi.keys.prepare_keys` (duplicates: first row kept; empty keys
and keys in spreadsheet notation dropped, counted in the job's stage and result); the
intersection is returned as the recipient's own original values. Leakage is that of
`yinji.psi.ecdh` / `yinji.psi.kkrt` (the same; see docs/SECURITY.md): only the named recipients learn the intersection,
or only its size for cardinality jobs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from yinji.net.channel import Party

if TYPE_CHECKING:
    from yinji.psi.keys import PreparedKeys


def unavailable() -> str | None:
    if importlib.util.find_spec("yinji.psi") is None:
        return "PSI is not available on this node: yinji.psi is not installed"
    return None


def _receiver(party: Party, peer: str, recipients: list[str]) -> str | None:
    wanted = set(recipients) & {party.name, peer}
    return None if wanted == {party.name, peer} else next(iter(wanted))


def prepare(items: list[str]) -> PreparedKeys:
    """This node's keys, normalised; `.report.summary()` says what was dropped and why."""
    from yinji.psi.keys import prepare_keys

    return prepare_keys(items)


@dataclass
class Lanes:
    """How a bucketed PSI runs at this node (`yinji.psi.bucketed`): its TLS settings, the
    job's bucket and lane counts, its workers (threads or Ray) and where lanes listen."""

    tls: Any
    buckets: int
    lanes: int | None
    workers: Any
    bind_host: str


def intersect(party: Party, peer: str, items: list[str], prepared: PreparedKeys,
              recipients: list[str], lanes: Lanes | None = None,
              protocol: str = "auto") -> list[str] | None:
    """The recipient's own values in the intersection. `protocol` (the job's
    params.protocol): "ecdh", "kkrt" or "auto" (kkrt when both sets are large; see
    `yinji.psi.ecdh.ecdh_psi`); bucketed jobs run ECDH per bucket."""
    from yinji.psi.bucketed import bucketed_psi
    from yinji.psi.ecdh import ecdh_psi

    receiver = _receiver(party, peer, recipients)
    if lanes is None:
        found = ecdh_psi(party, peer, prepared, receiver=receiver, protocol=protocol)
    else:
        found = bucketed_psi(party, peer, prepared, tls=lanes.tls, buckets=lanes.buckets,
                             lanes=lanes.lanes, receiver=receiver, workers=lanes.workers,
                             bind_host=lanes.bind_host)
    if found is None:
        return None
    return [items[int(prepared.rows[i])] for i in found]


def intersect_stream(party: Party, peer: str, source: Any, column: str,
                     recipients: list[str], lanes: Lanes) -> tuple[Iterator[str] | None, str]:
    """Bucketed PSI on `column` of a file read in chunks (`yinji.psi.stream`): the recipient's
    own original values of the intersection, read back from the file in chunks as they are
    consumed (file order), and this node's key summary. Same messages, result and leakage as
    `intersect` with lanes."""
    from yinji.psi.stream import bucketed_psi_stream, select_rows
    from yinji.textfile import TableFileError

    try:
        res = bucketed_psi_stream(party, peer, source, [column], tls=lanes.tls,
                                  buckets=lanes.buckets, lanes=lanes.lanes,
                                  receiver=_receiver(party, peer, recipients),
                                  workers=lanes.workers, bind_host=lanes.bind_host)
    except TableFileError as exc:
        raise ValueError(f"cannot read the dataset: {exc}") from None
    if res.rows is None:
        return None, res.report.summary()

    def values() -> Iterator[str]:
        try:
            _, rows = select_rows(source, res.rows, columns=[column])
            for r in rows:
                yield str(r[0]).strip()   # as catalog.load
        except TableFileError as exc:
            raise ValueError(f"cannot read the dataset again: {exc}") from None
    return values(), res.report.summary()


def cardinality_stream(party: Party, peer: str, source: Any, column: str,
                       recipients: list[str]) -> tuple[int | None, str]:
    """PSI cardinality on `column` of a file or a sql `Stream`, read in chunks
    (`yinji.psi.cardinality`): the count to the one recipient (None elsewhere) and this
    node's key summary. Same count and leakage as `cardinality`."""
    from yinji.psi.cardinality import psi_cardinality_stream
    from yinji.textfile import TableFileError

    receiver = _receiver(party, peer, recipients)
    if receiver is None:
        raise ValueError("a PSI cardinality job has exactly one recipient")
    try:
        res = psi_cardinality_stream(party, peer, source, [column], receiver=receiver)
    except TableFileError as exc:
        raise ValueError(f"cannot read the dataset: {exc}") from None
    return res.count, res.report.summary()


def cardinality(party: Party, peer: str, prepared: PreparedKeys,
                recipients: list[str]) -> int | None:
    from yinji.psi.ecdh import psi_cardinality

    receiver = _receiver(party, peer, recipients)
    if receiver is None:
        raise ValueError("a PSI cardinality job has exactly one recipient")
    return psi_cardinality(party, peer, prepared, receiver=receiver)
