"""Deliver per-row results to the companies that own the rows, without showing the compute
parties which rows belong together.

Setting: the compute parties hold, for each owner o (a company, possibly not a compute
party) and each of n positions, a shared `label` -- 1 + the index of one of o's own rows, or 0
if o has no row there -- and a shared `payload` (e.g. a client's reason bits). Positions are
aligned across owners (position i is one client), so the labels together say which owners
share a client: that must stay hidden.

Protocol: stack the owners' (label, payload) rows into K*n rows with the owner's number as a
public column, shuffle them obliviously (mpc.shuffle: fresh permutation no single party
knows), open the owner and label columns to the three compute parties, and open each
payload whose label is non-zero to its owner only (`reveal_to` for a compute party,
`inputs.reveal_outside` for an input party), in the order of the owner's rows.

Adversary model: semi-honest, honest majority (yinji.mpc).
Leakage: after the shuffle the opened (owner, label) pairs are in uniformly random order, so
the compute parties learn only their multiset: for each owner, how many of the n positions
carry one of its rows (its row count, known from its input size) -- nothing about which
positions, hence nothing about which owners share a client. Owner o receives the payloads of
its own rows (its output) and nothing else.
Rounds: 3 (shuffle) + 1 (open labels) + 1 (payloads). Bytes: 48 per row element in the
shuffle, K*n*16 to open the labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.mpc.inputs import receive_output, reveal_outside
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor, concatenate, stack
from yinji.net.channel import Party


class DeliveryError(RuntimeError):
    """The opened labels are not a valid assignment of rows (a bug or a misbehaving party)."""


def deliver_rows(s: Session, owners: Sequence[str], labels: SharedTensor,
                 payload: SharedTensor, rows: Sequence[int]) -> np.ndarray | None:
    """Run by each compute party. labels, payload: n x K integer shares (column o for owner
    o); rows[o]: how many rows owner o has. Returns this party's own payloads (rows[me]
    values, in its row order) if it is an owner, else None."""
    n, k = labels.shape
    if payload.shape != (n, k) or len(owners) != k or len(rows) != k:
        raise ValueError(f"labels {labels.shape}, payload {payload.shape} and {len(owners)} "
                         "owners do not match")
    owner_col = np.repeat(np.arange(k, dtype=np.int64), n)
    table = stack([SharedTensor.public(s, owner_col, 0),
                   concatenate([labels[:, o] for o in range(k)]),
                   concatenate([payload[:, o] for o in range(k)])], 1)
    table = table.shuffle()
    opened = table[:, :2].reveal()
    mine = None
    for o, name in enumerate(owners):
        at = np.flatnonzero((opened[:, 0] == o) & (opened[:, 1] > 0))
        order = opened[at, 1] - 1
        if len(at) != rows[o] or not np.array_equal(np.sort(order), np.arange(rows[o])):
            raise DeliveryError(f"the labels of {name} do not name each of its "
                                f"{rows[o]} rows once")
        values = table[at[np.argsort(order)], 2]
        if name in s.names:
            got = values.reveal_to(name)
            if got is not None:
                mine = got
        else:
            reveal_outside(values, name)
    return mine


def receive_rows(party: Party, compute: Sequence[str]) -> np.ndarray:
    """Run by an owner that is not a compute party: its payloads, in its row order."""
    return receive_output(party, compute, frac_bits=0)
