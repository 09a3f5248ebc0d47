"""Where the streamed linkage's memory goes, phase by phase (a diagnostic for
benchmarks/linkage_stream.py's memory mode; the library is not instrumented, its phase
functions are wrapped here).

    python benchmarks/linkage_phases.py --n 300000                  # owners + unit
    python benchmarks/linkage_phases.py --spill /tmp/yinji-linkbench/keep_1e6_run2 --trace
    MALLOC_ARENA_MAX=2 python benchmarks/linkage_phases.py --n 100000 --trim

Per phase (owner a, owner b, partition, over-cap, score, one-to-one, resolve): the peak of
the process's anonymous and file-backed RSS (sampled every 20 ms), glibc's view of its heap
at that peak (bytes in use in the arenas + mmapped blocks, and bytes free but held by the
arenas: fragmentation, `mallinfo2`), and with --trace tracemalloc's peak of Python and
NumPy allocations within the phase. --trim calls malloc_trim(0) between phases. Sizes
that may grow with n (over-cap tokens, accepted pairs, partition entries) are printed too.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

KEY = bytes(range(32))  # benchmark only


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(k, ctypes.c_size_t) for k in ("arena", "ordblks", "smblks", "hblks",
                                               "hblkhd", "usmblks", "fsmblks", "uordblks",
                                               "fordblks", "keepcost")]


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = _Mallinfo2


def heap() -> tuple[float, float]:
    """(MB in use: arena chunks + mmapped blocks, MB free but held by the arenas)."""
    m = LIBC.mallinfo2()
    return (m.uordblks + m.hblkhd) / 2**20, m.fordblks / 2**20


def rss() -> tuple[float, float]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out["RssAnon"], out["RssFile"]


class Phases:
    """Peak RSS (anon, file) and the heap at that peak, per named phase."""

    def __init__(self, trace: bool, trim: bool) -> None:
        self.trace, self.trim = trace, trim
        self.name = "start"
        self.peak: dict[str, dict] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def sample(self) -> None:
        a, f = rss()
        with self.lock:
            p = self.peak.setdefault(self.name, {"anon": 0.0, "file": 0.0})
            if a > p["anon"]:
                used, free = heap()
                p.update(anon=a, used=used, free=free)
            p["file"] = max(p["file"], f)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def enter(self, name: str) -> None:
        self.sample()
        if self.trace:
            self.peak.setdefault(self.name, {})["traced"] = \
                tracemalloc.get_traced_memory()[1] / 2**20
        if self.trim:
            LIBC.malloc_trim(0)
        with self.lock:
            self.name = name
        if self.trace:
            tracemalloc.reset_peak()
        self.sample()

    def stop(self) -> dict:
        self.enter("end")
        self._stop.set()
        self._t.join()
        return self.peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, help="records per side (files under --dir)")
    ap.add_argument("--spill", help="kept owner spills (KEEP/a, KEEP/b: linkage_stream --keep)")
    ap.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "yinji-linkbench"))
    ap.add_argument("--chunk", type=int, default=8192)
    ap.add_argument("--trace", action="store_true", help="tracemalloc peaks per phase")
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) between phases")
    args = ap.parse_args()

    from yinji.linkage import one_to_one_disk as otd
    from yinji.linkage import stream as st
    from yinji.linkage.schemas import PERSON
    from yinji.linkage.unit_partitions import ENTRY
    from yinji.net.workers import LocalWorkers

    if args.trace:
        tracemalloc.start()
    ph = Phases(args.trace, args.trim)
    info: dict = {}
    w = LocalWorkers(1)

    def wrap(name: str, fn):  # noqa: ANN001, ANN202
        def run(*a, **k):  # noqa: ANN002, ANN003, ANN202
            if ph.name != name:
                ph.enter(name)
            return fn(*a, **k)
        return run

    orig_score, orig_over = st.score_partition, st.partition_over_cap

    def score(*a):  # noqa: ANN002, ANN202
        got = orig_score(*a)   # (candidates, accepted), or earlier ((ia, ...), candidates)
        m, k = got if isinstance(got[0], int) else (got[1], len(got[0][0]))
        info.setdefault("accepted", []).append(k)
        info.setdefault("candidates", []).append(m)
        return got

    def over(d, p, *a):  # noqa: ANN001, ANN002, ANN202
        got = orig_over(d, p, *a)
        info.setdefault("entries", []).append(
            [int((Path(d) / f"{s}.part{p}").stat().st_size // ENTRY.itemsize)
             for s in "ab"])
        info.setdefault("over", []).append(sum(len(x) + len(y) for x, y in got))
        return got

    # link_spills (stream) calls these by its module's names; one_to_one_disk the last
    st.partition_tokens = wrap("partition", st.partition_tokens)
    st.partition_over_cap = wrap("over_cap", over)
    st.score_partition = wrap("score", score)
    otd.greedy_one_to_one = wrap("one_to_one", otd.greedy_one_to_one)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        if args.spill:
            sides = []
            for s in "ab":
                m = json.loads((Path(args.spill) / s / "meta.json").read_text())
                sides.append(st.OwnerSpill(Path(args.spill) / s, m["n"], m["width"],
                                           m["passes"]))
        else:
            sides = []
            for s in "ab":
                ph.enter(f"owner_{s}")
                (Path(tmp) / s).mkdir()
                sides.append(st.encode_source(str(Path(args.dir) / f"{s}_{args.n}.csv"),
                                              PERSON, KEY, Path(tmp) / s,
                                              chunk_rows=args.chunk, workers=w))
        sa, sb = sides
        (Path(tmp) / "u").mkdir()
        table, cands = st.link_spills((sa.tok, sa.enc), (sb.tok, sb.enc), PERSON,
                                      Path(tmp) / "u", workers=w, chunk_rows=args.chunk)
        ph.enter("resolve")
        st.resolve_links(sa, sb, table, lambda part: None)
    peak = ph.stop()
    res = {"n": sa.n, "links": len(table), "candidates": cands,
           "accepted": sum(info["accepted"]), "over_keys": sum(info["over"]),
           "max_entries": max(max(e) for e in info["entries"]),
           "partitions": len(info["entries"]), "wall": time.perf_counter() - t0,
           "phases": peak}
    print(json.dumps(res))
    print(f"n={sa.n:,} links={len(table):,} candidates={cands:,} accepted="
          f"{res['accepted']:,} over-cap keys={res['over_keys']:,} partitions="
          f"{res['partitions']} max entries/side={res['max_entries']:,}", file=sys.stderr)
    print("| phase | anon MB | file MB | malloc in use MB | malloc free held MB | traced MB |",
          file=sys.stderr)
    for k, v in peak.items():
        print(f"| {k} | {v.get('anon', 0):.0f} | {v.get('file', 0):.0f} | "
              f"{v.get('used', 0):.0f} | {v.get('free', 0):.0f} | "
              f"{v.get('traced', float('nan')):.0f} |", file=sys.stderr)


if __name__ == "__main__":
    main()
