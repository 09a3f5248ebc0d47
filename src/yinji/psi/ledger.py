"""The group ledger: hidden client alignment across companies, built once per epoch and looked
up per run (a keyed-OPRF pseudonym table in the style of the multi-party PSI of
yinji.psi.multiparty, whose 2HashDH OPRF chain -- Jarecki, Kiayias & Krawczyk 2014 -- and
shuffle-then-open-to-one pattern it reuses, turned into a lookup structure).

Parties: the holders H (companies with rows (id, k value columns)), three compute parties
C = [c0, c1, c2] (session order) and among them the lookup party L; the two others, K1 and
K2 (in C's order). K1, K2 and L hold OPRF keys k1, k2, k3. A requester Q (Q != L) asks per
run.

Tags. The pre-tag of ID x at holder h is k1·k2·H(h ‖ norm(x)) on ristretto255 (H =
hash-to-group, norm = yinji.psi.keys.normalize(kind="id")); its tag T_h(x) is the first 16
bytes of k3 times the pre-tag. Tags are per holder, so the opened table holds distinct
pseudonyms and L cannot even see which entries belong to the same client. A requester only
ever obtains pre-tags; only L can turn one into a tag.

Build (per epoch, `build`):
1. K1, K2 and L send every holder a fingerprint of their keys (so a holder's tag cache from
   an earlier build with the same keys can be reused: only new IDs go through the chain).
2. Each holder h blinds b_h·H(h ‖ x) for its new IDs and sends them to K1; K1, K2 and L in
   turn multiply by their keys and L returns them to h, which removes b_h. L's own rows:
   L multiplies by k3 itself first, K1 and K2 follow, and K2 does the unblinding (L sends it
   1/b_L; K2 caches the tags under random per-row handles L chose), so L never holds a tag
   of its own clients.
3. Each holder secret-shares its rows [tag, values] into the compute parties (a member
   with `replicated.share`, an outside holder as an input party, `mpc.inputs`); L's tags
   are shared by K2. D dummy rows (tag 0, values 0) are appended; the table is shuffled
   obliviously (`mpc.shuffle`) and its tag columns are opened to L only. The compute parties
   keep the shuffled value shares; L keeps the opened tags, indexed, and which rows are
   dummies (tag 0).

Query (per run, `lookup`): Q gets the pre-tags of each of its IDs at every holder h through
K1 and K2 with its own blind (they see blinded points only) and sends them to L, each
client's P points in a fresh random order (so a matching slot does not name its holder). L
multiplies them by k3, finds each client's entries and sends K1 and K2, per client, exactly
P = |H| positions: the matches padded with dummy positions never used before, sorted. The
compute parties gather those rows of their shares: per client a (P, k) sharing whose rows
sum to the client's group totals. The caller computes on them in MPC and opens only its
result (`open_result`).

Why L holds a third key: K2 unblinds L's rows, so it knows the tags of L's clients. With
two keys a requester obtains exactly those tags for the IDs it names, so K2 asking (or
telling a requester) would learn whether L holds a client. With k3 at L, what a requester
obtains (pre-tags) never equals what K2 holds (tags), and neither can convert one into the
other. Cost: one more group operation per ID in the build.

Adversary model: semi-honest. K1, K2, L form an honest majority (no two collude); L colludes
with no holder and not with Q. Holders and Q may otherwise collude with each other or with
one of K1, K2.

Leakage:
- Every compute party: each holder's row count (sharing shapes), k, D; per query the batch
  size B and P positions per client. Because unused dummies pad every client to P, the
  positions do not show how many companies hold the client. Within an epoch they do show
  reuse: a position sent again is a real entry, so K1, K2 (and L) learn which clients of a
  run were already checked in the epoch, and, for those, how many of their entries were
  looked up before (not whose they are). Rebuild the epoch to reset this.
- L: the shuffled table of tags: distinct random-looking pseudonyms, which are dummies, and
  nothing else of the table (per-holder tags: no multiplicities); the holders' blinded
  batches (uniform points). Per query: for each of the B·P pre-tags Q sends, whether it
  matches an entry -- so per client the number of companies that hold it, not which (each
  client's points arrive in random order) -- and whether the same pre-tag was asked before
  in the key period. L holds no tag or pre-tag of any ID it knows (its own tags are
  unblinded by K2), so none of this links to an ID unless L colludes with a holder or Q.
- K1, K2: blinded points (uniform group elements), key fingerprints; K2 also L's tags under
  random handles (pseudonyms of rows it cannot open: it never sees the opened table, and
  no requester can produce a tag to compare them with).
- A holder: its own tags, the key fingerprints; nothing of any other holder.
- Q: the pre-tags of the IDs it asks and the opened result, nothing else.
Tags are kept per key period: the same client gets the same tags until K1, K2 or L draws a
new key (`previous=None`), so L can link repeated checks across epochs of one key period.
False matches: probability about B·P·|table| / 2^128.

Rounds: build 1 (fingerprints) + 4 chain hops + 1 sharing + 3 shuffle + 1 opening + 1
status; lookup 3 chain hops + 1 (points to L) + 1 (positions). Group operations per new
ID: 1 hash, 2 by its holder (blind, unblind; L's: blind, k3), 1 each by K1, K2 and L (K2
unblinds L's rows).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from yinji.crypto import group
from yinji.crypto.prg import Prg, fresh_seed
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor
from yinji.net.channel import Party
from yinji.net.expect import recv_array, recv_bytes
from yinji.psi.keys import normalize

DOMAIN = b"yinji/psi/ledger/ristretto255/v1"
TAG_BYTES = 16
WORDS = TAG_BYTES // 8
HANDLE_BYTES = 16
DEFAULT_DUMMIES = 32_000
MAX_BATCH = 10_000
MAX_COLUMNS = 64
MAX_ROWS = 1 << 25        # rows a holder may bring to an epoch (its points: 1 GB)
FINGERPRINT_BYTES = 16


class LedgerError(ValueError):
    """The ledger cannot be built or asked as requested; the message names the problem."""


class DuplicateIds(LedgerError):
    """The same ID (after normalisation) occurs twice in one holder's rows or one batch."""


