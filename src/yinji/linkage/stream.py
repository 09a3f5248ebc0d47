"""Record linkage (linkage-unit mode) streamed: files of any size, memory bounded by a chunk
of records and a partition of blocking tokens, never by the table.

Owner side (`encode_source`), per data owner:
1. Read the source in chunks of `chunk_rows` rows (`yinji.chunks.iter_rows`: CSV in its
   detected encoding, Parquet batches, .xlsx streaming, a SQL cursor); per chunk check the
   record ids (an empty id stops the run), count unreadable / impossible dates, map the
   columns onto the schema (`schemas.remap`).
2. Encode and block the chunks through a `Workers` object (threads, or Ray tasks when the
   node names a Ray cluster), `workers.size` chunks at a time: `match.encode_chunk`, the
   same function the in-memory `match.prepare` uses, so every record gets the same filter
   and tokens. Encodings and tokens are appended to files in file order; record ids to an
   offset-indexed file; per id a (hash bucket, row) entry so repeated ids are found bucket
   by bucket after reading (the message names the same rows as the in-memory reader).
3. Shuffle with a private uniformly random permutation without holding it in memory: each
   record draws a random group (OS CSPRNG), each group is permuted in memory (one group
   ~ one chunk); concatenating the permuted groups is a uniform permutation. The shuffled
   encodings and tokens (np.memmap files) are what the owner hands to the linkage unit;
   `order` (token -> file row, a memmap) stays with the owner.

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
mappings of `WINDOW` rows at a time (`_take`), so the mapped pages, which count in RSS as
file-backed pages, stay bounded too. Disk: (encoding width + 8 x passes + id length + 24)
bytes per record per owner, twice while shuffling; the unit's token partitions 28 bytes
per token; accepted pairs 12 bytes each (13 in the one-to-one buckets).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yinji.chunks import Source, Stream, iter_rows
from yinji.linkage import normalise
from yinji.linkage.blocking import block_cap, join_pieces, over_cap, refine_partners, refined
from yinji.linkage.encoding import ClkEncoder, Schema
from yinji.linkage.match import (
    LinkTable,
    above,
    clear_winner,
    encode_chunk,
    greedy_one_to_one,
)
from yinji.linkage.schemas import remap
from yinji.net.alloc import trim
from yinji.net.channel import Channel
from yinji.net.workers import LocalWorkers, Workers

CHUNK_ROWS = 1 << 15          # records per chunk read and encoded
PARTITION_ENTRIES = 1 << 20   # token entries per side aimed at in one partition (28 MB)
ROW_IDS = "@row"              # number the records by row instead of an id column
ID_BUCKETS = 256              # files the record ids are hashed into for the repeat check
EXAMPLES = 3                  # problem rows remembered per kind, for the report
PIECE = 1 << 16               # candidate pairs scored at once
ENTRY = np.dtype([("t", "<u8"), ("s", "<u8"), ("q", "<i4"), ("r", "<i8")])
ONE_TO_ONE_PAIRS = 1 << 19   # accepted pairs per bucket of the one-to-one step (~60 MB)
WINDOW = 1 << 9   # rows gathered per mapping of a spill file: <= 512 x 64 KB fault-around
_ID_HEAD = struct.Struct("<qI")


class InputError(ValueError):
    """A source that would give a wrong link table (the message names the file and row)."""


@dataclass
class DateProblems:
    """Per date field and kind ("unreadable", "impossible"): how many, and the first rows
    (row 1 = the first data row) with their values."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    first: dict[str, dict[str, list[tuple[int, str]]]] = field(default_factory=dict)

    def add(self, name: str, kind: str, row: int, value: str) -> None:
        c = self.counts.setdefault(name, {"unreadable": 0, "impossible": 0})
        c[kind] += 1
        f = self.first.setdefault(name, {"unreadable": [], "impossible": []})[kind]
        if len(f) < EXAMPLES:
            f.append((row, value))


