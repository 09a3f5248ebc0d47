"""Wire format: round trips for every allowed dtype and shape, strict rejection of bad frames."""

import io
import struct
import tracemalloc

import numpy as np
import pytest

from yinji.net.channel import ChannelClosed, MalformedFrame
from yinji.net.framing import (
    ALLOWED_DTYPES,
    HEADER_SIZE,
    FrameDecoder,
    encode_array,
    encode_bytes,
    read_frame,
)

SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 0, 3), (1,) * 8]


def wire(header: bytes, payload: memoryview) -> bytes:
    return header + bytes(payload)


def roundtrip(data: bytes, **kw):
    return read_frame(io.BytesIO(data).readinto, **kw)


def sample(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(7)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", ALLOWED_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_array_roundtrip(dtype, shape):
    a = sample(dtype, shape)
    header, payload = encode_array(a)
    frame = roundtrip(wire(header, payload))
    assert frame.value.dtype == dtype and frame.value.shape == shape
    np.testing.assert_array_equal(frame.value, a)
    assert frame.wire_bytes == HEADER_SIZE + 8 * len(shape) + a.nbytes == len(header) + len(payload)


def test_large_array_is_not_copied_on_encode():
    a = np.arange(10**6, dtype=np.uint64)
    header, payload = encode_array(a)
    assert np.shares_memory(np.frombuffer(payload, np.uint8), a)
    frame = roundtrip(wire(header, payload))
    np.testing.assert_array_equal(frame.value, a)


def test_big_endian_and_strided_inputs_are_converted():
    a = np.arange(12, dtype=">i4").reshape(3, 4).T
    frame = roundtrip(wire(*encode_array(a)))
    assert frame.value.dtype == np.dtype("<i4")
    np.testing.assert_array_equal(frame.value, a)


@pytest.mark.parametrize("data", [b"", b"x", bytes(range(256)) * 100])
def test_bytes_roundtrip(data):
    frame = roundtrip(wire(*encode_bytes(data)))
    assert frame.kind == 0 and frame.value == data and frame.wire_bytes == HEADER_SIZE + len(data)


@pytest.mark.parametrize("bad", [np.array(["a"]), np.array([1j]), np.zeros(2, dtype=np.float16),
                                 np.array([object()]), np.zeros(2, dtype="i4,i4")])
def test_disallowed_dtypes_are_not_sent(bad):
    with pytest.raises(TypeError, match="cannot be sent"):
        encode_array(bad)


def test_too_many_dims_are_not_sent():
    with pytest.raises(ValueError, match="dimensions"):
        encode_array(np.zeros((1,) * 9))


def test_decoder_fed_byte_by_byte():
    frames = [encode_array(np.arange(5.0)), encode_bytes(b"hi"), encode_array(np.zeros((0, 2)))]
    stream = b"".join(wire(h, p) for h, p in frames)
    decoder, got, pos = FrameDecoder(), [], 0
    while pos < len(stream):
        buf = decoder.buffer()
        buf[0] = stream[pos]
        pos += 1
        if (frame := decoder.advance(1)) is not None:
            got.append(frame.value)
    assert len(got) == 3 and got[1] == b"hi"
    np.testing.assert_array_equal(got[0], np.arange(5.0))
    assert got[2].shape == (0, 2) and decoder.at_boundary


def header(magic=b"YJNF", version=1, kind=1, code=8, ndim=1, length=8, dims=(1,)):
    return struct.pack("<4sBBBBQ", magic, version, kind, code, ndim, length) + struct.pack(
        f"<{len(dims)}Q", *dims)


@pytest.mark.parametrize("data, message", [
    (header(magic=b"PKL\x80") + bytes(8), "bad magic"),
    (header(version=9) + bytes(8), "version"),
    (header(kind=7) + bytes(8), "unknown frame kind"),
    (header(code=99) + bytes(8), "unknown dtype code 99"),
    (header(ndim=9, dims=(1,) * 9) + bytes(8), "ndim 9"),
    (header(length=16, dims=(1,)) + bytes(16), "needs 8 bytes but the frame announces 16"),
    (header(length=8, dims=(2**40, 2**40)), "needs"),
    (header(kind=0, code=8, ndim=0, dims=()) + bytes(8), "bytes frame with dtype"),
    (header(code=1, length=2, dims=(2,)) + b"\x01\x02", "bool"),
    # Empty arrays whose dimensions numpy cannot hold: once a ValueError past the parser.
    (header(code=2, ndim=2, length=0, dims=(2**63, 0)), "exceeds the limit"),
    (header(code=2, ndim=2, length=0, dims=(2**64 - 1, 0)), "exceeds the limit"),
    (header(code=8, ndim=3, length=0, dims=(2**40, 2**40, 0)), "exceeds the limit"),
])
def test_malformed_frames(data, message):
    with pytest.raises(MalformedFrame, match=message):
        roundtrip(data)


def test_payload_over_limit_is_refused_before_allocating():
    with pytest.raises(MalformedFrame, match="exceeds the limit"):
        roundtrip(header(length=2**40, dims=(2**37,)))
    with pytest.raises(MalformedFrame, match="exceeds the limit of 100 bytes"):
        roundtrip(wire(*encode_bytes(bytes(101))), max_payload=100)


@pytest.mark.parametrize("cut", [0, 5, HEADER_SIZE + 3, HEADER_SIZE + 8 + 100])
def test_truncated_frame_raises_channel_closed(cut):
    data = wire(*encode_array(np.arange(1000, dtype=np.uint64)))[:cut]
    match = "closed the connection$" if cut == 0 else "in the middle of a message"
    with pytest.raises(ChannelClosed, match=match):
        roundtrip(data)


def test_empty_arrays_with_plausible_dims_still_pass():
    frame = roundtrip(header(code=2, ndim=2, length=0, dims=(1000, 0)))
    assert frame.value.shape == (1000, 0)


@pytest.mark.parametrize("data", [
    header(code=8, length=8 << 30, dims=(1 << 30,)),  # 8 GiB of uint64
    header(kind=0, code=0, ndim=0, length=256 << 20, dims=()),  # 256 MiB of bytes
], ids=["array-8GiB", "bytes-256MiB"])
def test_announced_size_is_not_allocated_before_it_arrives(data):
    """The attack: a 16-byte header announcing gigabytes, a few bytes, then end of stream."""
    tracemalloc.start()
    try:
        with pytest.raises(ChannelClosed, match="in the middle of a message"):
            roundtrip(data + bytes(100))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20  # the initial buffer (1 MiB) and change, not the announced size


def test_buffer_grows_with_what_arrives():
    """Allocation stays within twice the bytes received (plus the initial buffer), and the
    payload still arrives whole."""
    from yinji.net.framing import INITIAL_BUFFER

    a = np.arange(3 << 20, dtype=np.uint64)  # 24 MiB
    data = wire(*encode_array(a))
    decoder, pos, frame = FrameDecoder(), 0, None
    while frame is None:
        buf = decoder.buffer()
        n = min(len(buf), 1 << 16, len(data) - pos)
        buf[:n] = data[pos:pos + n]
        pos += n
        assert decoder.allocated <= max(INITIAL_BUFFER, 2 * pos)
        frame = decoder.advance(n)
    np.testing.assert_array_equal(frame.value, a)