class LedgerExhausted(LedgerError):
    """The epoch has too few unused dummy rows left to pad this query: rebuild it."""


@dataclass(frozen=True)
class Roles:
    """Who does what: `holders` (order fixes the holder index in tags), `compute` (session
    order) and `lookup` (L, one of `compute`)."""

    holders: tuple[str, ...]
    compute: tuple[str, str, str]
    lookup: str

    def __post_init__(self) -> None:
        if not self.holders or len(set(self.holders)) != len(self.holders):
            raise LedgerError(f"holders must be distinct and non-empty, got {list(self.holders)}")
        if len(self.compute) != 3 or len(set(self.compute)) != 3:
            raise LedgerError(f"three distinct compute parties needed, got {list(self.compute)}")
        if self.lookup not in self.compute:
            raise LedgerError(f"the lookup party {self.lookup!r} must be a compute party")

    @property
    def keyholders(self) -> tuple[str, str]:
        k1, k2 = (c for c in self.compute if c != self.lookup)
        return k1, k2

    @property
    def width(self) -> int:
        """P: positions per client in a query (one per holder)."""
        return len(self.holders)

    def rank(self, name: str) -> int:
        return self.compute.index(name)


@dataclass
class Ledger:
    """One party's state for an epoch (keep it between runs; pass it to `lookup`).

    compute parties: `values` (shares of the shuffled (N, k) table); L: the index of the
    opened tags; K1, K2, L: `key`; holders: `cache` (item -> tag, or at L item -> handle) and,
    at K2, `handles` (L's handle -> tag), valid while `fingerprint` is unchanged."""

    roles: Roles
    me: str
    columns: int = 0
    rows: int = 0
    values: rep.Shares | None = None
    key: bytes | None = None
    fingerprint: bytes = b""
    cache: dict[bytes, bytes] = field(default_factory=dict)
    handles: dict[bytes, bytes] = field(default_factory=dict)
    # L only
    sorted_w0: np.ndarray | None = None
    sorted_w1: np.ndarray | None = None
    order: np.ndarray | None = None
    dummies: np.ndarray | None = None
    dummies_used: int = 0

    @property
    def dummies_left(self) -> int:
        return 0 if self.dummies is None else len(self.dummies) - self.dummies_used


# --------------------------------------------------------------------------- helpers


