"""Streamed record linkage (yinji.linkage.stream, `yinji link run --stream`): wall, CPU, peak
RSS, candidates, links and precision / recall for n records per side, with the encoding,
blocking and partition work on 1 or 2 workers (threads, or Ray tasks with one CPU each).

    python benchmarks/linkage_stream.py --n 100000 --workers ray:1,ray:2
    python benchmarks/linkage_stream.py --n 1000000 --workers local:1
    python benchmarks/linkage_stream.py --memory 20000,100000     # tracemalloc at two sizes
    python benchmarks/linkage_stream.py --memory 30000 --mpc --rss-only   # MPC mode, RSS

Data: the project's seeded Chinese identity set (yinji.testing.linkage_data), made in pieces
of 10^5 people (pieces have their own ids; namesakes across pieces come from common names),
written once to CSV under --dir. Each configuration runs in a fresh process (`--one`), so its
peak RSS is its own; Ray workers' CPU and peak RSS are read from /proc before Ray shuts down.
The results (a table row per run, and the cost model's inputs) are printed as Markdown and
appended as JSON lines to --log; the numbers of record are in docs/linkage.md, "Streaming".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

KEY = bytes(range(32))  # benchmark only
PIECE = 100_000


def write_inputs(directory: Path, n: int) -> tuple[Path, Path, Path]:
    """a_n.csv, b_n.csv and truth_n.csv (made once, in pieces of at most PIECE people)."""
    from yinji.testing.linkage_data import FIELDS, chinese_identity_set

    paths = [directory / f"{x}_{n}.csv" for x in ("a", "b", "truth")]
    if all(p.exists() for p in paths):
        return paths[0], paths[1], paths[2]
    files = [open(p, "w", newline="", encoding="utf-8") for p in paths]  # noqa: SIM115
    wa, wb = csv.DictWriter(files[0], FIELDS), csv.DictWriter(files[1], FIELDS)
    wt = csv.writer(files[2])
    wa.writeheader()
    wb.writeheader()
    wt.writerow(["a_id", "b_id"])
    for k, s in enumerate(range(0, n, PIECE)):
        d = chinese_identity_set(min(PIECE, n - s), seed=1000 + k)
        wa.writerows({**r, "id": f"p{k}{r['id']}"} for r in d.a)
        wb.writerows({**r, "id": f"p{k}{r['id']}"} for r in d.b)
        wt.writerows((f"p{k}{x}", f"p{k}{y}") for x, y in sorted(d.links))
    for f in files:
        f.close()
    return paths[0], paths[1], paths[2]


def _descendants() -> list[int]:
    """Pids of this process's descendants (Ray's raylet and workers), from /proc."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    parent[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    out, todo = [], [os.getpid()]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _proc_usage(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, max peak RSS MB) over `pids`."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, peak = 0.0, 0.0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            cpu += (int(f[11]) + int(f[12])) / tick
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return cpu, peak


class RssPeaks:
    """Peak anonymous and file-backed RSS of this process, sampled every `every` seconds
    from /proc/self/status (VmHWM is their sum's peak; mapped spill pages are file-backed,
    page cache the kernel can reclaim, the heap is anonymous)."""

    def __init__(self, every: float = 0.05) -> None:
        import threading

        self.anon = self.file = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._t.start()

    def sample(self) -> None:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(("RssAnon:", "RssFile:")):
                    mb = int(line.split()[1]) / 1024
                    if line.startswith("RssAnon:"):
                        self.anon = max(self.anon, mb)
                    else:
                        self.file = max(self.file, mb)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.sample()

    def stop(self) -> dict:
        self._stop.set()
        self._t.join()
        self.sample()
        return {"peak_anon_mb": self.anon, "peak_file_mb": self.file}


def blocking_rule(name: str):  # noqa: ANN201 - a Schema
    """PERSON with the blocking rule `name` (docs/linkage.md, Blocking at scale)."""
    import dataclasses

    from yinji.linkage.schemas import PERSON

    return {"default": PERSON,    # cap 250,000 up to 10^5 a side, 250 beyond, refined
            "old": dataclasses.replace(PERSON, scale_from=10**12, refine_by=()),
            "cap250": dataclasses.replace(PERSON, scale_from=0),
            "cap250-drop": dataclasses.replace(PERSON, scale_from=0, refine_by=())}[name]


