"""MPC-mode matching (`mpc_match`) on streamed owners: files of any size read and encoded in
chunks, memory bounded by a piece of candidate pairs, not by the tables.

The protocol is `mpc_match.mpc_link`'s, step for step, with its arrays cut into pieces:

- Owners read, check, encode, block and shuffle their file with the streamed owners' path
  (`stream.encode_source`: `yinji.chunks`, `Workers`; plain filters kept, `plain=True`),
  so no owner ever holds its table; the shuffled tokens go to the receiver in blocks of
  `rows` records (a header [n, passes] first).
- The receiver computes the candidate pairs (`match.unit_candidates`, in memory: 16 bytes
  per pair plus the tokens, 8 x passes bytes per record) and sends them to both owners.
- Each owner secret-shares its filters (0/1 ring elements) and popcounts in blocks of
  `rows` records; every party writes its two share components to its own disk (0700
  directory), 16 x (L + 1) bytes per record of each side.
- Per piece of `piece` candidate pairs: share rows read from disk (`stream._take`, in
  windows), |A∩B| by local inner-product parts (`rows` pairs at a time) and one reshare,
  the threshold comparison, flag and flag·num (flag·den) opened to the receiver only.
- The receiver runs the margin rule and the one-to-one step on the opened above-threshold
  pairs of all pieces; the final link flags are secret-shared as in `mpc_link`.

Adversary model and leakage: exactly `mpc_match`'s (semi-honest, honest majority; owners
learn the other's record count and the candidate pairs; the receiver learns both owners'
tokens, which candidate pairs reach the threshold and their Dice coefficients, and the
links; nobody sees an encoding, a popcount or a below-threshold score). Only the framing
differs: tokens and shares in blocks of a public size, the MPC in pieces of a public size,
whose counts follow from n and the number of candidates, which all three parties know.

Memory per party: one block of `rows` records (shares: 16 x (L + 1) bytes a record), one
piece's arrays (~100 bytes a pair) and one sub-piece's gathered share rows
(4 x 8 x (L + 1) bytes a pair, `rows` pairs), plus O(candidates): the candidate list (16
bytes a pair at every party), the opened values (24 bytes a pair at the receiver) and the
shared link flags (16 bytes a pair). Disk: 16 x (L + 1) bytes per record of both sides at
every party (16 KB per record with L = 1024), besides the owners' spills.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yinji.chunks import Source
from yinji.linkage.encoding import Schema
from yinji.linkage.match import unit_candidates
from yinji.linkage.mpc_match import (
    OWNER_A,
    OWNER_B,
    RECEIVER,
    MpcLinkOutput,
    finish_links,
    open_above_threshold,
)
from yinji.linkage.stream import (
    CHUNK_ROWS,
    MAX_PASSES,
    OwnerSpill,
    StreamLinks,
    _rows,
    _take,
    encode_source,
    open_source,
    resolve_links,
)
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.net.workers import Workers

ROWS = 1 << 11    # records per token / share block; candidate pairs per inner-product step
PIECE = 1 << 16   # candidate pairs per comparison (one reshare, comparison and opening)


def mpc_link_spill(s: Session, spill: OwnerSpill | None, schema: Schema,
                   directory: str | Path | None = None, *, share_links: bool = True,
                   piece: int = PIECE, rows: int = ROWS,
                   max_records: int = 1 << 34) -> MpcLinkOutput:
    """`mpc_match.mpc_link` as party `s.rank` with a streamed owner's spill (owners:
    `stream.encode_source(..., plain=True)`; the receiver passes None). Share files go to
    a 0700 temporary directory under `directory` (default: the system's), removed at the
    end. `order` in the output is the spill's token -> file row map (a memmap)."""
    owner = s.rank in (OWNER_A, OWNER_B)
    if owner != (spill is not None):
        raise ValueError("a data owner passes its spill, the receiver None")
    if piece < 1 or rows < 1:
        raise ValueError("piece and rows must be positive")
    size = schema.size
    if owner and spill.width * 8 != size:   # type: ignore[union-attr]
        raise ValueError("the spill does not hold plain filters of the schema's size "
                         "(encode_source(..., plain=True))")

    # 1. tokens to the receiver in blocks, candidates back
    s.rounds += 2
    if owner:
        n_own = spill.n   # type: ignore[union-attr]
        s.send(RECEIVER, np.array([n_own, spill.passes], dtype=np.int64))  # type: ignore[union-attr]
        for lo in range(0, n_own, rows):
            s.send(RECEIVER, _rows(spill.tok, lo, lo + rows))   # type: ignore[union-attr]
        cand = s.recv(RECEIVER)
        s.send(1 - s.rank, np.array([n_own], dtype=np.int64))
        n_other = int(s.recv(1 - s.rank)[0])
        sizes = (n_own, n_other) if s.rank == OWNER_A else (n_other, n_own)
        ia, ib = cand[0], cand[1]
    else:
        tok_a, tok_b = (_recv_tokens(s, o, rows, max_records) for o in (OWNER_A, OWNER_B))
        if tok_a.shape[1] != tok_b.shape[1]:
            raise ValueError("the owners' blocking tokens have different shapes")
        sizes = (len(tok_a), len(tok_b))
        ia, ib = unit_candidates(tok_a, tok_b, schema)
        del tok_a, tok_b
        cand = np.stack([ia, ib]).astype(np.int64)
        s.send(OWNER_A, cand)
        s.send(OWNER_B, cand)
    m = len(ia)

    with tempfile.TemporaryDirectory(prefix="yinji-mpclink-", dir=directory) as d:
        # 2. filters and popcounts, secret-shared by their owners in blocks, to disk
        files = [_share_to_disk(s, spill if s.rank == o else None, o, sizes[k], size, rows,
                                Path(d) / f"x{k}")
                 for k, o in enumerate((OWNER_A, OWNER_B))]
        # 3-4. per piece: inner products, comparison, opening to the receiver
        opened: list[np.ndarray] = []
        for lo in range(0, m, piece):
            got = _piece(s, files, sizes, ia[lo:lo + piece], ib[lo:lo + piece], schema,
                         rows)
            if got is not None:
                opened.append(got)
    out = MpcLinkOutput(ia, ib, sizes=sizes, order=spill.order if owner else None)
    cols = None
    if s.rank == RECEIVER:
        cols = (np.concatenate(opened) if opened
                else np.zeros((0, 2 if schema.balanced else 3), np.int64))
    return finish_links(s, out, schema, cols, size, share_links)


def _recv_tokens(s: Session, o: int, rows: int, max_records: int) -> np.ndarray:
    """The receiver's side of an owner's token blocks, each checked against the header."""
    head = s.recv(o)
    if head.dtype != np.int64 or head.shape != (2,):
        raise ValueError(f"malformed token header from party {o}")
    n, passes = (int(x) for x in head)
    if not (0 < n <= max_records and 0 <= passes <= MAX_PASSES):
        raise ValueError(f"malformed token header from party {o}: {head.tolist()}")
    tok = np.empty((n, passes), dtype=np.uint64)
    for lo in range(0, n, rows):
        blk = s.recv(o)
        if blk.dtype != np.uint64 or blk.shape != (min(rows, n - lo), passes):
            raise ValueError(f"malformed blocking tokens from party {o}")
        tok[lo:lo + rows] = blk
    return tok


def _share_to_disk(s: Session, spill: OwnerSpill | None, o: int, n: int, size: int,
                   rows: int, path: Path) -> tuple[str, str, int, int]:
    """Owner o shares [filter bits | popcount] (n, size + 1) in blocks of `rows` records;
    every party appends its two components to path.0, path.1."""
    with open(f"{path}.0", "wb") as f0, open(f"{path}.1", "wb") as f1:
        for lo in range(0, n, rows):
            hi = min(lo + rows, n)
            value = None
            if spill is not None:
                bits = np.unpackbits(_rows(spill.enc, lo, hi), axis=1)
                value = np.empty((hi - lo, size + 1), dtype=np.uint64)
                value[:, :size] = bits
                value[:, size] = bits.sum(axis=1, dtype=np.uint64)
            x0, x1 = rep.share(s, value, o, (hi - lo, size + 1))
            f0.write(np.ascontiguousarray(x0).tobytes())
            f1.write(np.ascontiguousarray(x1).tobytes())
    return f"{path}.0", f"{path}.1", n, size + 1


def _piece(s: Session, files: list[tuple[str, str, int, int]], sizes: tuple[int, int],
           ia: np.ndarray, ib: np.ndarray, schema: Schema, rows: int) -> np.ndarray | None:
    """`mpc_link`'s steps 3-4 on one piece of candidate pairs; the receiver gets the
    opened [flag, flag·num(, flag·den)] rows of the piece, the others None."""
    size, m = schema.size, len(ia)
    (a0, a1, na, w), (b0, b1, nb, _) = files
    z = np.empty(m, dtype=np.uint64)
    pa = (np.empty(m, np.uint64), np.empty(m, np.uint64))
    pb = (np.empty(m, np.uint64), np.empty(m, np.uint64))
    for lo in range(0, m, rows):
        a_, b_ = ia[lo:lo + rows], ib[lo:lo + rows]
        xa = (_take(a0, np.uint64, na, w, a_), _take(a1, np.uint64, na, w, a_))
        xb = (_take(b0, np.uint64, nb, w, b_), _take(b1, np.uint64, nb, w, b_))
        part = (xa[0][:, :size] * (xb[0][:, :size] + xb[1][:, :size])).sum(
            axis=1, dtype=np.uint64)
        part += (xa[1][:, :size] * xb[0][:, :size]).sum(axis=1, dtype=np.uint64)
        z[lo:lo + rows] = part
        for k in range(2):
            pa[k][lo:lo + rows] = xa[k][:, size]
            pb[k][lo:lo + rows] = xb[k][:, size]
    z += s.zero_share(z.shape)
    c = rep.reshare(s, z)
    opened = open_above_threshold(s, schema, c, pa, pb, m, size)
    if opened is None:
        return None
    return opened.view(np.int64).reshape(2 if schema.balanced else 3, m).T.copy()


def mpc_link_sources(a: Source, b: Source, schema: Schema, key: bytes, *,
                     id_column: str = "id", mapping: dict[str, list[str]] | None = None,
                     chunk_rows: int = CHUNK_ROWS, workers: Workers | None = None,
                     spill_dir: str | None = None,
                     on_headers: Callable[[dict[str, list[str]]], None] | None = None,
                     contains: tuple[str, str] | None = None,
                     sink: Callable[[list[tuple[str, str, float]]], None] | None = None
                     ) -> StreamLinks:
    """Both owners and the receiver in threads of this process over an in-memory network
    (`yinji link run --stream --mode mpc`), as `stream.link_sources` does for the unit
    mode: the same checks, reports, `sink` and result type."""
    from yinji.net.memory import run_in_threads

    opened = [open_source(a, id_column, chunk_rows), open_source(b, id_column, chunk_rows)]
    if on_headers is not None:
        on_headers({o.name: o.stream.header for o in opened})
    names = ["owner_a", "owner_b", "receiver"]
    with tempfile.TemporaryDirectory(prefix="yinji-link-a-", dir=spill_dir) as da, \
            tempfile.TemporaryDirectory(prefix="yinji-link-b-", dir=spill_dir) as db:
        owners = [encode_source(src, schema, key, d, id_column=id_column, mapping=mapping,
                                chunk_rows=chunk_rows, workers=workers, plain=True)
                  for src, d in zip(opened, (da, db), strict=True)]
        results = run_in_threads(
            names, lambda i, party: mpc_link_spill(Session(party, names),
                                                   owners[i] if i < 2 else None, schema,
                                                   spill_dir, share_links=False),
            timeout=24 * 3600)
        sa, sb = owners
        table = results[2].links
        links = resolve_links(sa, sb, table, sink)
        has = None if contains is None else (sa.has_id(contains[0])
                                             and sb.has_id(contains[1]))
        return StreamLinks(links, len(results[2].ia), (sa, sb), has, len(table))


__all__ = ["PIECE", "ROWS", "mpc_link_sources", "mpc_link_spill"]
