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

Two ways to get the passive parties' histograms (`histograms` of the active party):

- "he" (two parties, the SecureBoost of the paper): as above, one OU encryption per row and
  tree. HE costs ~27 µs per row and tree here, so this mode is 100-300x plain XGBoost.
- "assisted" (a third node as helper, no HE): the histogram of passive party P is Bt @ G, Bt
  P's one-hot bin matrix (bins x rows, fixed for the whole training) and G the active party's
  per-node (g, h) columns. It is computed as a two-party matrix product with correlated
  randomness from the helper H (Du and Atallah's commodity-server product; Beaver 1997): P
  sends Bt + Rb once, the active party sends G + Ra per level, H hands out Rb @ Ra split into
  two random parts, and the active party alone gets Bt @ G in Z_2^64. Ra, Rb and the parts
  come from AES-CTR streams keyed by seeds H sends over the authenticated channels.

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
g and h never leave the active party in the clear.

Assisted mode: the active party learns exactly what it learns in "he" mode (per-bin sums for
the nodes it aggregates, and the passive splits' row directions). A passive party learns only
which of its own splits were chosen: it sees G + Ra (uniform), not even the nodes' row sets.
The helper learns the sizes (rows, bins per passive, columns per level) and nothing else (it
receives no data). Assumes the helper colludes with nobody: helper + active would learn a
passive party's bin matrix, helper + passive the gradients. Prediction needs every party: each
passive party reveals to the active party, for each of its split nodes, which requested rows
go left; the active party returns scores only to the requester.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from yinji.crypto.prg import Prg, derive, fresh_seed
from yinji.ml.splits import best_split
from yinji.net.channel import Party

KEY_BITS = 2048
GH_BITS = 20  # fixed-point fractional bits of g and h in the plaintext slots
# Assisted mode keeps one (features * bins) x rows uint64 matrix per passive party at every
# node; refuse jobs above this size instead of running out of memory half-way.
ASSISTED_MAX_BYTES = 2 << 30


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
    d = bins.shape[1]
    flat = (bins[rows] + np.arange(d) * nb).ravel()
    out = np.stack([np.bincount(flat, np.repeat(gh[rows, k], d), d * nb) for k in range(2)], 1)
    return out.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2)


# ---------------------------------------------------------------------------- messages
def _send(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(json.dumps(obj).encode())


def _recv(party: Party, peer: str) -> Any:
    return json.loads(party.channel(peer).recv_bytes())


def _features(party: Party, peer: str) -> int:
    """A passive party's feature count, or its refusal as a ValueError."""
    msg = _recv(party, peer)
    if "error" in msg:
        raise ValueError(f"{peer} refused: {msg['error']}")
    return int(msg["features"])


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
    def close(self) -> None: ...


def _cumulative(sums: np.ndarray, d: int, nb: int) -> np.ndarray:
    """(d * nb, 2) fixed-point bin sums → cumulative real histograms, as `_own_hist`."""
    real = sums.view(np.int64).astype(np.float64) / 2.0**GH_BITS
    return real.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2)


class _HeHistograms:
    """Two parties: (g, h) encrypted under the active party's OU key, summed by the passive."""

    def __init__(self, party: Party, passives: list[str], keys: Any) -> None:
        hnp, _ = _he()
        self.party, self.passives = party, passives
        self.kit = keys if keys is not None else generate_keys()
        self.enc, self.dec = self.kit.encryptor(), self.kit.decryptor()
        self.encoder = self.kit.batch_integer_encoder()
        pk = self.kit.public_key().serialize()
        for p in passives:
            party.channel(p).send_bytes(pk)
        self.features = {p: _features(party, p) for p in passives}
        self.n, self.pending = 0, 0

    def start_tree(self, ints: np.ndarray) -> None:
        self.n = len(ints)
        ct = self.enc.encrypt(self.kit.array(ints, self.encoder)).serialize()
        for p in self.passives:
            _send(self.party, p, {"op": "tree"})
            self.party.channel(p).send_bytes(ct)

    def request(self, rows: list[np.ndarray]) -> None:
        masks = np.zeros((len(rows), self.n), dtype=np.int8)
        for i, r in enumerate(rows):
            masks[i, r] = 1
        for p in self.passives:
            _send(self.party, p, {"op": "hist"})
            self.party.channel(p).send_array(masks)
        self.pending = len(rows)

    def collect(self) -> dict[str, list[np.ndarray]]:
        hnp, _ = _he()
        out: dict[str, list[np.ndarray]] = {}
        for p in self.passives:
            out[p] = []
            for _ in range(self.pending):
                c = hnp.CiphertextArray.load_from(self.party.channel(p).recv_bytes())
                plain = np.asarray(self.dec.decrypt(c).to_numpy(self.encoder), dtype=np.int64)
                out[p].append(plain.reshape(-1, 2) / 2.0**GH_BITS)
        return out

    def close(self) -> None:
        pass


class _AssistedHistograms:
    """Three nodes: passive histograms Bt @ G as a helper-assisted two-party matrix product.

    Per level: G (rows x 2 per node, node rows only) goes to each passive party as G + Ra;
    the passive returns Rb @ (G + Ra) - sb, the helper Rb @ Ra - sb; then
    (Bt + Rb) @ G - (Rb @ (G + Ra) - sb) + (Rb @ Ra - sb) = Bt @ G, all mod 2^64."""

    def __init__(self, party: Party, passives: list[str], helper: str, n: int, nb: int) -> None:
        self.party, self.passives, self.helper, self.n, self.nb = party, passives, helper, n, nb
        self.features = {p: _features(party, p) for p in passives}
        size = 8 * n * nb * sum(self.features.values())
        if size > ASSISTED_MAX_BYTES:
            raise ValueError(f"assisted SecureBoost would hold {size / 2**30:.1f} GiB of bin "
                             f"matrices ({n} rows x {nb} bins x passive features); use fewer "
                             f"bins, fewer rows or the HE mode")
        _send(party, helper, {"rows": n, "bins": {p: self.features[p] * nb for p in passives}})
        self.ra = {p: Prg(derive(party.channel(helper).recv_bytes(), "ra")) for p in passives}
        self.bt: dict[str, np.ndarray] = {}
        for p in passives:
            bt = party.channel(p).recv_array()
            if bt.dtype != np.uint64 or bt.shape != (self.features[p] * nb, n):
                raise ValueError(f"{p}: masked bin matrix has shape {bt.shape}, "
                                 f"expected {(self.features[p] * nb, n)}")
            self.bt[p] = bt
        self.ints = np.zeros((n, 2), dtype=np.uint64)
        self.g = np.zeros((n, 0), dtype=np.uint64)

    def start_tree(self, ints: np.ndarray) -> None:
        self.ints = ints.astype(np.int64).view(np.uint64)

    def request(self, rows: list[np.ndarray]) -> None:
        c = 2 * len(rows)
        self.g = np.zeros((self.n, c), dtype=np.uint64)
        for i, r in enumerate(rows):
            self.g[r, 2 * i:2 * i + 2] = self.ints[r]
        _send(self.party, self.helper, {"op": "level", "columns": c})
        for p in self.passives:
            _send(self.party, p, {"op": "hist"})
            self.party.channel(p).send_array(self.g + self.ra[p].uint64((self.n, c)))

    def collect(self) -> dict[str, list[np.ndarray]]:
        out: dict[str, list[np.ndarray]] = {}
        for p in self.passives:
            sums = self.bt[p] @ self.g
            sums -= self.party.channel(p).recv_array()
            sums += self.party.channel(self.helper).recv_array()
            d = self.features[p]
            out[p] = [_cumulative(np.ascontiguousarray(sums[:, 2 * i:2 * i + 2]), d, self.nb)
                      for i in range(sums.shape[1] // 2)]
        return out

    def close(self) -> None:
        _send(self.party, self.helper, {"op": "done"})


class SecureBoostHelper:
    """The assisted mode's third node: deals the correlated randomness of every histogram
    product and receives no data (only sizes). Run `run()` while the others `fit`."""

    def __init__(self, party: Party, active: str) -> None:
        self.party, self.active = party, active

    def run(self) -> dict[str, int]:
        """Serve one training job; returns what it saw: rows, levels."""
        setup = _recv(self.party, self.active)
        n = int(setup["rows"])
        streams = {}
        for p, m in setup["bins"].items():
            ka, kp = fresh_seed(), fresh_seed()
            self.party.channel(self.active).send_bytes(ka)
            self.party.channel(p).send_bytes(kp)
            streams[p] = (Prg(derive(kp, "rb")).uint64((int(m), n)), Prg(derive(ka, "ra")),
                          Prg(derive(kp, "sb")))
        levels = 0
        while True:
            msg = _recv(self.party, self.active)
            if msg["op"] == "done":
                return {"rows": n, "levels": levels}
            c = int(msg["columns"])
            for rb, ra, sb in streams.values():
                part = rb @ ra.uint64((n, c))
                part -= sb.uint64((len(rb), c))
                self.party.channel(self.active).send_array(part)
            levels += 1


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
            _send(self.party, p, {"n_trees": cfg.n_trees, "bins": nb, "rows": n, "mode": mode,
                                  "helper": self.helper})
        if self.helper:
            hists: _Histograms = _AssistedHistograms(self.party, self.passives, self.helper,
                                                     n, nb)
        else:
            hists = _HeHistograms(self.party, self.passives, keys)
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
            _send(self.party, p, {"op": "done"})
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
                best, best_gain = (name, j, b), gain
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

    def __init__(self, party: Party, active: str, *, keep_received: bool = False):
        self.party, self.active, self.keep_received = party, active, keep_received
        # what this party received during training (sizes only), for audits and tests
        self.view: dict[str, int] = {"ciphertext_bytes": 0, "mask_arrays": 0,
                                     "masked_gradient_arrays": 0}
        self.received: list[np.ndarray] = []  # assisted mode, if kept: the G + Ra arrays

    def fit(self, x: np.ndarray) -> PassivePart:
        ch = self.party.channel(self.active)
        params = _recv(self.party, self.active)
        nb, n = int(params["bins"]), int(params["rows"])
        if n != len(x):
            problem = (f"the active party trains on {n} rows, {self.party.name} has {len(x)}: "
                       "rows must be aligned (PSI) before training")
            _send(self.party, self.active, {"error": problem})
            raise ValueError(problem)
        bins, edges = quantile_bins(x, nb)
        if params.get("mode") == "assisted":
            hist = self._assisted(params["helper"], bins, nb)
        else:
            hist = self._he(bins, nb)
        splits: dict[str, tuple[int, float]] = {}
        while True:
            msg = _recv(self.party, self.active)
            if msg["op"] == "done":
                return PassivePart(splits)
            if msg["op"] in ("tree", "hist"):
                hist(msg["op"])
            elif msg["op"] == "split" and msg["splits"]:
                go = np.zeros((len(msg["splits"]), len(x)), dtype=np.uint8)
                for k, s in enumerate(msg["splits"]):
                    j, b = int(s["feature"]), int(s["bin"])
                    thr = float(edges[j][b]) if b < len(edges[j]) else np.inf
                    splits[f"{msg['tree']}/{s['node']}"] = (j, thr)
                    go[k] = x[:, j] <= thr
                ch.send_array(go)

    def _he(self, bins: np.ndarray, nb: int):  # type: ignore[no-untyped-def]
        """HE mode: sum the active party's ciphertexts into bins for the rows it names."""
        hnp, phe = _he()
        ch = self.party.channel(self.active)
        kit = hnp.setup(phe.PublicKey.load_from(ch.recv_bytes()))  # public key only
        ev = kit.evaluator()
        _send(self.party, self.active, {"features": bins.shape[1]})
        state: dict[str, Any] = {}

        def handle(op: str) -> None:
            if op == "tree":
                raw = ch.recv_bytes()
                self.view["ciphertext_bytes"] += len(raw)
                state["ct"] = hnp.CiphertextArray.load_from(raw)
            elif op == "hist":
                masks = ch.recv_array()
                self.view["mask_arrays"] += 1
                out = ev.batch_feature_wise_bucket_sum(
                    state["ct"], [m.reshape(1, -1) for m in masks], bins, nb, True)
                for c in out:
                    ch.send_bytes(c.serialize())

        return handle

    def _assisted(self, helper: str, bins: np.ndarray, nb: int):  # type: ignore[no-untyped-def]
        """Assisted mode: send the masked bin matrix once, then Rb @ (G + Ra) - sb per level."""
        ch = self.party.channel(self.active)
        n, d = bins.shape
        _send(self.party, self.active, {"features": d})
        seed = self.party.channel(helper).recv_bytes()
        rb = Prg(derive(seed, "rb")).uint64((d * nb, n))
        sb = Prg(derive(seed, "sb"))
        onehot = np.zeros((d * nb, n), dtype=np.uint64)
        onehot[(bins.astype(np.int64) + np.arange(d) * nb).T, np.arange(n)] = 1
        ch.send_array(onehot + rb)
        del onehot

        def handle(op: str) -> None:
            if op == "hist":
                masked = ch.recv_array()
                self.view["masked_gradient_arrays"] += 1
                if self.keep_received:
                    self.received.append(masked)
                out = rb @ masked
                out -= sb.uint64((len(rb), masked.shape[1]))
                ch.send_array(out)

        return handle

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
