"""Wire format of the PIR protocol over a `Channel`: a JSON header, then its parts.

Why JSON: headers are a handful of small fields (op, request id, version, status) that must
be parsed safely from an untrusted peer; payloads travel as raw bytes or typed NumPy arrays,
never pickled. The header lists its parts so a reader can always skip a whole message (a
client drops late replies to requests it already gave up on).

Limits, checked before anything is received: a header is a bytes message of at most
`MAX_HEADER_BYTES`, refused from its frame header (`Channel.recv_bytes_at_most`, which a TLS
channel enforces before reading the payload); a message has at most `max_parts` parts, each
of at most `max_part` bytes when the reader says so (the server does: see `PirServer`).
"""

from __future__ import annotations

import json

import numpy as np

from yinji.net.channel import Channel, MalformedFrame

MAX_HEADER_BYTES = 1 << 16
MAX_PARTS = 4  # the protocol sends at most one part per message

Part = bytes | np.ndarray


class PirError(Exception):
    """The peer answered with an error status (bad request, invalid point, …)."""


def send_msg(ch: Channel, header: dict, parts: tuple[Part, ...] = ()) -> None:
    header = dict(header, parts=["array" if isinstance(p, np.ndarray) else "bytes"
                                 for p in parts])
    ch.send_bytes(json.dumps(header, separators=(",", ":")).encode())
    for p in parts:
        if isinstance(p, np.ndarray):
            ch.send_array(p)
        else:
            ch.send_bytes(p)


def recv_msg(ch: Channel, max_part: int | None = None,
             max_parts: int = MAX_PARTS) -> tuple[dict, list[Part]]:
    """One message: its header and parts. Raises `MalformedFrame` (a `ChannelError`) for a
    header over `MAX_HEADER_BYTES` or not JSON, more than `max_parts` parts, or a part over
    `max_part` bytes; the channel is then out of step and should be closed."""
    raw = ch.recv_bytes_at_most(MAX_HEADER_BYTES)
    try:
        header = json.loads(raw)
        if not isinstance(header, dict) or not isinstance(header["parts"], list):
            raise TypeError
        kinds = header["parts"]
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise MalformedFrame(f"bad PIR header from {ch.peer!r}") from exc
    if len(kinds) > max_parts:
        raise MalformedFrame(f"PIR message with {len(kinds)} parts from {ch.peer!r} "
                             f"(at most {max_parts})")
    parts: list[Part] = []
    for kind in kinds:
        if kind == "array":
            parts.append(ch.recv_array() if max_part is None else
                         ch.recv_array_at_most(max_part))
        elif kind == "bytes":
            parts.append(ch.recv_bytes() if max_part is None else
                         ch.recv_bytes_at_most(max_part))
        else:
            raise MalformedFrame(f"unknown part kind {kind!r} from {ch.peer!r}")
    return header, parts


def expect_array(parts: list[Part], dtype: type, ndim: int) -> np.ndarray:
    """The single array part of a message, checked for dtype and rank."""
    if len(parts) != 1 or not isinstance(parts[0], np.ndarray):
        raise PirError("expected exactly one array part")
    arr = parts[0]
    if arr.dtype != dtype or arr.ndim != ndim:
        raise PirError(f"expected a {ndim}-d {np.dtype(dtype).name} array, got "
                       f"{arr.ndim}-d {arr.dtype}")
    return arr


def expect_bytes(parts: list[Part]) -> bytes:
    if len(parts) != 1 or not isinstance(parts[0], bytes):
        raise PirError("expected exactly one bytes part")
    return parts[0]


__all__ = ["MAX_HEADER_BYTES", "MAX_PARTS", "PirError", "expect_array", "expect_bytes", "recv_msg",
           "send_msg"]
