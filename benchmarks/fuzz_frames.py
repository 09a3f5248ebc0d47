"""Long fuzzing runs of the frame parser (the CI test runs 10^5 frames; this runs for hours).

    .venv/bin/python benchmarks/fuzz_frames.py --seconds 3600          # seeded mutation fuzzer
    .venv/bin/python benchmarks/fuzz_frames.py --atheris --seconds 600  # coverage-guided

The property is the one of tests/net/test_fuzz.py (`yinji.testing.fuzz.check_stream`):
whatever bytes arrive, the parser returns frames or raises `MalformedFrame` / `ChannelClosed`,
and its payload buffer stays within twice the bytes received. The seeded mode runs batches of
10^5 streams with seeds start, start+1, ... and prints a failing seed, so a crash replays with
`fuzz(seed, 100000)`. `--atheris` needs `pip install atheris` (libFuzzer: it keeps a corpus
and steers mutations by the parser's coverage); a crash is written to ./crash-* by libFuzzer.
Peak RSS of the process is printed at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time


def seeded(seconds: float, start: int) -> int:
    from yinji.testing.fuzz import fuzz

    deadline = time.monotonic() + seconds
    seed, total, began = start, None, time.monotonic()
    print(f"{'seeds':>12} {'streams':>12} {'frames':>12} {'malformed':>12} {'closed':>12}")
    while time.monotonic() < deadline:
        try:
            stats = fuzz(seed, 100_000)
        except AssertionError as exc:
            print(f"FAILED at seed {seed}: {exc}", file=sys.stderr)
            return 1
        if total is None:
            total = stats
        else:
            for name in ("streams", "frames", "malformed", "closed"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            total.max_allocated = max(total.max_allocated, stats.max_allocated)
        seed += 1
        print(f"{start}..{seed - 1:>5} {total.streams:>12} {total.frames:>12} "
              f"{total.malformed:>12} {total.closed:>12}", flush=True)
    print(f"{total.streams if total else 0} streams in {time.monotonic() - began:.0f} s, "
          f"0 failures; largest payload buffer {total.max_allocated if total else 0} bytes")
    return 0


def coverage_guided(seconds: float) -> int:
    import atheris  # optional: pip install atheris

    with atheris.instrument_imports():
        from yinji.net import framing  # noqa: F401 - instrumented for coverage
        from yinji.testing.fuzz import FuzzStats, check_stream

    stats = FuzzStats()

    def one(data: bytes) -> None:
        if data:  # first byte: size of the pieces the stream is fed in (0: all at once)
            check_stream(data[1:], [data[0] or 1 << 30], stats)

    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=1024"], one)
    atheris.Fuzz()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1, help="first seed (seeded mode)")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided (libFuzzer)")
    args = parser.parse_args()
    code = coverage_guided(args.seconds) if args.atheris else seeded(args.seconds, args.seed)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS {peak} MiB")
    return code


if __name__ == "__main__":
    sys.exit(main())
