"""Keep large message buffers in the process heap instead of fresh memory maps.

Why: every message between parties allocates and frees multi-megabyte buffers (the payload
copy, the receive buffer, protocol temporaries). glibc serves blocks above its mmap threshold
with fresh mappings and unmaps them on free, so each message pays page faults and the kernel's
zeroing of new pages: ~10% of a TLS party's CPU in a multiplication of 10^6 elements (`perf`).
Raising the mmap and trim thresholds lets freed buffers be reused; the price is that the
process keeps its peak heap instead of returning it to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
LIMIT = 256 << 20  # blocks up to this size come from the heap

_done: bool | None = None


def keep_buffers() -> bool:
    """Apply the thresholds once per process (glibc only); True if they are in effect."""
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                mallopt = libc.mallopt
            except (OSError, AttributeError):
                return False
            _done = bool(mallopt(_M_MMAP_THRESHOLD, LIMIT)) and \
                bool(mallopt(_M_TRIM_THRESHOLD, 4 * LIMIT))
    return _done
