"""Two-party PSI from oblivious transfer: KKRT16 (Kolesnikov, Kumaresan, Rosulek & Trieu,
"Efficient Batched Oblivious PRF with Applications to Private Set Intersection", CCS 2016).

The receiver R (who learns the intersection) cuckoo-hashes its n_R keys into m ≈ 1.27·n_R bins
(3 hash functions, no stash). One OT-extension instance per bin gives R a batched oblivious
PRF: R learns F_j(x_j) for the key x_j it put in bin j; the sender S can evaluate F_j on
anything. S sends F_{h_i(y)}(y‖i) for each of its keys y and each hash function i, shuffled;
R's key x is in the intersection iff its own value occurs among them.

Construction (semi-honest KKRT with a pseudo-random code of k = 512 bits):
- Base OTs: 512 Chou–Orlandi "simplest OTs" on ristretto255 (libsodium, `yinji.crypto.group`);
  R is the base-OT sender with seed pairs (k0_i, k1_i), S the base-OT receiver with secret
  choice bits s ∈ {0,1}^512 and seeds k_{s_i}. Seeds = BLAKE2b(i, A, B_i, DH point).
- Extension (IKNP-style, column-wise): t0^i = G(k0_i), t1^i = G(k1_i) (AES-128-CTR from
  OpenSSL, the `yinji.crypto.prg` keystream); R sends u^i = t0^i ⊕ t1^i ⊕ c^i, where row j of
  the code matrix is C(x_j); S gets q^i = G(k_{s_i}) ⊕ s_i·u^i, so row j: q_j = t0_j ⊕ (s ∧ C(x_j)).
  Bit matrices are transposed with a vectorised 8×8 bit-block transpose (NumPy).
- Code C(x‖i): four AES-128 blocks of a 128-bit BLAKE2b digest of x, tweaked by (i, block),
  under a fresh key S picks each run (a PRF, so distinct inputs give independent 512-bit codes).
- OPRF output F_j(y) = H_j(q_j ⊕ (s ∧ C(y))), R's own value H_j(t0_j); H_j is the XOR over the
  four 128-bit blocks of the fixed-key-AES hash TMMO(x, τ) = π(π(x) ⊕ τ) ⊕ π(x) (Guo, Katz,
  Wang & Yu, S&P 2020; tweak τ = (bin j, block)), π = AES under a fresh public key per run —
  the correlation-robust hash libOTe's KKRT also builds from fixed-key AES.
- Values are truncated to L = ⌈(λ + log2(3·n_R·n_S))/8⌉ bytes (λ = 40; at least 8, at most 16).

Parameters: computational security 128 (AES-128, ristretto255, 512-bit random code: two
codes differ in ≥ 128 positions except with probability ≤ 2^-96 per pair by the Chernoff
bound, so ≤ 2^-46 even over all 3·2^24·2^24 key pairs of two 2^24-key sets; the receiver
then misses ≥ 128 unknown bits of s to evaluate F at a point it does not hold); statistical
security λ = 40. False positive (a non-shared key reported as shared):
probability ≤ 3·n_R·n_S·2^-8L ≤ 2^-40 per run (plus n_R·n_S·2^-128 for two keys with the
same 128-bit digest).

Cuckoo hashing: m = ⌈1.27·n⌉ bins for n ≥ 2^12 (⌈2n⌉ below), 3 hash functions keyed by a seed
R picks; insertion is a vectorised random walk. Stash-less insertion fails with probability
about 2^-40 at these sizes (Pinkas, Schneider & Zohner, ToPS 2018); on failure R retries
with a new seed *before* sending any seed, so S only ever sees the seed that worked (the
seed's distribution differs from uniform by at most the failure probability).

Adversary model: semi-honest parties; no third party; the channel is authenticated and
encrypted (TLS).

Leakage:
- Both parties learn n_R and n_S (pad with random dummy keys to hide them).
- The receiver learns A ∩ B (its own matching keys) and nothing about B \\ A: the values of
  S's other keys are outputs of the oblivious PRF at points R holds no key for.
- The sender learns nothing: it receives A (one random group element), the cuckoo seed (see
  above) and the extension matrix u, which is pseudo-random (each column masked by a PRG
  stream of a seed S does not have); their shapes depend only on n_R.
- receiver=None (both learn): the party whose name sorts first runs as R, then sends S the
  128-bit digests of the shared keys, so S learns A ∩ B too (as ECDH-PSI's both-receive).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yinji.crypto import group
from yinji.crypto.prg import Prg, fresh_seed
from yinji.net.channel import Channel, Party

CODE_BITS = 512
CODE_BYTES = CODE_BITS // 8
BLOCKS = CODE_BYTES // 16
HASHES = 3
STAT_SEC = 40
CHUNK_BINS = 1 << 16     # bins per OT-extension message (multiple of 8)
CHUNK_VALUES = 1 << 16   # sender values per message
MAX_TRIES = 8            # cuckoo seeds tried before giving up
VERSION = 1
_PERSON = b"yinji-kkrt-v1"


class CuckooFailure(RuntimeError):
    """Cuckoo insertion failed with every seed tried (should not happen in practice)."""


# --- vectorised building blocks ----------------------------------------------------------


def digests(keys: Sequence[bytes]) -> np.ndarray:
    """128-bit BLAKE2b digest of each key, as an (n, 16) uint8 array."""
    blake = hashlib.blake2b
    out = b"".join([blake(k, digest_size=16, person=_PERSON).digest() for k in keys])
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, 16)


def ecb(key: bytes, blocks: np.ndarray) -> np.ndarray:
    """AES-128 (OpenSSL) of each 16-byte block of a C-contiguous array whose rows are whole
    blocks; same shape and dtype."""
    data = np.ascontiguousarray(blocks)
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    raw = enc.update(memoryview(data.reshape(-1).view(np.uint8)))
    return np.frombuffer(raw, dtype=data.dtype).reshape(data.shape)


def transpose_bits(a: np.ndarray) -> np.ndarray:
    """Transpose an R × C bit matrix stored as (R, C/8) uint8 rows (bit c of a row is bit
    c % 8, LSB first, of byte c // 8) into (C, R/8). R must be a multiple of 8."""
    rows, cb = a.shape
    if rows % 8:
        raise ValueError(f"bit-matrix rows must be a multiple of 8, got {rows}")
    # Each 8×8 bit block (8 rows × one byte column) as one little-endian uint64.
    x = np.ascontiguousarray(a.reshape(rows // 8, 8, cb).transpose(0, 2, 1))
    x = x.view("<u8")[..., 0]
    for shift, mask in ((7, 0x00AA00AA00AA00AA), (14, 0x0000CCCC0000CCCC),
                        (28, 0x00000000F0F0F0F0)):
        s, m = np.uint64(shift), np.uint64(mask)
        t = (x ^ (x >> s)) & m
        x = x ^ t ^ (t << s)
    blocks = x[..., None].view(np.uint8).reshape(rows // 8, cb, 8)
    return np.ascontiguousarray(blocks.transpose(1, 2, 0)).reshape(cb * 8, rows // 8)


class Streams:
    """One AES-128-CTR keystream per seed (the same stream as `Prg(seed).bytes`), read
    column chunk by column chunk into one (len(seeds), nbytes) array."""

    def __init__(self, seeds: Sequence[bytes]) -> None:
        self._encs = [Cipher(algorithms.AES(s), modes.CTR(bytes(16))).encryptor() for s in seeds]
        self._zeros = bytearray()

    def next(self, nbytes: int) -> np.ndarray:
        if len(self._zeros) < nbytes:
            self._zeros = bytearray(nbytes)
        zeros = memoryview(self._zeros)[:nbytes]
        out = np.empty((len(self._encs), nbytes + 16), dtype=np.uint8)
        for row, enc in zip(out, self._encs, strict=True):
            enc.update_into(zeros, row)
        return out[:, :nbytes]


def codes(key: bytes, dig: np.ndarray, hidx: np.ndarray) -> np.ndarray:
    """C(x‖i): (n, 64) uint8 pseudo-random code words of digests `dig` ((n, 16) uint8) and
    hash indices i: block b is AES_key(digest ⊕ (4i + b)), the tweak in the low 8 bytes."""
    n = len(dig)
    x = np.empty((n, BLOCKS, 2), dtype="<u8")
    x[:] = np.ascontiguousarray(dig).view("<u8")[:, None, :]
    x[:, :, 0] ^= (np.asarray(hidx, dtype=np.uint64) * np.uint64(BLOCKS))[:, None] \
        + np.arange(BLOCKS, dtype=np.uint64)
    return ecb(key, x).view(np.uint8).reshape(n, CODE_BYTES)


def oprf_hash(key: bytes, rows: np.ndarray, bins: np.ndarray, nbytes: int) -> np.ndarray:
    """H_j(row): XOR over the four blocks of TMMO(x, τ) = π(π(x) ⊕ τ) ⊕ π(x), τ = (j, block),
    truncated to `nbytes` bytes; rows (n, 64) uint8, bins (n,) int."""
    n = len(rows)
    p = ecb(key, np.ascontiguousarray(rows).view("<u8").reshape(n, BLOCKS, 2))
    t = p.copy()
    t[:, :, 0] ^= np.asarray(bins, dtype=np.uint64)[:, None]
    t[:, :, 1] ^= np.arange(1, BLOCKS + 1, dtype=np.uint64)
    h = ecb(key, t) ^ p
    out = h[:, 0] ^ h[:, 1] ^ h[:, 2] ^ h[:, 3]
    return np.ascontiguousarray(out.view(np.uint8)[:, :nbytes])


def positions(seed: bytes, dig: np.ndarray, m: int) -> np.ndarray:
    """(n, 3) int64 bin of each digest under the 3 hash functions keyed by `seed`."""
    w = ecb(seed, np.ascontiguousarray(dig)).view("<u4")[:, :HASHES].astype(np.uint64)
    return ((w * np.uint64(m)) >> np.uint64(32)).astype(np.int64)


def num_bins(n: int) -> int:
    """Cuckoo table size for n keys (multiple of 8)."""
    m = math.ceil((1.27 if n >= 1 << 12 else 2.0) * n)
    return max(8, -(-m // 8) * 8)


def cuckoo(pos: np.ndarray, m: int, max_rounds: int = 2000) -> tuple[np.ndarray, np.ndarray] | None:
    """Place each key in one of its 3 bins (pos (n, 3)), one key per bin, by a parallel
    random walk. Returns (table: bin -> key or -1, hash index used per key) or None."""
    n = len(pos)
    table = np.full(m, -1, dtype=np.int64)
    claim = np.empty(m, dtype=np.int64)  # scratch: which key claims a bin this round
    used = np.full(n, -1, dtype=np.int64)
    pending = np.arange(n, dtype=np.int64)
    coins = Prg(fresh_seed())
    for _ in range(max_rounds):
        if len(pending) == 0:
            return table, used
        cand = pos[pending]
        free = table[cand] < 0
        # A key with a free bin takes it; one without evicts from a random other bin.
        step = 1 + (coins.uint64(len(pending)) & np.uint64(1)).astype(np.int64)
        last = used[pending]
        fallback = np.where(last >= 0, (last + step) % HASHES, step - 1)
        choice = np.where(free.any(axis=1), free.argmax(axis=1), fallback)
        bins = cand[np.arange(len(pending)), choice]
        claim[bins] = pending  # of several keys claiming one bin, the last write wins
        won = claim[bins] == pending
        winners, wbins = pending[won], bins[won]
        evicted = table[wbins]
        table[wbins] = winners
        used[winners] = choice[won]
        pending = np.concatenate([pending[~won], evicted[evicted >= 0]])
    return None


def value_bytes(n_r: int, n_s: int) -> int:
    """Truncation of the OPRF values: λ + log2(3·n_R·n_S) bits, in bytes (≤ 16)."""
    bits = STAT_SEC + math.log2(max(1, HASHES * n_r * n_s))
    return min(16, max(8, math.ceil(bits / 8)))


def _prefix64(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows[:, :8]).view("<u8").ravel()


class Matcher:
    """The receiver's own values, sorted once by their first 8 bytes, so that each batch of
    the sender's values is matched as it arrives (binary search, then an exact check of the
    remaining bytes of the candidates)."""

    def __init__(self, mine: np.ndarray) -> None:
        self.mine = mine
        p = _prefix64(mine)
        self.order = np.argsort(p, kind="stable")
        self.sorted = p[self.order]
        self.hit = np.zeros(len(mine), dtype=bool)

    def add(self, theirs: np.ndarray) -> None:
        if len(self.mine) == 0 or len(theirs) == 0:
            return
        p = _prefix64(theirs)
        ps = np.argsort(p)  # sorted needles: the binary searches then stay in cache
        lo = np.empty(len(p), dtype=np.int64)
        lo[ps] = np.searchsorted(self.sorted, p[ps], "left")
        top = len(self.sorted) - 1
        cand = np.flatnonzero(self.sorted[np.minimum(lo, top)] == p)
        idx = self.order[lo[cand]]
        same = (self.mine[idx, 8:] == theirs[cand, 8:]).all(axis=1)
        self.hit[idx[same]] = True
        # Several of mine with this 64-bit prefix (rare): check each of them.
        nxt = lo[cand] + 1
        many = cand[(nxt <= top) & (self.sorted[np.minimum(nxt, top)] == p[cand])]
        for i in many:
            j = lo[i]
            while j <= top and self.sorted[j] == p[i]:
                k = self.order[j]
                if (self.mine[k, 8:] == theirs[i, 8:]).all():
                    self.hit[k] = True
                j += 1


def member(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """Which rows of `mine` occur among `theirs` ((n, L) uint8 arrays, 8 ≤ L ≤ 16)."""
    m = Matcher(mine)
    m.add(theirs)
    return m.hit


# --- base OTs (Chou & Orlandi, "The simplest protocol for oblivious transfer", 2015) -------


def _ot_key(i: int, a_pt: bytes, b_pt: bytes, dh: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16, person=b"yinji-kkrt-bot")
    h.update(i.to_bytes(4, "little") + a_pt + b_pt + dh)
    return h.digest()


def base_ot_sender_first() -> tuple[bytes, bytes]:
    """(a, A = a·G): the base-OT sender's secret and first message."""
    a = group.random_scalar()
    return a, group.base_mult(a)


def base_ot_receiver(a_pt: bytes, choices: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
    """Receiver with choice bits: B_i = b_i·G + c_i·A (sent), keys k_{c_i} = H(b_i·A)."""
    if not group.is_valid_point(a_pt):
        raise group.InvalidPoint("base OT: the peer's A is not a ristretto255 point")
    bs = [group.random_scalar() for _ in choices]
    msgs, keys = [], []
    for i, (b, c) in enumerate(zip(bs, choices, strict=True)):
        pt = group.base_mult(b)
        if c:
            pt = group.add_points(pt, a_pt)
        msgs.append(pt)
        keys.append(_ot_key(i, a_pt, pt, group.scalar_mult(b, [a_pt], workers=1)[0]))
    return np.frombuffer(b"".join(msgs), dtype=np.uint8).reshape(-1, 32), keys


def base_ot_sender_keys(a: bytes, a_pt: bytes, b_pts: np.ndarray) -> tuple[list[bytes], list[bytes]]:
    """Sender's two keys per OT: k0 = H(a·B_i), k1 = H(a·(B_i − A))."""
    pts = [bytes(r) for r in b_pts]
    try:
        ab = group.scalar_mult(a, pts, workers=1)
    except group.InvalidPoint as exc:
        raise group.InvalidPoint(f"base OT: the peer sent an invalid point: {exc}") from None
    aa = group.scalar_mult(a, [a_pt], workers=1)[0]
    k0 = [_ot_key(i, a_pt, p, d) for i, (p, d) in enumerate(zip(pts, ab, strict=True))]
    k1 = [_ot_key(i, a_pt, p, group.sub_points(d, aa)) for i, (p, d)
          in enumerate(zip(pts, ab, strict=True))]
    return k0, k1


# --- the protocol --------------------------------------------------------------------------


def _recv_exact(ch: Channel, shape: tuple[int, ...], what: str) -> np.ndarray:
    x = ch.recv_array_at_most(int(np.prod(shape)) + 64)
    if x.dtype != np.uint8 or x.shape != shape:
        raise ValueError(f"{ch.peer} sent a malformed {what}: {x.dtype} {x.shape}, "
                         f"expected uint8 {shape}")
    return x


def _receiver_side(ch: Channel, keys: Sequence[bytes], n_s: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(keys)
    dig = digests(keys)
    m = num_bins(n)
    for _ in range(MAX_TRIES):
        seed = fresh_seed()
        pos = positions(seed, dig, m)
        placed = cuckoo(pos, m)
        if placed is not None:
            break
    else:
        raise CuckooFailure(f"cuckoo hashing of {n} keys failed with {MAX_TRIES} seeds")
    table, used = placed
    a, a_pt = base_ot_sender_first()
    ch.send_bytes(a_pt + seed)
    b_pts = _recv_exact(ch, (CODE_BITS, 32), "base-OT message")
    keys_msg = ch.recv_bytes_at_most(32)
    if len(keys_msg) != 32:
        raise ValueError(f"{ch.peer} sent {len(keys_msg)} key bytes, expected 32")
    code_key, hash_key = keys_msg[:16], keys_msg[16:]
    k0, k1 = base_ot_sender_keys(a, a_pt, b_pts)
    occ = np.flatnonzero(table >= 0)
    crow = np.zeros((m, CODE_BYTES), dtype=np.uint8)
    crow[occ] = codes(code_key, dig[table[occ]], used[table[occ]])
    g0, g1 = Streams(k0), Streams(k1)
    t0 = np.empty((m, CODE_BYTES), dtype=np.uint8)
    for lo in range(0, m, CHUNK_BINS):
        hi = min(m, lo + CHUNK_BINS)
        c0 = g0.next((hi - lo) // 8)
        u = c0 ^ g1.next((hi - lo) // 8) ^ transpose_bits(crow[lo:hi])
        ch.send_array(u)
        t0[lo:hi] = transpose_bits(c0)
    del crow
    width = value_bytes(n, n_s)
    mine = oprf_hash(hash_key, t0[occ], occ, width)
    del t0
    match, total = Matcher(mine), HASHES * n_s
    while total > 0:
        x = ch.recv_array_at_most(CHUNK_VALUES * width + 64)
        if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != width or not 0 < len(x) <= total:
            raise ValueError(f"{ch.peer} sent a malformed value batch {x.dtype} {x.shape}")
        match.add(x)
        total -= len(x)
    return np.sort(table[occ[match.hit]]), dig


def _sender_side(ch: Channel, keys: Sequence[bytes], n_r: int) -> np.ndarray:
    n = len(keys)
    dig = digests(keys)
    m = num_bins(n_r)
    choices = np.unpackbits(np.frombuffer(secrets.token_bytes(CODE_BYTES), np.uint8),
                            bitorder="little")
    code_key, hash_key = secrets.token_bytes(16), secrets.token_bytes(16)
    srow = np.packbits(choices, bitorder="little").view("<u8")
    # Every (key, hash index) pair in a fresh random order, so nothing in the order of the
    # values depends on where a key sits in the input. Their codes (masked by s) depend on
    # nothing the receiver sends: computed while the receiver hashes its set.
    order = np.argsort(Prg(fresh_seed()).uint64(HASHES * n), kind="stable")
    masked = [codes(code_key, dig[pick // HASHES], pick % HASHES).view("<u8") & srow
              for pick in (order[lo:lo + CHUNK_VALUES]
                           for lo in range(0, HASHES * n, CHUNK_VALUES))]
    first = ch.recv_bytes_at_most(48)
    if len(first) != 48:
        raise ValueError(f"{ch.peer} sent a first message of {len(first)} bytes, expected 48")
    a_pt, seed = first[:32], first[32:]
    b_pts, ks = base_ot_receiver(a_pt, choices)
    ch.send_array(b_pts)
    ch.send_bytes(code_key + hash_key)
    smask = np.where(choices.astype(bool), 0xFF, 0).astype(np.uint8)[:, None]
    g = Streams(ks)
    q = np.empty((m, CODE_BYTES), dtype=np.uint8)
    for lo in range(0, m, CHUNK_BINS):
        hi = min(m, lo + CHUNK_BINS)
        u = _recv_exact(ch, (CODE_BITS, (hi - lo) // 8), "extension matrix")
        q[lo:hi] = transpose_bits(g.next((hi - lo) // 8) ^ (u & smask))
    q64 = q.view("<u8")
    flat = positions(seed, dig, m).ravel()  # index key·3 + i
    width = value_bytes(n_r, n)
    for c, lo in enumerate(range(0, HASHES * n, CHUNK_VALUES)):
        bins = flat[order[lo:lo + CHUNK_VALUES]]
        ch.send_array(oprf_hash(hash_key, q64[bins] ^ masked[c], bins, width))
        masked[c] = None
    return dig


def kkrt_psi(party: Party, peer: str, keys: Sequence[bytes], *,
             receiver: str | None = None) -> np.ndarray | None:
    """KKRT16 PSI. Returns to each receiving party the sorted positions (into `keys`) of its
    keys the peer also holds; None to a party that receives nothing. `receiver`: the party
    that learns the intersection, or None for both. Same contract as `ecdh_psi`; adversary
    model, parameters and leakage in the module docstring. `keys` must be unique bytes."""
    if receiver is not None and receiver not in (party.name, peer):
        raise ValueError(f"receiver {receiver!r} is neither {party.name!r} nor {peer!r}")
    keys = list(keys)
    if not set(map(type, keys)) <= {bytes}:
        raise TypeError("keys must be bytes (use yinji.psi.keys.prepare_keys)")
    if len(set(keys)) != len(keys):
        raise ValueError("keys must be unique (use prepare_keys(..., duplicates=...))")
    both = receiver is None
    role_r = (min(party.name, peer) if both else receiver) == party.name
    ch = party.channel(peer)
    ch.send_array(np.array([VERSION, len(keys), int(role_r), int(both)], dtype=np.int64))
    hdr = ch.recv_array_at_most(64)
    if hdr.dtype != np.int64 or hdr.shape != (4,) or hdr[0] != VERSION or hdr[1] < 0:
        raise ValueError(f"{peer} sent a malformed KKRT header {hdr!r}")
    n_peer = int(hdr[1])
    if bool(hdr[2]) == role_r or bool(hdr[3]) != both:
        raise ValueError(f"{party.name} and {peer} disagree on who receives the output")
    if len(keys) == 0 or n_peer == 0:
        return np.zeros(0, dtype=np.int64) if (role_r or both) else None
    if role_r:
        found, dig = _receiver_side(ch, keys, n_peer)
        if both:  # the peer learns the intersection too: send it the shared keys' digests
            ch.send_array(dig[found])
        return found
    dig = _sender_side(ch, keys, n_peer)
    if not both:
        return None
    shared = ch.recv_array_at_most(16 * len(keys) + 64)
    if shared.dtype != np.uint8 or shared.ndim != 2 or shared.shape[1] != 16:
        raise ValueError(f"{peer} sent a malformed intersection {shared.dtype} {shared.shape}")
    return np.flatnonzero(member(dig, shared))


__all__ = ["CODE_BITS", "CuckooFailure", "STAT_SEC", "kkrt_psi", "transpose_bits"]