def items(ids: Sequence[object], holder: int, what: str = "IDs") -> list[bytes]:
    """The hash inputs h ‖ norm(x) of `ids` at holder index `holder`. Refuses empty and
    duplicate IDs (after normalisation), naming the first."""
    norm = [normalize(v, kind="id") for v in ids]
    for i, n in enumerate(norm):
        if not n:
            raise LedgerError(f"{what}: entry {i} is empty")
    if len(set(norm)) != len(norm):
        seen: dict[str, int] = {}
        for i, n in enumerate(norm):
            if n in seen:  # positions only: a failed job's reason reaches the other parties
                raise DuplicateIds(f"{what}: duplicate ID at entries {seen[n]} and {i} "
                                   "(after normalisation)")
            seen[n] = i
    prefix = holder.to_bytes(2, "big")
    return [prefix + n.encode("utf-8") for n in norm]


def _recv_points(party: Party, sender: str, what: str, most: int, exact: bool = False
                 ) -> np.ndarray:
    """`sender`'s batch of points: exactly (`exact`) or at most `most` of them, refused
    unread past that (LedgerError naming the sender)."""
    return recv_array(party.channel(sender), what, np.uint8,
                      (most if exact else None, group.POINT_BYTES), most=most,
                      error=LedgerError)


def _mult(scalar: bytes, pts: np.ndarray, sender: str, workers: int | None) -> np.ndarray:
    try:
        return group.mult_points(scalar, pts, workers)
    except group.InvalidPoint as exc:
        raise group.InvalidPoint(f"{sender} sent invalid points: {exc}") from None


def _tags(points: np.ndarray) -> np.ndarray:
    """(n, 32) points -> (n, WORDS) uint64 tags (first 16 bytes)."""
    return np.ascontiguousarray(points[:, :TAG_BYTES]).view(np.uint64).reshape(-1, WORDS)


def _fingerprint(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=16, person=b"yinji-ledger-fp").digest()


def _values(values: np.ndarray | None, n: int, me: str) -> np.ndarray:
    v = np.asarray(values if values is not None else np.zeros((n, 0), np.int64))
    if v.ndim != 2 or len(v) != n or v.dtype.kind not in "iu":
        raise LedgerError(f"{me}: values must be an integer array with one row per ID, got "
                          f"{v.dtype} {v.shape} for {n} IDs")
    if v.shape[1] > MAX_COLUMNS:
        raise LedgerError(f"{me}: at most {MAX_COLUMNS} value columns")
    return v.astype(np.int64).view(np.uint64)


# --------------------------------------------------------------------------- build


def build(party: Party, roles: Roles, ids: Sequence[object] | None = None,
          values: np.ndarray | None = None, *, session: Session | None = None,
          previous: Ledger | None = None, dummies: int = DEFAULT_DUMMIES,
          workers: int | None = None) -> Ledger:
    """Build this party's side of an epoch's ledger (module docstring, Build).

    Holders pass their `ids` and integer `values` (n, k) (same k at every holder: each
    holder fills its own columns and zeros elsewhere); compute parties pass their `session`
    (over `roles.compute`). `previous`: this party's ledger of an earlier epoch, to keep the
    keys (K1, K2, L) and tag caches (holders), so only new IDs go through the OPRF chain."""
    me = party.name
    is_holder = me in roles.holders
    if is_holder and ids is None:
        raise LedgerError(f"holder {me} must pass its IDs")
    if not is_holder and ids is not None:
        raise LedgerError(f"{me} is not a holder")
    if me in roles.compute and (session is None or list(session.names) != list(roles.compute)):
        raise LedgerError(f"compute party {me} needs a session over {list(roles.compute)}")
    if not 0 <= dummies <= 1 << 24:
        raise LedgerError(f"dummies must be in 0..{1 << 24}, got {dummies}")
    k1n, k2n = roles.keyholders
    keyed = (k1n, k2n, roles.lookup)
    keep = previous if previous is not None and previous.roles == roles else None
    led = Ledger(roles, me)
    fps = {}
    if me in keyed:
        led.key = keep.key if keep is not None and keep.key else group.random_scalar()
        fps[me] = _fingerprint(led.key)
        for h in roles.holders:
            if h != me:
                party.channel(h).send_bytes(fps[me])
    if is_holder:
        for kh in keyed:
            if kh != me:
                fps[kh] = recv_bytes(party.channel(kh), "a key fingerprint", FINGERPRINT_BYTES,
                                     exact=True, error=LedgerError)
        led.fingerprint = b"".join(fps[k] for k in keyed)
        if keep is not None and keep.fingerprint == led.fingerprint:
            led.cache = keep.cache
    if me == k2n and keep is not None and keep.key == led.key:
        led.handles = keep.handles

    my_items = items(ids, roles.holders.index(me), f"{me}'s IDs") if is_holder else None
    if my_items is not None and len(my_items) > MAX_ROWS:
        raise LedgerError(f"{me} has {len(my_items)} rows, over the bound of {MAX_ROWS}")
    vals = _values(values, len(my_items), me) if my_items is not None else None
    tags, l_tags = _build_chain(party, roles, led, my_items, workers)
    if me not in roles.compute:
        send_input(party, roles.compute, np.hstack([tags, vals]), frac_bits=0)
        return led
    assert session is not None
    return _pool(session, roles, led, tags, vals, l_tags, dummies)


