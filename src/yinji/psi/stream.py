"""Bucketed two-party PSI fed from a stream: a CSV, Parquet, .xlsx or SQL source read in chunks,
memory bounded by a chunk and one bucket per lane, never by the table.

Steps (`bucketed_psi_stream`):
1. Agree the bucket count, lane count, receiver and the bucket key (`bucketed.agree_key`)
   before reading anything: the key decides where each key goes while it is read.
2. Read the key column(s) in chunks of `chunk_rows` rows (`yinji.chunks.iter_rows`: the
   project's encoding detection for CSV, pyarrow `iter_batches`, a server-side SQL cursor);
   normalise each chunk by the shared identifier rule (`prepare_keys`, duplicates inside a
   chunk: first row kept); append every kept key, with its original row number, to its
   bucket's spill file in a private temporary directory (records `<row int64><len uint32>
   <key>`, in row order).
3. Settle each bucket in turn: load its spill file, drop repeated keys keeping the first
   (lowest) row -- duplicates across chunks meet here, since equal keys share a bucket -- and
   write its unique keys and their rows. Now n, the number of distinct keys, is known, and
   with it the public cap `bucket_cap(n, B)`; `duplicates="reject"` or a bucket over its cap
   stops the run here, before any lane (the peer is told only the kind of problem).
4. Run the lanes (`bucketed.run_lanes`); a lane loads a bucket from disk when it reaches it,
   pads it with random dummies to the cap and runs `ecdh_psi` on it.
5. The receiver maps each bucket's matches to original row numbers; the result is the sorted
   row numbers (`StreamResult.rows`), which `select_rows` turns back into the source's rows,
   again in chunks.

Sizes: n is counted in step 3, after reading, not taken from the row count, so the cap is
the same as the in-memory `bucketed_psi` gives for the same keys; what the peer sees is
exactly what `bucketed_psi` shows it (n through the cap, as ECDH-PSI shows |A|).

Memory bound (per party): one chunk (its rows and prepared keys: ~0.5 KB per row for a
one-column CSV, about 130 MB for 2^18 rows), plus per running lane one padded bucket and its
ECDH-PSI state (~0.4 KB per key), plus one bucket being settled; at the receiver, the
lanes' match positions (8 bytes a match) and one range of its sorted matching row numbers
(`RANGE_ROWS`), the rest of them on disk (`StreamResult.rows` is a read-only memory map).
Disk: about twice (12 + key length) bytes per row in the spill directory (`spill_dir`,
default the system temp), removed when the run ends, whatever happens, and 8 bytes a match
for the receiver's rows, removed when they are no longer used.
Measured (benchmarks/psi_stream.py, 10^6 x 10^6 keys, 8 buckets of 127,740, 2 lanes): peak
RSS 291 / 246 MB (receiver / other) with 2^18-row chunks, 161 / 119 MB with 2^16-row chunks
(2x10^5 keys with 2^16: 143 / 100 MB), of which ~70 MB is the interpreter and libraries; `auto_buckets` keeps buckets near 2^17 keys at any n, so
10^7 keys per side need about the same plus the receiver's 8 bytes per match.
A 10^8 x 10^8 run with the in-memory sort of before: peak RSS 1,670 MB at the receiver
(5 x 10^7 matches), 252 MB at the sender.

Adversary model and leakage: exactly `yinji.psi.bucketed`'s (semi-honest; a receiver learns
A ∩ B, both learn |A| and |B| through the public bucket caps; bucket and lane counts are
public). The spill files hold normalised keys in the clear on this party's own disk, like the
source they were read from; they sit in a 0700 directory of its own, removed at the end.
"""

from __future__ import annotations

import os
import struct
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yinji import ids
from yinji.chunks import DEFAULT_CHUNK, Source, Stream, iter_rows
from yinji.net.channel import Party
from yinji.net.connect import TlsConfig
from yinji.net.workers import LocalWorkers, Workers
from yinji.psi.bucketed import (
    FAIL_LOG2,
    MAX_BUCKETS,
    BucketOverflow,
    agree_key,
    bucket_cap,
    bucket_of,
    lane_plan,
    ready,
    run_lanes,
)
from yinji.psi.ecdh import who_receives
from yinji.psi.keys import DuplicateKeys, prepare_keys