def one(a: str, b: str, truth: str, workers: str, chunk: int, spill: str,
        keep: str | None = None, unit_only: bool = False, rule: str = "default") -> dict:
    """One configuration in this process: returns its measurements. `keep`: the owners'
    spills go to (or, with `unit_only`, are read from) keep/a and keep/b, kept. `rule`:
    the blocking rule (`blocking_rule`) the unit applies."""
    from yinji.linkage import stream as st
    from yinji.linkage.blocking import block_cap
    from yinji.linkage.schemas import PERSON
    from yinji.net.workers import LocalWorkers, RayWorkers

    kind, count = workers.split(":")
    w = (LocalWorkers(int(count)) if kind == "local"
         else RayWorkers(None, cpus=1, local_cpus=int(count)))
    kids = (lambda: _proc_usage(_descendants())[0]) if kind == "ray" else (lambda: 0.0)

    def cpu() -> tuple[float, float]:
        t = os.times()
        return t.user + t.system, kids()

    import contextlib

    rss = RssPeaks()
    t0 = time.perf_counter()
    c0 = os.times()
    stages = {}
    marks = [cpu()]

    def owner_dir(side: str):  # noqa: ANN202
        if keep is None:
            return tempfile.TemporaryDirectory(dir=spill)
        (Path(keep) / side).mkdir(parents=True, exist_ok=True)
        return contextlib.nullcontext(str(Path(keep) / side))

    def owner(src: str, d: str) -> st.OwnerSpill:
        meta = Path(d) / "meta.json"
        if unit_only:
            m = json.loads(meta.read_text())
            return st.OwnerSpill(Path(d), m["n"], m["width"], m["passes"])
        s = st.encode_source(src, PERSON, KEY, d, chunk_rows=chunk, workers=w)
        meta.write_text(json.dumps({"n": s.n, "width": s.width, "passes": s.passes}))
        return s

    try:
        with owner_dir("a") as da, owner_dir("b") as db, \
                tempfile.TemporaryDirectory(dir=spill) as du:
            sa = owner(a, da)
            stages["owner_a"] = time.perf_counter() - t0
            marks.append(cpu())
            sb = owner(b, db)
            stages["owner_b"] = time.perf_counter() - t0 - stages["owner_a"]
            marks.append(cpu())
            t1 = time.perf_counter()
            parts = st.partitions_for(sa.n, sb.n, sa.passes)
            schema = blocking_rule(rule)
            table, cands = st.link_spills((sa.tok, sa.enc), (sb.tok, sb.enc), schema, du,
                                          workers=w, chunk_rows=chunk)
            stages["unit"] = time.perf_counter() - t1
            marks.append(cpu())
            got = set(zip(sa.ids(sa.rows(table.a)), sb.ids(sb.rows(table.b)), strict=True))
            disk = sum(f.stat().st_size for d in (da, db, du) for f in Path(d).iterdir())
        wall = time.perf_counter() - t0
        ray_cpu, ray_peak = _proc_usage(_descendants()) if kind == "ray" else (0.0, 0.0)
    finally:
        w.close()
    c1 = os.times()
    with open(truth, encoding="utf-8") as fh:
        true = {(r[0], r[1]) for r in list(csv.reader(fh))[1:]}
    tp = len(got & true)
    # CPU per stage: (driver = serial reading, spilling, shuffling; workers = Ray tasks)
    cpu_stages = {name: [marks[k + 1][0] - marks[k][0], marks[k + 1][1] - marks[k][1]]
                  for k, name in enumerate(("owner_a", "owner_b", "unit"))}
    return {"n": sa.n, "n_b": sb.n, "workers": workers, "chunk": chunk, "partitions": parts,
            "cap": block_cap(schema, sa.n, sb.n), "unit_only": unit_only, "rule": rule,
            **rss.stop(),
            "wall": wall, "stages": stages, "cpu_stages": cpu_stages, "passes": sa.passes,
            "cpu_driver": (c1.user - c0.user) + (c1.system - c0.system), "cpu_ray": ray_cpu,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "ray_worker_peak_mb": ray_peak, "candidates": cands, "links": len(got),
            "precision": tp / max(len(got), 1), "recall": tp / max(len(true), 1),
            "spill_disk_mb": disk / 2**20, "load": os.getloadavg()}


