"""MPC-mode matching (`mpc_match`) on streamed owners: files of any size read and encoded in
chunks; memory per party bounded by a block of records, a partition of tokens and a piece of
candidate pairs, never by the tables or the number of candidates.

The protocol is `mpc_match.mpc_link`'s, step for step, with its arrays cut into pieces:

- Owners read, check, encode, block and shuffle their file with the streamed owners' path
  (`stream.encode_source`: `yinji.chunks`, `Workers`; plain filters kept, `plain=True`),
  so no owner ever holds its table; the shuffled tokens go to the receiver in blocks of
  `rows` records (a header [n, passes] first).
- The receiver writes the tokens to its disk and computes the candidate pairs with the
  streamed unit's machinery (`unit_partitions.partition_tokens`, `unit_partitions.partition_pairs`: token
  partitions on disk, the same blocks, cap and partner refinement as
  `match.unit_candidates`, each pair once), appends them to a file, and sorts the file in
  buckets of a rows (`SORT_PAIRS` pairs in memory) into `unit_candidates`'s order (a, b).
  It sends both owners their count m (a header), where the whole-file mode sent the list.
- Each owner secret-shares its filters (0/1 ring elements) and popcounts in blocks of
  `rows` records; every party writes its two share components to its own disk (0700
  directory), 16 x (L + 1) bytes per record of each side.
- Per piece of `piece` candidate pairs: the receiver reads the piece from its sorted file
  and sends it to both owners (each appends it to its own file); share rows read from disk
  (`spill_io.take_rows`, in windows), |A∩B| by local inner-product parts (`rows` pairs at a
  time) and one reshare, the threshold comparison, flag and flag·num (flag·den) opened to
  the receiver only, which appends the above-threshold pairs (a, b, num, den) to a file.
- The receiver runs the margin rule and the one-to-one step on that file with the
  streamed unit's `stream.one_to_one` (buckets on disk); the final link flags are
  secret-shared a piece at a time, each party writing its components to disk.

Adversary model and leakage: exactly `mpc_match`'s (semi-honest, honest majority; owners
learn the other's record count and the candidate pairs; the receiver learns both owners'
tokens, which candidate pairs reach the threshold and their Dice coefficients, and the
links; nobody sees an encoding, a popcount or a below-threshold score). Only the framing
and the order of messages differ: tokens and shares in blocks of a public size; the
candidate array, in the whole-file mode's order, cut into pieces of a public size, a piece
sent just before its comparison (after the filter shares, where the whole-file mode sent
it all before them), preceded by its length m, which the whole-file mode's message
carried; the link flags' sharing in the same pieces. Every piece's content is the
whole-file message's slice; the piece count follows from m; the filter shares do not
depend on the candidates. So each party receives the same values as in the whole-file mode,
and when it receives them depends only on public sizes and on the receiver's candidate
computation, which precedes the first piece as it preceded the whole list.

Memory per party: a block of `rows` records (shares: 16 x (L + 1) bytes a record), one
piece's arrays (~100 bytes a pair, with the comparison's temporaries) and one sub-piece's
gathered share rows (4 x 8 x (L + 1) bytes a pair, `rows` pairs); at the receiver also a
partition's token entries (28 bytes each, `stream.PARTITION_ENTRIES` per side), the
over-cap tokens (8 bytes each), a sort bucket (`SORT_PAIRS` pairs, ~24 bytes a pair), a
one-to-one bucket, and the links. Disk: 16 x (L + 1) bytes per record of both sides at
every party (16 KB per record with L = 1024) while the pieces run, 8 bytes per candidate
pair at every party (16 once the shared link flags are written: `ia`, `ib`, `link_flags`
of the output are memmaps of these files), at the receiver 8 x passes bytes per record
of tokens, 28 per token entry and the accepted pairs (12 bytes each), besides the owners'
spills.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yinji.chunks import Source
from yinji.linkage.blocking import block_cap, refine_partners
from yinji.linkage.encoding import Schema
from yinji.linkage.match import LinkTable
from yinji.linkage.mpc_match import (
    OWNER_A,
    OWNER_B,
    RECEIVER,
    MpcLinkOutput,
    open_above_threshold,
)
from yinji.linkage.one_to_one_disk import one_to_one
from yinji.linkage.owner_spill import CHUNK_ROWS, OwnerSpill, encode_source, open_source
from yinji.linkage.spill_io import member, read_bucket, read_rows, take_rows, to_buckets
from yinji.linkage.spill_wire import MAX_PASSES
from yinji.linkage.stream import StreamLinks, resolve_links
from yinji.linkage.unit_partitions import (
    acc_dtype,
    over_by_pass,
    partition_over_cap,
    partition_pairs,
    partition_tokens,
    partitions_for,
)
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.net import expect
from yinji.net.alloc import trim
from yinji.net.workers import Workers

ROWS = 1 << 11    # records per token / share block; candidate pairs per inner-product step
PIECE = 1 << 16   # candidate pairs per comparison (one reshare, comparison and opening)
SORT_PAIRS = 1 << 20   # candidate pairs per bucket of the receiver's sort on disk (~24 MB)


def mpc_link_spill(s: Session, spill: OwnerSpill | None, schema: Schema,
                   directory: str | Path | None = None, *, share_links: bool = True,
                   piece: int = PIECE, rows: int = ROWS,
                   max_records: int = 1 << 34) -> MpcLinkOutput:
    """`mpc_match.mpc_link` as party `s.rank` with a streamed owner's spill (owners:
    `stream.encode_source(..., plain=True)`; the receiver passes None). Work files go to
    a 0700 temporary directory under `directory` (default: the system's), removed at the
    end. `order` in the output is the spill's token -> file row map (a memmap); `ia`,
    `ib` and the `link_flags` components are read-only memmaps of files in that directory,
    which are unlinked with it: their pages stay readable through the mappings (POSIX)
    and their disk space is freed when the output is dropped."""
    owner = s.rank in (OWNER_A, OWNER_B)
    if owner != (spill is not None):
        raise ValueError("a data owner passes its spill, the receiver None")
    if piece < 1 or rows < 1:
        raise ValueError("piece and rows must be positive")
    size = schema.size
    if owner and spill.width * 8 != size:   # type: ignore[union-attr]
        raise ValueError("the spill does not hold plain filters of the schema's size "
                         "(encode_source(..., plain=True))")

    with tempfile.TemporaryDirectory(prefix="yinji-mpclink-", dir=directory) as tmp:
        d = Path(tmp)
        # 1. tokens to the receiver in blocks; it computes the candidates to its disk,
        #    sorted as `unit_candidates` returns them, and announces their count
        s.rounds += 2
        if owner:
            n_own = spill.n   # type: ignore[union-attr]
            s.send(RECEIVER, np.array([n_own, spill.passes], dtype=np.int64))  # type: ignore[union-attr]
            for lo in range(0, n_own, rows):
                s.send(RECEIVER, read_rows(spill.tok, lo, lo + rows))   # type: ignore[union-attr]
            head = expect.recv_array(s.chan(RECEIVER), "the candidate count", np.int64, (1,))
            s.send(1 - s.rank, np.array([n_own], dtype=np.int64))
            n_other = expect.recv_count(s.chan(1 - s.rank), "its record count", max_records)
            sizes = (n_own, n_other) if s.rank == OWNER_A else (n_other, n_own)
            if not 0 <= int(head[0]) <= sizes[0] * sizes[1]:
                raise ValueError("malformed candidate count from the receiver")
            m = int(head[0])
        else:
            sizes, m = _candidates(s, schema, d, rows, max_records)
            s.send(OWNER_A, np.array([m], dtype=np.int64))
            s.send(OWNER_B, np.array([m], dtype=np.int64))
        pairs = _pair_dtype(max(sizes))

        # 2. filters and popcounts, secret-shared by their owners in blocks, to disk
        files = [_share_to_disk(s, spill if s.rank == o else None, o, sizes[k], size, rows,
                                d / f"x{k}")
                 for k, o in enumerate((OWNER_A, OWNER_B))]
        # 3-4. per piece: its candidates to the owners, inner products, comparison, the
        #      opening to the receiver, which appends the above-threshold pairs to disk
        acc = acc_dtype(max(sizes), size // 8)
        accepted = 0
        with open(d / "acc", "wb") as fa, open(d / "cand.own", "wb") as fc:
            for lo in range(0, m, piece):
                k = min(piece, m - lo)
                if owner:
                    ia, ib = _recv_piece(s, k, sizes)
                    _write_pairs(fc, pairs, ia, ib)
                else:
                    ia, ib = _read_pairs(d / "cand", pairs, lo, k)
                    cand = np.stack([ia, ib])
                    s.send(OWNER_A, cand)
                    s.send(OWNER_B, cand)
                got = _piece(s, files, sizes, ia, ib, schema, rows)
                if got is not None:
                    accepted += _accept(fa, acc, ia, ib, got, schema)
                del got, ia, ib
                trim()   # the piece's MPC temporaries go back to the system
        for f in files:
            for path in f[:2]:
                os.unlink(path)
        if not owner:
            os.replace(d / "cand", d / "cand.own")

        # 5. the one-to-one step (the unit mode's, on disk), the shared link flags per piece
        links = None
        if not owner:
            links = one_to_one(d, [d / "acc"], acc, accepted, sizes[0], sizes[1],
                                  schema.margin)
        flags = _share_flags(s, d, links, pairs, m, piece, sizes) if share_links else None
        out = MpcLinkOutput(*_mapped_pairs(d / "cand.own", pairs, m), links=links,
                            order=spill.order if owner else None, link_flags=flags,
                            sizes=sizes)
    return out


def _pair_dtype(n: int) -> np.dtype:
    """A candidate pair on disk: token rows a, b (int32 below 2^31 records)."""
    t = "<i4" if n < 1 << 31 else "<i8"
    return np.dtype([("a", t), ("b", t)])


def _write_pairs(fh, dtype: np.dtype, ia: np.ndarray, ib: np.ndarray) -> None:  # noqa: ANN001
    rec = np.empty(len(ia), dtype)
    rec["a"], rec["b"] = ia, ib
    fh.write(rec.tobytes())


def _read_pairs(path: Path, dtype: np.dtype, lo: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs lo..lo+k of a pair file, as int64 rows a, b."""
    got = np.fromfile(path, dtype=dtype, count=k, offset=lo * dtype.itemsize)
    if len(got) != k:
        raise ValueError(f"{path.name}: {len(got)} pairs at {lo}, expected {k}")
    return got["a"].astype(np.int64), got["b"].astype(np.int64)


def _mapped_pairs(path: Path, dtype: np.dtype, m: int) -> tuple[np.ndarray, np.ndarray]:
    """ia, ib of the pair file: read-only memmaps (no pages read until used)."""
    if not m:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    mm = np.memmap(path, dtype=dtype, mode="r", shape=(m,))
    return mm["a"], mm["b"]


def _candidates(s: Session, schema: Schema, d: Path, rows: int, max_records: int
                ) -> tuple[tuple[int, int], int]:
    """The receiver's step 1: both owners' token blocks to files, partitioned by token and
    joined partition by partition (`unit_partitions.partition_pairs`, the unit mode's machinery),
    each pair once; the pairs go to cand.raw and, sorted by (a, b) as `unit_candidates`
    returns them, to cand. Memory: a block, a partition's token entries, a piece."""
    (ta, n_a, passes), (tb, n_b, passes_b) = (
        _recv_tokens(s, o, rows, max_records, d / f"tok{k}")
        for k, o in enumerate((OWNER_A, OWNER_B)))
    if passes != passes_b:
        raise ValueError("the owners' blocking tokens have different shapes")
    tok = [np.memmap(p, dtype=np.uint64, mode="r", shape=(n, passes))
           for p, n in ((ta, n_a), (tb, n_b))]
    parts = partitions_for(n_a, n_b, passes)
    partners = refine_partners(schema)
    if passes != len(partners):
        partners = [-1] * passes
    for side, t in zip(("a", "b"), tok, strict=True):
        partition_tokens(d, side, t, parts, CHUNK_ROWS, partners)
    del tok
    cap = block_cap(schema, n_a, n_b)
    overs = over_by_pass([partition_over_cap(str(d), p, passes, cap, partners)
                              for p in range(parts)], passes)
    src = [(str(ta), "", n_a, passes, 0), (str(tb), "", n_b, passes, 0)]
    pairs = _pair_dtype(max(n_a, n_b))
    m = 0
    with open(d / "cand.raw", "wb") as fh:
        for p in range(parts):
            for ia, ib in partition_pairs(str(d), p, parts, src, overs, cap, partners):
                _write_pairs(fh, pairs, ia, ib)
                m += len(ia)
            for side in ("a", "b"):
                (d / f"{side}.part{p}").unlink(missing_ok=True)
    for path in (ta, tb):
        os.unlink(path)
    del overs
    trim()
    _sort_pairs(d, pairs, m, n_a)
    return (n_a, n_b), m


def _sort_pairs(d: Path, dtype: np.dtype, m: int, n_a: int) -> None:
    """cand.raw -> cand sorted by (a, b), `SORT_PAIRS` pairs in memory at a time: the pairs
    go to buckets of a rows (shuffled rows: even buckets), each bucket is sorted alone."""
    buckets = max(1, -(-m // SORT_PAIRS))
    for lo in range(0, m, SORT_PAIRS):
        got = np.fromfile(d / "cand.raw", dtype=dtype, count=min(SORT_PAIRS, m - lo),
                          offset=lo * dtype.itemsize)
        to_buckets(d, "srt", got, got["a"].astype(np.int64) * buckets // max(n_a, 1),
                       buckets)
    os.unlink(d / "cand.raw")
    with open(d / "cand", "wb") as fh:
        for k in range(buckets):
            got = read_bucket(d / f"srt{k}", dtype)
            fh.write(got[np.lexsort((got["b"], got["a"]))].tobytes())
            del got
            trim()


def _recv_tokens(s: Session, o: int, rows: int, max_records: int, path: Path
                 ) -> tuple[Path, int, int]:
    """The receiver's side of an owner's token blocks, each checked against the header,
    appended to `path`: (path, n, passes)."""
    head = expect.recv_array(s.chan(o), "a token header", np.int64, (2,), error=ValueError)
    n, passes = (int(x) for x in head)
    if not (0 < n <= max_records and 0 <= passes <= MAX_PASSES):
        raise ValueError(f"malformed token header from party {o}: {head.tolist()}")
    with open(path, "wb") as fh:
        for lo in range(0, n, rows):
            blk = expect.recv_array(s.chan(o), "blocking tokens", np.uint64,
                                    (min(rows, n - lo), passes), error=ValueError)
            fh.write(np.ascontiguousarray(blk).tobytes())
    return path, n, passes


def _recv_piece(s: Session, k: int, sizes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """An owner's side of a piece of k candidate pairs, checked (rows within the sizes)."""
    cand = expect.recv_array(s.chan(RECEIVER), "candidate pairs", np.int64, (2, k),
                             error=ValueError)
    if (k and (
            cand.min() < 0 or cand[0].max() >= sizes[0] or cand[1].max() >= sizes[1])):
        raise ValueError("malformed candidate pairs from the receiver")
    return cand[0], cand[1]


def _accept(fh, acc: np.dtype, ia: np.ndarray, ib: np.ndarray, opened: np.ndarray,  # noqa: ANN001
            schema: Schema) -> int:
    """Append a piece's opened above-threshold pairs (a, b, num, den) to `fh`."""
    cols = opened.view(np.int64).reshape(2 if schema.balanced else 3, len(ia))
    f = np.flatnonzero(cols[0] == 1)
    rec = np.empty(len(f), acc)
    rec["a"], rec["b"], rec["num"] = ia[f], ib[f], cols[1, f]
    rec["den"] = 2 * schema.size if schema.balanced else cols[2, f]
    fh.write(rec.tobytes())
    return len(f)


def _share_flags(s: Session, d: Path, links: LinkTable | None, pairs: np.dtype, m: int,
                 piece: int, sizes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The receiver secret-shares the 0/1 link flag of every candidate pair (cand.own, in
    order), a piece at a time; every party writes its two components to disk and gets
    them back as memmaps."""
    n_b = max(sizes[1], 1)
    lcode = None if links is None else np.sort(links.a * n_b + links.b)
    with open(d / "flag.0", "wb") as f0, open(d / "flag.1", "wb") as f1:
        for lo in range(0, m, piece):
            k = min(piece, m - lo)
            linked = None
            if lcode is not None:
                ia, ib = _read_pairs(d / "cand.own", pairs, lo, k)
                linked = member(ia * n_b + ib, lcode).astype(np.uint64)
            x0, x1 = rep.share(s, linked, RECEIVER, (k,))
            f0.write(np.ascontiguousarray(x0).tobytes())
            f1.write(np.ascontiguousarray(x1).tobytes())
    if not m:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    return tuple(np.memmap(d / f"flag.{i}", dtype=np.uint64, mode="r", shape=(m,))
                 for i in (0, 1))   # type: ignore[return-value]


def _share_to_disk(s: Session, spill: OwnerSpill | None, o: int, n: int, size: int,
                   rows: int, path: Path) -> tuple[str, str, int, int]:
    """Owner o shares [filter bits | popcount] (n, size + 1) in blocks of `rows` records;
    every party appends its two components to path.0, path.1."""
    with open(f"{path}.0", "wb") as f0, open(f"{path}.1", "wb") as f1:
        for lo in range(0, n, rows):
            hi = min(lo + rows, n)
            value = None
            if spill is not None:
                bits = np.unpackbits(read_rows(spill.enc, lo, hi), axis=1)
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
    opened words [flag | flag·num (| flag·den)] of the piece, the others None."""
    size, m = schema.size, len(ia)
    (a0, a1, na, w), (b0, b1, nb, _) = files
    z = np.empty(m, dtype=np.uint64)
    pa = (np.empty(m, np.uint64), np.empty(m, np.uint64))
    pb = (np.empty(m, np.uint64), np.empty(m, np.uint64))
    for lo in range(0, m, rows):
        a_, b_ = ia[lo:lo + rows], ib[lo:lo + rows]
        xa = (take_rows(a0, np.uint64, na, w, a_), take_rows(a1, np.uint64, na, w, a_))
        xb = (take_rows(b0, np.uint64, nb, w, b_), take_rows(b1, np.uint64, nb, w, b_))
        part = (xa[0][:, :size] * (xb[0][:, :size] + xb[1][:, :size])).sum(
            axis=1, dtype=np.uint64)
        part += (xa[1][:, :size] * xb[0][:, :size]).sum(axis=1, dtype=np.uint64)
        z[lo:lo + rows] = part
        for k in range(2):
            pa[k][lo:lo + rows] = xa[k][:, size]
            pb[k][lo:lo + rows] = xb[k][:, size]
    z += s.zero_share(z.shape)
    c = rep.reshare(s, z)
    return open_above_threshold(s, schema, c, pa, pb, m, size)


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
