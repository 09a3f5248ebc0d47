"""Wire format of the PIR protocol over a `Channel`: a JSON header, then its parts.

Why JSON: headers are a handful of small fields (op, request id, version, status) that must
be parsed safely from an untrusted peer; payloads travel as raw bytes or typed NumPy arrays,
never pickled. The header lists its parts so a reader can always skip a whole message (a
client drops late replies to requests it already gave up on).
"""

from __future__ import annotations

import json

import numpy as np

from yinji.net.channel import Channel, MalformedFrame

MAX_HEADER_BYTES = 1 << 16

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


def recv_msg(ch: Channel) -> tuple[dict, list[Part]]:
    raw = ch.recv_bytes()
    if len(raw) > MAX_HEADER_BYTES:
        raise MalformedFrame(f"PIR header of {len(raw)} bytes from {ch.peer!r}")
    try:
        header = json.loads(raw)
        kinds = header["parts"]
        if not isinstance(header, dict) or not isinstance(kinds, list):
            raise TypeError
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedFrame(f"bad PIR header from {ch.peer!r}") from exc
    parts: list[Part] = []
    for kind in kinds:
        if kind == "array":
            parts.append(ch.recv_array())
        elif kind == "bytes":
            parts.append(ch.recv_bytes())
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


__all__ = ["MAX_HEADER_BYTES", "PirError", "expect_array", "expect_bytes", "recv_msg",
           "send_msg"]
