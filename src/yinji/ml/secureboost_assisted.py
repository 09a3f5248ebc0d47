"""SecureBoost's "assisted" histogram mode (a third node as helper, no HE): the helper sums
masked gradients by the passive parties' bins, received in row orders it does not know, and
deals the correlated bits of the masked AND for split directions. Adversary model and
leakage: `yinji.ml.secureboost`'s module docstring ("assisted")."""

from __future__ import annotations

from typing import Any

import numpy as np

from yinji.crypto.prg import Prg, derive, fresh_seed
from yinji.ml.secureboost_wire import cumulative, features, recv, recv_bits, recv_seed, send
from yinji.net.channel import Channel, Party


def row_orders(seed: bytes, d: int, n: int) -> np.ndarray:
    """d independent uniformly random row orders (d x n) from a seed: the argsort of fresh
    64-bit AES-CTR keys (a tie, probability < n^2 2^-65, only makes one order slightly less
    uniform, never invalid)."""
    if n == 0:
        return np.zeros((d, 0), dtype=np.int64)
    return np.argsort(Prg(derive(seed, "orders")).uint64((d, n)), axis=1, kind="stable")


class Groups:
    """Sums of columns by a fixed label per column, exact in Z_2^64: one pass adding each
    word into its label's slot (a compiled loop, yinji.ml._groupsum), no permuted copy."""

    def __init__(self, labels: np.ndarray, groups: int) -> None:
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= groups):
            raise ValueError(f"group labels must lie in 0..{groups - 1}")
        self.labels, self.groups = np.ascontiguousarray(labels), groups
        self.counts = np.bincount(labels.astype(np.int64), minlength=groups)

    def sums(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(c, n) uint64 -> (c, groups) uint64: each label's columns summed (wrapping),
        into `out` (overwritten) if given."""
        from yinji.ml._groupsum import add_by_label

        if out is None:
            out = np.zeros((x.shape[0], self.groups), dtype=np.uint64)
        else:
            out[:] = 0
        self._check(x, out)
        add_by_label(np.ascontiguousarray(x, dtype=np.uint64), self.labels, out)
        return out

    def stream_sums(self, prg: Prg, buf: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The sums of the next out.shape[0] (even) columns of `prg`'s uint64 words, as
        `prg.uint64((columns, n))` draws them, into `out`: two columns at a time are drawn
        into `buf` (2 x n words, reused) and summed while still in cache."""
        from yinji.ml._groupsum import add_by_label

        out[:] = 0
        if out.shape[0] % 2:
            raise ValueError(f"mask columns come in (g, h) pairs, not {out.shape[0]}")
        for k in range(0, out.shape[0], 2):
            self._check(buf, out[k:k + 2])
            add_by_label(prg.fill(buf), self.labels, out[k:k + 2])
        return out

    def _check(self, x: np.ndarray, out: np.ndarray) -> None:
        """The compiled loop does not check bounds: the shapes must agree before it runs."""
        if (x.ndim != 2 or x.shape[1] != len(self.labels) or out.dtype != np.uint64
                or out.shape != (x.shape[0], self.groups) or not out.flags.c_contiguous):
            raise ValueError(f"group sums of {x.shape} words into {out.shape} ({out.dtype}): "
                             f"expected (c, {len(self.labels)}) into (c, {self.groups}) uint64")


def _bits(prg: Prg, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform packed bits (uint8) of `shape` from a PRG stream."""
    return np.frombuffer(prg.bytes(int(np.prod(shape))), dtype=np.uint8).reshape(shape)


class AssistedHistograms:
    """Three nodes: passive histograms summed by the helper over rows it cannot identify.

    Set-up: passive party P shares a seed with the active party A (row orders a_j, one per
    feature, and gradient masks) and sends the helper H its bins in those orders,
    beta_j = b_j[a_j]. Per level, A sends H, for each feature j, Z_j = G[a_j] + M_j; H sums
    Z_j by beta_j and returns that minus S; P sums M_j by beta_j (it knows both) and returns
    that minus S (S shared by P and H), so A gets (sum Z_j) - (sum M_j) = the histogram."""

    def __init__(self, party: Party, passives: list[str], helper: str, n: int, nb: int) -> None:
        self.party, self.passives, self.helper, self.n, self.nb = party, passives, helper, n, nb
        self.features = {p: features(party, p) for p in passives}
        send(party, helper, {"rows": n, "bins": {p: self.features[p] * nb for p in passives}})
        seeds = {p: recv_seed(party, helper) for p in passives}
        self.sel = {p: Prg(derive(seeds[p], "sel-b")) for p in passives}  # masks of e
        self.at: dict[str, np.ndarray] = {}  # feature j, row r -> its place in order a_j
        self.masks: dict[str, Prg] = {}
        for p in passives:
            shared = recv_seed(party, p)
            orders = row_orders(shared, self.features[p], n)
            self.at[p] = np.empty_like(orders)
            np.put_along_axis(self.at[p], orders, np.arange(n)[None, :], axis=1)
            self.masks[p] = Prg(derive(shared, "masks"))
        self.ints = np.zeros((n, 2), dtype=np.uint64)
        self.columns = 0

    def start_tree(self, ints: np.ndarray) -> None:
        self.ints = ints.astype(np.int64).view(np.uint64)

    def request(self, rows: list[np.ndarray]) -> None:
        """Z_j = G[a_j] + M_j, (columns x rows): G is zero outside the nodes, so each node's
        two columns are drawn whole as masks and its rows' (g, h) added at their places, a
        pair at a time while it is in cache (the same words as drawing all Z_j at once)."""
        from yinji.ml._groupsum import add_at_places

        c, n = 2 * len(rows), self.n
        self.columns = c
        rows = [r.astype(np.int64, copy=False) for r in rows]
        send(self.party, self.helper, {"op": "level", "columns": c})
        for p in self.passives:
            send(self.party, p, {"op": "hist", "columns": c})
        to_helper = self.party.channel(self.helper)
        z = np.empty((c, n), dtype=np.uint64)  # reused: a channel copies what it sends
        for p in self.passives:
            for place in self.at[p]:  # one uniformly masked copy per feature, own order
                for i, r in enumerate(rows):
                    pair = z[2 * i:2 * i + 2]
                    add_at_places(self.masks[p].fill(pair), place, r, self.ints)
                to_helper.send_array(z)

    def collect(self) -> dict[str, list[np.ndarray]]:
        out: dict[str, list[np.ndarray]] = {}
        for p in self.passives:
            shape = (self.features[p], self.columns, self.nb)
            mine = _recv_sums(self.party.channel(p), shape, p)
            sums = _recv_sums(self.party.channel(self.helper), shape, self.helper)
            sums = (sums - mine).transpose(0, 2, 1).reshape(-1, self.columns)
            d = self.features[p]
            out[p] = [cumulative(np.ascontiguousarray(sums[:, 2 * i:2 * i + 2]), d, self.nb)
                      for i in range(self.columns // 2)]
        return out

    def directions(self, t: int, asks: dict[str, tuple[list[Any], np.ndarray]]
                   ) -> dict[str, np.ndarray]:
        """Masked AND with the helper's correlated bits (module docstring, "Split
        directions"): the passive party sees e ^ rb, the active party gets v & e only."""
        counts = {p: len(asks[p][0]) for p in self.passives if asks[p][0]}
        if counts:  # all requests go out first: one round trip, helper and passives alike
            send(self.party, self.helper, {"op": "split", "counts": counts})
        for p in self.passives:
            splits, e = asks[p]
            send(self.party, p, {"op": "split", "tree": t, "splits": splits})
            if splits:
                self.party.channel(p).send_array(e ^ _bits(self.sel[p], e.shape))
        w = {p: recv_bits(self.party.channel(self.helper), asks[p][1].shape, self.helper)
             for p in counts}
        out = {}
        for p in counts:
            e, ch = asks[p][1], self.party.channel(p)
            v1, u = recv_bits(ch, e.shape, p), recv_bits(ch, e.shape, p)
            out[p] = (v1 & e) ^ u ^ w[p]
        return out

    def close(self) -> None:
        send(self.party, self.helper, {"op": "done"})


def _recv_sums(ch: Channel, shape: tuple[int, ...], peer: str) -> np.ndarray:
    """Histogram shares of a known shape from `peer`, refused unread if larger."""
    arr = ch.recv_array_at_most(8 * int(np.prod(shape)))
    if arr.dtype != np.uint64 or arr.shape != shape:
        raise ValueError(f"{peer}: histogram shares have shape {arr.shape} ({arr.dtype}), "
                         f"expected {shape} (uint64)")
    return arr


class SecureBoostHelper:
    """The assisted mode's third node: sums the active party's masked gradients by the
    passive parties' bins, which it receives in row orders it does not know, and deals the
    correlated bits of the split directions. Run `run()` while the others `fit`."""

    def __init__(self, party: Party, active: str, *, keep_received: bool = False) -> None:
        self.party, self.active, self.keep_received = party, active, keep_received
        self.counts: dict[str, np.ndarray] = {}  # what it learns: per passive, bin counts
        self.received: list[np.ndarray] = []  # if kept: the masked gradients Z_j

    def run(self) -> dict[str, int]:
        """Serve one training job; returns what it saw: rows, levels."""
        setup = recv(self.party, self.active)
        n = int(setup["rows"])
        groups, shares, select = {}, {}, {}
        for p in setup["bins"]:
            ka, kp = fresh_seed(), fresh_seed()
            self.party.channel(self.active).send_bytes(ka)
            self.party.channel(p).send_bytes(kp)
            shares[p] = Prg(derive(kp, "shares"))
            select[p] = (Prg(derive(kp, "sel-a")), Prg(derive(ka, "sel-b")),
                         Prg(derive(kp, "sel-s")))
        for p, m in setup["bins"].items():
            beta = self.party.channel(p).recv_array_at_most(int(m) * n)  # int8, <= m features
            d = beta.shape[0] if beta.ndim == 2 else 0
            if (beta.dtype != np.int8 or beta.ndim != 2 or d < 1 or beta.shape[1] != n
                    or int(m) % d or (n and (beta.min() < 0 or beta.max() >= int(m) // d))):
                raise ValueError(f"{p}: permuted bins have shape {beta.shape} ({beta.dtype}), "
                                 f"expected (features, {n}) int8 below {int(m)} // features")
            groups[p] = [Groups(b, int(m) // d) for b in beta]
            self.counts[p] = np.stack([g.counts for g in groups[p]])
        levels = 0
        from_active = self.party.channel(self.active)
        while True:
            msg = recv(self.party, self.active)
            if msg["op"] == "done":
                return {"rows": n, "levels": levels}
            if msg["op"] == "split":  # w = (ra & rb) ^ s for each passive's k split rows
                for p, k in msg["counts"].items():
                    if p not in select or not isinstance(k, int) or k < 1:
                        raise ValueError(f"{self.active} asked for split bits of {p!r} x {k!r}")
                    shape = (int(k), (n + 7) // 8)
                    sa, sb_, ss = select[p]
                    from_active.send_array((_bits(sa, shape) & _bits(sb_, shape))
                                           ^ _bits(ss, shape))
                continue
            c = int(msg["columns"])
            for p, gs in groups.items():
                out = np.empty((len(gs), c, gs[0].groups), dtype=np.uint64)
                for j, g in enumerate(gs):
                    z = from_active.recv_array_at_most(8 * c * n)
                    if z.dtype != np.uint64 or z.shape != (c, n):
                        raise ValueError(f"{self.active}: masked gradients have shape "
                                         f"{z.shape} ({z.dtype}), expected {(c, n)} (uint64)")
                    if self.keep_received:
                        self.received.append(z)
                    g.sums(z, out[j])
                out -= shares[p].uint64(out.shape)
                from_active.send_array(out)
            levels += 1


def passive_handler(party: Party, active: str, helper: str, bins: np.ndarray, nb: int,
                    view: dict[str, int], received_rows: list[np.ndarray] | None
                    ):  # type: ignore[no-untyped-def]
    """The passive party's side: bins to the helper in row orders shared with the active
    party only, then per level the sums of the active party's masks by those bins, minus the
    helper's share. It receives no gradient data at all, only column counts; `view` counts
    levels and `received_rows` (if a list) keeps the masked node bits e ^ rb it received."""
    ch = party.channel(active)
    n, d = bins.shape
    send(party, active, {"features": d})
    seed = recv_seed(party, helper)
    sel_a, sel_s = Prg(derive(seed, "sel-a")), Prg(derive(seed, "sel-s"))
    shares = Prg(derive(seed, "shares"))
    shared = fresh_seed()  # with the active party: row orders and gradient masks
    ch.send_bytes(shared)
    orders = row_orders(shared, d, n)
    beta = np.ascontiguousarray(bins.T[np.arange(d)[:, None], orders])
    party.channel(helper).send_array(beta)
    groups = [Groups(b, nb) for b in beta]
    masks = Prg(derive(shared, "masks"))
    pair = np.empty((2, n), dtype=np.uint64)  # two mask columns at a time, reused

    def handle(msg: dict[str, Any], go: np.ndarray | None) -> None:
        if msg["op"] == "split":  # masked AND: send go ^ ra and (ra & (e ^ rb)) ^ s
            e1 = recv_bits(ch, go.shape, active)
            if received_rows is not None:
                received_rows.append(e1)
            ra = _bits(sel_a, go.shape)
            ch.send_array(go ^ ra)
            ch.send_array((ra & e1) ^ _bits(sel_s, go.shape))
        elif msg["op"] == "hist":
            c = msg.get("columns")
            if not isinstance(c, int) or not 2 <= c <= 2 * n + 2 or c % 2:
                raise ValueError(f"{active} asked for {c!r} histogram columns")
            view["levels"] += 1
            out = np.empty((d, c, nb), dtype=np.uint64)
            for g, o in zip(groups, out, strict=True):  # the masks A drew, in its order
                g.stream_sums(masks, pair, o)
            out -= shares.uint64(out.shape)
            ch.send_array(out)

    return handle