@dataclass
class OwnerSpill:
    """One owner's encoded file, on disk in `directory`: `enc` (n, width) uint8 and `tok`
    (n, passes) uint64 in the shuffled order the unit gets; `order` (token -> file row) and
    the record ids, which stay with the owner."""

    directory: Path
    n: int
    width: int
    passes: int
    read: str = ""
    dates: DateProblems = field(default_factory=DateProblems)
    group_rows: int = CHUNK_ROWS

    def _mm(self, name: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
        if self.n == 0:
            return np.zeros(shape, dtype=dtype)
        return np.memmap(self.directory / name, dtype=dtype, mode="r", shape=shape)

    @property
    def enc(self) -> np.ndarray:
        return self._mm("enc.sent", np.uint8, (self.n, self.width))

    @property
    def tok(self) -> np.ndarray:
        return self._mm("tok.sent", np.uint64, (self.n, self.passes))

    @property
    def order(self) -> np.ndarray:
        return self._mm("order", np.int64, (self.n,))

    def ids(self, rows: np.ndarray) -> list[str]:
        """The record ids of file rows `rows` (read `WINDOW` at a time, in file order)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.n == 0 or not len(rows):
            return []
        path = str(self.directory / "ids.off")
        lo = _take(path, np.int64, self.n + 1, 1, rows)[:, 0].tolist()
        hi = _take(path, np.int64, self.n + 1, 1, rows + 1)[:, 0].tolist()
        out = [""] * len(rows)
        if not max(hi):
            return out
        o = np.argsort(rows, kind="stable").tolist()
        for s in range(0, len(o), WINDOW):
            blob = np.memmap(self.directory / "ids.bin", dtype=np.uint8, mode="r")
            for i in o[s:s + WINDOW]:
                out[i] = bytes(blob[lo[i]:hi[i]]).decode()
            del blob
        return out

    def rows(self, tokens: np.ndarray) -> np.ndarray:
        """File rows of token rows `tokens` (`order`, read `WINDOW` at a time)."""
        tokens = np.asarray(tokens, dtype=np.int64)
        if self.n == 0 or not len(tokens):
            return np.zeros(0, np.int64)
        return _take(str(self.directory / "order"), np.int64, self.n, 1, tokens)[:, 0]

    def has_id(self, value: str, step: int = 1 << 20) -> bool:
        """Whether `value` is one of the record ids (a scan, `step` ids at a time)."""
        if self.n == 0:
            return False
        want = value.encode()
        off = self._mm("ids.off", np.int64, (self.n + 1,))
        if not off[-1]:
            return not want
        blob = np.memmap(self.directory / "ids.bin", dtype=np.uint8, mode="r")
        for s in range(0, self.n, step):
            o = np.asarray(off[s:s + step + 1])
            for r in np.flatnonzero(np.diff(o) == len(want)).tolist():
                if bytes(blob[o[r]:o[r + 1]]) == want:
                    return True
        return False


# ------------------------------------------------------------------------------ owner side
@dataclass
class Opened:
    """A source opened for reading: its header and chunks (the first already read)."""

    name: str
    stream: Stream
    chunks: Iterator[list]


def open_source(source: Source | Stream, id_column: str = "id", chunk_rows: int = CHUNK_ROWS,
                name: str | None = None, columns: Sequence[str] | None = None) -> Opened:
    """Open `source` (or take an opened `yinji.chunks.Stream`) and read its first chunk:
    InputError for a file without records or without the id column (the in-memory reader's
    messages, in its order). `columns`: read only these (default: all)."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    where = name or str(source)
    stream = source if isinstance(source, Stream) else iter_rows(source, columns, chunk_rows)
    first = next(stream.chunks, None)
    if not first:
        raise InputError(f"{where}: no records (a header only)")
    if id_column != ROW_IDS and id_column not in stream.header:
        raise InputError(f"{where}: no id column {id_column!r} (--id-column); columns: "
                         f"{stream.header}; use --id-column {ROW_IDS} to number records by "
                         "row")
    return Opened(where, stream, itertools.chain([first], stream.chunks))


def encode_source(source: Source | Opened, schema: Schema, key: bytes,
                  directory: str | Path, *, id_column: str = "id",
                  mapping: dict[str, list[str]] | None = None, chunk_rows: int = CHUNK_ROWS,
                  workers: Workers | None = None, shuffle: bool = True,
                  keep: bool = False, plain: bool = False) -> OwnerSpill:
    """Steps 1-3 of the module docstring for one owner's `source` (or an `open_source`
    result), into `directory` (empty, the caller's). Raises InputError for: no records, a
    missing id column, an empty or repeated id (naming the file and rows). `keep`: keep the
    file-order work files, so `reshuffle` can draw a fresh order (one per peer). `plain`:
    keep the plain filters (packed bits) instead of the transmitted encodings, for the MPC
    mode (`mpc_stream`), which shares them and never sends them."""
    src = source if isinstance(source, Opened) else open_source(source, id_column, chunk_rows)
    where, stream, header, chunks = src.name, src.stream, src.stream.header, src.chunks
    d = Path(directory)
    workers = workers or LocalWorkers(1)
    enc = ClkEncoder(schema, key)
    wide = (2 if schema.balanced and not plain else 1) * schema.size // 8
    passes = len(encode_chunk(enc, [{}], key)[1][0])
    spill = OwnerSpill(d, 0, wide, passes)
    groups = ID_BUCKETS
    first_empty: int | None = None
    id_at = 0
    dates = [f for f in schema.fields if f.kind == "date"]
    # one wave of chunks is encoded (workers.map, in a helper thread) while the next is read
    with open(d / "enc.raw", "wb") as fe, open(d / "tok.raw", "wb") as ft, \
            open(d / "ids.bin", "wb") as fi, open(d / "ids.off", "wb") as fo, \
            ThreadPoolExecutor(1, thread_name_prefix="yinji-link-wave") as pool:
        fo.write(np.zeros(1, "<i8").tobytes())
        wave: list[list[dict]] = []
        pending: list[Future] = []

        def flush(submit: bool = True) -> None:
            if pending:
                for bits_tok in pending.pop().result():
                    fe.write(bits_tok[0].tobytes())
                    ft.write(bits_tok[1].tobytes())
                trim()   # the wave's records and filter bits are garbage now
            if wave and submit:
                pending.append(pool.submit(workers.map, _encode,
                                           [(enc, w, key, plain) for w in wave]))
            wave.clear()

        for chunk in chunks:
            rows = [dict(zip(header, r, strict=False)) for r in chunk]
            start = spill.n
            raw_ids = ([str(start + i) for i in range(len(rows))] if id_column == ROW_IDS
                       else [str(r[id_column] if r[id_column] is not None else "").strip()
                             for r in rows])
            if first_empty is None and id_column != ROW_IDS:
                empty = [i for i, v in enumerate(raw_ids) if not v]
                if empty:
                    first_empty = start + empty[0]
            blob = [v.encode() for v in raw_ids]
            lens = np.fromiter((len(b) for b in blob), np.int64, len(blob))
            fi.write(b"".join(blob))
            fo.write((id_at + np.cumsum(lens)).astype("<i8").tobytes())
            id_at += int(lens.sum())
            if id_column != ROW_IDS:
                _spill_ids(d, blob, start, groups)
            recs = remap(schema, rows, mapping)
            for i, rec in enumerate(recs, start=start + 1):
                for f in dates:
                    value = f.value(rec)
                    problem = normalise.parse_date(value)[1]
                    if problem:
                        spill.dates.add(f.name, problem, i, value)
            spill.n += len(rows)
            if first_empty is not None:
                break   # the run fails; only rows before it matter for the message
            wave.append(recs)
            if len(wave) >= workers.size:
                flush()
        if first_empty is None:
            flush()
        flush(submit=False)   # the last wave (its errors, too, are raised here)
    if id_column != ROW_IDS:
        _check_ids(d, where, id_column, groups, first_empty)
    spill.read = stream.describe()
    spill.group_rows = chunk_rows
    _shuffle(spill, chunk_rows, shuffle, keep)
    trim()   # the chunks' records are gone: their free heap goes back, not to the unit
    return spill


def reshuffle(spill: OwnerSpill) -> None:
    """A fresh private order for the next peer (the spill was made with `keep=True`)."""
    _shuffle(spill, spill.group_rows, True, True)


def _encode(enc: ClkEncoder, records: list[dict], key: bytes, plain: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """One chunk: transmitted encodings (or, `plain`, the plain filters), packed, and
    blocking tokens (a `Workers.map` task)."""
    bits, tokens = encode_chunk(enc, records, key)
    return (np.packbits(bits, axis=1) if plain else enc.transmit(bits)), tokens


def _spill_ids(d: Path, blob: list[bytes], start: int, groups: int) -> None:
    """Append `<row int64><len uint32><id>` of every nonempty id to its hash bucket's file."""
    which = np.fromiter((zlib.crc32(b) % groups for b in blob), np.int64, len(blob))
    order = np.argsort(which, kind="stable")
    cut = np.flatnonzero(np.diff(which[order])) + 1
    for grp in np.split(order, cut):
        if not len(grp):
            continue
        buf = bytearray()
        for i in grp.tolist():
            if blob[i]:
                buf += _ID_HEAD.pack(start + i, len(blob[i]))
                buf += blob[i]
        with open(d / f"ids.{int(which[grp[0]])}", "ab") as fh:
            fh.write(buf)


def _check_ids(d: Path, where: str, id_column: str, groups: int,
               first_empty: int | None) -> None:
    """The in-memory reader's first complaint in row order: an empty id, or a repeat
    (rows of the id's first and second occurrence; row 2 is the first data row)."""
    best: tuple[int, int, str] | None = None   # (second row, first row, id)
    for g in range(groups):
        path = d / f"ids.{g}"
        if not path.exists():
            continue
        data = path.read_bytes()
        path.unlink()
        seen: dict[bytes, int] = {}
        at = 0
        while at < len(data):
            r, size = _ID_HEAD.unpack_from(data, at)
            at += _ID_HEAD.size
            v = data[at:at + size]
            at += size
            if v in seen:
                if best is None or r < best[0]:
                    best = (r, seen[v], v.decode())
                break   # later repeats in this bucket come after r
            seen[v] = r
    if first_empty is not None and (best is None or first_empty < best[0]):
        raise InputError(f"{where}: row {first_empty + 2}: empty id in column {id_column!r}")
    if best is not None:
        raise InputError(f"{where}: id {best[2]!r} in column {id_column!r} on rows "
                         f"{best[1] + 2} and {best[0] + 2}; record ids must be unique")


def _random_u64(n: int) -> np.ndarray:
    return np.frombuffer(secrets.token_bytes(8 * n), dtype=np.uint64)


def _shuffle(spill: OwnerSpill, group_rows: int, shuffle: bool, keep: bool = False) -> None:
    """enc.raw / tok.raw (file order) -> enc.sent / tok.sent (a private uniform permutation)
    and `order`, one group of about `group_rows` records in memory at a time."""
    d, n = spill.directory, spill.n
    if not shuffle:
        move = shutil.copyfile if keep else os.replace
        move(d / "enc.raw", d / "enc.sent")
        move(d / "tok.raw", d / "tok.sent")
        np.arange(n, dtype="<i8").tofile(d / "order")
        return
    groups = max(1, -(-n // group_rows))
    for s in range(0, n, group_rows):
        which = _random_u64(min(group_rows, n - s)) % np.uint64(groups)
        for g in np.unique(which).tolist():
            with open(d / f"grp.{g}", "ab") as fh:
                fh.write((np.flatnonzero(which == g) + s).astype("<i8").tobytes())
    with open(d / "enc.sent", "wb") as fe, open(d / "tok.sent", "wb") as ft, \
            open(d / "order", "wb") as fo:
        for g in range(groups):
            path = d / f"grp.{g}"
            if not path.exists():
                continue
            rows = np.fromfile(path, dtype="<i8")
            path.unlink()
            rows = rows[np.argsort(_random_u64(len(rows)), kind="stable")]
            fo.write(rows.tobytes())
            fe.write(_take(str(d / "enc.raw"), np.uint8, n, spill.width, rows).tobytes())
            ft.write(_take(str(d / "tok.raw"), np.uint64, n, spill.passes, rows).tobytes())
    if not keep:
        (d / "enc.raw").unlink()
        (d / "tok.raw").unlink()


# ------------------------------------------------------------------------------ unit side
def partitions_for(n_a: int, n_b: int, passes: int,
                   entries: int = PARTITION_ENTRIES) -> int:
    """Partitions giving about `entries` token entries per side in each."""
    return max(1, -(-max(n_a, n_b) * passes // entries))


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
        _partition(d, side, tok, parts, chunk_rows, partners)
    trim()
    src = [_arrays_path(d, "a", tok_a, enc_a), _arrays_path(d, "b", tok_b, enc_b)]
    cap = block_cap(schema, n_a, n_b)
    waves = [list(range(s, min(s + workers.size, parts)))
             for s in range(0, parts, workers.size)]
    over: list[np.ndarray] = []
    for w in waves:
        over += workers.map(_over_cap, [(str(d), p, passes, cap, partners) for p in w])
    overs = _over_by_pass(over, passes)
    cands = accepted = 0
    for w in waves:
        for m, k in workers.map(_score, [(str(d), p, parts, src, overs, schema, cap,
                                          partners) for p in w]):
            cands += m
            accepted += k
    trim()
    dtype = _acc_dtype(max(n_a, n_b), src[0][4])
    accs = [d / f"acc{p}" for p in range(parts)]
    return one_to_one(d, accs, dtype, accepted, n_a, n_b, schema.margin), cands


def one_to_one(d: Path, accs: list[Path], dtype: np.dtype, accepted: int, n_a: int,
               n_b: int, margin: float) -> LinkTable:
    """Step 6 on the `accepted` pairs in the files `accs` (`_acc_dtype`; removed): in
    buckets on disk when there is a margin and more than `ONE_TO_ONE_PAIRS` of them, else
    `greedy_one_to_one` on all of them (the streamed MPC mode's receiver uses it too)."""
    if margin > 0 and accepted > ONE_TO_ONE_PAIRS:
        return _one_to_one_in_buckets(d, accs, dtype, accepted, n_a, n_b, margin)
    acc = np.empty(accepted, dtype)
    at = 0
    for path in accs:   # the accepted pairs of all partitions, 12 bytes a pair
        got = np.fromfile(path, dtype=dtype) if path.exists() else np.zeros(0, dtype)
        acc[at:at + len(got)] = got
        at += len(got)
        path.unlink(missing_ok=True)
    t = greedy_one_to_one(acc["a"], acc["b"], acc["num"], acc["den"], margin)
    return LinkTable(t.a.astype(np.int64), t.b.astype(np.int64), t.score)


def _one_to_one_in_buckets(d: Path, accs: list[Path], dtype: np.dtype, accepted: int,
                           n_a: int, n_b: int, margin: float) -> LinkTable:
    """`greedy_one_to_one` with a margin on pairs on disk, `ONE_TO_ONE_PAIRS` at a time:
    a pair is kept iff it is its a record's clear winner (`match.clear_winner`), which
    needs only that record's pairs, and its b record's. So the pairs go to buckets of
    a rows (shuffled rows: even buckets), each bucket marks its pairs' a-side verdict and
    sends them on to buckets of b rows, where the b side is judged; the kept pairs (the
    links) are sorted as `greedy_one_to_one` sorts them. Memory: a bucket, and the links."""
    buckets = -(-accepted // ONE_TO_ONE_PAIRS)
    flagged = np.dtype(dtype.descr + [("ok", "u1")])
    for path in accs:   # 1. by a rows
        got = np.fromfile(path, dtype=dtype)
        path.unlink()
        _to_buckets(d, "oa", got, got["a"].astype(np.int64) * buckets // max(n_a, 1), buckets)
    for k in range(buckets):   # 2. a side judged, on to buckets of b rows
        got = _bucket(d / f"oa{k}", dtype)
        out = np.empty(len(got), flagged)
        for name in dtype.names:
            out[name] = got[name]
        out["ok"] = clear_winner(got["a"], got["num"], got["den"], margin)
        del got
        _to_buckets(d, "ob", out, out["b"].astype(np.int64) * buckets // max(n_b, 1),
                    buckets)
    keep: list[np.ndarray] = []
    for k in range(buckets):   # 3. b side judged: the links
        got = _bucket(d / f"ob{k}", flagged)
        ok = clear_winner(got["b"], got["num"], got["den"], margin) & (got["ok"] == 1)
        keep.append(got[ok][list(dtype.names)])
        del got
        trim()
    links = np.concatenate(keep) if keep else np.zeros(0, dtype)
    del keep
    ia, ib = links["a"].astype(np.int64), links["b"].astype(np.int64)
    score = links["num"] / np.maximum(links["den"], 1)
    order = np.lexsort((ib, ia, -score))
    return LinkTable(ia[order], ib[order], score[order])


def _to_buckets(d: Path, prefix: str, rows: np.ndarray, which: np.ndarray,
                buckets: int) -> None:
    """Append `rows` to the files prefix{k} of their buckets `which` (k < buckets)."""
    o = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[o], np.arange(buckets + 1))
    for k in range(buckets):
        if cuts[k] < cuts[k + 1]:
            with open(d / f"{prefix}{k}", "ab") as fh:
                fh.write(rows[o[cuts[k]:cuts[k + 1]]].tobytes())


def _bucket(path: Path, dtype: np.dtype) -> np.ndarray:
    """A bucket file's rows, the file removed."""
    if not path.exists():
        return np.zeros(0, dtype)
    got = np.fromfile(path, dtype=dtype)
    path.unlink()
    return got


def _arrays_path(d: Path, side: str, tok: np.ndarray, enc: np.ndarray
                 ) -> tuple[str, str, int, int, int]:
    """Where a task finds a side's tokens and encodings: their memmap files (written here
    if given as in-memory arrays)."""
    paths = []
    for kind, arr in (("tok", tok), ("enc", enc)):
        if isinstance(arr, np.memmap) and arr.offset == 0 and arr.flags.c_contiguous:
            paths.append(str(arr.filename))
        else:
            p = d / f"{side}.{kind}"
            np.ascontiguousarray(arr).tofile(p)
            paths.append(str(p))
    return paths[0], paths[1], len(tok), tok.shape[1], enc.shape[1]


def _partition(d: Path, side: str, tok: np.ndarray, parts: int, chunk_rows: int,
               partners: Sequence[int]) -> None:
    """Append every nonzero (token, partner pass's token, pass, row) of `tok` to its
    partition's file (partition = token mod parts)."""
    pick = np.array([max(x, 0) for x in partners], dtype=np.int64)
    has = np.array([x >= 0 for x in partners], dtype=bool)
    for s in range(0, len(tok), chunk_rows):
        t = _rows(tok, s, s + chunk_rows)
        r, q = np.nonzero(t)
        e = np.empty(len(r), ENTRY)
        e["t"], e["q"], e["r"] = t[r, q], q, r + s
        e["s"] = np.where(has[q], t[r, pick[q]], np.uint64(0)) if len(r) else 0
        p = (e["t"] % np.uint64(parts)).astype(np.int64)
        o = np.argsort(p, kind="stable")
        e, p = e[o], p[o]
        cuts = np.flatnonzero(np.diff(p)) + 1
        for grp in np.split(np.arange(len(p)), cuts):
            if len(grp):
                with open(d / f"{side}.part{int(p[grp[0]])}", "ab") as fh:
                    fh.write(e[grp].tobytes())


def _rows(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows lo..hi of a 2-d array; of a memmap, read from its file (its pages are then not
    mapped into this process, so RSS follows the rows read, not the file)."""
    if isinstance(arr, np.memmap) and arr.filename and arr.offset == 0 \
            and arr.flags.c_contiguous:
        hi = min(hi, len(arr))
        per = arr.shape[1] if arr.ndim > 1 else 1
        out = np.fromfile(arr.filename, dtype=arr.dtype, count=max(hi - lo, 0) * per,
                          offset=lo * per * arr.dtype.itemsize)
        return out.reshape((-1, *arr.shape[1:]))
    return np.asarray(arr[lo:hi])


def _load(d: str, side: str, p: int) -> np.ndarray:
    path = Path(d) / f"{side}.part{p}"
    return np.fromfile(path, dtype=ENTRY) if path.exists() else np.zeros(0, ENTRY)


def _over_cap(d: str, p: int, passes: int, cap: int, partners: Sequence[int]
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per pass, the tokens of partition p whose block is over the cap, and the refined
    keys (token, partner token) whose finer block is over it too (a task)."""
    ea, eb = _load(d, "a", p), _load(d, "b", p)
    out = []
    for q in range(passes):
        a, b = ea[ea["q"] == q], eb[eb["q"] == q]
        if partners[q] < 0:
            out.append((over_cap(a["t"], b["t"], cap), np.zeros(0, np.uint64)))
        else:
            out.append(over_cap(a["t"], b["t"], cap, a["s"], b["s"]))
    del ea, eb
    trim()
    return out


def _over_by_pass(over: list[list[tuple[np.ndarray, np.ndarray]]], passes: int
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    none = [np.zeros(0, np.uint64)]
    return [tuple(np.sort(np.concatenate([o[q][k] for o in over] or none)) for k in (0, 1))
            for q in range(passes)]


def _take(path: str, dtype: Any, n: int, width: int, rows: np.ndarray,
          out: np.ndarray | None = None) -> np.ndarray:
    """Rows `rows` of an (n, width) file, read through mappings of `WINDOW` rows' worth of
    pages at a time (in file order): the pages mapped into this process, which count in its
    RSS, stay bounded by the window instead of growing to the file. `out`: a buffer of
    (len(rows), width) to fill (reused across pieces: no allocation per piece)."""
    if out is None:
        out = np.empty((len(rows), width), dtype=dtype)
    if not len(rows):
        return out
    o = np.argsort(rows, kind="stable")
    for s in range(0, len(rows), WINDOW):
        mm = np.memmap(path, dtype=dtype, mode="r", shape=(n, width))
        out[o[s:s + WINDOW]] = mm[rows[o[s:s + WINDOW]]]
        del mm
    return out


def _member(x: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """x in sorted_set, by binary search (the set is sorted once, x never)."""
    if not len(sorted_set) or not len(x):
        return np.zeros(len(x), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, x), len(sorted_set) - 1)
    return sorted_set[at] == x


def _joined(t: np.ndarray, u: np.ndarray, sa: np.ndarray | None, sb: np.ndarray | None,
            over: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Mask of the pairs that a pass's join yields, from their tokens t, u of that pass and
    sa, sb of its partner pass (None: no refinement): equal nonzero token, and the block
    within the cap or its refined block (partner token equal too) within it. `over`: the
    pass's sorted over-cap tokens and refined keys."""
    hit = (t == u) & (t != 0)
    if len(over[0]) and hit.any():
        at = np.flatnonzero(hit)
        big = at[_member(t[at], over[0])]
        hit[big] = False
        if sa is not None and sb is not None and len(big):
            s = sa[big]
            fine = (s == sb[big]) & (s != 0)
            fine[fine] = ~_member(refined(t[big][fine], s[fine]), over[1])
            hit[big[fine]] = True
    return hit


def _acc_dtype(n: int, width: int) -> np.dtype:
    """An accepted pair on disk: token rows (int32 below 2^31 records) and Dice counts
    (int16 while 16 x width fits; num, den <= 16 x width): 12 bytes a pair."""
    row_t = "<i4" if n < 1 << 31 else "<i8"
    cnt_t = "<i2" if 16 * width < 1 << 15 else "<i4"
    return np.dtype([("a", row_t), ("b", row_t), ("num", cnt_t), ("den", cnt_t)])


def _score(d: str, p: int, parts: int, src: list, overs: list[tuple[np.ndarray, np.ndarray]],
           schema: Schema, cap: int, partners: Sequence[int]) -> tuple[int, int]:
    """Partition p's candidate pairs (`partition_pairs`), scored piece by piece; the
    above-threshold ones are appended to the file acc{p} in `d` (`_acc_dtype`), not kept.
    Returns (candidates, accepted) (a task). The piece's encoding rows go into buffers made
    once per task, so a piece allocates only its small index arrays and the process's heap
    does not fragment with the pieces (docs/linkage.md, Memory)."""
    (tok_a, enc_a, n_a, passes, width), (tok_b, enc_b, n_b, _, _) = src
    acc = _acc_dtype(max(n_a, n_b), width)
    buf_x, buf_y, buf_z = (np.empty((PIECE, width), np.uint8) for _ in range(3))
    kept = accepted = 0
    with open(Path(d) / f"acc{p}", "wb") as fh:
        for ia, ib in partition_pairs(d, p, parts, src, overs, cap, partners):
            k = len(ia)
            kept += k
            x = _take(enc_a, np.uint8, n_a, width, ia, out=buf_x[:k])
            y = _take(enc_b, np.uint8, n_b, width, ib, out=buf_y[:k])
            z = np.bitwise_and(x, y, out=buf_z[:k])
            num = 2 * np.bitwise_count(z, out=z).sum(axis=1, dtype=np.int64)
            den = (np.bitwise_count(x, out=x).sum(axis=1, dtype=np.int64)
                   + np.bitwise_count(y, out=y).sum(axis=1, dtype=np.int64))
            ok = np.flatnonzero(above(num, den, schema))
            if len(ok):
                rec = np.empty(len(ok), acc)
                rec["a"], rec["b"], rec["num"], rec["den"] = ia[ok], ib[ok], num[ok], den[ok]
                fh.write(rec.tobytes())
                accepted += len(ok)
    return kept, accepted


def partition_pairs(d: str, p: int, parts: int, src: list,
                    overs: list[tuple[np.ndarray, np.ndarray]], cap: int,
                    partners: Sequence[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Partition p's candidate pairs (token rows a, b) in pieces of at most `PIECE` pairs,
    per pass the sort join (`blocking.join_pieces`, over-cap blocks joined again on the
    partner token). Each pair is taken once, at the first (partition, pass) whose join
    (`_joined`) yields it, so over all partitions these are `match.unit_candidates`'s pairs
    (in another order). `src`: (token file, encoding file or "", n, passes, width) per side.
    The piece's token rows go into buffers made once; the heap is trimmed after each piece
    (the consumer's work on it included) and each pass."""
    ea, eb = _load(d, "a", p), _load(d, "b", p)
    (tok_a, _, n_a, passes, _), (tok_b, _, n_b, _, _) = src
    buf_ta, buf_tb = (np.empty((PIECE, passes), np.uint64) for _ in range(2))
    for q in range(len(overs)):
        ma, mb = ea["q"] == q, eb["q"] == q
        sub = (ea["s"][ma], eb["s"][mb]) if partners[q] >= 0 else (None, None)
        for ia, ib in join_pieces(ea["r"][ma], ea["t"][ma], eb["r"][mb], eb["t"][mb],
                                  cap, PIECE, sub_a=sub[0], sub_b=sub[1]):
            k = len(ia)
            ta = _take(tok_a, np.uint64, n_a, passes, ia, out=buf_ta[:k])
            tb = _take(tok_b, np.uint64, n_b, passes, ib, out=buf_tb[:k])
            seen = np.zeros(k, dtype=bool)
            for q2 in range(passes):
                part = ta[:, q2] % np.uint64(parts)
                earlier = (part < p) if q2 >= q else (part <= p)
                if earlier.any():
                    m = np.flatnonzero(earlier & ~seen)
                    r = partners[q2]
                    seen[m] = _joined(ta[m, q2], tb[m, q2],
                                      ta[m, r] if r >= 0 else None,
                                      tb[m, r] if r >= 0 else None, overs[q2])
            new = ~seen
            yield ia[new], ib[new]
            trim()   # ~1 ms a piece (<1 %): what the piece left in this thread's arena
        trim()   # and what the pass's join left


# ------------------------------------------------------------------------- both, in-process
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


# ------------------------------------------------------------------- over channels (node jobs)
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
        ch.send_array(_rows(tok, s, s + block_rows))
        ch.send_array(_rows(enc, s, s + block_rows))
    _send_ids(ch, spill, block_rows)


def send_ids(ch: Channel, spill: OwnerSpill, block_rows: int = BLOCK_ROWS) -> None:
    """Owner -> receiver, after the MPC mode (`mpc_stream`): the record ids in the shuffled
    order the receiver's link table indexes, as a header [n, block_rows] and JSON lists per
    block -- what the node's id message of the whole-file MPC mode sends, in blocks."""
    ch.send_array(np.array([spill.n, block_rows], dtype=np.int64))
    _send_ids(ch, spill, block_rows)


def _send_ids(ch: Channel, spill: OwnerSpill, block_rows: int) -> None:
    order = spill.order
    for s in range(0, spill.n, block_rows):
        ch.send_bytes(json.dumps(spill.ids(_rows(order[:, None], s, s + block_rows)[:, 0]))
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


__all__ = ["BLOCK_ROWS", "CHUNK_ROWS", "DateProblems", "InputError", "OwnerSpill", "Received",
           "StreamLinks", "encode_source", "link_sources", "link_spills", "one_to_one",
           "partition_pairs", "partitions_for", "resolve_links",
           "recv_ids", "recv_spill", "reshuffle", "send_ids", "send_spill"]
