"""Checked reads of a peer's messages: each refused unread past the size the protocol expects
at that point (`Channel.recv_*_at_most`: a `TlsChannel` refuses the frame from its header,
before its payload arrives), then its content checked (dtype and shape, or JSON kind), with
an error naming the peer and what was expected.

Why: peers are semi-honest in the protocols' models, but a bug or a compromised node must not
make another node allocate without limit, nor compute on a message of the wrong shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from yinji.net.channel import Channel, MalformedFrame

ARRAY_SLACK = 1024   # bytes of array header a transport may count in an array message's size


class UnexpectedMessage(ValueError):
    """A peer's message of the wrong size, dtype, shape or kind (the message names the peer
    and what was expected)."""


def _shape_text(shape: Sequence[int | None], most: int | None) -> str:
    dims = ", ".join(f"<={most}" if s is None else str(s) for s in shape)
    return f"({dims}{',' if len(shape) == 1 else ''})"


def recv_array(ch: Channel, what: str, dtype: Any, shape: Sequence[int | None], *,
               most: int | None = None, error: type[ValueError] = UnexpectedMessage
               ) -> np.ndarray:
    """The peer's next array: `dtype` and `shape`, where a None dimension is any length up
    to `most`; refused unread past that size, else checked (`error` names the peer)."""
    if None in shape and most is None:
        raise TypeError("a shape with a free dimension needs `most`")
    dims = [most if s is None else s for s in shape]
    want = f"{what} as {np.dtype(dtype)} {_shape_text(shape, most)}"
    limit = np.dtype(dtype).itemsize * int(np.prod(dims, dtype=object)) + ARRAY_SLACK
    try:
        arr = ch.recv_array_at_most(limit)
    except MalformedFrame as exc:
        raise error(f"{ch.peer} sent an oversized message, expected {want}: {exc}") from None
    if arr.dtype != np.dtype(dtype) or arr.ndim != len(shape) or any(
            a > d if s is None else a != s for a, s, d in zip(arr.shape, shape, dims, strict=True)):
        raise error(f"{ch.peer} sent {arr.dtype} {arr.shape}, expected {want}")
    return arr


def recv_count(ch: Channel, what: str, most: int, *,
               error: type[ValueError] = UnexpectedMessage) -> int:
    """The peer's next count (a size it announces): one int64, refused unless 0..`most`."""
    n = int(recv_array(ch, what, np.int64, (1,), error=error)[0])
    if not 0 <= n <= most:
        raise error(f"{ch.peer} announced {what} of {n}, expected 0..{most:,}")
    return n


def recv_bytes(ch: Channel, what: str, limit: int, *, exact: bool = False,
               error: type[ValueError] = UnexpectedMessage) -> bytes:
    """The peer's next byte message, refused unread past `limit` bytes (`exact`: and
    unless it is exactly `limit` bytes long)."""
    want = f"{what} of {'exactly' if exact else 'at most'} {limit} bytes"
    try:
        data = ch.recv_bytes_at_most(limit)
    except MalformedFrame as exc:
        raise error(f"{ch.peer} sent an oversized message, expected {want}: {exc}") from None
    if exact and len(data) != limit:
        raise error(f"{ch.peer} sent {len(data)} bytes, expected {want}")
    return data


def recv_json(ch: Channel, what: str, limit: int, kind: type | tuple[type, ...] = (dict, list),
              *, error: type[ValueError] = UnexpectedMessage) -> Any:
    """The peer's next JSON message of `kind` (dict or list by default), refused unread past
    `limit` bytes; nesting deeper than the parser's recursion limit is refused as not JSON
    (json.loads raises RecursionError, not ValueError, on `[[[...`)."""
    data = recv_bytes(ch, what, limit, error=error)
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        raise error(f"{ch.peer} sent {what} that is not JSON (or nested too deeply)") from None
    if not isinstance(obj, kind):
        raise error(f"{ch.peer} sent {what} as a JSON {type(obj).__name__}, expected "
                    f"{getattr(kind, '__name__', None) or ' or '.join(k.__name__ for k in kind)}")
    return obj


__all__ = ["ARRAY_SLACK", "UnexpectedMessage", "recv_array", "recv_bytes", "recv_count",
           "recv_json"]