def _build_chain(party: Party, roles: Roles, led: Ledger, my_items: list[bytes] | None,
                 workers: int | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Step 2: (this holder's tags in row order, L's tags at K2).

    A holder's new points go h -> K1 -> K2 -> L -> h (each applies its key; h unblinds).
    L's own: L applies k3 itself before K1 and K2, and K2 unblinds them (L sends 1/b)."""
    me = party.name
    k1n, k2n, lookup = *roles.keyholders, roles.lookup
    blinded = blind = None
    new: list[int] = []
    if my_items is not None:
        if me == lookup:
            hl = [led.cache.get(it) for it in my_items]
            new = [i for i, h in enumerate(hl) if h is None]
            for i in new:
                hl[i] = led.cache[my_items[i]] = secrets.token_bytes(HANDLE_BYTES)
            handles = np.frombuffer(b"".join(hl), np.uint8).reshape(-1, HANDLE_BYTES)  # type: ignore[arg-type]
        else:
            new = [i for i, it in enumerate(my_items) if it not in led.cache]
        blind = group.random_scalar()
        blinded = group.hash_and_mult_points(blind, [my_items[i] for i in new], DOMAIN, workers)
        if me == lookup:
            blinded = group.mult_points(led.key, blinded, workers)  # type: ignore[arg-type]
        if me != k1n:
            party.channel(k1n).send_array(blinded)
        if me == lookup:
            ch = party.channel(k2n)
            ch.send_bytes(group.scalar_inverse(blind))
            ch.send_array(handles)
    l_tags = None
    if me == k1n:
        for h in roles.holders:
            got = blinded if h == me else _recv_points(party, h, "its new blinded IDs",
                                                       MAX_ROWS)
            party.channel(k2n).send_array(_mult(led.key, got, h, workers))  # type: ignore[arg-type]
    elif me == k2n:
        for h in roles.holders:
            got = _recv_points(party, k1n, f"{h}'s points", MAX_ROWS)
            out = _mult(led.key, got, k1n, workers)  # type: ignore[arg-type]
            if h == lookup:
                l_tags = _lookup_tags(party, led, out, workers)
            else:
                party.channel(lookup).send_array(out)
    elif me == lookup:
        for h in roles.holders:
            if h != lookup:
                got = _recv_points(party, k2n, f"{h}'s points", MAX_ROWS)
                out = _mult(led.key, got, k2n, workers)  # type: ignore[arg-type]
                party.channel(h).send_array(out)
    if my_items is None or me == lookup:
        return None, l_tags
    answer = _recv_points(party, lookup, f"the answers to {len(new)} points", len(new), True)
    fresh = _tags(group.mult_points(group.scalar_inverse(blind), answer, workers))  # type: ignore[arg-type]
    for j, i in enumerate(new):
        led.cache[my_items[i]] = fresh[j].tobytes()
    tags = np.frombuffer(b"".join(led.cache[it] for it in my_items), np.uint64)
    return tags.reshape(-1, WORDS), l_tags


def _lookup_tags(party: Party, led: Ledger, out: np.ndarray, workers: int | None) -> np.ndarray:
    """K2: unblind L's new tags, cache them under L's handles, return L's tags in row order."""
    lookup = led.roles.lookup
    ch = party.channel(lookup)
    inverse = recv_bytes(ch, "an unblinding scalar", group.SCALAR_BYTES, exact=True,
                         error=LedgerError)
    handles = recv_array(ch, "its row handles", np.uint8, (None, HANDLE_BYTES), most=MAX_ROWS,
                         error=LedgerError)
    keys = [h.tobytes() for h in handles]
    new = [k for k in keys if k not in led.handles]
    if len(new) != len(out):
        raise LedgerError(f"{lookup} sent {len(out)} new points for {len(new)} new handles "
                          "(its cache and K2's disagree: rebuild without `previous`)")
    fresh = _tags(_mult(inverse, out, lookup, workers))
    for j, k in enumerate(new):
        led.handles[k] = fresh[j].tobytes()
    live = set(keys)
    led.handles = {k: v for k, v in led.handles.items() if k in live}
    return np.frombuffer(b"".join(led.handles[k] for k in keys), np.uint64).reshape(-1, WORDS)


def _pool(s: Session, roles: Roles, led: Ledger, tags: np.ndarray | None,
          vals: np.ndarray | None, l_tags: np.ndarray | None, dummies: int) -> Ledger:
    """Steps 3-4 at the compute parties."""
    me, lookup = s.party.name, roles.lookup
    k2 = roles.rank(roles.keyholders[1])
    pieces: list[rep.Shares] = []
    widths = set()
    for h in roles.holders:
        if h not in roles.compute:
            t = receive_input(s, h, frac_bits=0).shares
            if t[0].ndim != 2 or t[0].shape[1] < WORDS:
                raise LedgerError(f"{h} shared a malformed table {t[0].shape}")
        elif h == lookup:
            v = rep.share(s, vals if me == h else None, roles.rank(h))
            g = rep.share(s, l_tags if s.rank == k2 else None, k2)
            if v[0].ndim != 2 or g[0].shape != (len(v[0]), WORDS):
                raise LedgerError(f"{h}'s values and tags disagree in size")
            t = (np.hstack([g[0], v[0]]), np.hstack([g[1], v[1]]))
        else:
            mine = np.hstack([tags, vals]) if me == h else None
            t = rep.share(s, mine, roles.rank(h))
            if t[0].ndim != 2 or t[0].shape[1] < WORDS:
                raise LedgerError(f"{h} shared a malformed table {t[0].shape}")
        widths.add(t[0].shape[1])
        pieces.append(t)
    if len(widths) != 1:
        raise LedgerError(f"holders disagree on the number of value columns: "
                          f"{sorted(w - WORDS for w in widths)}")
    width = widths.pop()
    pieces.append(rep.public(s, np.zeros((dummies, width), np.uint64)))
    pool = (np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]))
    # the holders' pieces are in the pool now: free them before the shuffle
    pieces = t = v = g = mine = None  # type: ignore[assignment]
    pool = shuffle_rows(s, pool, overwrite=True)
    opened = rep.reveal_to(s, (np.ascontiguousarray(pool[0][:, :WORDS]),
                               np.ascontiguousarray(pool[1][:, :WORDS])), roles.rank(lookup))
    led.columns, led.rows = width - WORDS, len(pool[0])
    led.values = (pool[0][:, WORDS:], pool[1][:, WORDS:])  # views: no second copy
    others = [c for c in roles.compute if c != lookup]
    if me == lookup:
        assert opened is not None
        problem = _index(led, opened)
        for c in others:
            s.party.channel(c).send_array(np.array([int(bool(problem))], np.int64))
        if problem:
            raise LedgerError(problem)
    elif int(recv_array(s.party.channel(lookup), "its tag check", np.int64, (1,),
                        error=LedgerError)[0]):
        raise LedgerError("the lookup party found repeated tags (a tag collision)")
    return led


