"""Multi-party PSI for n >= 3 holders with one receiver: commutative X25519 blinding around a
ring (as in multi-party ECDH-PSI, e.g. Vaidya & Clifton 2005) whose fully blinded tags are
pooled, shuffled obliviously in the 3-party MPC engine and counted by an aggregator that holds
no set — so nobody sees any holder's tags next to another holder's.

Parties: the holders H_0..H_{n-1} (ring order as given; one of them is the receiver R) and an
aggregator G that holds no set (in a group of four companies: the fourth company for a
three-holder PSI, or a group-level node). The MPC session is [R, X, G] with X the first holder
after R.

1. Each holder draws a fresh X25519 scalar k_i, blinds the hashes of its keys in a random
   order, and sends them to the next holder; each holder blinds what it receives and passes
   it on, until every set comes back to its owner blinded by all n scalars: the tag
   T(x) = k_0···k_{n-1}·H(x) (first 16 bytes). Only the owner ever sees its set's tags.
2. Every holder secret-shares its tags into the session (R and X as session members, the
   others by sending each of the three compute parties its pair of replicated components).
3. The pooled tags are shuffled obliviously (no single compute party knows the order) and
   revealed to G only.
4. G finds the tags that occur n times (held by every holder) and sends them to R, which
   matches them with its own tags.

Rounds: n ring hops, 1 sharing round, 3 shuffle rounds, 1 reveal, 1 result message.
Group operations: every holder blinds every set once: sum of |S_j| per holder.

Adversary model: semi-honest. Holders may collude with each other (colluders learn no more
than what their own sets already tell them). The three compute parties R, X, G form an
honest majority: no two of them collude. G must not collude with any holder.

Leakage:
- Everyone learns the set sizes |S_j| (from the ring messages and the shapes of shares).
- R learns the intersection ∩_j S_j, and nothing about which other elements are held by whom.
- G learns the multiplicity histogram of the union: for each m = 1..n, the number of distinct
  elements held by exactly m holders (e.g. for n = 3: |S_0∩S_1∩S_2| and the sum
  |S_0∩S_1| + |S_0∩S_2| + |S_1∩S_2|, not any single pairwise size). Nothing else: tags are
  pseudo-random, G has no tag of its own, and the shuffle hides which holder a tag came from.
- Other holders learn only the set sizes.
- No pairwise intersection, and no single pairwise intersection size, is revealed to anyone
  while the assumptions hold. If G colludes with a holder h, they learn for each element of
  h how many holders have it; if two compute parties collude, they learn the origin of every
  tag and hence all pairwise intersections.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.crypto import x25519
from yinji.crypto.prg import Prg, fresh_seed
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.net.channel import Party
from yinji.psi.ecdh import TAG_BYTES, random_permutation
from yinji.psi.keys import PreparedKeys

DOMAIN = b"yinji/psi/multiparty/x25519/v1"
WORDS = TAG_BYTES // 8


def _share_external(prg: Prg, value: np.ndarray, session_names: Sequence[str],
                    party: Party) -> None:
    """A non-member holder's replicated sharing: member i gets (x_i, x_{i+1})."""
    x0 = prg.uint64(value.shape)
    x1 = prg.uint64(value.shape)
    x2 = value - x0 - x1
    comps = (x0, x1, x2)
    for i, name in enumerate(session_names):
        ch = party.channel(name)
        ch.send_array(comps[i])
        ch.send_array(comps[(i + 1) % 3])


