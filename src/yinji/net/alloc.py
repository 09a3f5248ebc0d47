"""Keep large message buffers in the process heap instead of fresh memory maps.

Why: every message between parties allocates and frees multi-megabyte buffers (the payload
copy, the receive buffer, protocol temporaries). glibc serves blocks above its mmap threshold
with fresh mappings and unmaps them on free, so each message pays page faults and the kernel's
zeroing of new pages: ~10% of a TLS party's CPU in a multiplication of 10^6 elements (`perf`).
Raising the mmap and trim thresholds lets freed buffers be reused; the price is that the
process keeps its peak heap instead of returning it to the system.

`trim` is the other direction, for long streamed jobs whose memory must stay bounded: after
a large piece of work, hand the heap's free pages back (glibc's malloc_trim). Without it a
thread's arena keeps the free space that temporaries of varying sizes leave between live
blocks, and resident memory follows the largest mix ever seen instead of what is in use
(docs/linkage.md, Memory).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
LIMIT = 256 << 20  # blocks up to this size come from the heap

_done: bool | None = None
_libc: ctypes.CDLL | None | bool = None


def _glibc() -> ctypes.CDLL | None:
    """The C library with mallopt and malloc_trim (glibc), loaded once; None elsewhere."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                lib.malloc_trim.argtypes = [ctypes.c_size_t]
                lib.mallopt  # noqa: B018 - glibc's, or AttributeError
                _libc = lib
            except (OSError, AttributeError):
                pass
    return _libc or None


def keep_buffers() -> bool:
    """Apply the thresholds once per process (glibc only); True if they are in effect."""
    global _done
    if _done is None:
        libc = _glibc()
        _done = libc is not None and bool(libc.mallopt(_M_MMAP_THRESHOLD, LIMIT)) and \
            bool(libc.mallopt(_M_TRIM_THRESHOLD, 4 * LIMIT))
    return _done


def trim() -> bool:
    """Return the free pages of every arena to the system (glibc's malloc_trim(0); a no-op
    elsewhere); True if it ran. Costs a walk over the free lists and page faults when the
    pages are used again, so call it between large pieces of work, not in a hot loop."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