BUCKET_TARGET = 1 << 17   # keys per bucket `auto_buckets` aims at (~50 MB of PSI state)
AUTO_STREAM_ROWS = 1 << 20   # rows from which a two-party intersection runs on this stream
#                              when nothing else is asked (`yinji psi`, node jobs)
SAMPLE = 10               # dropped rows remembered per reason, for the report
RANGE_ROWS = 1 << 22      # the receiver's matching row numbers sorted in memory at a time
COARSE_RANGES = 1 << 12   # row ranges counted to cut the matches into RANGE_ROWS pieces
_HEAD = struct.Struct("<qI")
_LEN = struct.Struct("<I")


def auto_buckets(rows: int, target: int = BUCKET_TARGET) -> int:
    """A bucket count giving about `target` keys per bucket for a set of `rows` keys."""
    return max(1, min(MAX_BUCKETS, -(-max(rows, 0) // target)))


@dataclass
class StreamReport:
    """Counts of the rows read and dropped (why), with the first `SAMPLE` rows per reason:
    unlike `yinji.ids.Report`, its size does not grow with the table."""

    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ids.REASONS, 0))
    first: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in ids.REASONS})

    def drop(self, row: int, reason: str) -> None:
        self.counts[reason] += 1
        rows = self.first[reason]
        if len(rows) < SAMPLE or row < rows[-1]:
            rows.append(row)
            rows.sort()
            del rows[SAMPLE:]

    @property
    def kept(self) -> int:
        return self.rows - sum(self.counts.values())

    def summary(self) -> str:
        c = self.counts
        text = (f"{self.rows} rows: {self.kept} kept, {c[ids.EMPTY]} empty, "
                f"{c[ids.INVALID]} invalid, {c[ids.DUPLICATE]} duplicate")
        if c[ids.SPREADSHEET]:
            text += (f", {c[ids.SPREADSHEET]} in spreadsheet notation such as 1.10105E+17 "
                     f"(first rows {self.first[ids.SPREADSHEET][:5]}): the digits are lost; "
                     "export the key column as text")
        return text


@dataclass
class StreamResult:
    """`rows`: to a receiver, the sorted original row numbers (0-based data rows) of its keys
    the peer holds (the first row of a repeated key), as a read-only memory map when there are
    any; None to a non-receiver. `n`: this party's distinct keys. `read`: how the source was
    read."""

    rows: np.ndarray | None
    report: StreamReport
    n: int
    read: str


class Spill:
    """Per-bucket spill files in `directory`: raw records while reading, then per bucket its
    unique keys (`<len><key>`...) and their rows (int64)."""

    def __init__(self, directory: Path, buckets: int) -> None:
        self.dir, self.buckets = directory, buckets
        self.counts = np.zeros(buckets, dtype=np.int64)
        self.cap = 0

    def _path(self, b: int, kind: str) -> Path:
        return self.dir / f"{b}.{kind}"

    def add(self, keys: list[bytes], rows: np.ndarray, which: np.ndarray) -> None:
        if not keys:
            return
        order = np.argsort(which, kind="stable")   # row order kept inside each bucket
        cut = np.flatnonzero(np.diff(which[order])) + 1
        for grp in np.split(order, cut):
            buf = bytearray()
            for i in grp.tolist():
                k = keys[i]
                buf += _HEAD.pack(int(rows[i]), len(k))
                buf += k
            with open(self._path(int(which[grp[0]]), "raw"), "ab") as fh:
                fh.write(buf)

    def settle(self, b: int, report: StreamReport) -> int:
        """Deduplicate bucket b (first row kept), write its keys and rows; its key count."""
        raw = self._path(b, "raw")
        data = raw.read_bytes() if raw.exists() else b""
        seen: set[bytes] = set()
        rows: list[int] = []
        out = bytearray()
        off, end = 0, len(data)
        while off < end:
            row, n = _HEAD.unpack_from(data, off)
            off += _HEAD.size
            k = data[off:off + n]
            off += n
            if k in seen:
                report.drop(row, ids.DUPLICATE)
                continue
            seen.add(k)
            rows.append(row)
            out += _LEN.pack(n)
            out += k
        self._path(b, "keys").write_bytes(out)
        np.asarray(rows, dtype="<i8").tofile(self._path(b, "rows"))
        raw.unlink(missing_ok=True)
        self.counts[b] = len(rows)
        return len(rows)

    def rows(self, b: int) -> np.ndarray:
        return np.fromfile(self._path(b, "rows"), dtype="<i8").astype(np.int64)


