"""A seeded fuzzer for the frame parser (`yinji.net.framing`): random and mutated frames.

Why our own loop and not only a coverage-guided fuzzer: the property is simple and must hold
in CI on every commit, in seconds — whatever bytes arrive, `read_frame` returns frames or
raises `MalformedFrame` / `ChannelClosed`, and the payload buffer never grows past what
arrived (the decoder's `allocated` is checked against every stream's length). Streams are
valid frames of every dtype and kind, mutated: bit flips, header fields set to extreme values
(lengths and dimensions near 2^64, unknown kinds and dtypes, up to 255 dimensions),
truncation, appended garbage, two frames spliced, or plain random bytes; each is fed in
random-sized pieces. `tools/fuzz_frames.py` runs the same check for longer, or under atheris.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from yinji.net.channel import ChannelClosed, MalformedFrame
from yinji.net.framing import (
    ALLOWED_DTYPES,
    HEADER_SIZE,
    INITIAL_BUFFER,
    FrameDecoder,
    encode_array,
    encode_bytes,
)

MAX_PAYLOAD = 1 << 20  # the parser's limit in the fuzz runs: memory per stream stays small
_EXTREMES = [0, 1, 2, 7, 8, 255, 2**31, 2**32 - 1, 2**32, 2**62, 2**63 - 1, 2**63, 2**64 - 1,
             MAX_PAYLOAD, MAX_PAYLOAD + 1]
_POOL = 1024  # valid frames drawn once per run, then mutated


@dataclass
class FuzzStats:
    streams: int = 0
    frames: int = 0  # frames decoded
    malformed: int = 0
    closed: int = 0
    max_allocated: int = 0  # largest payload buffer the decoder held


class ParserBug(AssertionError):
    """The parser did something other than return frames or raise the framing errors."""


class Draw:
    """Cheap bounded random integers: one seeded batch from NumPy, handed out one by one."""

    def __init__(self, rng: np.random.Generator, batch: int = 1 << 16) -> None:
        self.rng, self.batch = rng, batch
        self._ints: Iterator[int] = iter(())

    def __call__(self, bound: int) -> int:
        """Uniform in 0..bound-1 (bound >= 1; the modulo bias is irrelevant here)."""
        try:
            return next(self._ints) % bound
        except StopIteration:
            self._ints = iter(self.rng.integers(0, 1 << 62, size=self.batch).tolist())
            return next(self._ints) % bound

    def bytes(self, n: int) -> bytes:
        return self.rng.bytes(n)


def valid_frame(draw: Draw) -> bytes:
    """One well-formed frame: bytes or an array of an allowed dtype, 0..3 dimensions."""
    if draw(10) < 3:
        header, payload = encode_bytes(draw.bytes(draw(200)))
    else:
        dtype = ALLOWED_DTYPES[draw(len(ALLOWED_DTYPES))]
        shape = tuple(draw(6) for _ in range(draw(4)))
        raw = draw.bytes(math.prod(shape) * dtype.itemsize)
        array = np.frombuffer(raw, dtype=np.uint8)
        if dtype == np.bool_ and draw(10):  # mostly valid booleans, sometimes not
            array = array & 1
        header, payload = encode_array(array.view(dtype).reshape(shape))
    return bytes(header) + bytes(payload)


def mutate(data: bytes, draw: Draw, pool: list[bytes]) -> bytes:
    """One random mutation of a stream (see the module docstring)."""
    choice = draw(8)
    buf = bytearray(data)
    if choice == 0 and buf:  # flip bits, mostly in the header and dims
        for _ in range(1 + draw(3)):
            buf[draw(min(len(buf), HEADER_SIZE + 24))] ^= 1 << draw(8)
    elif choice == 1 and len(buf) >= HEADER_SIZE:  # payload length: an extreme value
        struct.pack_into("<Q", buf, 8, _EXTREMES[draw(len(_EXTREMES))])
    elif choice == 2 and len(buf) > HEADER_SIZE:  # one dimension: an extreme value
        ndim = buf[7]
        if ndim and len(buf) >= HEADER_SIZE + 8 * ndim:
            struct.pack_into("<Q", buf, HEADER_SIZE + 8 * draw(ndim),
                             _EXTREMES[draw(len(_EXTREMES))])
    elif choice == 3 and len(buf) >= HEADER_SIZE:  # kind, dtype code or ndim: any byte
        buf[5 + draw(3)] = draw(256)
    elif choice == 4:  # truncate
        del buf[draw(len(buf) + 1):]
    elif choice == 5:  # garbage after it
        buf += draw.bytes(1 + draw(40))
    elif choice == 6:  # splice with another frame
        other = pool[draw(len(pool))]
        buf = buf[:draw(len(buf) + 1)] + other[draw(len(other) + 1):]
    else:  # random bytes, sometimes behind a valid magic and version
        buf = bytearray(draw.bytes(draw(64)))
        if draw(10) < 7:
            buf[:5] = b"YJNF\x01"
    return bytes(buf)


def streams(draw: Draw, n: int) -> Iterator[bytes]:
    """`n` streams: one valid frame in ten, the rest mutated (three in ten twice); some
    streams are two frames back to back."""
    pool = [valid_frame(draw) for _ in range(_POOL)]
    for _ in range(n):
        data = pool[draw(_POOL)]
        if draw(8) == 0:
            data += pool[draw(_POOL)]
        r = draw(10)
        if r < 9:
            data = mutate(data, draw, pool)
        if r < 3:
            data = mutate(data, draw, pool)
        yield data


def check_stream(data: bytes, pieces: list[int], stats: FuzzStats,
                 max_payload: int = MAX_PAYLOAD) -> None:
    """Decode `data` fed in pieces of the given sizes (cycled); raise `ParserBug` on anything
    but frames, `MalformedFrame` or `ChannelClosed`, or on a buffer larger than the bound."""
    decoder = FrameDecoder(max_payload)
    view, pos, k = memoryview(data), 0, 0
    stats.streams += 1
    try:
        while True:
            buf = decoder.buffer()
            n = min(len(buf), pieces[k % len(pieces)], len(data) - pos)
            k += 1
            if n == 0:
                if not decoder.at_boundary:
                    raise ChannelClosed("closed in the middle of a message")
                return
            buf[:n] = view[pos:pos + n]
            pos += n
            held = decoder.allocated
            if held > max(INITIAL_BUFFER, 2 * pos):
                raise ParserBug(f"buffer of {held} bytes after {pos} bytes of input")
            stats.max_allocated = max(stats.max_allocated, held)
            frame = decoder.advance(n)
            if frame is not None:
                stats.frames += 1
                if frame.kind not in (0, 1):
                    raise ParserBug(f"frame of unknown kind {frame.kind}")
    except MalformedFrame:
        stats.malformed += 1
    except ChannelClosed:
        stats.closed += 1
    except ParserBug:
        raise
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
        raise ParserBug(f"{type(exc).__name__}: {exc} on input {data[:80].hex()}") from exc


def fuzz(seed: int, n: int) -> FuzzStats:
    """Run `n` streams from `seed`; raises `ParserBug` on the first failure."""
    draw = Draw(np.random.default_rng(seed))
    stats = FuzzStats()
    whole = [1 << 30]
    for data in streams(draw, n):
        pieces = [1 + draw(64) for _ in range(3)] if draw(2) else whole
        check_stream(data, pieces, stats)
    return stats


__all__ = ["MAX_PAYLOAD", "Draw", "FuzzStats", "ParserBug", "check_stream", "fuzz", "mutate",
           "streams", "valid_frame"]
