"""Vertical SecureBoost: XGBoost-style gradient boosting for one label holder (active party)
and feature holders (passive parties) whose rows are aligned by PSI (Cheng et al.,
"SecureBoost: A Lossless Federated Learning Framework", IEEE Intelligent Systems 2021;
histogram and packing tricks as in SecretFlow's SGB).

Per tree the active party computes the logistic-loss gradients g and hessians h, packs
(g, h) as fixed-point integers into one plaintext and encrypts them with Okamoto-Uchiyama
(OU, 2048-bit modulus n = p^2 q; SecretFlow's `sf-heu`, chosen by measurement over `phe`'s
Paillier, see docs/modeling.md). Passive parties sum the ciphertexts into per-bin cumulative
histograms for the nodes the active party names (`heu` feature_wise_bucket_sum), the active
party decrypts, scores every split of every party's features (XGBoost gain) and keeps the
best. Only the smaller child of each split is aggregated; its sibling is the parent minus it,
in plaintext at the active party. Split thresholds of a passive feature stay with its owner:
the active party knows only "party k, its feature j, bin b"; the passive party evaluates the
split and returns which rows go left.

Adversary model: semi-honest parties, no collusion between the active party and passive
parties (a passive party colluding with the key holder would decrypt the gradients).
OU's security rests on factoring n = p^2 q (2048 bits: about 112-bit security, NIST SP
800-57's figure for 2048-bit factoring-based keys).

Leakage: the active party (label holder) learns, for every passive party, the per-bin sums
of g and h over the rows of each node it aggregates (so which bins hold how much gradient),
which rows go left at the passive party's splits (the instance space of every node), and the
passive's bin counts per feature. A passive party learns the public key, the ciphertexts of
(g, h) (semantically secure: nothing), the row sets of the nodes being built (the instance
space, as in SecureBoost), and which of its own (feature, bin) splits were chosen. Labels,
g and h never leave the active party in the clear. Prediction needs every party: each
passive party reveals to the active party, for each of its split nodes, which requested rows
go left; the active party returns scores only to the requester.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yinji.net.channel import Party

KEY_BITS = 2048
GH_BITS = 20  # fixed-point fractional bits of g and h in the plaintext slots


def _he():  # type: ignore[no-untyped-def]
    try:
        from heu import numpy as hnp
        from heu import phe
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("SecureBoost needs sf-heu: pip install 'yinji[ml]'") from exc
    return hnp, phe


def generate_keys() -> Any:
    """A fresh OU key pair (an `heu.numpy.HeKit`), KEY_BITS-bit modulus."""
    hnp, phe = _he()
    return hnp.setup(phe.SchemaType.OU, KEY_BITS)


@dataclass
class SecureBoostConfig:
    n_trees: int = 20
    max_depth: int = 3
    learning_rate: float = 0.3
    reg_lambda: float = 1.0
    min_child_weight: float = 1.0
    gamma: float = 0.0
    bins: int = 16


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


def _gain(gl: np.ndarray, hl: np.ndarray, g: float, h: float, lam: float) -> np.ndarray:
    gr, hr = g - gl, h - hl
    return gl**2 / (hl + lam) + gr**2 / (hr + lam) - g**2 / (h + lam)


def _own_hist(bins: np.ndarray, gh: np.ndarray, rows: np.ndarray, nb: int) -> np.ndarray:
    """Cumulative (g, h) histograms of own features: (d * nb, 2)."""
    d = bins.shape[1]
    flat = (bins[rows] + np.arange(d) * nb).ravel()
    out = np.stack([np.bincount(flat, np.repeat(gh[rows, k], d), d * nb) for k in range(2)], 1)
    return out.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2)


# ---------------------------------------------------------------------------- messages
def _send(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(json.dumps(obj).encode())


def _recv(party: Party, peer: str) -> Any:
    return json.loads(party.channel(peer).recv_bytes())


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


# ---------------------------------------------------------------------------- active
class SecureBoostActive:
    """The label holder. `fit(x, y)` with the passive parties running `SecureBoostPassive.fit`
    on their own columns of the same (PSI-aligned) rows."""

    def __init__(self, party: Party, passives: Sequence[str], config: SecureBoostConfig | None = None):
        self.party, self.passives = party, list(passives)
        self.cfg = config or SecureBoostConfig()

    def fit(self, x: np.ndarray, y: np.ndarray, *, keys: Any = None) -> SecureBoostModel:
        """Train; `keys` (from `generate_keys`) lets a node reuse its OU key pair across
        jobs (key generation takes seconds)."""
        hnp, phe = _he()
        cfg, nb, n = self.cfg, self.cfg.bins, len(y)
        kit = keys if keys is not None else generate_keys()
        enc, dec = kit.encryptor(), kit.decryptor()
        encoder = kit.batch_integer_encoder()
        bins, edges = quantile_bins(x, nb)
        pk = kit.public_key().serialize()
        for p in self.passives:
            _send(self.party, p, {"n_trees": cfg.n_trees, "bins": nb, "rows": n})
            self.party.channel(p).send_bytes(pk)
        d_pass = {p: int(_recv(self.party, p)["features"]) for p in self.passives}
        y = np.asarray(y, np.float64)
        base = float(np.log(np.clip(y.mean(), 1e-6, 1 - 1e-6) / np.clip(1 - y.mean(), 1e-6, 1)))
        score = np.full(n, base)
        trees = []
        for t in range(cfg.n_trees):
            prob = 1 / (1 + np.exp(-score))
            gh = np.column_stack([prob - y, prob * (1 - prob)])
            ints = np.rint(gh * 2.0**GH_BITS).astype(np.int64)
            ct = enc.encrypt(kit.array(ints, encoder)).serialize()
            for p in self.passives:
                self.party.channel(p).send_bytes(ct)
            tree, leaf_of = self._grow(t, bins, edges, gh, d_pass, dec, encoder)
            values = np.array([node.get("leaf", 0.0) for node in tree])
            score += values[leaf_of]
            trees.append(tree)
        for p in self.passives:
            _send(self.party, p, {"op": "done"})
        return SecureBoostModel(trees, base, self.party.name, self.passives,
                                {k: getattr(cfg, k) for k in cfg.__dataclass_fields__})

    def _grow(self, t, bins, edges, gh, d_pass, dec, encoder):  # type: ignore[no-untyped-def]
        hnp, _ = _he()
        cfg, nb, n = self.cfg, self.cfg.bins, len(gh)
        tree: list[dict[str, Any]] = [{"id": 0}]
        rows_of = {0: np.arange(n)}
        hists: dict[int, dict[str, np.ndarray]] = {}
        frontier = [0]
        leaf_of = np.zeros(n, dtype=np.int64)
        pairs: list[tuple[int, int, int]] = []  # (parent, small child, large child)
        for depth in range(cfg.max_depth + 1):
            if not frontier:
                break
            # histograms: root, else the smaller child of each pair (sibling by subtraction)
            todo = [0] if depth == 0 else [s for _, s, _ in pairs]
            masks = np.zeros((len(todo), n), dtype=np.int8)
            for i, node in enumerate(todo):
                masks[i, rows_of[node]] = 1
            last = depth == cfg.max_depth
            if not last:
                for p in self.passives:
                    _send(self.party, p, {"op": "hist", "nodes": todo})
                    self.party.channel(p).send_array(masks)
            if not last:
                for node in todo:
                    hists[node] = {"own": _own_hist(bins, gh, rows_of[node], nb)}
                for p in self.passives:
                    for node in todo:
                        c = hnp.CiphertextArray.load_from(self.party.channel(p).recv_bytes())
                        plain = np.asarray(dec.decrypt(c).to_numpy(encoder), dtype=np.int64)
                        hists[node][p] = plain.reshape(-1, 2) / 2.0**GH_BITS
                for parent, small, large in pairs:
                    hists[large] = {k: hists[parent][k] - hists[small][k] for k in hists[small]}
            decisions: dict[str, list[Any]] = {p: [] for p in self.passives}
            next_frontier: list[int] = []
            splits: list[tuple[int, str, int, int]] = []
            for node in frontier:
                r = rows_of[node]
                g, h = gh[r, 0].sum(), gh[r, 1].sum()
                best = None
                if not last and len(r) > 1:
                    best = self._best_split(hists[node], g, h, d_pass, bins.shape[1])
                if best is None:
                    tree[node]["leaf"] = float(-g / (h + cfg.reg_lambda) * cfg.learning_rate)
                    leaf_of[r] = node
                    continue
                owner, j, b = best
                left, right = len(tree), len(tree) + 1
                tree[node].update(owner=owner, feature=j, bin=b, left=left, right=right)
                tree.extend([{"id": left}, {"id": right}])
                if owner == self.party.name:
                    tree[node]["threshold"] = float(edges[j][b]) if b < len(edges[j]) else np.inf
                    go_left = bins[r, j] <= b
                    rows_of[left], rows_of[right] = r[go_left], r[~go_left]
                else:
                    decisions[owner].append({"node": node, "feature": j, "bin": b})
                splits.append((node, owner, left, right))
            for p in self.passives:
                _send(self.party, p, {"op": "split", "tree": t, "splits": decisions[p]})
                if decisions[p]:
                    go = self.party.channel(p).recv_array().astype(bool)
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
        for p in self.passives:
            _send(self.party, p, {"op": "end_tree"})
        return tree, leaf_of

    def _best_split(self, hist, g, h, d_pass, d_own):  # type: ignore[no-untyped-def]
        cfg, nb = self.cfg, self.cfg.bins
        best, best_gain = None, cfg.gamma
        for owner, hh in hist.items():
            name = self.party.name if owner == "own" else owner
            d = d_own if owner == "own" else d_pass[owner]
            gl, hl = hh[:, 0].reshape(d, nb), hh[:, 1].reshape(d, nb)
            ok = (hl >= cfg.min_child_weight) & (h - hl >= cfg.min_child_weight)
            gain = np.where(ok, _gain(gl, hl, g, h, cfg.reg_lambda), -np.inf)
            j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
            if gain[j, b] > best_gain + 1e-12:
                best, best_gain = (name, int(j), int(b)), float(gain[j, b])
        return best

    # ------------------------------------------------------------------ inference
    def predict(self, model: SecureBoostModel, x: np.ndarray) -> np.ndarray:
        """Joint inference over the same rows at every party: probabilities, here only.
        Each passive party runs `SecureBoostPassive.serve` on its rows."""
        n = len(x)
        bits: dict[str, tuple[dict[str, int], np.ndarray]] = {}
        for p in model.passives:
            _send(self.party, p, {"op": "predict", "rows": n})
            order = _recv(self.party, p)
            bits[p] = ({k: i for i, k in enumerate(order)}, self.party.channel(p).recv_array())
        score = np.full(n, model.base_score)
        for t, tree in enumerate(model.trees):
            node = np.zeros(n, dtype=np.int64)
            for _ in range(len(tree)):
                inner = np.array(["leaf" not in tree[k] for k in node])
                if not inner.any():
                    break
                for k in np.unique(node[inner]):
                    sel = node == k
                    nd = tree[k]
                    if nd["owner"] == model.active:
                        go = x[sel, nd["feature"]] <= nd["threshold"]
                    else:
                        index, arr = bits[nd["owner"]]
                        go = arr[index[f"{t}/{k}"], sel].astype(bool)
                    node[sel] = np.where(go, nd["left"], nd["right"])
            score += np.array([tree[k]["leaf"] for k in node])
        return 1 / (1 + np.exp(-score))

    def close_serving(self, model: SecureBoostModel) -> None:
        for p in model.passives:
            _send(self.party, p, {"op": "done"})


# ---------------------------------------------------------------------------- passive
class SecureBoostPassive:
    """A feature holder: answers histogram, split and prediction requests for its columns."""

    def __init__(self, party: Party, active: str):
        self.party, self.active = party, active
        self.view: dict[str, int] = {"ciphertext_bytes": 0, "mask_arrays": 0}

    def fit(self, x: np.ndarray) -> PassivePart:
        hnp, phe = _he()
        ch = self.party.channel(self.active)
        params = _recv(self.party, self.active)
        nb = int(params["bins"])
        kit = hnp.setup(phe.PublicKey.load_from(ch.recv_bytes()))  # public key only
        ev = kit.evaluator()
        bins, edges = quantile_bins(x, nb)
        _send(self.party, self.active, {"features": x.shape[1]})
        splits: dict[str, tuple[int, float]] = {}
        ct = None
        while True:
            if ct is None:
                raw = ch.recv_bytes()
                if raw.startswith(b"{"):  # "done"
                    return PassivePart(splits)
                self.view["ciphertext_bytes"] += len(raw)
                ct = hnp.CiphertextArray.load_from(raw)
            msg = _recv(self.party, self.active)
            if msg["op"] == "hist":
                masks = ch.recv_array()
                self.view["mask_arrays"] += 1
                out = ev.batch_feature_wise_bucket_sum(
                    ct, [m.reshape(1, -1) for m in masks], bins, nb, True)
                for c in out:
                    ch.send_bytes(c.serialize())
            elif msg["op"] == "split":
                if msg["splits"]:
                    go = np.zeros((len(msg["splits"]), len(x)), dtype=np.uint8)
                    for k, s in enumerate(msg["splits"]):
                        j, b = int(s["feature"]), int(s["bin"])
                        thr = float(edges[j][b]) if b < len(edges[j]) else np.inf
                        splits[f"{msg['tree']}/{s['node']}"] = (j, thr)
                        go[k] = x[:, j] <= thr
                    ch.send_array(go)
            elif msg["op"] == "end_tree":
                ct = None

    def serve(self, part: PassivePart, x: np.ndarray) -> int:
        """Answer prediction requests on rows x (aligned with the active party's) until told
        to stop; returns the number of requests served."""
        served = 0
        while True:
            msg = _recv(self.party, self.active)
            if msg["op"] == "done":
                return served
            keys = sorted(part.splits)
            _send(self.party, self.active, keys)
            go = np.zeros((len(keys), len(x)), dtype=np.uint8)
            for i, k in enumerate(keys):
                j, thr = part.splits[k]
                go[i] = x[:, j] <= thr
            self.party.channel(self.active).send_array(go)
            served += 1
