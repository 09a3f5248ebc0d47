"""Record linkage (linkage-unit mode) streamed: files of any size, memory bounded by a chunk
of records and a partition of blocking tokens, never by the table.

Owner side (`encode_source`, `yinji.linkage.owner_spill`), per data owner: 1. read the source
in chunks, checking record ids and dates; 2. encode and block the chunks on threads or Ray
tasks; 3. shuffle the encodings and tokens on disk with a private permutation (details in
`owner_spill`'s docstring).

Linkage unit (`link_spills`):
4. Partition both owners' (row, pass, token) entries by the token (tokens are keyed
   BLAKE2b / AES outputs, so their low bits split them evenly): records sharing a token land
   in the same partition on both sides. The partition count only sizes the unit's own work
   files; nobody else sees it.
5. First, per partition, the blocks over the cap (`blocking.block_cap`: size-aware) and,
   among them, the refined (token, partner token) blocks still over it (a global property
   of a token, known in its partition; each entry carries its record's partner token).
   Then per partition and pass the sort join (`blocking.join_pieces`, over-cap blocks
   joined again on the partner token) in pieces of `PIECE` pairs, Dice counts on encoding
   rows read from the spill files into buffers made once per task, the threshold; the
   pairs above it are appended to a file per partition (12 bytes a pair), not kept. A pair
   that shares several tokens is taken only at the first (partition, pass) whose join
   yields it, so the candidates are exactly `match.unit_candidates`'s, each once, without
   holding them. Partitions run through the Workers object as well (Ray tasks read and
   write the work files: one machine or a shared disk).
6. The one-to-one step (`match.greedy_one_to_one`, margin rule included) on the accepted,
   above-threshold pairs: with a margin, in buckets of `ONE_TO_ONE_PAIRS` pairs on disk
   (a pair is kept iff it is the clear winner of its a record's pairs and of its b
   record's, `match.clear_winner`: buckets of a rows, then of b rows); the links are
   exactly `match.link_encodings`'s on the same tokens and encodings.

Between nodes (`send_spill` / `recv_spill`, node jobs with `params.stream`): the owner sends
the unit a header [n, passes, width, block rows], then its shuffled tokens and encodings in
blocks of rows, then its record ids in the same order (as the node's id message does), each
block checked against the header; the unit writes them to its own memmap files.

Adversary model and leakage: exactly `yinji.linkage.match`'s (semi-honest; the unit, which
has no key, colludes with no owner; it learns both owners' tokens and encodings, hence all
pairwise similarities, and the links). The unit receives the same tokens and encodings in
the same kind of private shuffled order (a fresh one per peer); only the framing differs,
and the block size is a public constant whose count follows from n, which the unit learns
anyway. The partition count is the unit's own bookkeeping on what it holds and is sent to
nobody; owners receive nothing. Spill files (normalised identity data in encoded form at the
owner; tokens, encodings and accepted pairs at the unit) live in a 0700 temporary directory
of their own party, removed at the end.

Memory (per party; measured in benchmarks/linkage_stream.py and, phase by phase,
benchmarks/linkage_phases.py; docs/linkage.md, Memory): two waves of `workers.size` chunks
(one read while the other is encoded; their rows as dicts, ~1 KB per record, and 1 KB of
plain filter bits per record while encoding), one shuffle group, one partition's token
entries per running task (28 bytes per entry, ~`PARTITION_ENTRIES` per side), one piece's
buffers per running task (`PIECE` x (16 x passes + 3 x width) bytes: 54 MB), a bucket of
the one-to-one step (~110 bytes a pair, `ONE_TO_ONE_PAIRS` pairs), plus what must grow:
8 bytes per over-cap token or refined key (each task holds them all) and the links (the
link table, 24 bytes a link, ~50 at its final sort). Between the phases and after each
pass of a task the heap's free pages go back to the system (`yinji.net.alloc.trim`):
otherwise the free space that varying temporaries leave in a thread's arena stays resident
and RSS follows the run's history, not what it holds. Spill files are read through
mappings of `WINDOW` rows at a time (`spill_io.take_rows`), so the mapped pages, which count in RSS as
file-backed pages, stay bounded too. Disk: (encoding width + 8 x passes + id length + 24)
bytes per record per owner, twice while shuffling; the unit's token partitions 28 bytes
per token; accepted pairs 12 bytes each (13 in the one-to-one buckets).

Modules: steps 1-3 `owner_spill`, steps 4-5 `unit_partitions`, step 6 `one_to_one_disk`,
between nodes `spill_wire`, the on-disk helpers they share `spill_io`; this module drives
them (`link_spills`, `link_sources`) and re-exports their public names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yinji.chunks import Source
from yinji.linkage.blocking import block_cap, refine_partners
from yinji.linkage.encoding import Schema
from yinji.linkage.match import LinkTable
from yinji.linkage.one_to_one_disk import ONE_TO_ONE_PAIRS, one_to_one
from yinji.linkage.owner_spill import (
    CHUNK_ROWS,
    ROW_IDS,
    DateProblems,
    InputError,
    Opened,
    OwnerSpill,
    encode_source,
    open_source,
    reshuffle,
)
from yinji.linkage.spill_wire import (
    BLOCK_ROWS,
    MAX_PASSES,
    Received,
    recv_ids,
    recv_spill,
    send_ids,
    send_spill,
)
from yinji.linkage.unit_partitions import (
    PARTITION_ENTRIES,
    PIECE,
    acc_dtype,
    arrays_path,
    over_by_pass,
    partition_over_cap,
    partition_pairs,
    partition_tokens,
    partitions_for,
    score_partition,
)
from yinji.net.alloc import trim
from yinji.net.workers import LocalWorkers, Workers


def link_spills(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                schema: Schema, directory: str | Path, *, partitions: int | None = None,
                workers: Workers | None = None, chunk_rows: int = CHUNK_ROWS
                ) -> tuple[LinkTable, int]:
    """The linkage unit's work on (tokens, encodings) of each owner (arrays or memmaps, in
    the owners' shuffled orders), steps 4-6 of the module docstring; the link table and the
    number of distinct candidate pairs, as `match.link_encodings` returns them."""
    (tok_a, enc_a), (tok_b, enc_b) = a, b
    if tok_a.shape[1] != tok_b.shape[1] or enc_a.shape[1] != enc_b.shape[1]:
        raise ValueError("the owners' tokens or encodings have different shapes")
    d = Path(directory)
    workers = workers or LocalWorkers(1)
    n_a, n_b, passes = len(tok_a), len(tok_b), tok_a.shape[1]
    parts = partitions or partitions_for(n_a, n_b, passes)
    partners = refine_partners(schema) if passes == len(refine_partners(schema)) \
        else [-1] * passes
    for side, tok in (("a", tok_a), ("b", tok_b)):
        partition_tokens(d, side, tok, parts, chunk_rows, partners)
    trim()
    src = [arrays_path(d, "a", tok_a, enc_a), arrays_path(d, "b", tok_b, enc_b)]
    cap = block_cap(schema, n_a, n_b)
    waves = [list(range(s, min(s + workers.size, parts)))
             for s in range(0, parts, workers.size)]
    over: list[np.ndarray] = []
    for w in waves:
        over += workers.map(partition_over_cap,
                            [(str(d), p, passes, cap, partners) for p in w])
    overs = over_by_pass(over, passes)
    cands = accepted = 0
    for w in waves:
        for m, k in workers.map(score_partition, [(str(d), p, parts, src, overs, schema,
                                                   cap, partners) for p in w]):
            cands += m
            accepted += k
    trim()
    dtype = acc_dtype(max(n_a, n_b), src[0][4])
    accs = [d / f"acc{p}" for p in range(parts)]
    return one_to_one(d, accs, dtype, accepted, n_a, n_b, schema.margin), cands


@dataclass
class StreamLinks:
    """Links as (a id, b id, Dice) -- none kept if they went to a sink -- with their count,
    how each file was read and its date problems."""

    links: list[tuple[str, str, float]]
    candidates: int
    owners: tuple[OwnerSpill, OwnerSpill]
    contains: bool | None = None
    count: int = 0


LINK_BLOCK = 1 << 16   # links resolved to record ids at a time


def resolve_links(sa: OwnerSpill, sb: OwnerSpill, table: LinkTable,
                  sink: Callable[[list[tuple[str, str, float]]], None] | None = None
                  ) -> list[tuple[str, str, float]]:
    """(a id, b id, Dice) of `table`'s links (token rows of `sa`, `sb`), resolved LINK_BLOCK
    at a time. With `sink`, each block goes to it and none is kept, so memory is bounded by
    a block (~0.5 KB a link as Python tuples), not by the number of links."""
    kept: list[tuple[str, str, float]] = []
    for s in range(0, len(table), LINK_BLOCK):
        e = s + LINK_BLOCK
        part = list(zip(sa.ids(sa.rows(table.a[s:e])), sb.ids(sb.rows(table.b[s:e])),
                        table.score[s:e].tolist(), strict=True))
        if sink is None:
            kept.extend(part)
        else:
            sink(part)
    return kept


def link_sources(a: Source, b: Source, schema: Schema, key: bytes, *,
                 id_column: str = "id", mapping: dict[str, list[str]] | None = None,
                 chunk_rows: int = CHUNK_ROWS, workers: Workers | None = None,
                 partitions: int | None = None, shuffle: bool = True,
                 spill_dir: str | None = None,
                 on_headers: Callable[[dict[str, list[str]]], None] | None = None,
                 contains: tuple[str, str] | None = None,
                 sink: Callable[[list[tuple[str, str, float]]], None] | None = None
                 ) -> StreamLinks:
    """Both owners and the linkage unit on this machine (`yinji link run --stream`): each
    owner's spill directory and the unit's are separate 0700 temporary directories, removed
    at the end (the returned OwnerSpills keep only counts and reports). `on_headers({file:
    header})` runs after both files are opened, before their rows are read. `contains`:
    an (a id, b id) pair to look up (StreamLinks.contains: both ids exist). `sink`: links
    are handed to it in blocks instead of kept (`resolve_links`)."""
    opened = [open_source(a, id_column, chunk_rows), open_source(b, id_column, chunk_rows)]
    if on_headers is not None:
        on_headers({o.name: o.stream.header for o in opened})
    with tempfile.TemporaryDirectory(prefix="yinji-link-a-", dir=spill_dir) as da, \
            tempfile.TemporaryDirectory(prefix="yinji-link-b-", dir=spill_dir) as db, \
            tempfile.TemporaryDirectory(prefix="yinji-link-unit-", dir=spill_dir) as du:
        owners = []
        for src, d in zip(opened, (da, db), strict=True):
            owners.append(encode_source(src, schema, key, d, id_column=id_column,
                                        mapping=mapping, chunk_rows=chunk_rows,
                                        workers=workers, shuffle=shuffle))
        sa, sb = owners
        table, cands = link_spills((sa.tok, sa.enc), (sb.tok, sb.enc), schema, du,
                                   partitions=partitions, workers=workers,
                                   chunk_rows=chunk_rows)
        links = resolve_links(sa, sb, table, sink)
        has = None if contains is None else (sa.has_id(contains[0])
                                             and sb.has_id(contains[1]))
        return StreamLinks(links, cands, (sa, sb), has, len(table))


__all__ = ["BLOCK_ROWS", "CHUNK_ROWS", "MAX_PASSES", "ONE_TO_ONE_PAIRS", "PARTITION_ENTRIES",
           "PIECE", "ROW_IDS", "DateProblems", "InputError", "Opened", "OwnerSpill",
           "Received", "StreamLinks", "encode_source", "link_sources", "link_spills",
           "one_to_one", "open_source", "partition_pairs", "partitions_for", "recv_ids",
           "recv_spill", "reshuffle", "resolve_links", "send_ids", "send_spill"]
