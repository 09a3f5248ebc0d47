"""An MPC session: three named parties in a ring, their channels and their correlated randomness.

Set-up (one round, no dealer): party i samples a seed k_i and sends it to party i-1 over their
(authenticated, encrypted) channel. Afterwards party i holds k_i (shared with i-1) and k_{i+1}
(shared with i+1); the third party knows neither of the pair's keys. From each key we expand
independent AES-CTR streams (`yinji.crypto.prg`): "zero" for zero-sharings and "pair" for
randomness two parties draw in lockstep. Every party also has a private stream seeded from the OS.

Party ranks follow the order of `parties`; rank 2 is the helper ("dealer") in truncation and
conversion protocols. Nothing here is global: several sessions can live in one process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.crypto.prg import SEED_BYTES, Prg, derive, fresh_seed
from yinji.mpc.ring import DEFAULT_FRAC_BITS
from yinji.net import expect
from yinji.net.channel import Channel, Party


class Session:
    """One party's state in a 3-party replicated-secret-sharing session."""

    def __init__(self, party: Party, parties: Sequence[str], frac_bits: int = DEFAULT_FRAC_BITS):
        names = list(parties)
        if len(names) != 3 or len(set(names)) != 3:
            raise ValueError(f"an MPC session needs exactly three distinct parties, got {names}")
        if party.name not in names:
            raise ValueError(f"party {party.name!r} is not one of the session's parties {names}")
        if not 0 <= frac_bits <= 30:
            raise ValueError(f"frac_bits must be in 0..30, got {frac_bits}")
        self.party = party
        self.names = names
        self.rank = names.index(party.name)
        self.frac_bits = frac_bits
        self.rounds = 0
        self._chan = {r: party.channel(names[r]) for r in range(3) if r != self.rank}
        own = fresh_seed()
        self.chan(self.prev).send_bytes(own)
        nxt = self.chan(self.next).recv_bytes_at_most(SEED_BYTES)  # Prg refuses a short one
        self.rounds += 1
        # Streams shared with prev (key k_i) and with next (key k_{i+1}).
        self.zero_prev, self.zero_next = Prg(derive(own, "zero")), Prg(derive(nxt, "zero"))
        self.pair_prev, self.pair_next = Prg(derive(own, "pair")), Prg(derive(nxt, "pair"))
        self.private = Prg(fresh_seed())

    @property
    def next(self) -> int:
        return (self.rank + 1) % 3

    @property
    def prev(self) -> int:
        return (self.rank + 2) % 3

    def chan(self, rank: int) -> Channel:
        return self._chan[rank]

    def pair(self, rank: int) -> Prg:
        """The stream this party shares with party `rank`."""
        if rank == self.next:
            return self.pair_next
        if rank == self.prev:
            return self.pair_prev
        raise ValueError(f"no pair stream with rank {rank}")

    def send(self, rank: int, array: np.ndarray) -> None:
        self._chan[rank].send_array(array)

    def recv(self, rank: int, shape: tuple[int, ...]) -> np.ndarray:
        """The next array from party `rank`: refused unread past the size of `shape`, and
        unless it is uint64 of exactly that shape (a wrong-sized message would otherwise be
        broadcast by the arithmetic it enters, not refused). Every read in a session is
        bounded so: a party that does not know a shape has it announced first
        (`replicated.recv_shape`)."""
        return expect.recv_array(self._chan[rank], "shares", np.uint64, tuple(shape))

    def zero_share(self, shape: tuple[int, ...]) -> np.ndarray:
        """This party's part of a fresh arithmetic sharing of zero (parts sum to 0 mod 2^64)."""
        z = self.zero_prev.uint64(shape)
        z -= self.zero_next.uint64(shape)
        return z

    def zero_share_xor(self, shape: tuple[int, ...]) -> np.ndarray:
        """This party's part of a fresh XOR sharing of zero."""
        z = self.zero_prev.uint64(shape)
        z ^= self.zero_next.uint64(shape)
        return z
