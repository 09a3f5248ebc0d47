import sys

import pytest

from yinji.net.alloc import keep_buffers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning")
def test_keep_buffers_applies_once_and_stays_applied():
    assert keep_buffers() is True
    assert keep_buffers() is True


SCENARIO = """
import json, threading
import numpy as np
from yinji.net.alloc import trim

def rss_anon_mb():
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("RssAnon:")) / 1024

got = {}

def work():   # a thread of its own: its own arena, as a worker's task
    np.ones(8 << 20, np.uint8)   # freed at once: glibc's mmap threshold rises to 8 MB
    big, small = [], []
    for _ in range(40):
        big.append(np.ones(2 << 20, np.uint8))    # 80 MB from the arena
        small.append(np.ones(64, np.uint8))       # live, between the big blocks
    del big
    got["before"] = rss_anon_mb()
    got["ran"] = trim() if TRIM else False
    got["after"] = rss_anon_mb()

t = threading.Thread(target=work)
t.start()
t.join()
print(json.dumps(got))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
@pytest.mark.parametrize("trimmed", [True, False])
def test_trim_returns_the_free_heap_between_live_blocks(trimmed):
    """Freed blocks pinned under small live ones stay resident until `trim` (the
    fragmentation that made the streamed linkage's RSS follow its history, not its use).
    In a fresh interpreter: a test process's earlier allocations would blur the figures."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, "-c", f"TRIM = {trimmed}\n" + SCENARIO],
                         capture_output=True, text=True, timeout=60, check=True)
    got = json.loads(out.stdout)
    assert got["ran"] is trimmed
    released = got["before"] - got["after"]
    assert (released > 40) if trimmed else (released < 10), got
