"""Vertical SecureBoost: XGBoost-style gradient boosting for one label holder (active party)
and feature holders (passive parties) whose rows are aligned by PSI (Cheng et al.,
"SecureBoost: A Lossless Federated Learning Framework", IEEE Intelligent Systems 2021;
histogram and packing tricks as in SecretFlow's SGB).

Per tree the active party computes the logistic-loss gradients g and hessians h, packs
(g, h) as fixed-point integers into one plaintext g + h 2^S (signed S-bit slots, S = bits of
the row count + 21, so no sum of up to n rows spills into the next slot) and encrypts them
with Okamoto-Uchiyama (OU, 2048-bit modulus n = p^2 q; SecretFlow's `sf-heu`, chosen by
measurement over `phe`'s Paillier, see docs/modeling.md). Passive parties sum the
ciphertexts into per-bin histograms for the nodes the active party names (`heu`
batch_feature_wise_bucket_sum; a node of many rows by pairs of features: each row once into
its joint bucket, then the joint buckets into both features' bins, `secureboost_he`) and
pack k consecutive bin sums into one ciphertext (c_0 + 2^2S c_1 + ..., k = 8 for 10^4-10^5
rows in OU's 682-bit plaintext space), so the active party decrypts k times fewer
ciphertexts; it unpacks and cumulates the same sums, scores every split of every party's
features (XGBoost gain) and keeps the best. Only the smaller child of each split is
aggregated; its sibling is the parent minus it, in plaintext at the active party (histogram
subtraction: the passive party already knows the parent's and the small child's rows, so the
sibling's rows tell it nothing new; the active party gets the same sums). Split thresholds
of a passive feature stay with its owner:
the active party knows only "party k, its feature j, bin b"; the passive party evaluates the
split and the active party learns the direction of the rows of THAT node only (below).

Two ways to get the passive parties' histograms (`histograms` of the active party):

- "he" (two parties, the SecureBoost of the paper): as above, one OU encryption per row and
  tree (~35 us) and one ciphertext addition per row, passive feature (or pair of features)
  and aggregated node (~2 us each, against XGBoost's nanoseconds), so this mode is a few
  hundred times plain XGBoost (docs/modeling.md). `heu` holds the GIL: parties in one
  process do not overlap.
- "assisted" (a third node as helper H, no HE): H sums masked gradients by the passive
  party's bins, which it receives in row orders it does not know. Set-up: passive party P
  draws a seed shared with the active party A only; from it both expand, per passive
  feature j, a uniformly random row order a_j and a stream of masks. P sends H
  beta_j = b_j[a_j], its bins in those orders (H learns each feature's bin counts and
  nothing else: the orders are uniform and unknown to it). Per level, A sends H, for every
  passive feature, Z_j = G[a_j] + M_j (G its per-node (g, h) columns, zero outside the
  nodes; M_j fresh uniform masks in Z_2^64), H returns the sums of Z_j by beta_j minus S_j,
  P the sums of M_j by beta_j (it knows both) minus S_j (S_j from an AES-CTR stream on a
  seed H and P share), and A subtracts: the histogram, exactly (Z_2^64). P receives no
  gradient data at all (only column counts); the work is O(rows x features x columns) at
  each party (group sums, one pass a word: yinji.ml._groupsum; no bins x rows products).

Split directions. The passive party computes v = [x_j <= threshold] for all its rows; the
active party holds e, the node's membership bits. It must learn v & e and nothing about v
outside the node (had it received v for all rows, collecting the bits over the splits would
sort every row by the passive feature).
- "he": the passive party knows the nodes' row sets anyway (it aggregates them), so the
  active party sends e and receives v & e.
- "assisted": a masked AND with bits dealt by the helper, so that the passive party still
  learns no row set. From AES-CTR streams, H and P share ra and s, H and the active party
  share rb; the active party sends e ^ rb, P returns v ^ ra and (ra & (e ^ rb)) ^ s, H sends
  (ra & rb) ^ s, and (v ^ ra) & e ^ (ra & (e ^ rb)) ^ s ^ (ra & rb) ^ s = v & e. Outside
  the node the active party sees v ^ ra and two equal words masked by s: uniform.
Prediction runs all trees level by level: the active party moves the rows through its own
splits, then asks each passive party, in one round, for the directions of the rows that
reached each of its split nodes, and of no other row (at most max_depth rounds a batch).

Adversary model: semi-honest parties, no collusion between the active party and passive
parties (a passive party colluding with the key holder would decrypt the gradients).
OU's security rests on factoring n = p^2 q (2048 bits: about 112-bit security, NIST SP
800-57's figure for 2048-bit factoring-based keys).

Leakage, training: the active party (label holder) learns, for every passive party, the
per-bin sums of g and h over the rows of each node it aggregates (so which bins hold how much
gradient), the passive's bin counts per feature, and for each node split on a passive feature
the partition of that node's rows into left and right -- nothing about the direction of rows
outside the node (`tests/ml/test_secureboost_leakage.py`). The partitions along the trees
still order the rows coarsely by the passive features (that is SecureBoost's leakage).
A passive party learns the public key, the ciphertexts of (g, h) (semantically secure:
nothing), the row sets of the nodes being built (the instance space, as in SecureBoost), and
which of its own (feature, bin) splits were chosen. Labels, g and h never leave the active
party in the clear.

Assisted mode: the active party learns exactly what it learns in "he" mode (the orders a_j
are uniform and independent of the data; the two sums it receives differ by the histogram
and are otherwise uniform, masked by S_j). A passive party learns only which of its own
splits were chosen: it receives column counts and e ^ rb (uniform), not even the nodes' row
sets. The helper learns the sizes (rows, bins per passive, columns per level, passive
splits per level) and, per passive feature, how many rows fall in each bin (beta_j in an
order unknown to it; the Z_j it sums are uniform). Assumes the helper colludes with nobody:
helper + active would learn a passive party's bins (a_j and beta_j) and split bits, helper +
passive the gradients and row sets.

Leakage, prediction (needs every party, no helper): each passive party learns, for each of its
split nodes, which of the requested rows reach it (SecureBoost's inference: the owner of a
split answers for the records at that split), so which way those rows went at the splits
above it; the active party learns the direction of those rows at those nodes and nothing for
rows that do not reach a passive node. The active party returns scores only to the requester.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from yinji.ml import secureboost_assisted, secureboost_he
from yinji.ml.secureboost_assisted import AssistedHistograms, SecureBoostHelper
from yinji.ml.secureboost_he import HeHistograms, generate_keys
from yinji.ml.secureboost_wire import GH_BITS, recv, recv_bits, reply, send
from yinji.ml.splits import best_split
from yinji.net.channel import Party

__all__ = ["PassivePart", "SecureBoostActive", "SecureBoostConfig", "SecureBoostHelper",
           "SecureBoostModel", "SecureBoostPassive", "generate_keys", "quantile_bins"]


@dataclass
class SecureBoostConfig:
    n_trees: int = 20
    max_depth: int = 3
    learning_rate: float = 0.3
    reg_lambda: float = 1.0
    min_child_weight: float = 1.0
    gamma: float = 0.0
    # 32 quantile bins: with 16, two credit tables with many count features ended 0.010 and
    # 0.014 AUC below XGBoost given the same bin count; with 32, all seven tried were within
    # 0.005, at 14-30x XGBoost's time in the assisted mode (docs/modeling.md)
    bins: int = 32


def quantile_bins(x: np.ndarray, bins: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Local binning of one party's own features: (bin index matrix int8, edges per feature).
    Bin b of feature j holds x <= edges[j][b] (and > edges[j][b-1])."""
    edges = []
    idx = np.empty(x.shape, dtype=np.int8)
    for j in range(x.shape[1]):
        e = np.unique(np.quantile(x[:, j], np.linspace(0, 1, bins + 1)[1:-1]))
        edges.append(e)
        idx[:, j] = np.searchsorted(e, x[:, j], side="left")
    return np.ascontiguousarray(idx), edges


