"""Streamed linkage between nodes (node jobs with `params.stream`): an owner's shuffled
tokens, encodings and record ids sent in blocks of rows (`send_spill` / `recv_spill`), and
the record ids alone after the MPC mode (`send_ids` / `recv_ids`).

The owner sends a header [n, passes, width, block rows], then its shuffled tokens and
encodings in blocks of rows, then its record ids in the same order (as the node's id message
does); the receiver checks every header, block and id list against what was announced, with
size limits, and writes them to its own files. Leakage: the framing only (the block size is
a public constant whose count follows from n, which the unit learns anyway).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yinji.linkage.owner_spill import OwnerSpill
from yinji.linkage.spill_io import read_rows
from yinji.net.channel import Channel

BLOCK_ROWS = 1 << 14   # records per message when an owner sends its spill to the unit
MAX_PASSES = 256
_SLACK = 1024          # bytes of array header a transport may count in a message's size


def send_spill(ch: Channel, spill: OwnerSpill, block_rows: int = BLOCK_ROWS) -> None:
    """Owner -> unit: the shuffled tokens and encodings (the in-memory protocol's two arrays)
    as a header [n, passes, width, block_rows] and then blocks of `block_rows` rows, tokens
    then encodings; then the record ids in the same order, as JSON lists per block. The
    content and order are what `match.linkage_unit_owner` and the node's id message send;
    only the framing differs (the block size is public, the count follows from n)."""
    ch.send_array(np.array([spill.n, spill.passes, spill.width, block_rows], dtype=np.int64))
    tok, enc = spill.tok, spill.enc
    for s in range(0, spill.n, block_rows):
        ch.send_array(read_rows(tok, s, s + block_rows))
        ch.send_array(read_rows(enc, s, s + block_rows))
    _send_ids(ch, spill, block_rows)


def send_ids(ch: Channel, spill: OwnerSpill, block_rows: int = BLOCK_ROWS) -> None:
    """Owner -> receiver, after the MPC mode (`mpc_stream`): the record ids in the shuffled
    order the receiver's link table indexes, as a header [n, block_rows] and JSON lists per
    block -- what the node's id message of the whole-file MPC mode sends, in blocks."""
    ch.send_array(np.array([spill.n, block_rows], dtype=np.int64))
    _send_ids(ch, spill, block_rows)


def _send_ids(ch: Channel, spill: OwnerSpill, block_rows: int) -> None:
    """The record ids in token order, a JSON list per block of `block_rows`."""
    order = spill.order
    for s in range(0, spill.n, block_rows):
        ch.send_bytes(json.dumps(spill.ids(read_rows(order[:, None], s, s + block_rows)[:, 0]))
                      .encode())


@dataclass
class Received:
    """One owner's spill as the unit holds it: memmaps of tokens and encodings, and ids."""

    tok: np.ndarray
    enc: np.ndarray
    ids: OwnerSpill   # ids in the owner's shuffled order (rows = tokens)


def recv_spill(ch: Channel, directory: str | Path, width: int, who: str,
               max_records: int = 1 << 34) -> Received:
    """Unit side of `send_spill`, into files in `directory` (the unit's own, empty); every
    header, block and id list is checked against what was announced, with size limits."""
    d = Path(directory)
    head = ch.recv_array_at_most(_SLACK)
    if head.dtype != np.int64 or head.shape != (4,):
        raise ValueError(f"malformed encodings header from {who}")
    n, passes, wide, block = (int(x) for x in head)
    if not (0 < n <= max_records and 0 <= passes <= MAX_PASSES and 1 <= block <= 1 << 20):
        raise ValueError(f"malformed encodings header from {who}: {head.tolist()}")
    if wide != width:
        raise ValueError("encodings do not match the schema's filter size")
    with open(d / "tok.sent", "wb") as ft, open(d / "enc.sent", "wb") as fe:
        for s in range(0, n, block):
            rows = min(block, n - s)
            tok = ch.recv_array_at_most(8 * rows * passes + _SLACK)
            enc = ch.recv_array_at_most(rows * width + _SLACK)
            if (tok.dtype != np.uint64 or tok.shape != (rows, passes)
                    or enc.dtype != np.uint8 or enc.shape != (rows, width)):
                raise ValueError(f"malformed encodings from {who}")
            ft.write(tok.tobytes())
            fe.write(enc.tobytes())
    ids = OwnerSpill(d, n, width, passes)
    _recv_ids(ch, d, n, block, who)
    return Received(ids.tok, ids.enc, ids)


def recv_ids(ch: Channel, directory: str | Path, n: int, who: str) -> OwnerSpill:
    """Receiver side of `send_ids`, into files in `directory` (the receiver's own, empty):
    the header must announce the `n` records the MPC mode linked; ids read with `.ids(rows)`."""
    head = ch.recv_array_at_most(_SLACK)
    if head.dtype != np.int64 or head.shape != (2,) or int(head[0]) != n \
            or not 1 <= int(head[1]) <= 1 << 20:
        raise ValueError(f"malformed record-id header from {who} (expected {n} records)")
    _recv_ids(ch, Path(directory), n, int(head[1]), who)
    return OwnerSpill(Path(directory), n, 0, 0)


def _recv_ids(ch: Channel, d: Path, n: int, block: int, who: str) -> None:
    """`_send_ids`'s lists, each checked (length, strings, size), into ids.bin / ids.off."""
    at = 0
    with open(d / "ids.bin", "wb") as fi, open(d / "ids.off", "wb") as fo:
        fo.write(np.zeros(1, "<i8").tobytes())
        for s in range(0, n, block):
            rows = min(block, n - s)
            got = json.loads(ch.recv_bytes_at_most(rows * 4096 + 2))
            if (not isinstance(got, list) or len(got) != rows
                    or not all(isinstance(x, str) for x in got)):
                raise ValueError(f"{who} sent malformed record ids")
            blob = [x.encode() for x in got]
            fi.write(b"".join(blob))
            fo.write((at + np.cumsum([len(x) for x in blob], dtype=np.int64)).tobytes())
            at += sum(len(x) for x in blob)


__all__ = ["BLOCK_ROWS", "MAX_PASSES", "Received", "recv_ids", "recv_spill", "send_ids",
           "send_spill"]
