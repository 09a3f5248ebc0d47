"""The linkage unit's partition work in streamed linkage (steps 4-5 of
`yinji.linkage.stream`): both owners' (row, pass, token) entries partitioned by the token on
disk, the over-cap blocks per partition, and each partition's candidate pairs joined and
scored piece by piece, the above-threshold pairs appended to a file (`acc_dtype`).
Adversary model and what each party learns: `yinji.linkage.stream`'s docstring (these
steps run on one party's own data and disk and send nothing themselves).

Memory per running task: one partition's token entries (28 bytes an entry, about
`PARTITION_ENTRIES` per side) and one piece's buffers (`PIECE` x (16 x passes + 3 x width)
bytes), plus the over-cap tokens and refined keys (8 bytes each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from yinji.linkage.blocking import join_pieces, over_cap, refined
from yinji.linkage.encoding import Schema
from yinji.linkage.match import above
from yinji.linkage.spill_io import member, read_rows, take_rows
from yinji.net.alloc import trim

PARTITION_ENTRIES = 1 << 20   # token entries per side aimed at in one partition (28 MB)
PIECE = 1 << 16               # candidate pairs scored at once
ENTRY = np.dtype([("t", "<u8"), ("s", "<u8"), ("q", "<i4"), ("r", "<i8")])


def partitions_for(n_a: int, n_b: int, passes: int,
                   entries: int = PARTITION_ENTRIES) -> int:
    """Partitions giving about `entries` token entries per side in each."""
    return max(1, -(-max(n_a, n_b) * passes // entries))


def arrays_path(d: Path, side: str, tok: np.ndarray, enc: np.ndarray
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


def partition_tokens(d: Path, side: str, tok: np.ndarray, parts: int, chunk_rows: int,
                     partners: Sequence[int]) -> None:
    """Append every nonzero (token, partner pass's token, pass, row) of `tok` to its
    partition's file (partition = token mod parts)."""
    pick = np.array([max(x, 0) for x in partners], dtype=np.int64)
    has = np.array([x >= 0 for x in partners], dtype=bool)
    for s in range(0, len(tok), chunk_rows):
        t = read_rows(tok, s, s + chunk_rows)
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


def _load(d: str, side: str, p: int) -> np.ndarray:
    """Partition p's token entries of one side (none: an empty array)."""
    path = Path(d) / f"{side}.part{p}"
    return np.fromfile(path, dtype=ENTRY) if path.exists() else np.zeros(0, ENTRY)


def partition_over_cap(d: str, p: int, passes: int, cap: int, partners: Sequence[int]
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


def over_by_pass(over: list[list[tuple[np.ndarray, np.ndarray]]], passes: int
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per pass, the partitions' over-cap tokens and refined keys, merged and sorted."""
    none = [np.zeros(0, np.uint64)]
    return [tuple(np.sort(np.concatenate([o[q][k] for o in over] or none)) for k in (0, 1))
            for q in range(passes)]


def _joined(t: np.ndarray, u: np.ndarray, sa: np.ndarray | None, sb: np.ndarray | None,
            over: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Mask of the pairs that a pass's join yields, from their tokens t, u of that pass and
    sa, sb of its partner pass (None: no refinement): equal nonzero token, and the block
    within the cap or its refined block (partner token equal too) within it. `over`: the
    pass's sorted over-cap tokens and refined keys."""
    hit = (t == u) & (t != 0)
    if len(over[0]) and hit.any():
        at = np.flatnonzero(hit)
        big = at[member(t[at], over[0])]
        hit[big] = False
        if sa is not None and sb is not None and len(big):
            s = sa[big]
            fine = (s == sb[big]) & (s != 0)
            fine[fine] = ~member(refined(t[big][fine], s[fine]), over[1])
            hit[big[fine]] = True
    return hit


def acc_dtype(n: int, width: int) -> np.dtype:
    """An accepted pair on disk: token rows (int32 below 2^31 records) and Dice counts
    (int16 while 16 x width fits; num, den <= 16 x width): 12 bytes a pair."""
    row_t = "<i4" if n < 1 << 31 else "<i8"
    cnt_t = "<i2" if 16 * width < 1 << 15 else "<i4"
    return np.dtype([("a", row_t), ("b", row_t), ("num", cnt_t), ("den", cnt_t)])


def score_partition(d: str, p: int, parts: int, src: list,
                    overs: list[tuple[np.ndarray, np.ndarray]], schema: Schema, cap: int,
                    partners: Sequence[int]) -> tuple[int, int]:
    """Partition p's candidate pairs (`partition_pairs`), scored piece by piece; the
    above-threshold ones are appended to the file acc{p} in `d` (`acc_dtype`), not kept.
    Returns (candidates, accepted) (a task). The piece's encoding rows go into buffers made
    once per task, so a piece allocates only its small index arrays and the process's heap
    does not fragment with the pieces (docs/linkage.md, Memory)."""
    (tok_a, enc_a, n_a, passes, width), (tok_b, enc_b, n_b, _, _) = src
    acc = acc_dtype(max(n_a, n_b), width)
    buf_x, buf_y, buf_z = (np.empty((PIECE, width), np.uint8) for _ in range(3))
    kept = accepted = 0
    with open(Path(d) / f"acc{p}", "wb") as fh:
        for ia, ib in partition_pairs(d, p, parts, src, overs, cap, partners):
            k = len(ia)
            kept += k
            x = take_rows(enc_a, np.uint8, n_a, width, ia, out=buf_x[:k])
            y = take_rows(enc_b, np.uint8, n_b, width, ib, out=buf_y[:k])
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
            ta = take_rows(tok_a, np.uint64, n_a, passes, ia, out=buf_ta[:k])
            tb = take_rows(tok_b, np.uint64, n_b, passes, ib, out=buf_tb[:k])
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


__all__ = ["ENTRY", "PARTITION_ENTRIES", "PIECE", "acc_dtype", "arrays_path", "over_by_pass",
           "partition_over_cap", "partition_pairs", "partition_tokens", "partitions_for",
           "score_partition"]