def _own_hist(bins: np.ndarray, gh: np.ndarray, rows: np.ndarray, nb: int) -> np.ndarray:
    """Cumulative (g, h) histograms of own features: (d * nb, 2)."""
    from yinji.ml._groupsum import add_rows_by_bin

    d = bins.shape[1]
    out = np.zeros((d, nb, 2))
    add_rows_by_bin(bins, gh, rows.astype(np.int64, copy=False), out)  # in row order
    return out.cumsum(1).reshape(d * nb, 2)


def _walk_own(tree: list[dict[str, Any]], at: np.ndarray, x: np.ndarray, me: str) -> None:
    """Move rows (in place) through this party's own splits until each is at a leaf or at
    another party's split."""
    while True:
        moved = False
        for k in np.unique(at):
            nd = tree[k]
            if "leaf" in nd or nd["owner"] != me:
                continue
            sel = at == k
            at[sel] = np.where(x[sel, nd["feature"]] <= nd["threshold"], nd["left"], nd["right"])
            moved = True
        if not moved:
            return


@dataclass
class SecureBoostModel:
    """The active party's part: tree structure, own thresholds, leaf values."""

    trees: list[list[dict[str, Any]]]
    base_score: float
    active: str
    passives: list[str]
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"trees": self.trees, "base_score": self.base_score, "active": self.active,
                "passives": self.passives, "config": self.config}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SecureBoostModel:
        return cls(d["trees"], d["base_score"], d["active"], d["passives"], d.get("config", {}))