class SpilledBuckets:
    """Bucket b's keys read from its spill file when indexed, padded with random 32-byte
    dummies to the public cap; picklable (a Ray lane on the same machine or a shared disk)."""

    def __init__(self, directory: str, buckets: int, cap: int) -> None:
        self.directory, self.buckets, self.cap = directory, buckets, cap

    def __len__(self) -> int:
        return self.buckets

    def __getitem__(self, b: int) -> list[bytes]:
        data = (Path(self.directory) / f"{b}.keys").read_bytes()
        keys: list[bytes] = []
        off, end = 0, len(data)
        while off < end:
            (n,) = _LEN.unpack_from(data, off)
            off += _LEN.size
            keys.append(data[off:off + n])
            off += n
        pad = self.cap - len(keys)
        if pad > 0:
            noise = os.urandom(32 * pad)
            keys.extend(noise[i:i + 32] for i in range(0, 32 * pad, 32))
        return keys


def bucketed_psi_stream(party: Party, peer: str, source: Source, columns: Sequence[str], *,
                        tls: TlsConfig, buckets: int, lanes: int | None = None,
                        receiver: str | None = None,
                        kinds: Mapping[str, str] | str | None = None, validate: bool = False,
                        duplicates: str = "first", chunk_rows: int = DEFAULT_CHUNK,
                        workers: Workers | None = None, bind_host: str = "127.0.0.1",
                        timeout: float = 600.0, spill_dir: str | None = None,
                        on_stage=None) -> StreamResult:  # noqa: ANN001 - callable(str)
    """Bucketed PSI on the key `columns` of `source` (a file path or `yinji.chunks.SqlSource`)
    read in chunks of `chunk_rows` rows. Interoperates with `bucketed_psi` (same messages).
    `kinds`, `validate`, `duplicates`: as `prepare_keys`. `on_stage(name)` is called after
    "read", "settled" and "lanes" (for progress and benchmarks). The other arguments: as
    `bucketed_psi`. Steps, memory bound, adversary model and leakage: module docstring.
    """
    if not 1 <= buckets <= MAX_BUCKETS:
        raise ValueError(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
    if duplicates not in ("reject", "first"):
        raise ValueError(f"duplicates must be 'reject' or 'first', got {duplicates!r}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    columns = list(columns)
    if not columns:
        raise ValueError("no key columns")
    me, _ = who_receives(party, peer, receiver)
    workers = workers or LocalWorkers()
    lanes = max(1, min(lanes or workers.size, buckets))
    stage = on_stage or (lambda name: None)
    key = agree_key(party, peer, buckets, lanes, receiver)
    report = StreamReport()
    with tempfile.TemporaryDirectory(prefix="yinji-psi-spill-", dir=spill_dir) as tmp:
        spill = Spill(Path(tmp), buckets)
        try:
            read = read_into_spill(spill, source, columns, key, report, kinds=kinds,
                              validate=validate, chunk_rows=chunk_rows)
            stage("read")
            n = sum(spill.settle(b, report) for b in range(buckets))
            stage("settled")
            cap = bucket_cap(n, buckets)
            if duplicates == "reject" and report.counts[ids.DUPLICATE]:
                exc = DuplicateKeys(report.first[ids.DUPLICATE])
                exc.args = (f"{report.counts[ids.DUPLICATE]} duplicate key row(s), first "
                            f"rows: {report.first[ids.DUPLICATE]}",)
                raise exc
            if int(spill.counts.max()) > cap:
                b = int(spill.counts.argmax())
                raise BucketOverflow(f"bucket {b} got {int(spill.counts[b])} keys, over its "
                                     f"cap {cap} (probability < 2^-{FAIL_LOG2}); run again")
        except Exception as exc:  # noqa: BLE001 - the peer hears only the kind, then re-raised
            ready(party, peer, exc)
        ready(party, peer, None)
        found = run_lanes(party, peer, SpilledBuckets(tmp, buckets, cap), tls=tls,
                          buckets=buckets, lanes=lanes, receiver=receiver, workers=workers,
                          bind_host=bind_host, timeout=timeout)
        stage("lanes")
        if not me:
            return StreamResult(None, report, n, read)
        rows = _sorted_rows(spill, lane_plan(buckets, lanes), found, report.rows,
                            Path(tmp), spill_dir)
    return StreamResult(rows, report, n, read)


def _sorted_rows(spill: Spill, plan: list[list[int]], found: list, n_rows: int, tmp: Path,
                 spill_dir: str | None) -> np.ndarray:
    """The receiver's matching row numbers, sorted, without holding them all: counted by row
    range first, then each bucket's are appended to range files holding ~RANGE_ROWS matches
    each (however the matches cluster in the file), each range is sorted in memory and
    appended to one file, returned memory-mapped read-only (its name removed at once where the
    system allows, else when the array is collected)."""
    def matches(j: int, i: int) -> np.ndarray:
        b, pos = plan[j][i], found[j][i]
        return spill.rows(b)[pos[pos < spill.counts[b]]]

    coarse = -(-max(n_rows, 1) // COARSE_RANGES)   # rows per coarse range
    counts = np.zeros(COARSE_RANGES, dtype=np.int64)
    for j, lane in enumerate(found):
        for i in range(len(lane)):
            counts += np.bincount(matches(j, i) // coarse, minlength=COARSE_RANGES)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    range_of = (np.cumsum(counts) - counts) // RANGE_ROWS   # coarse range -> range file
    for j, lane in enumerate(found):
        for i in range(len(lane)):
            rows = matches(j, i)
            lane[i] = None   # the lane's positions are no longer needed
            part = range_of[rows // coarse]
            order = np.argsort(part, kind="stable")
            cuts = np.searchsorted(part[order], np.arange(int(range_of[-1]) + 2))
            for p in np.flatnonzero(np.diff(cuts)):
                with open(tmp / f"range{p}.rows", "ab") as fh:
                    rows[order[cuts[p]:cuts[p + 1]]].astype("<i8").tofile(fh)
    fd, name = tempfile.mkstemp(prefix="yinji-psi-rows-", dir=spill_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for p in range(int(range_of[-1]) + 1):
                path = tmp / f"range{p}.rows"
                if path.exists():
                    np.sort(np.fromfile(path, dtype="<i8")).tofile(out)
                    path.unlink()
        rows = np.memmap(name, dtype="<i8", mode="r", shape=(total,))
    except BaseException:
        _remove(name)   # a full disk, say: no file is left behind
        raise
    try:
        os.unlink(name)   # POSIX: the mapping stays readable until it is closed
    except OSError:
        weakref.finalize(rows, _remove, name)
    return rows


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def read_into_spill(spill: Spill, source: Source | Stream, columns: list[str], key: bytes,
               report: StreamReport, *, kinds: Mapping[str, str] | str | None,
               validate: bool, chunk_rows: int) -> str:
    """Read, normalise and spill every chunk (of `source`, or of a `Stream` already open on
    exactly `columns`, e.g. `Catalog.sql_stream`); how the source was read."""
    stream = source if isinstance(source, Stream) else iter_rows(source, columns, chunk_rows)
    offset = 0
    for chunk in stream.chunks:
        cols = {c: [r[j] for r in chunk] for j, c in enumerate(columns)}
        prep = prepare_keys(cols, kinds=kinds, validate=validate, duplicates="first")
        for row, why in prep.report.dropped.items():
            report.drop(row + offset, why)
        spill.add(prep.keys, prep.rows + offset, bucket_of(prep.keys, key, spill.buckets))
        offset += len(chunk)
    report.rows = offset
    return stream.describe()


def select_rows(source: Source, rows: np.ndarray, chunk_rows: int = DEFAULT_CHUNK,
                columns: Sequence[str] | None = None) -> tuple[list[str], Iterator[list]]:
    """The header of `source` and, read again in chunks, its rows numbered `rows` (sorted
    0-based data-row numbers, e.g. `StreamResult.rows`), all `columns` (default: all), in
    file order."""
    stream = iter_rows(source, columns, chunk_rows)
    rows = np.asarray(rows, dtype=np.int64)

    def gen() -> Iterator[list]:
        offset = 0
        for chunk in stream.chunks:
            lo, hi = np.searchsorted(rows, [offset, offset + len(chunk)])
            for r in rows[lo:hi].tolist():
                yield chunk[r - offset]
            offset += len(chunk)
    return stream.header, gen()


__all__ = ["AUTO_STREAM_ROWS", "BUCKET_TARGET", "SpilledBuckets", "StreamReport", "StreamResult", "auto_buckets",
           "bucketed_psi_stream", "select_rows"]
