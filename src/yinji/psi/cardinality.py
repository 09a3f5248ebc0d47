"""Two-party PSI cardinality (De Cristofaro, Gasti & Tsudik 2012) in bounded memory: the
keys are read in chunks, blinded and sent in blocks, and the receiver counts the matches
partition by partition from private disk files, so neither party ever holds either set.

The protocol is `yinji.psi.ecdh`'s cardinality variant (ristretto255, fresh scalars a and b,
16-byte tags of a·b·H(x)); `ecdh.psi_cardinality` (keys in memory) runs the same exchange
here, so the two interoperate. Steps for a party with n distinct keys:

1. (`psi_cardinality_stream` only) Read the key column(s) in chunks (`yinji.chunks.iter_rows`:
   CSV, Parquet, .xlsx, or a SQL cursor's `Stream`), normalise each chunk (`prepare_keys`)
   and spill each kept key to one of `spill_buckets` private files chosen by BLAKE2b under a
   fresh key that never leaves this process (`spill_count`: one per 2 MiB of a source
   file, up to 256); settle each file (repeated keys dropped, the
   first row kept: equal keys share a file). Now n is known. A failure here (unreadable
   source, `duplicates="reject"`) is told to the peer as "stopped" (no detail), then raised.
2. Send a header (n, whether I receive, my block size); hear the peer's (m, ...).
3. Send my keys as hash-to-group times `a`, in blocks of exactly `batch_size` (the last one
   shorter): spill file by spill file, each file's keys in a fresh uniformly random order.
   The order is thus a uniform permutation of my set (the file of a key is a secret random
   function of it), and block sizes depend on n only. Blind each received block with `a`
   and keep its 16-byte tags: in my "theirs" partition files if I receive, in my "return"
   partition files if the peer receives. Partitions are by the tag's leading bits, as many
   (a power of two, at most 2^16) as keep one near `PART_TARGET` tags. While both send,
   block i goes out before the peer's block i is read; past the shorter side's last block
   (the tail) the longer side waits for an empty acknowledgement of every block but the
   last `WINDOW`, so its send queue (sends never block) holds at most `WINDOW` blocks.
4. Return: partition by partition in prefix order, sort the peer's doubly blinded tags and
   send them in blocks of at most the peer's block size, acknowledged the same way (both
   receive: the party whose name sorts first returns first): the peer gets exactly the
   sorted list the in-memory protocol sent, cut into blocks (sizes follow from the values).
5. The receiver writes the n returned tags to partition files by the same leading bits and
   counts, one partition at a time, its tags that occur among the peer's: |A ∩ B|.

Memory bound (per party): one chunk of rows and its prepared keys, one spill file being
settled or sent (n / `spill_buckets` keys), one block in flight, one partition sorted or
compared (`PART_TARGET` tags, 4 MiB, twice at the receiver). Disk: the spill files (~12 +
key length bytes per row, twice while settling) and 16 bytes per tag kept (m at the sender;
n + m at the receiver), in a 0700 temporary folder removed at the end whatever happens.

Adversary model: semi-honest parties, channels authenticated and encrypted (as ecdh).

Leakage (unchanged from the in-memory protocol):
- Both parties learn |A| and |B| (distinct normalised keys, sent in the header).
- The receiver learns |A ∩ B| and nothing else: the peer's points arrive in a uniformly
  random order, its own doubly blinded tags come back sorted (which of its keys matched is
  hidden), and only the total is counted -- no per-partition or per-spill-file count is
  sent or reported (partitions follow pseudo-random tags, not keys, and spill files are
  keyed by a secret no one else holds: neither is a bucket both parties could name).
- The sender learns nothing beyond |A|: it receives the header, n uniformly random group
  elements in blocks whose sizes depend on n only, and empty acknowledgements of blocks it
  sent itself (its tail and its returned blocks: numbers it knows).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from yinji import ids
from yinji.chunks import DEFAULT_CHUNK, Source, Stream
from yinji.crypto import group
from yinji.net.channel import Party
from yinji.psi.ecdh import (
    DEFAULT_BATCH,
    DOMAIN,
    TAG_BYTES,
    blind_received,
    member,
    random_permutation,
    tags_view,
    who_receives,
)
from yinji.psi.keys import DuplicateKeys
from yinji.psi.stream import Spill, SpilledBuckets, StreamReport, read_into_spill

PART_TARGET = 1 << 18   # tags per partition file compared or sorted at once (4 MiB)
SPILL_BUCKETS = 256     # spill files of the own keys, at most (10^7 keys: ~40k per file)
SPILL_FILE_BYTES = 2 << 20   # source bytes per spill file, for a file source
MAX_BATCH = 1 << 20     # largest block size a peer may declare
MAX_BITS = 16
WINDOW = 4              # blocks one party may send ahead of the peer's acknowledgements


@dataclass
class CardinalityResult:
    """`count`: |A ∩ B| to the receiver, None to the other party. `n`: this party's distinct
    keys. `report`: rows read and dropped (why). `read`: how the source was read."""

    count: int | None
    report: StreamReport
    n: int
    read: str


def partition_bits(count: int, target: int | None = None) -> int:
    """Leading tag bits to partition `count` tags by, so a partition has at most ~`target`
    (default `PART_TARGET`) tags."""
    target = target or PART_TARGET
    bits = 0
    while bits < MAX_BITS and count > target << bits:
        bits += 1
    return bits


class _Tags:
    """16-byte tags appended to 2^bits files by their leading bits (big-endian, so the files
    in index order hold the tags in byte order)."""

    def __init__(self, directory: Path, name: str, bits: int) -> None:
        self.dir, self.name, self.bits = directory, name, bits
        self.parts = 1 << bits

    def _path(self, p: int) -> Path:
        return self.dir / f"{self.name}.{p}"

    def add(self, tags: np.ndarray) -> None:
        if not len(tags):
            return
        if self.bits == 0:
            with open(self._path(0), "ab") as fh:
                fh.write(tags.tobytes())
            return
        lead = ((tags[:, 0].astype(np.uint32) << 8) | tags[:, 1]) >> (16 - self.bits)
        order = np.argsort(lead, kind="stable")
        cut = np.flatnonzero(np.diff(lead[order])) + 1
        for grp in np.split(order, cut):
            with open(self._path(int(lead[grp[0]])), "ab") as fh:
                fh.write(tags[grp].tobytes())

    def part(self, p: int) -> np.ndarray:
        path = self._path(p)
        if not path.exists():
            return np.zeros((0, TAG_BYTES), np.uint8)
        return np.fromfile(path, dtype=np.uint8).reshape(-1, TAG_BYTES)


def _blocks(batches: Iterable[Sequence[bytes]], size: int) -> Iterator[list[bytes]]:
    """Re-cut a stream of key lists into lists of exactly `size` keys (the last shorter)."""
    flat = (k for b in batches for k in b)
    while block := list(islice(flat, size)):
        yield block


def stopped(party: Party, peer: str) -> None:
    """Tell the peer this side stopped before the exchange (a header with n = -1): no detail."""
    party.channel(peer).send_array(np.array([-1, 0, 1], dtype=np.int64))


def cardinality_exchange(party: Party, peer: str, n: int, batches: Iterable[Sequence[bytes]],
                         *, i_receive: bool, peer_receives: bool,
                         batch_size: int = DEFAULT_BATCH, workers: int | None = None,
                         work_dir: str | Path | None = None,
                         progress=None) -> int | None:  # noqa: ANN001 - callable(done, total)
    """Steps 2-5 of the module docstring for `n` distinct keys given as `batches` (lists of
    bytes, already in a uniformly random order). |A ∩ B| if `i_receive`, else None.
    `work_dir`: where the partition files go (default: a fresh temporary folder)."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be from 1 to {MAX_BATCH}, got {batch_size}")
    ch = party.channel(peer)
    ch.send_array(np.array([n, int(i_receive), batch_size], dtype=np.int64))
    hdr = ch.recv_array_at_most(64)
    if hdr.dtype != np.int64 or hdr.shape != (3,):
        raise ValueError(f"{peer} sent a malformed header {hdr!r}")
    m, peer_expects, peer_batch = int(hdr[0]), bool(hdr[1]), int(hdr[2])
    if m == -1:
        raise RuntimeError(f"{peer} stopped before the exchange (its keys could not be read)")
    if m < 0 or not 1 <= peer_batch <= MAX_BATCH:
        raise ValueError(f"{peer} sent a malformed header {hdr.tolist()}")
    if peer_expects != peer_receives:
        raise ValueError(f"{party.name} and {peer} disagree on who receives the output")
    with tempfile.TemporaryDirectory(prefix="yinji-psi-card-", dir=work_dir) as tmp:
        return _exchange(ch, peer, n, m, peer_batch, batches, Path(tmp), i_receive,
                         peer_receives, batch_size, max(1, workers or os.cpu_count() or 1),
                         party.name < peer, progress)