@dataclass
class PassivePart:
    """A passive party's part: its thresholds for the split nodes it owns."""

    splits: dict[str, tuple[int, float]]  # "tree/node" -> (local feature, threshold)

    def to_json(self) -> dict[str, Any]:
        return {"splits": {k: list(v) for k, v in self.splits.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PassivePart:
        return cls({k: (int(v[0]), float(v[1])) for k, v in d["splits"].items()})


# ---------------------------------------------------------------------------- histograms
class _Histograms(Protocol):
    """How the active party gets passive parties' cumulative (g, h) histograms per node."""

    features: dict[str, int]

    def start_tree(self, ints: np.ndarray) -> None: ...
    def request(self, rows: list[np.ndarray]) -> None: ...
    def collect(self) -> dict[str, list[np.ndarray]]: ...
    def directions(self, t: int, asks: dict[str, tuple[list[Any], np.ndarray]]
                   ) -> dict[str, np.ndarray]: ...
    def close(self) -> None: ...

def _node_masks(rows: list[np.ndarray], n: int) -> np.ndarray:
    """Packed membership bits (one row per node) of the nodes' instance spaces."""
    e = np.zeros((len(rows), n), dtype=np.uint8)
    for i, r in enumerate(rows):
        e[i, r] = 1
    return np.packbits(e, axis=1)


# ---------------------------------------------------------------------------- active
class SecureBoostActive:
    """The label holder. `fit(x, y)` with the passive parties running `SecureBoostPassive.fit`
    on their own columns of the same (PSI-aligned) rows."""

    def __init__(self, party: Party, passives: Sequence[str],
                 config: SecureBoostConfig | None = None, *, helper: str | None = None):
        """`helper` names a third node that runs `SecureBoostHelper` (assisted mode, no HE);
        None trains with OU encryption between the two parties."""
        self.party, self.passives, self.helper = party, list(passives), helper
        self.cfg = config or SecureBoostConfig()

    def fit(self, x: np.ndarray, y: np.ndarray, *, keys: Any = None) -> SecureBoostModel:
        """Train; `keys` (from `generate_keys`) lets a node reuse its OU key pair across
        jobs (key generation takes seconds)."""
        cfg, nb, n = self.cfg, self.cfg.bins, len(y)
        bins, edges = quantile_bins(x, nb)
        mode = "assisted" if self.helper else "he"
        for p in self.passives:
            send(self.party, p, {"n_trees": cfg.n_trees, "bins": nb, "rows": n, "mode": mode,
                                  "helper": self.helper})
        if self.helper:
            hists: _Histograms = AssistedHistograms(self.party, self.passives, self.helper,
                                                     n, nb)
        else:
            hists = HeHistograms(self.party, self.passives, keys, nb)
        y = np.asarray(y, np.float64)
        base = float(np.log(np.clip(y.mean(), 1e-6, 1 - 1e-6) / np.clip(1 - y.mean(), 1e-6, 1)))
        score = np.full(n, base)
        trees = []
        for t in range(cfg.n_trees):
            prob = 1 / (1 + np.exp(-score))
            gh = np.column_stack([prob - y, prob * (1 - prob)])
            ints = np.rint(gh * 2.0**GH_BITS).astype(np.int64)
            hists.start_tree(ints)
            tree, leaf_of = self._grow(t, bins, edges, gh, hists)
            values = np.array([node.get("leaf", 0.0) for node in tree])
            score += values[leaf_of]
            trees.append(tree)
        for p in self.passives:
            send(self.party, p, {"op": "done"})
        hists.close()
        return SecureBoostModel(trees, base, self.party.name, self.passives,
                                {k: getattr(cfg, k) for k in cfg.__dataclass_fields__})

    def _grow(self, t, bins, edges, gh, hists):  # type: ignore[no-untyped-def]
        cfg, nb, n = self.cfg, self.cfg.bins, len(gh)
        tree: list[dict[str, Any]] = [{"id": 0}]
        rows_of = {0: np.arange(n)}
        hist: dict[int, dict[str, np.ndarray]] = {}
        frontier = [0]
        leaf_of = np.zeros(n, dtype=np.int64)
        pairs: list[tuple[int, int, int]] = []  # (parent, small child, large child)
        for depth in range(cfg.max_depth + 1):
            if not frontier:
                break
            # histograms: root, else the smaller child of each pair (sibling by subtraction)
            todo = [0] if depth == 0 else [s for _, s, _ in pairs]
            last = depth == cfg.max_depth
            if not last:
                hists.request([rows_of[node] for node in todo])
                own = [_own_hist(bins, gh, rows_of[node], nb) for node in todo]
                passive = hists.collect()
                for i, node in enumerate(todo):
                    hist[node] = {"own": own[i], **{p: passive[p][i] for p in self.passives}}
                for parent, small, large in pairs:
                    hist[large] = {k: hist[parent][k] - hist[small][k] for k in hist[small]}
            decisions: dict[str, list[Any]] = {p: [] for p in self.passives}
            next_frontier: list[int] = []
            splits: list[tuple[int, str, int, int]] = []
            for node in frontier:
                r = rows_of[node]
                g, h = gh[r, 0].sum(), gh[r, 1].sum()
                best = None
                if not last and len(r) > 1:
                    best = self._best_split(hist[node], g, h, hists.features, bins.shape[1])
                if best is None:
                    tree[node]["leaf"] = float(-g / (h + cfg.reg_lambda) * cfg.learning_rate)
                    leaf_of[r] = node
                    continue
                owner, j, b, gain = best
                left, right = len(tree), len(tree) + 1
                tree[node].update(owner=owner, feature=j, bin=b, left=left, right=right,
                                  gain=gain)  # for feature importance (yinji.ml.importance)
                tree.extend([{"id": left}, {"id": right}])
                if owner == self.party.name:
                    tree[node]["threshold"] = float(edges[j][b]) if b < len(edges[j]) else np.inf
                    go_left = bins[r, j] <= b
                    rows_of[left], rows_of[right] = r[go_left], r[~go_left]
                else:
                    decisions[owner].append({"node": node, "feature": j, "bin": b})
                splits.append((node, owner, left, right))
            # each passive split's directions, for the rows of its node only
            asks = {p: (decisions[p], _node_masks([rows_of[d["node"]] for d in decisions[p]], n))
                    for p in self.passives}
            for p, bits_ in hists.directions(t, asks).items():
                go = np.unpackbits(bits_, axis=1, count=n).astype(bool)
                for k, dec_ in enumerate(decisions[p]):
                    node = dec_["node"]
                    r = rows_of[node]
                    lft = go[k, r]
                    rows_of[tree[node]["left"]], rows_of[tree[node]["right"]] = r[lft], r[~lft]
            pairs = []
            for node, _owner, left, right in splits:
                small, large = (left, right) if len(rows_of[left]) <= len(rows_of[right]) else (right, left)
                pairs.append((node, small, large))
                next_frontier += [left, right]
            frontier = next_frontier
        return tree, leaf_of

    def _best_split(self, hist, g, h, d_pass, d_own):  # type: ignore[no-untyped-def]
        cfg, nb = self.cfg, self.cfg.bins
        best, best_gain = None, cfg.gamma
        for owner, hh in hist.items():
            name = self.party.name if owner == "own" else owner
            d = d_own if owner == "own" else d_pass[owner]
            j, b, gain = best_split(hh[:, 0].reshape(d, nb), hh[:, 1].reshape(d, nb), g, h,
                                    cfg.reg_lambda, cfg.min_child_weight)
            if gain > best_gain + 1e-12:
                best, best_gain = (name, j, b, round(gain, 9)), gain
        return best

    # ------------------------------------------------------------------ inference
    def predict(self, model: SecureBoostModel, x: np.ndarray) -> np.ndarray:
        """Joint inference over the same rows at every party: probabilities, here only.
        Each passive party runs `SecureBoostPassive.serve` on its rows. All trees advance
        together: the active party moves rows through its own splits, then asks each
        passive party, in one round, for the directions of exactly the rows that reached
        its nodes; at most max_depth rounds per batch."""
        n = len(x)
        for p in model.passives:
            send(self.party, p, {"op": "predict", "rows": n})
        for p in model.passives:
            reply(self.party, p)
        at = np.zeros((len(model.trees), n), dtype=np.int64)  # each row's node, per tree
        while True:
            asks: dict[str, list[tuple[int, int, np.ndarray]]] = {p: [] for p in model.passives}
            for t, tree in enumerate(model.trees):
                _walk_own(tree, at[t], x, model.active)
                for k in np.unique(at[t]):
                    if "leaf" not in tree[k]:
                        asks[tree[k]["owner"]].append((t, int(k), np.flatnonzero(at[t] == k)))
            if not any(asks.values()):
                break
            for p, items in asks.items():
                if items:
                    send(self.party, p, {"op": "level", "nodes": [f"{t}/{k}" for t, k, _ in items],
                                          "sizes": [len(r) for _, _, r in items]})
                    self.party.channel(p).send_array(np.concatenate([r for _, _, r in items]))
            for p, items in asks.items():
                if not items:
                    continue
                reply(self.party, p)
                m = sum(len(r) for _, _, r in items)
                go = np.unpackbits(recv_bits(self.party.channel(p), ((m + 7) // 8,), p), count=m).astype(bool)
                lo = 0
                for t, k, r in items:
                    nd = model.trees[t][k]
                    at[t, r] = np.where(go[lo:lo + len(r)], nd["left"], nd["right"])
                    lo += len(r)
        for p in model.passives:
            send(self.party, p, {"op": "end"})
        score = np.full(n, model.base_score)
        for t, tree in enumerate(model.trees):
            score += np.array([nd.get("leaf", 0.0) for nd in tree])[at[t]]
        return 1 / (1 + np.exp(-score))

    def close_serving(self, model: SecureBoostModel) -> None:
        for p in model.passives:
            send(self.party, p, {"op": "done"})


# ---------------------------------------------------------------------------- passive
class SecureBoostPassive:
    """A feature holder: answers histogram, split and prediction requests for its columns."""

    def __init__(self, party: Party, active: str, *, keep_received: bool = False):
        self.party, self.active, self.keep_received = party, active, keep_received
        # what this party received during training (sizes only), for audits and tests
        self.view: dict[str, int] = {"ciphertext_bytes": 0, "mask_arrays": 0, "levels": 0}
        self.received_rows: list[np.ndarray] = []  # assisted mode, if kept: e ^ rb (packed)

    def fit(self, x: np.ndarray) -> PassivePart:
        params = recv(self.party, self.active)
        nb, n = int(params["bins"]), int(params["rows"])
        if n != len(x):
            problem = (f"the active party trains on {n} rows, {self.party.name} has {len(x)}: "
                       "rows must be aligned (PSI) before training")
            send(self.party, self.active, {"error": problem})
            raise ValueError(problem)
        bins, edges = quantile_bins(x, nb)
        if params.get("mode") == "assisted":
            kept = self.received_rows if self.keep_received else None
            hist = secureboost_assisted.passive_handler(self.party, self.active, params["helper"],
                                                        bins, nb, self.view, kept)
        else:
            hist = secureboost_he.passive_handler(self.party, self.active, bins, nb, self.view)
        splits: dict[str, tuple[int, float]] = {}
        while True:
            msg = recv(self.party, self.active)
            if msg["op"] == "done":
                return PassivePart(splits)
            if msg["op"] in ("tree", "hist"):
                hist(msg, None)
            elif msg["op"] == "split" and msg["splits"]:
                go = np.zeros((len(msg["splits"]), len(x)), dtype=np.uint8)
                for k, s in enumerate(msg["splits"]):
                    j, b = int(s["feature"]), int(s["bin"])
                    if not (0 <= j < x.shape[1] and 0 <= b < nb):
                        raise ValueError(f"{self.active} asked for split ({j}, {b}): "
                                         f"{self.party.name} has {x.shape[1]} features x {nb} bins")
                    thr = float(edges[j][b]) if b < len(edges[j]) else np.inf
                    splits[f"{msg['tree']}/{s['node']}"] = (j, thr)
                    go[k] = x[:, j] <= thr
                hist(msg, np.packbits(go, axis=1))


    def serve(self, part: PassivePart, x: np.ndarray) -> int:
        """Answer prediction requests on rows x (aligned with the active party's) until told
        to stop; returns the number of batches served. Per round it answers, for each of its
        split nodes the active party names, only for the rows it names (those at the node)."""
        served = 0
        while True:
            msg = recv(self.party, self.active)
            if msg["op"] == "done":
                return served
            if msg["op"] != "predict" or msg.get("rows") != len(x):
                self._refuse(f"{self.party.name} holds {len(x)} rows, the active party asks "
                             f"for {msg.get('rows')}: rows must be aligned for prediction")
            send(self.party, self.active, {"ok": True})
            while (msg := recv(self.party, self.active))["op"] == "level":
                nodes, sizes = list(msg["nodes"]), [int(k) for k in msg["sizes"]]
                rows = self.party.channel(self.active).recv_array_at_most(
                    8 * sum(max(k, 0) for k in sizes))  # int64 row numbers, as announced
                problem = _bad_level(part, nodes, sizes, rows, len(x))
                if problem:
                    self._refuse(problem)
                send(self.party, self.active, {"ok": True})
                feat = np.array([part.splits[k][0] for k in nodes]).repeat(sizes)
                thr = np.array([part.splits[k][1] for k in nodes]).repeat(sizes)
                self.party.channel(self.active).send_array(np.packbits(x[rows, feat] <= thr))
            served += 1

    def _refuse(self, problem: str) -> None:
        send(self.party, self.active, {"error": problem})
        raise ValueError(problem)


def _bad_level(part: PassivePart, nodes: list[str], sizes: list[int], rows: np.ndarray,
               n: int) -> str | None:
    """Why a prediction round's request is malformed, or None."""
    unknown = [k for k in nodes if k not in part.splits]
    if unknown:
        return f"no split of this party at nodes {unknown[:5]} (a different model version?)"
    if len(sizes) != len(nodes) or min(sizes, default=1) < 1 or sum(sizes) != len(rows):
        return "a prediction round's node sizes do not match its rows"
    if rows.dtype != np.int64 or (len(rows) and (rows.min() < 0 or rows.max() >= n)):
        return f"a prediction round names rows outside 0..{n - 1}"
    return None