def multiparty_psi(party: Party, holders: Sequence[str], receiver: str, aggregator: str,
                   keys: PreparedKeys | Sequence[bytes] | None = None, *,
                   workers: int | None = None) -> np.ndarray | None:
    """Intersection of all holders' key sets, to `receiver` only (module docstring).

    Holders pass their prepared unique `keys`; the aggregator passes None. Returns to the
    receiver the sorted positions (into its `keys`) of keys that every holder has; None to
    everyone else.
    """
    holders = list(holders)
    if len(holders) < 3 or len(set(holders)) != len(holders):
        raise ValueError(f"need at least three distinct holders, got {holders}")
    if receiver not in holders:
        raise ValueError(f"receiver {receiver!r} is not a holder")
    if aggregator in holders:
        raise ValueError("the aggregator must not hold a set: it would learn, for each of its "
                         "own elements, how many holders have it (see the module docstring)")
    n = len(holders)
    r_idx = holders.index(receiver)
    x_name = holders[(r_idx + 1) % n]
    names = [receiver, x_name, aggregator]
    me = party.name
    tags = None
    if me in holders:
        if keys is None:
            raise ValueError(f"holder {me} must pass keys")
        klist = keys.keys if isinstance(keys, PreparedKeys) else list(keys)
        if len(set(klist)) != len(klist):
            raise ValueError("keys must be unique (use prepare_keys)")
        i = holders.index(me)
        nxt, prv = party.channel(holders[(i + 1) % n]), party.channel(holders[(i - 1) % n])
        k = x25519.random_scalar()
        perm = random_permutation(len(klist))
        nxt.send_array(x25519.hash_and_mult(k, [klist[j] for j in perm], DOMAIN, workers))
        for _ in range(n - 1):
            got = prv.recv_array()
            if got.dtype != np.uint8 or got.ndim != 2 or got.shape[1] != x25519.POINT_BYTES:
                raise ValueError("malformed ring message")
            nxt.send_array(x25519.scalar_mult(k, got, workers))
        full = prv.recv_array()
        if full.shape != (len(klist), x25519.POINT_BYTES):
            raise ValueError("my set came back with the wrong size")
        tags = np.empty((len(klist), WORDS), dtype=np.uint64)
        tags[perm] = np.ascontiguousarray(full[:, :TAG_BYTES]).view(np.uint64)
    elif me != aggregator:
        raise ValueError(f"{me} is neither a holder nor the aggregator")
    elif keys is not None:
        raise ValueError("the aggregator holds no set")

    if me not in names:  # a holder outside the MPC session: share in from outside
        for name in names:
            party.channel(name).send_array(np.array([len(tags)], dtype=np.int64))
        _share_external(Prg(fresh_seed()), tags, names, party)
        return None

    s = Session(party, names)
    pieces: list[rep.Shares] = []
    sizes: dict[str, int] = {}
    for h in holders:  # pooled in holder order; the shuffle hides it
        if h in names:
            rank = names.index(h)
            if s.rank == rank:
                for other in names:
                    if other != me:
                        party.channel(other).send_array(np.array([len(tags)], dtype=np.int64))
                sizes[h] = len(tags)
            else:
                sizes[h] = int(party.channel(h).recv_array()[0])
            pieces.append(rep.share(s, tags if s.rank == rank else None, rank, (sizes[h], WORDS)))
        else:
            ch = party.channel(h)
            sizes[h] = int(ch.recv_array()[0])
            a, b = ch.recv_array(), ch.recv_array()
            if a.shape != (sizes[h], WORDS) or b.shape != a.shape or a.dtype != np.uint64:
                raise ValueError(f"malformed shares from {h}")
            pieces.append((a, b))
    pool = (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))
    pool = shuffle_rows(s, pool)
    opened = rep.reveal_to(s, pool, 2)
    if s.rank == 2:
        v = np.ascontiguousarray(opened).view(f"V{TAG_BYTES}").ravel()
        uniq, counts = np.unique(v, return_counts=True)
        if counts.size and counts.max() > n:
            party.channel(receiver).send_array(np.full((1, WORDS), 0, dtype=np.uint64))
            party.channel(receiver).send_array(np.array([1], dtype=np.int64))
            raise ValueError("a tag occurs more often than there are holders "
                             "(duplicate keys or a tag collision)")
        common = uniq[counts == n].view(np.uint64).reshape(-1, WORDS)
        party.channel(receiver).send_array(np.ascontiguousarray(common))
        party.channel(receiver).send_array(np.array([0], dtype=np.int64))
        return None
    if me != receiver:
        return None
    common = party.channel(aggregator).recv_array()
    if int(party.channel(aggregator).recv_array()[0]):
        raise ValueError("the aggregator found duplicate keys or a tag collision")
    mine = np.ascontiguousarray(tags).view(f"V{TAG_BYTES}").ravel()
    theirs = np.ascontiguousarray(common).view(f"V{TAG_BYTES}").ravel()
    return np.flatnonzero(np.isin(mine, theirs))


__all__ = ["multiparty_psi"]