class _Window:
    """Flow control for a run of blocks one way: the sender waits for the receiver's empty
    acknowledgement of block j - WINDOW before sending block j, so at most WINDOW blocks wait
    in its send queue (sends never block: `yinji.net.tls`) whatever the peer's speed. Only
    where the other direction carries no blocks: the main loop's tail and the return."""

    def __init__(self, ch) -> None:  # noqa: ANN001 - Channel
        self.ch, self.sent, self.acked = ch, 0, 0

    def send(self, block: np.ndarray) -> None:
        if self.sent - self.acked >= WINDOW:
            self._ack()
        self.ch.send_array(block)
        self.sent += 1

    def drain(self) -> None:
        while self.acked < self.sent:
            self._ack()

    def _ack(self) -> None:
        if self.ch.recv_bytes_at_most(0):
            raise ValueError(f"{self.ch.peer} sent a malformed acknowledgement")
        self.acked += 1


def _exchange(ch, peer: str, n: int, m: int, peer_batch: int,  # noqa: ANN001 - Channel
              batches: Iterable[Sequence[bytes]], tmp: Path, i_receive: bool,
              peer_receives: bool, batch_size: int, workers: int, first: bool,
              progress) -> int | None:  # noqa: ANN001
    a = group.random_scalar()
    theirs = _Tags(tmp, "theirs", partition_bits(max(n, m))) if i_receive else None
    back = _Tags(tmp, "return", partition_bits(m)) if peer_receives else None
    mine_blocks = _blocks(batches, batch_size)
    nb_mine, nb_peer = -(-n // batch_size), -(-m // peer_batch)
    sent = 0
    tail = _Window(ch)   # my blocks after the peer's last one
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="psi-card") as pool:
        for i in range(max(nb_mine, nb_peer)):
            if i < nb_mine:
                block = next(mine_blocks, [])
                if len(block) != min(batch_size, n - sent):
                    raise ValueError(f"{len(block)} keys in block {i}, expected "
                                     f"{min(batch_size, n - sent)} of {n}")
                points = group.hash_and_mult_points(a, block, DOMAIN, workers, pool)
                if i < nb_peer:
                    ch.send_array(points)    # in step with the peer's block i
                else:
                    tail.send(points)
                sent += len(block)
            if i < nb_peer:
                want = min(peer_batch, m - i * peer_batch)
                got = blind_received(a, ch.recv_array_at_most(want * group.POINT_BYTES),
                                      peer, workers, pool)
                if len(got) != want:
                    raise ValueError(f"{peer} sent {len(got)} points in block {i}, "
                                     f"expected {want}")
                tags = np.ascontiguousarray(got[:, :TAG_BYTES])
                for kept in (theirs, back):
                    if kept is not None:
                        kept.add(tags)
                if i >= nb_mine:
                    ch.send_bytes(b"")   # the peer's tail block i taken
            if progress is not None:
                progress(min((i + 1) * batch_size, max(n, m)), max(n, m))
    if next(mine_blocks, None) is not None:
        raise ValueError(f"more than the announced {n} keys")
    tail.drain()
    count = None
    # Returns one way at a time (both receive: the party whose name sorts first returns
    # first), so each direction carries either blocks or acknowledgements, never both.
    for turn in (True, False) if first else (False, True):
        if turn and back is not None:
            out = _Window(ch)
            for p in range(back.parts):
                part = back.part(p)
                if len(part):
                    srt = np.sort(tags_view(part)).view(np.uint8).reshape(-1, TAG_BYTES)
                    for j in range(0, len(srt), peer_batch):
                        out.send(srt[j:j + peer_batch])
            out.drain()
        elif not turn and theirs is not None:
            count = _count(ch, peer, n, batch_size, tmp, theirs)
    return count


