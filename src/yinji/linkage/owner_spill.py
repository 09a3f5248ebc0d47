"""The data owner's side of streamed linkage (steps 1-3 of `yinji.linkage.stream`): a source
of any size read in chunks, encoded and blocked, its record ids checked, and the encodings
and tokens shuffled on disk into the order the linkage unit receives (`OwnerSpill`).
Adversary model and what each party learns: `yinji.linkage.stream`'s docstring (these
steps run on one party's own data and disk and send nothing themselves).

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
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import struct
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yinji.chunks import Source, Stream, iter_rows
from yinji.linkage import normalise
from yinji.linkage.encoding import ClkEncoder, Schema
from yinji.linkage.match import encode_chunk
from yinji.linkage.schemas import remap
from yinji.linkage.spill_io import WINDOW, take_rows
from yinji.net.alloc import trim
from yinji.net.workers import LocalWorkers, Workers

CHUNK_ROWS = 1 << 15          # records per chunk read and encoded
ROW_IDS = "@row"              # number the records by row instead of an id column
ID_BUCKETS = 256              # files the record ids are hashed into for the repeat check
EXAMPLES = 3                  # problem rows remembered per kind, for the report
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
        lo = take_rows(path, np.int64, self.n + 1, 1, rows)[:, 0].tolist()
        hi = take_rows(path, np.int64, self.n + 1, 1, rows + 1)[:, 0].tolist()
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
        return take_rows(str(self.directory / "order"), np.int64, self.n, 1, tokens)[:, 0]

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
            fe.write(take_rows(str(d / "enc.raw"), np.uint8, n, spill.width, rows).tobytes())
            ft.write(take_rows(str(d / "tok.raw"), np.uint64, n, spill.passes, rows).tobytes())
    if not keep:
        (d / "enc.raw").unlink()
        (d / "tok.raw").unlink()


__all__ = ["CHUNK_ROWS", "ROW_IDS", "DateProblems", "InputError", "Opened", "OwnerSpill",
           "encode_source", "open_source", "reshuffle"]