def _index(led: Ledger, opened: np.ndarray) -> str:
    """L: index the opened tags; '' or the problem."""
    dummy = (opened[:, 0] == 0) & (opened[:, 1] == 0)
    real = np.flatnonzero(~dummy)
    w0 = opened[real, 0]
    order = np.argsort(w0, kind="stable")
    led.sorted_w0, led.sorted_w1 = w0[order], opened[real, 1][order]
    led.order = real[order]
    led.dummies = np.flatnonzero(dummy)
    same = (led.sorted_w0[1:] == led.sorted_w0[:-1]) & (led.sorted_w1[1:] == led.sorted_w1[:-1])
    return "the lookup party found repeated tags (a tag collision)" if same.any() else ""


# --------------------------------------------------------------------------- query


def lookup(party: Party, ledger: Ledger, requester: str, ids: Sequence[object] | None = None,
           *, max_batch: int = MAX_BATCH, workers: int | None = None) -> rep.Shares | None:
    """Per-client entries of Q's IDs (module docstring, Query).

    Run by Q (with `ids`) and the three compute parties; other holders take no part. Returns
    to each compute party the (B, P, k) shares of the P rows per client (in Q's order; rows
    of companies that do not hold the client and padding rows are zero), None to Q if it is
    not a compute party. Refuses an empty batch, duplicates, more than `max_batch` IDs, and
    L as the requester.

    Per-row results for a holder: the holder asks for its own IDs in its row order (as Q),
    so result i belongs to its row i (batches of `max_batch`). L cannot ask: pick as L a
    compute party that needs no per-row results."""
    roles, me = ledger.roles, party.name
    k1n, k2n, lookup_name = *roles.keyholders, roles.lookup
    if requester == lookup_name:
        raise LedgerError(f"the requester {requester!r} must not be the lookup party: it "
                          "would learn which companies hold the clients it names")
    if (me == requester) != (ids is not None):
        raise LedgerError("the requester, and only it, passes the IDs")
    p = roles.width
    if me == requester:
        assert ids is not None
        if len(ids) == 0:
            raise LedgerError("empty batch: name at least one ID")
        if len(ids) > max_batch:
            raise LedgerError(f"batch of {len(ids)} IDs is over the bound of {max_batch}")
        norm = items(ids, 0, "requested IDs")
        q_items = [h.to_bytes(2, "big") + it[2:] for it in norm for h in range(p)]
        blind = group.random_scalar()
        blinded = group.hash_and_mult_points(blind, q_items, DOMAIN, workers)
        if me != k1n:
            party.channel(k1n).send_array(blinded)
    if me == k1n:
        got = blinded if me == requester else _recv_points(party, requester, "its query",
                                                           max_batch * p)
        if len(got) % p:   # the size bound is the read's (own queries: len(ids) <= max_batch)
            raise LedgerError(f"{requester} asked for {len(got)} points; at most "
                              f"{max_batch * p} in multiples of {p} are allowed")
        party.channel(k2n).send_array(_mult(ledger.key, got, requester, workers))  # type: ignore[arg-type]
    elif me == k2n:
        got = _recv_points(party, k1n, f"{requester}'s query", max_batch * p)
        out = _mult(ledger.key, got, k1n, workers)  # type: ignore[arg-type]
        if me == requester:
            answer = out
        else:
            party.channel(requester).send_array(out)
    if me == requester:
        if me != k2n:
            answer = _recv_points(party, k2n, f"the answers to {len(q_items)} points",
                                  len(q_items), True)
        pre = group.mult_points(group.scalar_inverse(blind), answer, workers)
        pre = pre.reshape(len(ids), p, group.POINT_BYTES)
        # shuffle each client's P points: L must not learn WHICH companies hold it
        order = np.argsort(Prg(fresh_seed()).uint64((len(ids), p)), axis=1)
        party.channel(lookup_name).send_array(np.take_along_axis(pre, order[..., None], 1))
    if me not in roles.compute:
        return None
    if me == lookup_name:
        positions = _positions(party, ledger, requester, max_batch, workers)
    else:   # shape (0, p): L refused the query
        positions = recv_array(party.channel(lookup_name), "the positions", np.int64,
                               (None, p), most=max_batch, error=LedgerError)
        if not len(positions):
            raise LedgerError(f"the lookup party {lookup_name} refused the query")
        if positions.min() < 0 or positions.max() >= ledger.rows:
            raise LedgerError(f"{lookup_name} sent malformed positions")
    assert ledger.values is not None
    return ledger.values[0][positions], ledger.values[1][positions]


