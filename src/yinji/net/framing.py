"""Wire format of one message: a fixed 16-byte header, array dims, then the raw payload.

Why a format of our own and not pickle: a peer is another company. Whatever it sends is
parsed as a numeric dtype from a short allowlist, a shape and a length that must agree, and
copied into a buffer we allocated; nothing it sends can make us run code.

Layout (little-endian)::

    magic "YJNF" | version u8 | kind u8 | dtype u8 | ndim u8 | payload length u64
    ndim x u64 dims (arrays only) | payload

Bytes messages have dtype 0 and ndim 0. Array payloads are C-ordered little-endian values.
`FrameDecoder` is incremental so a non-blocking reader can feed it, and it hands out the
buffer the payload is received into, so payloads are not copied on the way in.

Why the receive buffer grows as bytes arrive: a header is 16 bytes and announces up to
`max_payload` bytes. Allocating the announced size up front lets anyone who can send one
header (before authentication, or a peer that then sends nothing) make us reserve gigabytes.
The buffer starts at `initial` bytes at most (`INITIAL_BUFFER`, 1 MiB; a TLS channel uses its
read-ahead allowance, which the peer may fill anyway) and doubles when full, so what a frame
costs us is at most twice what the peer has actually sent, or `initial`. Payloads up to
`initial` get their buffer at once and are not copied; the doubling copies of larger ones
add up to less than one copy of the payload.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from yinji.net.channel import ChannelClosed, MalformedFrame

MAGIC = b"YJNF"
VERSION = 1
KIND_BYTES = 0
KIND_ARRAY = 1
MAX_NDIM = 8
DEFAULT_MAX_PAYLOAD = 16 << 30  # 16 GiB: the largest message an MPC/PSI channel accepts
INITIAL_BUFFER = 1 << 20  # payload bytes allocated before any arrive (MPC streams 1 MiB chunks)
_MAX_LIMIT = 1 << 62  # keeps every accepted shape within what numpy can represent

_HEADER = struct.Struct("<4sBBBBQ")
HEADER_SIZE = _HEADER.size  # 16

# The only dtypes that cross the wire; codes are part of the format, never renumber.
_CODE_TO_DTYPE: dict[int, np.dtype] = {
    1: np.dtype("|b1"),
    2: np.dtype("|u1"),
    3: np.dtype("|i1"),
    4: np.dtype("<u2"),
    5: np.dtype("<i2"),
    6: np.dtype("<u4"),
    7: np.dtype("<i4"),
    8: np.dtype("<u8"),
    9: np.dtype("<i8"),
    10: np.dtype("<f4"),
    11: np.dtype("<f8"),
}
_DTYPE_TO_CODE = {dt: code for code, dt in _CODE_TO_DTYPE.items()}
ALLOWED_DTYPES: tuple[np.dtype, ...] = tuple(_CODE_TO_DTYPE.values())


def encode_bytes(data: bytes | bytearray | memoryview) -> tuple[bytes, memoryview]:
    """Header and payload view of a bytes message (the payload is not copied)."""
    view = memoryview(data).cast("B")
    return _HEADER.pack(MAGIC, VERSION, KIND_BYTES, 0, 0, view.nbytes), view


def encode_array(array: np.ndarray) -> tuple[bytes, memoryview]:
    """Header and payload view of an array message.

    The payload is a view of `array`'s memory when it is already C-contiguous and
    little-endian (no copy), else of a converted copy. The caller keeps the array alive and
    unmodified until the payload has been written.
    """
    array = np.asarray(array)
    le = array.dtype.newbyteorder("<")
    code = _DTYPE_TO_CODE.get(le)
    if code is None:
        allowed = ", ".join(dt.name for dt in ALLOWED_DTYPES)
        raise TypeError(f"dtype {array.dtype} cannot be sent; allowed: {allowed}")
    if array.ndim > MAX_NDIM:
        raise ValueError(f"arrays of more than {MAX_NDIM} dimensions cannot be sent")
    if array.dtype != le or not array.flags.c_contiguous:
        array = np.array(array, dtype=le, order="C")  # keeps 0-d arrays 0-d
    header = _HEADER.pack(MAGIC, VERSION, KIND_ARRAY, code, array.ndim, array.nbytes)
    header += struct.pack(f"<{array.ndim}Q", *array.shape)
    return header, memoryview(array.reshape(-1).view(np.uint8))


@dataclass
class Frame:
    """A decoded message and the number of bytes it took on the wire (header included)."""

    kind: int
    value: bytes | np.ndarray
    wire_bytes: int


class FrameDecoder:
    """Incremental decoder: ask `buffer()` where the next bytes go, report them with `advance`.

    Every check on the header (magic, version, kind, dtype, rank, shape against length,
    length against `max_payload`) happens before any payload byte is accepted, and anything
    that fails raises `MalformedFrame` (nothing else). The payload buffer then grows with the
    bytes received (see the module docstring). `announced` tells a reader the size of the
    payload it is about to receive, so it can refuse or postpone it first.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD,
                 initial: int = INITIAL_BUFFER) -> None:
        if not 0 <= max_payload <= _MAX_LIMIT:
            raise ValueError(f"max_payload must be between 0 and {_MAX_LIMIT}, not {max_payload}")
        if initial < 1:
            raise ValueError(f"initial buffer must be at least 1 byte, not {initial}")
        self.max_payload, self.initial = max_payload, initial
        self._header = bytearray(HEADER_SIZE)
        self._reset()

    def _reset(self) -> None:
        self._stage = 0  # 0 fixed header, 1 dims, 2 payload
        self._view = memoryview(self._header)
        self._pos = 0
        self._kind = self._code = self._ndim = self._length = 0
        self._shape: tuple[int, ...] = ()
        self._data: np.ndarray | None = None  # payload received so far (uint8, grows)

    @property
    def at_boundary(self) -> bool:
        """True when no part of a frame has been received yet."""
        return self._stage == 0 and self._pos == 0

    @property
    def announced(self) -> int | None:
        """Payload size of the frame whose header is complete, until the frame is; else None."""
        return self._length if self._stage == 2 else None

    @property
    def allocated(self) -> int:
        """Bytes of payload buffer held right now (for memory bounds in tests)."""
        return 0 if self._data is None else self._data.nbytes

    def buffer(self) -> memoryview:
        """Writable view where the next incoming bytes must be stored (never empty)."""
        if self._stage == 2 and self._pos == len(self._view):
            self._grow()
        return self._view[self._pos:]

    def advance(self, n: int) -> Frame | None:
        """Record that `n` bytes were written into `buffer()`; return a frame when complete."""
        self._pos += n
        while True:
            if self._stage == 2:
                if self._pos == self._length:
                    return self._finish()
                return None
            if self._pos < len(self._view):
                return None
            if self._stage == 0:
                self._parse_header()
            else:
                self._parse_dims()

    def _parse_header(self) -> None:
        magic, version, kind, code, ndim, length = _HEADER.unpack(self._header)
        if magic != MAGIC:
            raise MalformedFrame(f"bad magic {magic!r} (expected {MAGIC!r})")
        if version != VERSION:
            raise MalformedFrame(f"unsupported frame version {version} (expected {VERSION})")
        if length > self.max_payload:
            raise MalformedFrame(
                f"payload of {length} bytes exceeds the limit of {self.max_payload} bytes")
        self._kind, self._code, self._ndim, self._length = kind, code, ndim, length
        if kind == KIND_BYTES:
            if code or ndim:
                raise MalformedFrame(f"bytes frame with dtype code {code} and ndim {ndim}")
            self._start_payload()
        elif kind == KIND_ARRAY:
            if code not in _CODE_TO_DTYPE:
                raise MalformedFrame(f"unknown dtype code {code}")
            if ndim > MAX_NDIM:
                raise MalformedFrame(f"ndim {ndim} exceeds the maximum of {MAX_NDIM}")
            if ndim == 0:
                self._parse_dims()
            else:
                self._stage, self._pos = 1, 0
                self._view = memoryview(bytearray(8 * ndim))
        else:
            raise MalformedFrame(f"unknown frame kind {kind}")

    def _parse_dims(self) -> None:
        shape = struct.unpack(f"<{self._ndim}Q", self._view) if self._ndim else ()
        dtype = _CODE_TO_DTYPE[self._code]
        expected = dtype.itemsize * math.prod(shape)  # Python ints: no overflow
        if expected != self._length:
            raise MalformedFrame(
                f"shape {shape} of {dtype.name} needs {expected} bytes but the frame "
                f"announces {self._length}")
        # An empty array may still claim absurd dimensions, e.g. (2**63, 0): numpy cannot
        # hold them, so they are refused here rather than failing later with ValueError.
        if dtype.itemsize * math.prod(d for d in shape if d) > max(self.max_payload, 1):
            raise MalformedFrame(f"shape {shape} of {dtype.name} exceeds the limit of "
                                 f"{self.max_payload} bytes")
        self._shape = shape
        self._start_payload()

    def _start_payload(self) -> None:
        self._stage, self._pos = 2, 0
        self._data = None
        self._view = memoryview(b"")

    def _grow(self) -> None:
        """Make room for more payload: `initial` bytes at first, then twice what is held."""
        held = self._data
        size = min(self._length, max(self.initial, 2 * self._pos))
        data = np.empty(size, dtype=np.uint8)
        if held is not None:
            data[:self._pos] = held[:self._pos]
        self._view.release()
        self._data, self._view = data, memoryview(data)

    def _finish(self) -> Frame:
        data, kind, shape = self._data, self._kind, self._shape
        dtype = _CODE_TO_DTYPE.get(self._code)
        wire = HEADER_SIZE + 8 * self._ndim + self._length
        self._view.release()
        self._reset()
        if data is None:
            data = np.empty(0, dtype=np.uint8)
        if kind == KIND_BYTES:
            return Frame(kind, data.tobytes(), wire)
        assert dtype is not None
        value = data.view(dtype).reshape(shape)
        if value.dtype == np.bool_ and value.size and data.max() > 1:
            raise MalformedFrame("bool array payload holds bytes other than 0 and 1")
        return Frame(kind, value, wire)


def read_frame(recv_into: Callable[[memoryview], int], *,
               max_payload: int = DEFAULT_MAX_PAYLOAD, peer: str = "peer") -> Frame:
    """Read exactly one frame with a blocking `recv_into` (socket-like: 0 means end of stream).

    End of stream before the first byte or in the middle of a frame raises `ChannelClosed`;
    an invalid frame raises `MalformedFrame` naming `peer`.
    """
    decoder = FrameDecoder(max_payload)
    while True:
        n = recv_into(decoder.buffer())
        if not n:
            where = "" if decoder.at_boundary else " in the middle of a message"
            raise ChannelClosed(f"{peer} closed the connection{where}")
        try:
            frame = decoder.advance(n)
        except MalformedFrame as exc:
            raise MalformedFrame(f"from {peer}: {exc}") from None
        if frame is not None:
            return frame


__all__ = [
    "ALLOWED_DTYPES",
    "DEFAULT_MAX_PAYLOAD",
    "HEADER_SIZE",
    "Frame",
    "FrameDecoder",
    "encode_array",
    "encode_bytes",
    "read_frame",
]