def _count(ch, peer: str, n: int, batch_size: int, tmp: Path,  # noqa: ANN001 - Channel
           theirs: _Tags) -> int:
    """Take my n doubly blinded tags back (sorted, in blocks), then count partition by
    partition how many occur among the peer's."""
    mine = _Tags(tmp, "mine", theirs.bits)
    got_n = 0
    while got_n < n:
        blk = ch.recv_array_at_most(min(batch_size, n - got_n) * TAG_BYTES)
        if blk.dtype != np.uint8 or blk.ndim != 2 or blk.shape[1] != TAG_BYTES or not len(blk):
            raise ValueError(f"{peer} returned a malformed block {blk.dtype} {blk.shape}")
        mine.add(blk)
        got_n += len(blk)
        ch.send_bytes(b"")
    return sum(int(member(mine.part(p), theirs.part(p)).sum()) for p in range(theirs.parts))


def spill_count(source: Source | Stream) -> int:
    """Spill files for `source`: one per `SPILL_FILE_BYTES` of a file (a small file: one),
    `SPILL_BUCKETS` for a SQL source, whose size is not known before it is read."""
    if isinstance(source, str | Path):
        try:
            size = os.path.getsize(source)
        except OSError:
            return 1   # the reader names the problem
        return max(1, min(SPILL_BUCKETS, -(-size // SPILL_FILE_BYTES)))
    return SPILL_BUCKETS


def _spilled(directory: Path, buckets: int) -> Iterator[list[bytes]]:
    """The settled spill files' keys, file by file, each in a fresh random order."""
    files = SpilledBuckets(str(directory), buckets, 0)
    for b in range(buckets):
        keys = files[b]
        yield [keys[i] for i in random_permutation(len(keys))]


def psi_cardinality_stream(party: Party, peer: str, source: Source | Stream,
                           columns: Sequence[str], *, receiver: str | None,
                           kinds: Mapping[str, str] | str | None = None,
                           validate: bool = False, duplicates: str = "first",
                           chunk_rows: int = DEFAULT_CHUNK, batch_size: int = DEFAULT_BATCH,
                           workers: int | None = None, spill_dir: str | None = None,
                           spill_buckets: int | None = None,
                           on_stage=None) -> CardinalityResult:  # noqa: ANN001 - callable(str)
    """|A ∩ B| to `receiver` (None: to both) from the key `columns` of `source` (a file path,
    `yinji.chunks.SqlSource`, or a `Stream` such as `Catalog.sql_stream` gives) read in
    chunks of `chunk_rows` rows. `kinds`, `validate`, `duplicates`: as `prepare_keys`.
    Interoperates with `ecdh.psi_cardinality`. `on_stage(name)` after "read" and "exchange".
    Steps, memory bound, adversary model and leakage: module docstring."""
    if duplicates not in ("reject", "first"):
        raise ValueError(f"duplicates must be 'reject' or 'first', got {duplicates!r}")
    spill_buckets = spill_buckets or spill_count(source)
    if chunk_rows < 1 or not 1 <= spill_buckets <= 1 << 16:
        raise ValueError("chunk_rows must be at least 1 and spill_buckets from 1 to 65536")
    columns = list(columns)
    if not columns:
        raise ValueError("no key columns")
    me, them = who_receives(party, peer, receiver)
    stage = on_stage or (lambda name: None)
    report = StreamReport()
    with tempfile.TemporaryDirectory(prefix="yinji-psi-card-", dir=spill_dir) as tmp:
        spill = Spill(Path(tmp), spill_buckets)
        try:
            read = read_into_spill(spill, source, columns, os.urandom(32), report, kinds=kinds,
                              validate=validate, chunk_rows=chunk_rows)
            n = sum(spill.settle(b, report) for b in range(spill_buckets))
            if duplicates == "reject" and report.counts[ids.DUPLICATE]:
                exc = DuplicateKeys(report.first[ids.DUPLICATE])
                exc.args = (f"{report.counts[ids.DUPLICATE]} duplicate key row(s), first "
                            f"rows: {report.first[ids.DUPLICATE]}",)
                raise exc
        except Exception:
            stopped(party, peer)
            raise
        stage("read")
        count = cardinality_exchange(party, peer, n, _spilled(Path(tmp), spill_buckets),
                                     i_receive=me, peer_receives=them, batch_size=batch_size,
                                     workers=workers, work_dir=tmp)
        stage("exchange")
    return CardinalityResult(count, report, n, read)


__all__ = ["PART_TARGET", "SPILL_BUCKETS", "CardinalityResult", "cardinality_exchange",
           "partition_bits", "psi_cardinality_stream", "spill_count"]
