"""What a large job result costs the recipient node: the old way (the whole intersection as a
sorted list in the result JSON) against `yinji.node.result_files` (a CSV file written as the
rows come, the JSON naming it).

    python benchmarks/result_files.py [--rows 5000000]

Prints, per way, the peak memory traced by tracemalloc (Python and NumPy allocations) and
the CPU seconds without tracing, for --rows 18-digit IDs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from yinji.node.audit import canonical
from yinji.node.result_files import write_table


def values(n: int) -> Iterator[str]:
    for i in range(n):
        yield f"{110101198001010000 + i * 7919:018d}"


def as_json(n: int) -> int:
    inter = list(values(n))
    return len(canonical({"intersection": sorted(inter), "size": len(inter)}))


def as_file(n: int) -> int:
    with tempfile.TemporaryDirectory() as d:
        entry, _ = write_table(Path(d), "intersection.csv", ["id"], ([v] for v in values(n)))
        return len(canonical({"size": entry["rows"], "file": entry}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    args = ap.parse_args()
    print(f"| {args.rows:,} rows | peak traced MiB | CPU s | result JSON bytes |")
    print("|---|---|---|---|")
    for name, fn in (("inline list (before)", as_json), ("file (result_files)", as_file)):
        t = time.process_time()
        size = fn(args.rows)
        cpu = time.process_time() - t
        tracemalloc.start()
        fn(args.rows)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"| {name} | {peak:.1f} | {cpu:.1f} | {size:,} |")


if __name__ == "__main__":
    main()
