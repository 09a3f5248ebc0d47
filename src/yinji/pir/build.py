"""Building a keyword-PIR database version from a table read in chunks, in bounded memory,
with the heavy steps on a node's workers (threads, or Ray tasks; issue #18 items 3 and 4).

Why: `KeywordDatabase.build` holds every key, token, sealed slot and the whole matrix (and a
float64 copy of it) in RAM: ~1 GB at 10^6 records, far beyond a machine at 10^8. Here the
table is read in chunks (`yinji.chunks`) and what must be kept goes to files under the
build's folder:

1. read + OPRF: each chunk's keys are normalised and checked, its labels made (the rules
   of `yinji.pir.records`), and its tokens F_k(key) computed on the workers; tokens, row
   numbers and labels are appended to spill files.
2. seal + partition: with the record count known, the layout (buckets, label size) is
   fixed; each chunk of the spill is sealed on the workers and its records appended to the
   partition file of its block of buckets (contiguous bucket ranges), while bucket loads
   are counted.
3. lay out + hint: block by block, the block's records are put in their slots (slot order
   by token, as `build_version`), unused slots filled with random bytes, the block appended
   to the bucket-major matrix file, and its share of the hint D·A computed on the workers
   (`lwe.hint_block`; the sum over blocks mod 2^32 is the hint).

The driver reads, checks and writes the next piece while the workers compute the current
one (`_Ahead`), so at most two pieces are in memory: two chunks (rows, tokens, sealed
slots), 2 x `workers.size` blocks (`block_bytes` of float64 each as the workers convert
them), and the hint plus the partial hints being summed; never the table. Disk: the spill and partitions (~(100 + label) bytes per record) while
building, then the matrix and the hint. The result is identical to `build_version` of the same
records, seed and fill (test), and `DiskPirServer` answers what `SimplePirServer` would, so
clients see no difference.

The build writes into a fresh hidden folder of `data_dir` and renames it to the version's
name only when complete: a failed or interrupted build (bad row, full disk, a worker's error)
leaves no database behind and nothing that could be served. Errors name the source and rows:
empty, spreadsheet-notation or duplicate keys (duplicates are found by their tokens, equal
for equal keys), labels too long, and too little disk space.

Leakage: none beyond `keyword.py`. The workers compute with the OPRF key k and see keys and
labels: they are the node's own (its threads, or the Ray cluster named in its config, which
is inside the node's trust boundary, as for bucketed PSI).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from yinji import ids
from yinji.chunks import DEFAULT_CHUNK, Source, Stream, iter_rows
from yinji.crypto.aead import AES_256_GCM, CIPHERS
from yinji.crypto.prg import fresh_seed
from yinji.net.workers import LocalWorkers, Workers
from yinji.pir.keyword import (
    DEFAULT_KEY_KIND,
    EXACT,
    LEN_BYTES,
    MAX_LABEL_SIZE,
    TAG_BYTES,
    KeywordVersion,
    Layout,
    check_key_kind,
    default_buckets,
    seal_label,
)
from yinji.pir.lwe import MAX_COLS, LweParams, hint_block
from yinji.pir.matrix import MATRIX_FILE, DiskPirServer, block_columns
from yinji.pir.oprf import TOKEN_BYTES, OprfServer, build_tokens
from yinji.pir.records import MAX_AUTO_LABEL, MAX_LABEL, RecordError

DEFAULT_BLOCK = 32 << 20   # bytes of float64 per block of buckets (hint and answers)
HINT_FILE, META_FILE = "hint.npy", "meta.json"
_MIN_PIECE = 1024          # keys per task at least (a task has a fixed cost on Ray)
_SHOWN = 5                 # rows named in an error


class BuildError(RuntimeError):
    """The build could not complete (disk space, unreadable chunk, a worker's failure);
    nothing was left in the data folder."""


Progress = Callable[[str, int, int], None]


def build_stream(source: Source | Stream, key_column: str, label_columns: Sequence[str],
                 oprf: OprfServer, data_dir: str | os.PathLike[str], *,
                 label_size: int | None = None, key_kind: str = DEFAULT_KEY_KIND,
                 cipher: str = AES_256_GCM, buckets: int | None = None,
                 workers: Workers | None = None, chunk_rows: int = DEFAULT_CHUNK,
                 block_bytes: int = DEFAULT_BLOCK, progress: Progress | None = None,
                 version: str | None = None, name: str | None = None,
                 seed: bytes | None = None, quote_from: Source | None = None,
                 fill: Callable[[int], bytes] = os.urandom,
                 stamp: dict[str, Any] | None = None) -> KeywordVersion:
    """Build a version from `source` (a file, a `SqlSource`, or an open `Stream` of its
    rows) into `data_dir/VERSION/` and return it, served from disk (`DiskPirServer`).

    Keys and labels follow `yinji.pir.records` (`label_size` None: the longest label rounded
    up to 16, at most MAX_AUTO_LABEL). `progress(stage, done, total)`: stages "oprf"
    (records read; total 0 while unknown, then n of n), "seal" and "hint" (blocks). RecordError for bad
    records, BuildError for the rest; either way nothing is left in `data_dir`.
    Duplicate keys are quoted from `quote_from` (default: `source` unless it is a Stream),
    read again; otherwise only their rows are named. `stamp` (JSON: what the version was
    built from) is kept with it for `stored_version`.
    """
    check_key_kind(key_kind)
    if cipher not in CIPHERS:
        raise ValueError(f"unknown label cipher {cipher!r}; expected one of {', '.join(CIPHERS)}")
    if buckets is not None and (buckets & (buckets - 1) or not 1 <= buckets <= MAX_COLS):
        raise ValueError(f"buckets must be a power of two ≤ {MAX_COLS}, got {buckets}")
    workers = workers or LocalWorkers()
    version = version or f"v1-{secrets.token_hex(6)}"
    label_columns = list(label_columns)
    name = name or str(source)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (data_dir / version).exists():
        raise BuildError(f"{data_dir / version} exists already")
    work = Path(tempfile.mkdtemp(prefix=f".build-{version}-", dir=data_dir))
    job = _Build(work, oprf, workers, version, key_kind, cipher, label_columns, name,
                 progress or (lambda stage, done, total: None), fill)
    job.stamp = stamp
    quote_from = quote_from if quote_from is not None or isinstance(source, Stream) else source
    if quote_from is not None:   # keys are not kept: an error quotes them from here
        job.quote = lambda rows: _keys_at(quote_from, key_column, rows, chunk_rows)
    try:
        stream = source if isinstance(source, Stream) else iter_rows(
            source, [key_column, *label_columns], chunk_rows)
        job.read(stream, key_column, chunk_rows)
        size = job.label_size(label_size)
        timings = job.lay_out(size, buckets, block_bytes, chunk_rows, seed)
        final = data_dir / version
        os.rename(work / "db", final)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        if exc.errno == errno.ENOSPC:
            raise BuildError(f"{data_dir}: no space left on the device while building "
                             f"{name}; free space or point the data folder elsewhere") from None
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return open_version(final, block_bytes, timings)


def open_version(folder: str | os.PathLike[str], block_bytes: int = DEFAULT_BLOCK,
                 timings: dict[str, float] | None = None) -> KeywordVersion:
    """A version built by `build_stream`, served from its folder (e.g. after a restart)."""
    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    params = LweParams.from_json(meta["lwe"])
    hint = np.load(folder / HINT_FILE, allow_pickle=False)
    server = DiskPirServer(folder / MATRIX_FILE, params, hint,
                           block_columns(params.rows, block_bytes))
    return KeywordVersion(meta["version"], Layout.from_json(meta["layout"]), server,
                          int(meta["records"]), dict(timings or {}), folder)


def stored_version(data_dir: str | os.PathLike[str], stamp: dict[str, Any],
                   block_bytes: int = DEFAULT_BLOCK) -> KeywordVersion | None:
    """The newest complete version in `data_dir` built with exactly `stamp` (the same
    source, settings and OPRF key), opened; None if there is none. A build becomes a version
    folder only when complete (renamed from its hidden work folder), and `open_version`
    checks the matrix size, so a folder that fails to open is skipped, not served."""
    found = []
    for folder in Path(data_dir).iterdir() if Path(data_dir).is_dir() else ():
        if folder.name.startswith(".") or not (folder / META_FILE).is_file():
            continue
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("stamp") == stamp:
            found.append((folder.stat().st_mtime_ns, folder))
    for _, folder in sorted(found, reverse=True):
        try:
            return open_version(folder, block_bytes)
        except (OSError, ValueError, KeyError):
            continue
    return None


# -- the units of work run on the workers (module-level: Ray tasks can run them) ------------

def _oprf_task(key: bytes, keys: list[bytes]) -> np.ndarray:
    return build_tokens(key, keys)


def _seal_task(tokens: np.ndarray, labels: list[bytes], version: str, label_size: int,
               cipher: str) -> np.ndarray:
    sealed = b"".join(seal_label(tokens[i].tobytes(), version, lab, label_size, cipher)
                      for i, lab in enumerate(labels))
    return np.frombuffer(sealed, dtype=np.uint8).reshape(len(labels), -1)


def _hint_task(block: np.ndarray, params: LweParams, start: int) -> np.ndarray:
    return hint_block(block, params, start)


def _pieces(n: int, workers: Workers) -> list[tuple[int, int]]:
    """[a, b) ranges splitting n items over the workers (none smaller than _MIN_PIECE)."""
    count = max(1, min(workers.size, n // _MIN_PIECE))
    size = -(-n // count) if n else 0
    return [(a, min(a + size, n)) for a in range(0, n, size)] if n else []


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _rows(rows: list[int], count: int) -> str:
    return ", ".join(map(str, rows[:_SHOWN])) + (", ..." if count > _SHOWN else "")


class _Build:
    """One build's state between the passes (files under `work`)."""

    def __init__(self, work: Path, oprf: OprfServer, workers: Workers, version: str,
                 key_kind: str, cipher: str, label_columns: list[str], name: str,
                 progress: Progress, fill: Callable[[int], bytes]) -> None:
        self.work, self.oprf, self.workers, self.version = work, oprf, workers, version
        self.key_kind, self.cipher, self.label_columns = key_kind, cipher, label_columns
        self.name, self.progress, self.fill = name, progress, fill
        self.spill = work / "spill"
        self.spill.mkdir()
        self.stamp: dict[str, Any] | None = None
        self.n = 0
        self.longest = 0
        self.long_rows: list[int] = []      # rows whose label exceeds MAX_AUTO_LABEL
        self.long_count = 0
        self.lengths: list[tuple[int, int]] = []   # (length, row) of the longest few
        self.sheet: list[int] = []
        self.sheet_count = 0
        self.timings: dict[str, float] = {}
        self.quote: Callable[[set[int]], dict[int, str]] = lambda rows: {}

    # -- pass 1: read, check, OPRF --------------------------------------------------------------
    def read(self, stream: Stream, key_column: str, chunk_rows: int) -> None:
        start = time.perf_counter()
        missing = [c for c in [key_column, *self.label_columns] if c not in stream.header]
        if missing:
            raise RecordError(f"{self.name}: no column(s) {missing}; columns: {stream.header}")
        ki = stream.header.index(key_column)
        li = [stream.header.index(c) for c in self.label_columns]
        self.key_column = key_column
        key = self.oprf.build_key()
        row = 0
        with open(self.spill / "tokens", "wb") as tok_f, open(self.spill / "rows", "wb") as row_f, \
                open(self.spill / "lens", "wb") as len_f, open(self.spill / "labels", "wb") as lab_f, \
                _Ahead() as ahead:

            def spill(tokens: np.ndarray, labels: list[bytes], rows: list[int]) -> None:
                tok_f.write(tokens.tobytes())
                row_f.write(np.asarray(rows, dtype="<i8").tobytes())
                len_f.write(np.fromiter((len(lab) for lab in labels), dtype="<u4",
                                        count=len(labels)).tobytes())
                lab_f.write(b"".join(labels))
                self.n += len(labels)
                self.progress("oprf", self.n, 0)

            for chunk in _chunks(stream, self.name):
                keys, labels, rows = self._check(chunk, row, ki, li)
                row += len(chunk)
                if self.sheet_count:   # the build fails: read on only to count the bad rows
                    continue
                ahead.then(self._map_tokens, (key, keys), spill, labels, rows)
            ahead.drain()
        if self.sheet_count:
            raise RecordError(f"{self.name}: {self.sheet_count} key(s) in column "
                              f"{key_column!r} {ids.REASONS[ids.SPREADSHEET]} (rows "
                              f"{self.sheet[:_SHOWN]})")
        self.timings["oprf_s"] = time.perf_counter() - start
        self.progress("oprf", self.n, self.n)   # the total, now that it is known

    def _check(self, chunk: list[list[Any]], row: int, ki: int, li: list[int],
               ) -> tuple[list[bytes], list[bytes], list[int]]:
        keys, labels, rows = [], [], []
        exact = self.key_kind == EXACT
        for off, r in enumerate(chunk, start=row + 1):
            raw = _text(r[ki])
            k = raw.strip() if exact else ids.normalize(raw, self.key_kind)
            if not k:
                raise RecordError(f"{self.name}: row {off}: empty key in column "
                                  f"{self.key_column!r}")
            if not exact and ids.is_spreadsheet_float(k):
                self.sheet_count += 1
                if len(self.sheet) < _SHOWN:
                    self.sheet.append(off)
                continue
            label = json.dumps({c: _text(r[i]) for c, i in zip(self.label_columns, li,
                                                                 strict=True)},
                               ensure_ascii=False, separators=(",", ":")).encode()
            if len(label) > self.longest:
                self.longest = len(label)
            if len(label) > MAX_AUTO_LABEL:
                self.long_count += 1
                if len(self.long_rows) < _SHOWN:
                    self.long_rows.append(off)
            keys.append(k.encode())
            labels.append(label)
            rows.append(off)
        return keys, labels, rows

    def _map_tokens(self, key: bytes, keys: list[bytes]) -> np.ndarray:
        parts = self.workers.map(_oprf_task, [(key, keys[a:b])
                                              for a, b in _pieces(len(keys), self.workers)])
        return np.concatenate(parts) if parts else np.zeros((0, TOKEN_BYTES), np.uint8)

    def label_size(self, requested: int | None) -> int:
        """The slot size: the rule of `records.label_size_for`, over the streamed labels."""
        if requested is not None:
            if self.longest > requested:
                raise RecordError(f"label size {requested}: the longest label is "
                                  f"{self.longest} bytes")
            if not 16 <= requested <= min(MAX_LABEL, MAX_LABEL_SIZE):
                raise RecordError(f"label size {requested}: must be between 16 and "
                                  f"{min(MAX_LABEL, MAX_LABEL_SIZE)} bytes")
            return requested
        if self.long_count:
            raise RecordError(
                f"{self.long_count} label(s) longer than {MAX_AUTO_LABEL} bytes (rows "
                f"{_rows(self.long_rows, self.long_count)}; the longest {self.longest} bytes): "
                "every record's slot would be that wide and the hint every client downloads "
                "grows with it; shorten those values or serve fewer label columns, or set the "
                "label size explicitly")
        return max(16, -(-self.longest // 16) * 16)

    # -- passes 2 and 3: seal and partition, lay out and hint ------------------------------------
    def lay_out(self, label_size: int, buckets: int | None, block_bytes: int, chunk_rows: int,
                seed: bytes | None) -> dict[str, float]:
        """Passes 2 and 3 into `work/db`; the timings."""
        n = self.n
        slot_bytes = LEN_BYTES + label_size + TAG_BYTES
        buckets = buckets or default_buckets(n, slot_bytes)
        # Blocks are fixed before the loads are known: sized for a generous estimate of the
        # largest bucket (the size only bounds memory; any load is laid out correctly).
        est_rows = (2 * -(-n // buckets) + 8) * slot_bytes
        per_block = min(block_columns(est_rows, block_bytes), buckets)
        blocks = -(-buckets // per_block)
        self._check_disk(n, slot_bytes, buckets, est_rows)
        rec = np.dtype([("t", "u1", 16), ("row", "<i8"), ("s", "u1", slot_bytes)])
        parts = self.work / "parts"
        parts.mkdir()
        start = time.perf_counter()
        load = self._partition(parts, rec, label_size, buckets, per_block, chunk_rows)
        shutil.rmtree(self.spill)
        sealed_at = time.perf_counter()
        layout = Layout(buckets, max(1, int(load.max(initial=0))), label_size, self.cipher,
                        self.key_kind)
        params = LweParams(rows=layout.rows, cols=buckets, seed=seed or fresh_seed())
        db = self.work / "db"
        db.mkdir()
        hint = np.zeros((params.rows, params.n), dtype=np.uint32)
        dups: list[tuple[int, int]] = []
        dup_count = 0
        def add(parts: list[np.ndarray], last: int) -> None:
            for part in parts:
                hint[:] += part            # uint32 wraps: the sum is mod 2^32
            self.progress("hint", last, blocks)

        with open(db / MATRIX_FILE, "wb") as out, _Ahead() as ahead:
            wave: list[tuple[np.ndarray, int]] = []
            for g in range(blocks):
                b0, b1 = g * per_block, min((g + 1) * per_block, buckets)
                block, found, count = self._block(parts / str(g), rec, layout, load, b0, b1)
                dup_count += count
                dups = sorted(dups + found, key=lambda p: p[1])[:_SHOWN]
                out.write(block.tobytes())
                if dup_count:
                    continue          # the build fails: only look for more duplicates
                wave.append((block, b0))
                if len(wave) >= self.workers.size or g == blocks - 1:
                    ahead.then(self.workers.map, (_hint_task, [(b, params, s) for b, s in wave]),
                               add, g + 1)
                    wave = []
            ahead.drain()
            out.flush()
            os.fsync(out.fileno())
        if dup_count:
            keys = self.quote({b for _, b in dups})
            shown = "; ".join(self._dup(keys.get(b), a, b) for a, b in dups)
            raise RecordError(f"{self.name}: {dup_count} duplicate key(s) in column "
                              f"{self.key_column!r}, e.g. {shown}; keys must be unique after "
                              f"normalisation ({self.key_kind})")
        with open(db / HINT_FILE, "wb") as fh:
            np.save(fh, hint)
        meta = {"version": self.version, "layout": layout.to_json(), "lwe": params.to_json(),
                "records": n, "stamp": self.stamp}
        (db / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        self.timings.update(seal_partition_s=sealed_at - start,
                            layout_hint_s=time.perf_counter() - sealed_at)
        return self.timings

    def _dup(self, raw: str | None, first: int, again: int) -> str:
        if raw is None:
            return f"rows {first} and {again}"
        key = raw.strip() if self.key_kind == EXACT else ids.normalize(raw, self.key_kind)
        same = "" if raw.strip() == key else f" = {key!r}"
        return f"{raw.strip()!r}{same} (rows {first} and {again})"

    def _check_disk(self, n: int, slot_bytes: int, buckets: int, est_rows: int) -> None:
        need = n * (24 + slot_bytes) + buckets * est_rows + est_rows * 4096
        free = shutil.disk_usage(self.work).free
        if need > free:
            raise BuildError(f"{self.work.parent}: not enough disk space to build {self.name}: "
                             f"about {need / 2**20:,.0f} MiB needed, {free / 2**20:,.0f} MiB "
                             "free; free space or point the data folder elsewhere")

    def _partition(self, parts: Path, rec: np.dtype, label_size: int, buckets: int,
                   per_block: int, chunk_rows: int) -> np.ndarray:
        """Seal every record and append it to its block's file; the load of every bucket."""
        load = np.zeros(buckets, dtype=np.int64)
        mask = np.uint64(buckets - 1)
        done = 0
        def append(sealed: list[np.ndarray], tok: np.ndarray, rows: np.ndarray) -> None:
            nonlocal done
            m = len(tok)
            records = np.empty(m, dtype=rec)
            records["t"], records["row"] = tok[:, :16], rows
            records["s"] = np.concatenate(sealed)
            which = tok[:, :8].copy().view("<u8")[:, 0] & mask
            load[:] += np.bincount(which.astype(np.int64), minlength=buckets)
            group = (which // np.uint64(per_block)).astype(np.int64)
            order = np.argsort(group, kind="stable")   # keeps input order in a block
            records, group = records[order], group[order]
            for g in np.unique(group):
                a, b = np.searchsorted(group, [g, g + 1])
                with open(parts / str(int(g)), "ab") as fh:
                    fh.write(records[a:b].tobytes())
            done += m
            self.progress("seal", done, self.n)

        read = 0
        with open(self.spill / "tokens", "rb") as tok_f, open(self.spill / "rows", "rb") as row_f, \
                open(self.spill / "lens", "rb") as len_f, open(self.spill / "labels", "rb") as lab_f, \
                _Ahead() as ahead:
            while read < self.n:
                m = min(chunk_rows, self.n - read)
                tok = np.frombuffer(tok_f.read(m * TOKEN_BYTES), np.uint8).reshape(m, TOKEN_BYTES)
                rows = np.frombuffer(row_f.read(m * 8), "<i8")
                lens = np.frombuffer(len_f.read(m * 4), "<u4").astype(np.int64)
                blob = lab_f.read(int(lens.sum()))
                ends = np.cumsum(lens)
                labels = [blob[e - k:e] for e, k in zip(ends.tolist(), lens.tolist(), strict=True)]
                ahead.then(self.workers.map, (_seal_task, [
                    (tok[a:b], labels[a:b], self.version, label_size, self.cipher)
                    for a, b in _pieces(m, self.workers)]), append, tok, rows)
                read += m
            ahead.drain()
        return load

    def _block(self, path: Path, rec: np.dtype, layout: Layout, load: np.ndarray, b0: int,
               b1: int) -> tuple[np.ndarray, list[tuple[int, int]], int]:
        """Buckets b0..b1 as a (b1-b0) x rows array (bucket-major), and the duplicates:
        a few pairs of rows, and how many."""
        slots, size = layout.slots, layout.slot_bytes
        cells = np.frombuffer(self.fill((b1 - b0) * layout.rows), dtype=np.uint8).reshape(
            (b1 - b0) * slots, size).copy()
        dups: list[tuple[int, int]] = []
        count = 0
        if path.exists():
            records = np.fromfile(path, dtype=rec)
            t = records["t"]
            which = (t[:, :8].copy().view("<u8")[:, 0]
                     & np.uint64(layout.buckets - 1)).astype(np.int64)
            order = np.lexsort((t[:, 8:16].copy().view("<u8")[:, 0], which))
            t_sorted = t[order]
            same = np.flatnonzero(np.all(t_sorted[1:] == t_sorted[:-1], axis=1))
            rows = records["row"][order]
            if len(same):   # each repeat paired with the first row of its key, as records.py
                new = np.ones(len(order), dtype=bool)
                new[same + 1] = False
                first = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
                pairs = sorted((int(rows[i + 1]), int(rows[first[i + 1]])) for i in same)
                dups, count = [(a, b) for b, a in pairs[:_SHOWN]], len(same)
            local = which[order] - b0
            part = load[b0:b1]
            starts = np.cumsum(part) - part
            rank = np.arange(len(order)) - starts[local]
            cells[local * slots + rank] = records["s"][order]
        return cells.reshape(b1 - b0, layout.rows), dups, count


class _Ahead:
    """One piece of work on the workers while this thread prepares the next: `then(fn, args,
    finish, *extra)` starts fn(*args) in the background and first finishes the piece before
    it (`finish(result, *extra)` here, in order). At most two pieces are held at once, so
    memory stays bounded, and the driver's reading and writing overlap the workers."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="yinji-pir-build")
        self._pending: tuple[Future, Callable[..., None], tuple] | None = None

    def then(self, fn: Callable[..., Any], args: tuple, finish: Callable[..., None],
             *extra: Any) -> None:
        future = self._pool.submit(fn, *args)
        self.drain()
        self._pending = (future, finish, extra)

    def drain(self) -> None:
        if self._pending is not None:
            future, finish, extra = self._pending
            self._pending = None
            finish(future.result(), *extra)

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _keys_at(source: Source, key_column: str, rows: set[int], chunk_rows: int,
             ) -> dict[int, str]:
    """The key column's text at `rows` (1 = the first data row), read again in chunks."""
    out: dict[int, str] = {}
    row = 0
    for chunk in iter_rows(source, [key_column], chunk_rows).chunks:
        for i in range(row + 1, row + len(chunk) + 1):
            if i in rows:
                out[i] = _text(chunk[i - row - 1][0])
        row += len(chunk)
        if len(out) == len(rows):
            break
    return out


def _chunks(stream: Stream, name: str):  # noqa: ANN202 - Iterator[list[list[Any]]]
    """The stream's chunks; a chunk that cannot be read becomes a BuildError naming the
    source (errors of the file itself, e.g. a bad CSV line, keep their own message)."""
    from yinji.textfile import TableFileError

    it, rows = iter(stream.chunks), 0
    while True:
        try:
            chunk = next(it)
        except StopIteration:
            return
        except TableFileError:
            raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise BuildError(f"{name}: a chunk after row {rows:,} could not be read "
                             f"({type(exc).__name__}: {exc})") from None
        rows += len(chunk)
        yield chunk


__all__ = ["DEFAULT_BLOCK", "BuildError", "build_stream", "open_version", "stored_version"]