def memory(a: str, b: str, chunk: int, spill: str, whole: bool = True,
           entries: int | None = None, trace: bool = True, mpc: bool = False) -> dict:
    """tracemalloc peak of the streamed run and (`whole`) of the in-memory one, same files.
    `mpc`: the streamed MPC mode (`mpc_stream.mpc_link_sources`: both owners and the
    receiver in threads of this process, so the peaks are the three parties' sum), with
    CPU seconds; no in-memory comparison."""
    import tracemalloc

    from yinji import textfile
    from yinji.linkage import stream as st
    from yinji.linkage.encoding import ClkEncoder
    from yinji.linkage.match import link_encodings, prepare
    from yinji.linkage.schemas import PERSON
    from yinji.net.workers import LocalWorkers

    parts = None
    if entries:   # partitions of `entries` token entries per side, whatever n
        with open(a, "rb") as fh:
            parts = st.partitions_for(sum(1 for _ in fh) - 1, 0, 28, entries)
    if trace:
        tracemalloc.start()
    rss = RssPeaks()
    t0 = time.perf_counter()
    c0 = os.times()
    if mpc:
        from yinji.linkage.mpc_stream import mpc_link_sources

        whole = False
        got = mpc_link_sources(a, b, PERSON, KEY, chunk_rows=chunk, workers=LocalWorkers(1),
                               spill_dir=spill, sink=lambda part: None)
    else:
        got = st.link_sources(a, b, PERSON, KEY, chunk_rows=chunk, workers=LocalWorkers(1),
                              spill_dir=spill, partitions=parts,
                              sink=None if whole else (lambda part: None))  # as the CLI
    wall = time.perf_counter() - t0
    c1 = os.times()
    streamed = tracemalloc.get_traced_memory()[1] if trace else 0
    if not whole:   # and the process's peak RSS (with tracemalloc's own bookkeeping)
        return {"streamed_mb": streamed / 2**20, "in_memory_mb": float("nan"),
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                **rss.stop(), "links": got.count, "candidates": got.candidates,
                "wall": wall, "cpu": (c1.user - c0.user) + (c1.system - c0.system),
                "mpc": mpc, "load": os.getloadavg()}
    tracemalloc.reset_peak()
    preps = []
    for p in (a, b):
        t = textfile.read_table(p)
        preps.append(prepare([dict(zip(t.header, r, strict=False)) for r in t.rows],
                             PERSON, KEY))
        del t
    enc = ClkEncoder(PERSON, KEY)
    link_encodings(enc.transmit(preps[0].bits), enc.transmit(preps[1].bits),
                   preps[0].tokens, preps[1].tokens, PERSON)
    whole = tracemalloc.get_traced_memory()[1]
    return {"streamed_mb": streamed / 2**20, "in_memory_mb": whole / 2**20}


