"""Three-party replicated secret sharing over Z_2^64 (ABY3-style), semi-honest, honest majority.

Typical use, run by each of the three parties with its own `Party`:

    s = Session(party, ["securities", "fund", "futures"])
    x = SharedTensor.share(s, my_column if s.rank == 0 else None, owner=0)
    total = x.sum().reveal()
"""

from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor, concatenate, stack, where

__all__ = ["Session", "SharedTensor", "concatenate", "stack", "where"]