def _positions(party: Party, led: Ledger, requester: str, max_batch: int,
               workers: int | None) -> np.ndarray:
    """L: apply k3 to Q's points (at most `max_batch` clients), then P positions per client
    (matches + unused dummies, sorted) to K1 and K2; (0, P) to both if it refuses."""
    p = led.roles.width
    others = [c for c in led.roles.compute if c != led.roles.lookup]
    problem = ""
    try:
        pre = recv_array(party.channel(requester), "its shuffled points", np.uint8,
                         (None, p, group.POINT_BYTES), most=max_batch, error=LedgerError)
    except LedgerError as exc:
        problem, pre = str(exc), np.zeros((0, p, group.POINT_BYTES), np.uint8)
    if not problem and not len(pre):
        problem = f"{requester} sent malformed points"
    elif not problem:
        try:
            tags = _tags(group.mult_points(led.key, pre.reshape(-1, group.POINT_BYTES),  # type: ignore[arg-type]
                                           workers)).reshape(len(pre), p, WORDS)
        except group.InvalidPoint:
            problem = f"{requester} sent points that are not group elements"
    if not problem:
        flat = tags.reshape(-1, WORDS)
        at = np.searchsorted(led.sorted_w0, flat[:, 0])
        at = np.minimum(at, max(len(led.sorted_w0) - 1, 0))
        hit = np.zeros(len(flat), bool)
        if len(led.sorted_w0):
            hit = (led.sorted_w0[at] == flat[:, 0]) & (led.sorted_w1[at] == flat[:, 1])
        hit = hit.reshape(len(tags), p)
        need = int((~hit).sum())
        if need > led.dummies_left:
            problem = (f"the epoch has {led.dummies_left} unused dummy rows, this query needs "
                       f"{need}: rebuild the ledger")
    if problem:
        for c in others:
            party.channel(c).send_array(np.zeros((0, p), np.int64))
        raise (LedgerExhausted if "dummy" in problem else LedgerError)(problem)
    pos = np.empty(hit.shape, np.int64)
    pos[hit] = led.order[at.reshape(hit.shape)[hit]]  # type: ignore[index]
    pos[~hit] = led.dummies[led.dummies_used:led.dummies_used + need]  # type: ignore[index]
    led.dummies_used += need
    pos.sort(axis=1)
    for c in others:
        party.channel(c).send_array(pos)
    return pos


