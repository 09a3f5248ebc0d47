"""Fuzzing the frame parser: 10^5 random and mutated frames, deterministic and fast.

Property: whatever bytes a peer sends, the parser returns frames or raises `MalformedFrame`
or `ChannelClosed` (nothing else: no ValueError, MemoryError or OverflowError escapes), and
its payload buffer never exceeds about twice the bytes received. `tools/fuzz_frames.py` runs
the same property for longer; README "Reliability" says how long it ran.
"""

import tracemalloc

from yinji.testing.fuzz import MAX_PAYLOAD, fuzz

SEED = 20261206


def test_parser_survives_100k_random_and_mutated_frames():
    stats = fuzz(SEED, 100_000)
    assert stats.streams == 100_000
    # Every outcome was exercised, so the run is not vacuous.
    assert stats.frames > 10_000 and stats.malformed > 10_000 and stats.closed > 10_000, stats
    assert stats.max_allocated <= MAX_PAYLOAD


def test_fuzzing_memory_is_bounded():
    """Process allocations while parsing hostile streams (tracemalloc), not just the
    decoder's own account: the peak stays near one buffer."""
    tracemalloc.start()
    try:
        stats = fuzz(SEED + 1, 5_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.streams == 5_000 and peak < 4 * MAX_PAYLOAD, peak
