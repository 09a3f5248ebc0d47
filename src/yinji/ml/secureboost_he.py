"""SecureBoost's "he" histogram mode (two parties): the active party encrypts each row's
packed (g, h) under its Okamoto-Uchiyama key (`sf-heu`), the passive party sums the
ciphertexts by its bins for the nodes named and packs k bin sums into one ciphertext.
Adversary model and leakage: `yinji.ml.secureboost`'s module docstring ("he")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from yinji.ml.secureboost_wire import GH_BITS, cumulative, features, recv_bits, send
from yinji.net.channel import Channel, Party

KEY_BITS = 2048
PAIR_ROWS = 12  # nodes above PAIR_ROWS * bins^2 rows are summed by feature pairs
CT_BYTES = 512  # bound on one serialized 2048-bit OU ciphertext (~272 bytes measured)
KEY_MSG_BYTES = 64 << 10  # bound on a serialized OU public key (~1 KB)
MAX_NODES = 1 << 10  # nodes aggregated in one level at most: 2^(max_depth - 1), max_depth <= 11


def recv_public_key(ch: Channel) -> Any:
    """An OU public key from the channel's peer, refused unread past KEY_MSG_BYTES."""
    _, phe = heu()
    return phe.PublicKey.load_from(ch.recv_bytes_at_most(KEY_MSG_BYTES))


def recv_ciphertexts(ch: Channel, count: int, peer: str) -> Any:
    """An array of `count` ciphertexts from `peer`, refused unread if far larger."""
    hnp, _ = heu()
    c = hnp.CiphertextArray.load_from(ch.recv_bytes_at_most(CT_BYTES * count + 4096))
    if c.shape[0] != count:
        raise ValueError(f"{peer} sent {c.shape[0]} ciphertexts, expected {count}")
    return c


def heu():  # type: ignore[no-untyped-def]
    """`heu.numpy` and `heu.phe`, or an ImportError that says how to install them."""
    try:
        from heu import numpy as hnp
        from heu import phe
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("SecureBoost needs sf-heu: pip install 'yinji[ml]'") from exc
    return hnp, phe


def _bound_bits(public_key: Any) -> int:
    """Bits of OU's plaintext space (about a third of the modulus: 682 for 2048 bits)."""
    return int(str(public_key.plaintext_bound())).bit_length()


def generate_keys() -> Any:
    """A fresh OU key pair (an `heu.numpy.HeKit`), KEY_BITS-bit modulus."""
    hnp, phe = heu()
    return hnp.setup(phe.SchemaType.OU, KEY_BITS)


def _slot_bits(n: int) -> int:
    """Width S of one signed plaintext slot: |a sum of n fixed-point g| <= n 2^GH_BITS
    < 2^(S-1) (|g| <= 1, 0 <= h <= 1/4), so no slot overflows into its neighbour."""
    return n.bit_length() + GH_BITS + 1


