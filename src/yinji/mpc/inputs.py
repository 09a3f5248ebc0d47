"""Input parties: companies outside the three-party session that put values into it and take
results out of it (the "four companies, three compute parties" model of DESIGN.md, App layer).

An input party P has channels to the three compute parties c_0, c_1, c_2 (session order).

- `send_input` (run by P): P encodes its value v (fixed point, or integers with
  frac_bits=0), draws x_0, x_1 from a PRG seeded by `secrets` and sets x_2 = v - x_0 - x_1;
  it sends c_i the shape and then (x_i, x_{i+1}) -- the replicated sharing the engine uses
  (`receive_input`, run by each compute party, returns a `SharedTensor`).
- `reveal_outside` (run by each compute party) and `receive_output` (run by P): each compute
  party adds its part of a fresh zero-sharing to its first component and sends it to P only;
  P adds the three. The zero-sharing makes the components P receives uniform subject to
  their sum, independent of how the value was computed (of the other parties' input
  components, or of an earlier opening of the same value).

Adversary model: semi-honest; no two of the three compute parties collude (as yinji.mpc). An
input party is semi-honest and may collude with one compute party without breaking this.

Leakage:
- compute parties: the shape of each input (sent first; public as in `share`), nothing about
  its value -- each receives two components of three drawn from a stream only P holds.
- the input party receiving an output: the value, nothing else -- its three components are
  uniform subject to summing to the value.
- nobody else receives anything from an input or an output exchange.

Rounds: 1 for an input (shape and components in one flight), 1 for an output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.crypto.prg import Prg, fresh_seed
from yinji.mpc.ring import decode, encode
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.net import expect
from yinji.net.channel import MalformedFrame, Party

MAX_DIMS = 8
MAX_ELEMENTS = 1 << 28  # 2 GiB of components per compute party; jobs may set less


class InputError(ValueError):
    """An input party sent something that is not a sharing of the announced shape."""


def _ring(value: np.ndarray, frac_bits: int) -> np.ndarray:
    if frac_bits:
        return encode(value, frac_bits)
    if value.dtype.kind not in "iub":
        raise ValueError(f"frac_bits=0 needs integers, got {value.dtype}")
    return value.astype(np.int64).view(np.uint64)


def send_input(party: Party, compute: Sequence[str], value: np.ndarray | float,
               frac_bits: int = 16) -> None:
    """Run by an input party: secret-share `value` into the session of `compute` (the three
    compute parties' names, in session order)."""
    if len(compute) != 3 or party.name in compute:
        raise ValueError(f"an input party shares into three other parties, got {list(compute)}")
    raw = _ring(np.asarray(value), frac_bits)
    prg = Prg(fresh_seed())
    x0, x1 = prg.uint64(raw.shape), prg.uint64(raw.shape)
    comps = (x0, x1, raw - x0 - x1)
    shape = np.array(raw.shape, dtype=np.int64)
    for i, name in enumerate(compute):
        ch = party.channel(name)
        ch.send_array(shape)
        ch.send_array(comps[i])
        ch.send_array(comps[(i + 1) % 3])


def receive_input(s: Session, sender: str, frac_bits: int | None = None,
                  max_elements: int = MAX_ELEMENTS) -> SharedTensor:
    """Run by each compute party: the `SharedTensor` that input party `sender` shared. Refuses
    (InputError naming the sender) a shape, dtype or size that is not what was announced."""
    ch = s.party.channel(sender)
    shape = expect.recv_array(ch, f"input from {sender!r}: a shape", np.int64, (None,),
                              most=MAX_DIMS, error=InputError)
    if (shape < 0).any():
        raise InputError(f"input from {sender!r}: a shape of at most {MAX_DIMS} "
                         f"non-negative sizes expected, got {shape.tolist()}")
    dims = tuple(int(d) for d in shape)
    if int(np.prod(dims, dtype=object)) > max_elements:
        raise InputError(f"input from {sender!r}: {dims} is more than {max_elements:,} values")
    parts = [expect.recv_array(ch, f"input from {sender!r}: components", np.uint64, dims,
                               error=InputError) for _ in range(2)]
    f = s.frac_bits if frac_bits is None else frac_bits
    return SharedTensor(s, (parts[0], parts[1]), f)


def reveal_outside(x: SharedTensor, receiver: str) -> None:
    """Run by each compute party: open `x` to `receiver`, a party outside the session."""
    s = x.session
    if receiver in s.names:
        raise ValueError(f"{receiver!r} is a compute party: use SharedTensor.reveal_to")
    s.rounds += 1
    s.party.channel(receiver).send_array(x.shares[0] + s.zero_share(x.shape))


def receive_output(party: Party, compute: Sequence[str], frac_bits: int = 16,
                   max_elements: int = MAX_ELEMENTS) -> np.ndarray:
    """Run by the receiving input party: the value the compute parties open to it (floats
    for fixed point, int64 for frac_bits=0). Each component is refused unread past
    `max_elements` values (InputError naming the compute party)."""
    comps = []
    for name in compute:
        ch = party.channel(name)
        try:  # any shape: the size bound is what protects the receiver
            comps.append(ch.recv_array_at_most(8 * max_elements + expect.ARRAY_SLACK))
        except MalformedFrame as exc:
            raise InputError(f"output components from {name!r}: more than {max_elements:,} "
                             f"values ({exc})") from None
    shapes = {(c.dtype, c.shape) for c in comps}
    if len(shapes) != 1 or comps[0].dtype != np.uint64:
        raise InputError(f"output components from {list(compute)} disagree: "
                         f"{sorted(map(str, shapes))}")
    total = comps[0] + comps[1] + comps[2]
    return decode(total, frac_bits) if frac_bits else total.view(np.int64)


__all__ = ["InputError", "receive_input", "receive_output", "reveal_outside", "send_input"]
