import sys

import pytest

from yinji.net.alloc import keep_buffers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning")
def test_keep_buffers_applies_once_and_stays_applied():
    assert keep_buffers() is True
    assert keep_buffers() is True


def _rss_anon_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("RssAnon:")) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_trim_returns_the_free_heap_between_live_blocks():
    """Freed blocks pinned under small live ones stay resident until `trim` (the
    fragmentation that made the streamed linkage's RSS follow its history, not its use)."""
    import threading

    import numpy as np

    from yinji.net.alloc import trim

    got: dict[str, float] = {}

    def work() -> None:   # a thread of its own: its own arena, as a worker's task
        np.ones(8 << 20, np.uint8)   # freed at once: glibc's mmap threshold rises to 8 MB
        big, small = [], []
        for _ in range(40):
            big.append(np.ones(2 << 20, np.uint8))    # 80 MB from the arena
            small.append(np.ones(64, np.uint8))       # live, between the big blocks
        del big
        got["before"] = _rss_anon_mb()
        got["ran"] = trim()
        got["after"] = _rss_anon_mb()
        del small

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert got["ran"] is True
    assert got["before"] - got["after"] > 40, got
