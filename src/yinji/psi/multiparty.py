"""Multi-party PSI for n >= 3 holders with one receiver: a three-key oblivious PRF on
ristretto255 (the 2HashDH OPRF of Jarecki, Kiayias & Krawczyk 2014, with the key split over
the three compute parties in sequence) gives every holder the tags of its own keys; the tags
are pooled as secret shares, shuffled obliviously in the 3-party MPC engine and opened only to
an aggregator that holds no set.

Parties: the holders H_0..H_{n-1} (one of them is the receiver R) and an aggregator G that
holds no set (in a group of four companies: the fourth company for a three-holder PSI, or a
group-level node). The compute parties are [R, X, G] with X the holder after R in `holders`.

1. Each compute party c in (R, X, G) draws a fresh key k_c; each holder h a fresh blind r_h.
   The tag of a key x is T(x) = first 16 bytes of k_R·k_X·k_G·H(x).
2. Holder h sends r_h·H(x) for its keys to R; R multiplies by k_R and passes the batch to X,
   X by k_X and passes it to G, G by k_G and returns it to h, which removes r_h (·1/r_h) and
   holds T(x) for its own keys. Every batch a compute party sees is a uniformly random
   group element times r_h, which only h knows.
3. Every holder secret-shares its tags into the session (R and X as session members, the
   others by sending each compute party its pair of replicated components).
4. The pooled tags are shuffled obliviously (no single compute party knows the order) and
   opened to G only. G finds the tags that occur n times and sends them to R, which looks
   up its own tags among them.

Why not the commutative ring this module used before: there, each set travelled around the
holders and the holder before its owner applied the last key, so it held the finished tags
of its successor's set and, once its own set came back finished, learned which of its keys
the successor holds (and the receiver likewise). Here no holder ever receives a tag, or a
blinded value it can unblind, of any set but its own (R receives, besides, exactly the tags
of the intersection: its output), and only G sees the tags of all sets, shuffled.

A holder does know the tags of its own keys. That helps nobody unless G colludes with it,
which the model excludes; if it does, they learn how many holders have each of the holder's
elements (the collusion leak the ring design stated too). Hiding a holder's own tags from
it would need the last exponentiation done inside the MPC engine, i.e. curve arithmetic on
Z_2^64 shares, far costlier than these 5 group operations per element.

Rounds: 4 OPRF hops, 1 size exchange, 1 sharing round, 3 shuffle rounds, 1 reveal, 1 result
message. Group operations per element: 2 by its holder (blind, unblind), 1 each by R, X, G.

Adversary model: semi-honest. The three compute parties R, X, G form an honest majority: no
two of them collude. G must not collude with any holder. Holders may otherwise collude with
each other: a coalition of holders that contains at most one of R and X learns nothing
beyond its own sets, their sizes and (if R is in it) the output.

Leakage:
- R, X and G learn every set size |S_j| (batch and share shapes); a holder outside the
  session learns no other set's size.
- R learns the intersection ∩_j S_j and nothing else: besides masked shares it receives
  only the blinded batches (random group elements), its own OPRF answers and the common tags,
  which are exactly the tags of its intersection keys.
- X learns nothing beyond the sizes; other holders learn nothing at all: each receives only
  the OPRF answer for its own keys.
- G learns the multiplicity histogram of the union: for each m = 1..n, the number of distinct
  elements held by exactly m holders (for n = 3: |S_0∩S_1∩S_2| and the sum
  |S_0∩S_1| + |S_0∩S_2| + |S_1∩S_2|, not any single pairwise size). The pool is shuffled
  and its tags are PRF values under a key split over R, X and G, so G can neither tell which
  holder a tag came from nor compute the tag of any key; the blinded batches it handles are
  tied to their holders but independent of the tags (DDH).
- No pairwise intersection and no pairwise intersection size is revealed to anyone while the
  assumptions hold. If G colludes with a holder h they learn, for each element of h, how many
  holders have it; if two compute parties collude, they learn which holder each tag came from
  and so all pairwise intersections (as tags; they still miss the third key, so they cannot
  test keys they do not hold).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.crypto import group
from yinji.crypto.prg import Prg, fresh_seed
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.net.channel import Channel, Party
from yinji.net.expect import recv_array, recv_count
from yinji.psi.ecdh import TAG_BYTES
from yinji.psi.keys import PreparedKeys

DOMAIN = b"yinji/psi/multiparty/ristretto255/v2"
WORDS = TAG_BYTES // 8
MAX_KEYS = 1 << 27   # keys a holder may bring (its points: 4 GB)


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


def _recv_points(ch: Channel, what: str, size: int | None = None) -> np.ndarray:
    """A batch of encoded group elements: exactly `size`, else at most MAX_KEYS of them."""
    return recv_array(ch, what, np.uint8, (size, group.POINT_BYTES),
                      most=MAX_KEYS if size is None else None)


def _oprf_chain(party: Party, holders: list[str], chain: list[str], my_keys: list[bytes] | None,
                workers: int | None) -> np.ndarray | None:
    """Steps 1-2: returns this holder's tags ((n, WORDS) uint64, in key order), or None to G.

    Every holder sends its blinded batch to chain[0]; chain party i multiplies each holder's
    batch by its key and passes it to chain[i+1] (the last one returns it to its holder).
    """
    me = party.name
    blinded = None
    if my_keys is not None:
        r = group.random_scalar()
        blinded = group.hash_and_mult_points(r, my_keys, DOMAIN, workers)
        if me != chain[0]:
            party.channel(chain[0]).send_array(blinded)
    if me in chain:
        pos = chain.index(me)
        k = group.random_scalar()
        src = party.channel(chain[pos - 1]) if pos else None
        for h in holders:
            if pos:
                got, sender = _recv_points(src, f"{h}'s points"), chain[pos - 1]
            elif h == me:
                got, sender = blinded, me
            else:
                got, sender = _recv_points(party.channel(h), "its blinded keys"), h
            try:
                out = group.mult_points(k, got, workers)
            except group.InvalidPoint as exc:
                raise group.InvalidPoint(f"{sender} sent invalid points: {exc}") from None
            # The last compute party (G) holds no set, so it never answers itself.
            party.channel(chain[pos + 1] if pos + 1 < len(chain) else h).send_array(out)
    if my_keys is None:
        return None
    answer = _recv_points(party.channel(chain[-1]), f"the answers to {len(my_keys)} keys",
                          len(my_keys))
    full = group.mult_points(group.scalar_inverse(r), answer, workers)
    return np.ascontiguousarray(full[:, :TAG_BYTES]).view(np.uint64).reshape(-1, WORDS)


def _check(party: Party, holders: Sequence[str], receiver: str, aggregator: str,
           keys: PreparedKeys | Sequence[bytes] | None) -> list[bytes] | None:
    if len(holders) < 3 or len(set(holders)) != len(holders):
        raise ValueError(f"need at least three distinct holders, got {list(holders)}")
    if receiver not in holders:
        raise ValueError(f"receiver {receiver!r} is not a holder")
    if aggregator in holders:
        raise ValueError("the aggregator must not hold a set: it would learn, for each of its "
                         "own elements, how many holders have it (see the module docstring)")
    me = party.name
    if me == aggregator:
        if keys is not None:
            raise ValueError("the aggregator holds no set")
        return None
    if me not in holders:
        raise ValueError(f"{me} is neither a holder nor the aggregator")
    if keys is None:
        raise ValueError(f"holder {me} must pass keys")
    klist = keys.keys if isinstance(keys, PreparedKeys) else list(keys)
    if any(not isinstance(k, bytes) for k in klist):
        raise TypeError("keys must be bytes (use yinji.psi.keys.prepare_keys)")
    if len(set(klist)) != len(klist):
        raise ValueError("keys must be unique (use prepare_keys)")
    return klist


def multiparty_psi(party: Party, holders: Sequence[str], receiver: str, aggregator: str,
                   keys: PreparedKeys | Sequence[bytes] | None = None, *,
                   workers: int | None = None) -> np.ndarray | None:
    """Intersection of all holders' key sets, to `receiver` only (module docstring).

    Holders pass their prepared unique `keys`; the aggregator passes None. Returns to the
    receiver the sorted positions (into its `keys`) of keys that every holder has; None to
    everyone else.
    """
    holders = list(holders)
    klist = _check(party, holders, receiver, aggregator, keys)
    n = len(holders)
    x_name = holders[(holders.index(receiver) + 1) % n]
    names = [receiver, x_name, aggregator]
    me = party.name
    tags = _oprf_chain(party, holders, names, klist, workers)

    if me not in names:  # a holder outside the MPC session: share in from outside
        for name in names:
            party.channel(name).send_array(np.array([len(tags)], dtype=np.int64))
        _share_external(Prg(fresh_seed()), tags, names, party)
        return None

    s = Session(party, names)
    pieces: list[rep.Shares] = []
    for h in holders:  # pooled in holder order; the shuffle hides it
        if h in names:
            rank = names.index(h)
            if s.rank == rank:
                for other in names:
                    if other != me:
                        party.channel(other).send_array(np.array([len(tags)], dtype=np.int64))
                size = len(tags)
            else:
                size = recv_count(party.channel(h), "its set size", MAX_KEYS)
            pieces.append(rep.share(s, tags if s.rank == rank else None, rank, (size, WORDS)))
        else:
            ch = party.channel(h)
            size = recv_count(ch, "its set size", MAX_KEYS)
            pieces.append(tuple(recv_array(ch, f"its share {i} of {size} tags", np.uint64,
                                           (size, WORDS)) for i in (0, 1)))
    pool = (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))
    pool = shuffle_rows(s, pool, overwrite=True)  # the concatenation is ours
    opened = rep.reveal_to(s, pool, 2)
    if s.rank == 2:
        return _aggregate(party, receiver, opened, n)
    if me != receiver:
        return None
    ch = party.channel(aggregator)   # the common tags are some of the receiver's own
    common = recv_array(ch, "the common tags", np.uint64, (None, WORDS), most=len(tags))
    if int(recv_array(ch, "its collision flag", np.int64, (1,))[0]):
        raise ValueError("the aggregator found duplicate keys or a tag collision")
    mine = np.ascontiguousarray(tags).view(f"V{TAG_BYTES}").ravel()
    theirs = np.ascontiguousarray(common).view(f"V{TAG_BYTES}").ravel()
    return np.flatnonzero(np.isin(mine, theirs))


def _aggregate(party: Party, receiver: str, opened: np.ndarray, n: int) -> None:
    """G: send R the tags that occur n times (and a failure flag)."""
    v = np.ascontiguousarray(opened).view(f"V{TAG_BYTES}").ravel()
    uniq, counts = np.unique(v, return_counts=True)
    ch = party.channel(receiver)
    if counts.size and counts.max() > n:
        ch.send_array(np.zeros((0, WORDS), dtype=np.uint64))
        ch.send_array(np.array([1], dtype=np.int64))
        raise ValueError("a tag occurs more often than there are holders "
                         "(duplicate keys or a tag collision)")
    common = uniq[counts == n].view(np.uint64).reshape(-1, WORDS)
    ch.send_array(np.ascontiguousarray(common))
    ch.send_array(np.array([0], dtype=np.int64))
    return None


__all__ = ["multiparty_psi"]