# --------------------------------------------------------------------------- results


def totals(entries: rep.Shares) -> rep.Shares:
    """Per-client sums over the P rows: (B, P, k) -> (B, k); local."""
    return entries[0].sum(axis=1, dtype=np.uint64), entries[1].sum(axis=1, dtype=np.uint64)


def maxima(s: Session, entries: rep.Shares) -> rep.Shares:
    """Per-client maxima over the P rows, (B, P, k) -> (B, k), by a tournament of
    comparisons (ceil(log2 P) levels of 11 rounds). Zero rows take part, so use it for
    non-negative columns (a client absent everywhere gets 0). Values must differ by less
    than 2^63."""
    x = entries
    while x[0].shape[1] > 1:
        n = x[0].shape[1]
        half = n // 2
        a = (x[0][:, :half], x[1][:, :half])
        b = (x[0][:, half:2 * half], x[1][:, half:2 * half])
        m = cmp.select(s, cmp.lt(s, a, b), b, a)
        if n % 2:
            m = (np.concatenate([m[0], x[0][:, -1:]], axis=1),
                 np.concatenate([m[1], x[1][:, -1:]], axis=1))
        x = m
    return x[0][:, 0], x[1][:, 0]


def open_result(party: Party, roles: Roles, requester: str, result: rep.Shares | None,
                session: Session | None = None) -> np.ndarray | None:
    """Open an integer result to the requester only (as int64): run by the compute parties
    (with `session` and their `result` shares) and by the requester. Others get None."""
    me = party.name
    if requester in roles.compute:
        if session is None or result is None:
            raise LedgerError("compute parties open results with their session and shares")
        out = rep.reveal_to(session, result, session.names.index(requester))
        return None if out is None else out.view(np.int64)
    if me in roles.compute:
        if session is None or result is None:
            raise LedgerError("compute parties open results with their session and shares")
        reveal_outside(SharedTensor(session, result, 0), requester)
        return None
    if me == requester:
        return receive_output(party, roles.compute, frac_bits=0)
    return None


__all__ = ["DEFAULT_DUMMIES", "DuplicateIds", "MAX_BATCH", "Ledger", "LedgerError", "LedgerExhausted",
           "Roles", "build", "items", "lookup", "maxima", "open_result", "totals"]