def _pack_factor(bound_bits: int, slot: int, count: int) -> int:
    """How many (g, h) bin sums go into one plaintext: the largest divisor of `count` with
    k pairs of slots (2 k S bits, signed) inside OU's plaintext space."""
    kmax = max(1, (bound_bits - 2) // (2 * slot))
    return max(k for k in range(1, min(kmax, count) + 1) if count % k == 0)


def _row_plaintexts(ints: np.ndarray, slot: int) -> np.ndarray:
    """One plaintext per row: g + h 2^S (int64 while it fits, else Python ints)."""
    if slot + GH_BITS <= 63:  # h <= 2^(GH_BITS-2): h 2^S + g stays below 2^63
        return ints[:, 0] + (ints[:, 1] << slot)
    return np.array([int(g) + (int(h) << slot) for g, h in ints], dtype=object)


def _pack_ciphertexts(ev: Any, c: Any, k: int, shift: Any) -> Any:
    """k consecutive bin-sum ciphertexts into one (Horner: c_0 + 2^2S (c_1 + 2^2S (...))),
    so the active party decrypts k times fewer; the plaintext sums are the same."""
    acc = c[k - 1::k]
    for t in range(k - 2, -1, -1):
        acc = ev.add(ev.mul(acc, shift), c[t::k])
    return acc


def _bin_sums(ev: Any, ct: Any, masks: np.ndarray, bins: np.ndarray, nb: int) -> list[Any]:
    """Per node (a row of `masks`), the (d * nb, 1) ciphertexts of its rows' (g, h) sums
    per feature and bin (not cumulated: the active party cumulates the plaintexts).

    A node of more than PAIR_ROWS nb^2 rows is summed by pairs of features: each row's
    ciphertext is added once into its joint (b_j, b_k) bucket, then the nb^2 joint buckets
    into both features' bins, instead of once per feature (2 additions per row). heu pays
    ~20 us per filled bucket, so this gains above ~11 nb^2 rows (measured: 20,000 rows x
    20 features x 32 bins, 0.063 s against 0.078 s a pair; 1.7x on 10^5 rows).
    heu's bucket indices are int8, so the joint buckets go in chunks of q = 128 // nb
    values of b_j (at most nb), each row into the chunk of its b_j (as a subgroup)."""
    n, d = bins.shape
    big = [i for i, m in enumerate(masks) if d > 1 and int(m.sum()) > PAIR_ROWS * nb * nb]
    small = [i for i in range(len(masks)) if i not in big]
    out: list[Any] = [None] * len(masks)
    if small:
        sums = ev.batch_feature_wise_bucket_sum(ct, [masks[i].reshape(1, -1) for i in small],
                                                bins, nb, False)
        for i, c in zip(small, sums, strict=True):
            out[i] = c
    if not big:
        return out
    blank = ev.batch_feature_wise_bucket_sum(ct, [np.zeros((1, n), np.int8)], bins, nb, False)
    q = max(1, min(nb, 128 // nb))
    chunks = -(-nb // q)
    u = np.arange(q * nb)
    to_bins = np.ascontiguousarray(np.stack([u // nb, u % nb], 1).astype(np.int8))
    everything = [np.ones((1, q * nb), np.int8)]
    for i in big:  # placeholders of the right shape, every entry overwritten below
        out[i] = blank[0][list(range(d * nb))]
    for j in range(0, d - 1, 2):
        k = j + 1
        bj, bk = bins[:, j].astype(np.int64), bins[:, k].astype(np.int64)
        joint = np.ascontiguousarray(((bj % q) * nb + bk).astype(np.int8).reshape(-1, 1))
        chunk = bj // q
        subs = [(masks[i] * (chunk == t)).astype(np.int8).reshape(1, -1)
                for i in big for t in range(chunks)]
        stage = ev.batch_feature_wise_bucket_sum(ct, subs, joint, q * nb, False)
        for x, i in enumerate(big):
            right = None
            for t in range(chunks):
                r = ev.batch_feature_wise_bucket_sum(stage[x * chunks + t], everything,
                                                     to_bins, nb, False)[0]
                width = min(q, nb - t * q)
                out[i][list(range(j * nb + t * q, j * nb + t * q + width))] = \
                    r[list(range(width))]
                part = r[list(range(nb, 2 * nb))]
                right = part if right is None else ev.add(right, part)
            out[i][list(range(k * nb, k * nb + nb))] = right
    if d % 2:  # the odd feature out, alone
        last = ev.batch_feature_wise_bucket_sum(
            ct, [masks[i].reshape(1, -1) for i in big], np.ascontiguousarray(bins[:, -1:]),
            nb, False)
        for i, c in zip(big, last, strict=True):
            out[i][list(range((d - 1) * nb, d * nb))] = c
    return out


def _unpack(values: Sequence[int], slot: int, k: int) -> np.ndarray:
    """Packed plaintexts (k bin sums each, lowest slot first) -> (k * len, 2) int64 sums."""
    out, half, mask = [], 1 << (slot - 1), (1 << slot) - 1
    for v in values:
        v = int(v)
        for _ in range(2 * k):
            low = v & mask
            low -= (low >= half) << slot
            out.append(low)
            v = (v - low) >> slot
    return np.array(out, dtype=np.int64).reshape(-1, 2)


class HeHistograms:
    """Two parties: (g, h) encrypted under the active party's OU key, summed by the passive."""

    def __init__(self, party: Party, passives: list[str], keys: Any, nb: int) -> None:
        hnp, _ = heu()
        self.party, self.passives, self.nb = party, passives, nb
        self.kit = keys if keys is not None else generate_keys()
        self.enc, self.dec = self.kit.encryptor(), self.kit.decryptor()
        self.ints64, self.big = self.kit.integer_encoder(1), self.kit.bigint_encoder()
        self.bound_bits = _bound_bits(self.kit.public_key())
        pk = self.kit.public_key().serialize()
        for p in passives:
            party.channel(p).send_bytes(pk)
        self.features = {p: features(party, p) for p in passives}
        self.n, self.pending = 0, 0

    def start_tree(self, ints: np.ndarray) -> None:
        self.n = len(ints)
        plain = _row_plaintexts(ints, _slot_bits(self.n))
        enc = self.ints64 if plain.dtype == np.int64 else self.big
        ct = self.enc.encrypt(self.kit.array(plain, enc)).serialize()
        for p in self.passives:
            send(self.party, p, {"op": "tree"})
            self.party.channel(p).send_bytes(ct)

    def request(self, rows: list[np.ndarray]) -> None:
        masks = np.zeros((len(rows), self.n), dtype=np.int8)
        for i, r in enumerate(rows):
            masks[i, r] = 1
        for p in self.passives:
            send(self.party, p, {"op": "hist"})
            self.party.channel(p).send_array(masks)
        self.pending = len(rows)

    def collect(self) -> dict[str, list[np.ndarray]]:
        out: dict[str, list[np.ndarray]] = {}
        slot = _slot_bits(self.n)
        for p in self.passives:
            count = self.features[p] * self.nb
            k = _pack_factor(self.bound_bits, slot, count)
            out[p] = []
            for _ in range(self.pending):
                c = recv_ciphertexts(self.party.channel(p), count // k, p)
                sums = _unpack(self.dec.decrypt(c).to_numpy(self.big).ravel(), slot, k)
                out[p].append(cumulative(sums, self.features[p], self.nb))
        return out

    def directions(self, t: int, asks: dict[str, tuple[list[Any], np.ndarray]]
                   ) -> dict[str, np.ndarray]:
        """The passive party already knows the nodes' row sets here (the "hist" masks), so
        the active party names them and gets the bits of those rows only (v & e)."""
        for p in self.passives:
            splits, e = asks[p]
            send(self.party, p, {"op": "split", "tree": t, "splits": splits})
            if splits:
                self.party.channel(p).send_array(e)
        return {p: recv_bits(self.party.channel(p), asks[p][1].shape, p)
                for p in self.passives if asks[p][0]}

    def close(self) -> None:
        pass


def passive_handler(party: Party, active: str, bins: np.ndarray, nb: int,
                    view: dict[str, int]):  # type: ignore[no-untyped-def]
    """The passive party's side: sum the active party's ciphertexts into bins for the rows it
    names; `view` counts what it received (ciphertext bytes, node masks)."""
    hnp, phe = heu()
    ch = party.channel(active)
    kit = hnp.setup(recv_public_key(ch))  # public key only
    ev = kit.evaluator()
    send(party, active, {"features": bins.shape[1]})
    state: dict[str, Any] = {}
    n, count = len(bins), bins.shape[1] * nb
    slot = _slot_bits(n)
    k = _pack_factor(_bound_bits(kit.public_key()), slot, count)
    shift = kit.array(np.full(count // k, 1 << (2 * slot), dtype=object), kit.bigint_encoder())

    def pack(c: Any) -> Any:
        return _pack_ciphertexts(ev, c, k, shift)

    def handle(msg: dict[str, Any], go: np.ndarray | None) -> None:
        op = msg["op"]
        if op == "split":  # the active party names the node's rows (known here anyway)
            ch.send_array(go & recv_bits(ch, go.shape, active))
        elif op == "tree":
            raw = ch.recv_bytes_at_most(CT_BYTES * n + 4096)
            view["ciphertext_bytes"] += len(raw)
            state["ct"] = hnp.CiphertextArray.load_from(raw)
            if state["ct"].shape[0] != n:
                raise ValueError(f"{active} sent {state['ct'].shape[0]} row ciphertexts, "
                                 f"this party holds {n} rows")
        elif op == "hist":
            masks = ch.recv_array_at_most(MAX_NODES * n)
            if (masks.dtype != np.int8 or masks.ndim != 2 or masks.shape[1] != n
                    or not 1 <= masks.shape[0] <= MAX_NODES or (masks.size and masks.max() > 1)
                    or (masks.size and masks.min() < 0)):
                raise ValueError(f"{active}: node masks have shape {masks.shape} "
                                 f"({masks.dtype}), expected (1..{MAX_NODES}, {n}) int8 of 0/1")
            view["mask_arrays"] += 1
            for c in _bin_sums(ev, state["ct"], masks, bins, nb):
                ch.send_bytes(pack(c).serialize())

    return handle