def model(log: str, target: int = 10**8, machines: tuple[int, ...] = (1, 4, 16, 64)) -> None:
    """The per-chunk cost model from the largest Ray run in `log`, projected to `target`
    records per side on N machines (one worker CPU each; the owner's and the unit's driver
    work is serial). Candidates per record are a parameter: they are set by the blocking
    passes and their cap, not by streaming (see docs/linkage.md, Streaming)."""
    runs = [json.loads(x) for x in open(log) if '"cpu_stages"' in x and '"ray:' in x
            and '"unit_only": true' not in x]
    if not runs:
        print("no Ray runs with per-stage CPU in the log")
        return
    r = max(runs, key=lambda x: (x["n"], x["workers"]))
    n, cs, chunk = r["n"] + r["n_b"], dict(r["cpu_stages"]), r["chunk"]
    later = [json.loads(x) for x in open(log) if '"unit_only": true' in x]
    later = [u for u in later if u["n"] == r["n"] and u["workers"] == r["workers"]]
    if later:   # the unit's cost from the latest unit-only rerun on the same spills
        cs["unit"] = later[-1]["cpu_stages"]["unit"]
        r = {**r, "candidates": later[-1]["candidates"]}
    drv = (cs["owner_a"][0] + cs["owner_b"][0]) / n          # serial per record (owner)
    enc = (cs["owner_a"][1] + cs["owner_b"][1]) / n          # parallel per record (owner)
    unit_drv = cs["unit"][0] / n                            # serial per record (unit)
    per_pair = cs["unit"][1] / max(r["candidates"], 1)      # parallel per candidate
    k_seen = r["candidates"] / r["n"]
    print(f"from n={r['n']:,} per side ({r['workers']}, chunk {chunk:,}, load "
          f"{r['load'][0]:.1f}): per chunk of {chunk:,} records, owner driver "
          f"{drv * chunk:.1f} CPU s (read, ids, dates, spill, shuffle) + worker "
          f"{enc * chunk:.1f} CPU s (encode, block); unit driver {unit_drv * chunk:.2f} CPU s "
          f"per chunk of records partitioned, worker {per_pair * 1e9:.0f} ns per candidate; "
          f"{k_seen:.0f} candidates per record")
    print("| records per side | candidates per record | machines | owner h | unit h | "
          "total h |")
    print("|---|---|---|---|---|---|")
    # worst case beyond the measured sizes: every pass of every record in a block at the
    # cap, i.e. passes x sqrt(cap) candidates per record (block_cap, docs/linkage.md)
    k_max = r["passes"] * int(r.get("cap", 250) ** 0.5)
    for k in sorted({round(k_seen), k_max}):
        for m in machines:
            owner = target * (drv + enc / m)   # each owner on its own machines, in parallel
            unit = 2 * target * unit_drv + target * k * per_pair / m
            print(f"| {target:,} | {k:,} | {m} | {owner / 3600:.2f} | {unit / 3600:.2f} | "
                  f"{(owner + unit) / 3600:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="people per side")
    ap.add_argument("--workers", default="ray:1,ray:2", help="local:K or ray:K, comma list")
    ap.add_argument("--chunk", type=int, default=1 << 15)
    ap.add_argument("--memory", help="sizes for the tracemalloc comparison, e.g. 20000,100000")
    ap.add_argument("--entries", type=int,
                    help="with --memory: token entries per partition (default: the library's)")
    ap.add_argument("--rss-only", action="store_true",
                    help="with --memory --stream-only: peak RSS without tracemalloc")
    ap.add_argument("--stream-only", action="store_true",
                    help="with --memory: the streamed run only (no in-memory comparison)")
    ap.add_argument("--mpc", action="store_true",
                    help="with --memory: the streamed MPC mode (implies --stream-only)")
    ap.add_argument("--dir", default=str(Path(tempfile.gettempdir()) / "yinji-linkbench"))
    ap.add_argument("--log", default=None, help="append JSON lines here")
    ap.add_argument("--model", action="store_true",
                    help="print the cost model and the 10^8 projection from --log")
    ap.add_argument("--keep", help="keep the owners' spills in KEEP/a, KEEP/b (one --n)")
    ap.add_argument("--unit-only", action="store_true",
                    help="with --keep: rerun the unit on the kept spills (owners skipped)")
    ap.add_argument("--blocking", default="default",
                    choices=("default", "old", "cap250", "cap250-drop"),
                    help="the unit's blocking rule (docs/linkage.md, Blocking at scale)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.model:
        model(args.log)
        return
    d = Path(args.dir)
    d.mkdir(exist_ok=True)
    if args.one:
        kind, a, b, truth = json.loads(args.one)
        res = (memory(a, b, args.chunk, str(d), not args.stream_only, args.entries,
                      not args.rss_only, args.mpc)
               if kind == "memory"
               else one(a, b, truth, kind, args.chunk, str(d), args.keep, args.unit_only,
                        args.blocking))
        print(json.dumps(res))
        return
    runs = ([("memory", int(n)) for n in args.memory.split(",")] if args.memory
            else [(w, args.n) for w in args.workers.split(",")])
    # Ray workers import yinji from PYTHONPATH (this checkout, not an installed copy) and
    # run at the driver's priority (Ray's default niceness 15 starves them on a shared box)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")]),
        "RAY_worker_niceness": os.environ.get("RAY_worker_niceness", "0")}
    for kind, n in runs:
        a, b, truth = write_inputs(d, n)
        out = subprocess.run([sys.executable, __file__, "--chunk", str(args.chunk), "--dir",
                              str(d), *(["--stream-only"] if args.stream_only else []),
                              *(["--entries", str(args.entries)] if args.entries else []),
                              *(["--rss-only"] if args.rss_only else []),
                              *(["--mpc"] if args.mpc else []),
                              *(["--keep", args.keep] if args.keep else []),
                              *(["--unit-only"] if args.unit_only else []),
                              "--blocking", args.blocking,
                              "--one", json.dumps([kind, str(a), str(b), str(truth)])],
                             capture_output=True, text=True, check=False, env=env)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            continue
        res = {"kind": kind, "n": n, **json.loads(out.stdout.strip().splitlines()[-1])}
        if args.log:
            with open(args.log, "a") as fh:
                fh.write(json.dumps(res) + "\n")
        if kind == "memory":
            print(f"| {n:,} | {args.chunk} | {res['streamed_mb']:.1f} | "
                  f"{res['in_memory_mb']:.1f} | {res.get('rss_mb', float('nan')):.0f} | "
                  f"{res.get('peak_anon_mb', float('nan')):.0f} | "
                  f"{res.get('peak_file_mb', float('nan')):.0f} | {res.get('links', '')} | "
                  f"{res.get('candidates', '')} | {res.get('wall', float('nan')):.0f} | "
                  f"{res.get('cpu', float('nan')):.0f} | {res['load'][0] if 'load' in res else ''} |",
                  flush=True)
            continue
        s = res["stages"]
        print(f"| {n:,} | {kind} | {res['wall']:.0f} ({s['owner_a']:.0f} + {s['owner_b']:.0f} "
              f"+ {s['unit']:.0f}) | {res['cpu_driver']:.0f} + {res['cpu_ray']:.0f} | "
              f"{res['peak_rss_mb']:.0f} / {res['ray_worker_peak_mb']:.0f} | "
              f"{res['candidates']:,} | {res['links']:,} | {res['precision']:.4f} | "
              f"{res['recall']:.4f} | {res['partitions']} | {res['spill_disk_mb']:.0f} | "
              f"{res['load'][0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
