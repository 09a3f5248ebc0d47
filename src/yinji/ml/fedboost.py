"""Horizontal federated histogram boosting: XGBoost-style trees over companies that hold the
same features about different customers, with every histogram summed by secure aggregation
(`yinji.ml.secagg`; cf. SecureBoost's horizontal counterpart and FATE's HomoSecureBoost).

Bins: each client histograms its rows on a fine equal-width grid over [mean - 5 std,
mean + 5 std] of the global mean/std (both from one secure aggregation); the summed grid
counts give the server global quantile edges (`bins` per feature), which it sends out. Per
tree level, each client routes its own rows through the splits so far and sends cumulative
per-bin (g, h) sums for every open node; the server sums them securely, picks the best split
per node (XGBoost gain) or makes a leaf (weight -G/(H + lambda)), and sends the decisions.

Adversary model: as `yinji.ml.fedavg` (semi-honest server and clients; the server colludes
with fewer than the secure-aggregation threshold of clients; one client may drop out).

Leakage: the server and the clients learn the global model (trees with thresholds and leaf
values), the global feature mean/std and the global coarse feature histograms (counts per
grid cell, summed over companies); the server also learns per node the per-bin sums of g and
h over all companies. No single company's histogram, row or label is seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yinji.ml.fedavg import HEAD_BYTES, NAME_BYTES, STATS_FRAC_BITS, check_range
from yinji.ml.secagg import SecAggClient, SecAggServer
from yinji.ml.splits import best_split
from yinji.net.channel import Party
from yinji.net.expect import UnexpectedMessage, recv_json

GRID = 256
STATS_BITS = STATS_FRAC_BITS  # the range check_range verifies
NODE_BYTES = 256     # a tree node in JSON ({"id", "feature", "threshold", "left", "right"})
NUMBER_BYTES = 32    # a float in JSON (mean, std, bin edges)


@dataclass
class FedBoostConfig:
    n_trees: int = 20
    max_depth: int = 3
    learning_rate: float = 0.3
    reg_lambda: float = 1.0
    min_child_weight: float = 1.0
    bins: int = 16


def predict_trees(trees: list[list[dict[str, Any]]], base: float, x: np.ndarray) -> np.ndarray:
    """Probabilities of a tree list (nodes: {"feature", "threshold", "left", "right"} or
    {"leaf"})."""
    score = np.full(len(x), base)
    for tree in trees:
        score += _leaf_values(tree, x)
    return 1 / (1 + np.exp(-score))


def _leaf_values(tree: list[dict[str, Any]], x: np.ndarray) -> np.ndarray:
    node = np.zeros(len(x), dtype=np.int64)
    for _ in range(len(tree)):
        inner = np.array(["leaf" not in tree[k] for k in node])
        if not inner.any():
            break
        for k in np.unique(node[inner]):
            sel = node == k
            nd = tree[k]
            node[sel] = np.where(x[sel, nd["feature"]] <= nd["threshold"], nd["left"], nd["right"])
    return np.array([tree[k]["leaf"] for k in node])


def _send(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(json.dumps(obj).encode())


def _limit(cfg: FedBoostConfig, d: int, clients: int) -> int:
    """Bytes of the server's largest message: survivors, d x (bins + 2) numbers, all trees
    (each at most 2^(max_depth + 1) nodes)."""
    nodes = (cfg.n_trees + 1) * 2 ** (cfg.max_depth + 1)
    return (HEAD_BYTES + NAME_BYTES * clients + NODE_BYTES * nodes
            + NUMBER_BYTES * d * (cfg.bins + 2))


def _recv(party: Party, peer: str, limit: int, clients: Sequence[str], d: int, *keys: str
          ) -> dict[str, Any]:
    """The server's next message: a JSON object with the survivors (among `clients`) and
    `keys` (the mean, std and edges one per feature), refused unread past `limit` bytes."""
    msg = recv_json(party.channel(peer), "a model message", limit, dict)
    alive = msg.get("alive")
    if not isinstance(alive, list) or any(a not in clients for a in alive) or any(
            k not in msg for k in keys) or any(
            not isinstance(msg[k], list) or len(msg[k]) != d
            for k in ("mean", "std", "edges") if k in keys):
        raise UnexpectedMessage(f"{peer} sent a model message with {sorted(msg)}, expected "
                                f"survivors among {list(clients)} and {list(keys)} "
                                f"({d} features)")
    return msg


def fedboost_server(party: Party, clients: Sequence[str], cfg: FedBoostConfig,
                    d: int) -> tuple[list[list[dict[str, Any]]], float]:
    """Build the trees; returns (trees, base score), also sent to the surviving clients."""
    alive = list(clients)

    def agg(length: int, bits: int = 24) -> np.ndarray:
        nonlocal alive
        total, alive = SecAggServer(party, alive, frac_bits=bits).run(length)
        return total

    def bcast(obj: Any) -> None:
        for c in alive:
            _send(party, c, {"alive": alive, **obj})

    s = agg(2 * d + 2, STATS_BITS)
    n, pos = s[-2], s[-1]
    mean = s[:d] / n
    std = np.sqrt(np.maximum(s[d:2 * d] / n - mean**2, 1e-12))
    bcast({"mean": mean.tolist(), "std": std.tolist()})
    counts = agg(d * GRID, 0).reshape(d, GRID)
    lo, width = mean - 5 * std, 10 * std / GRID
    edges = []
    for j in range(d):
        cdf = np.cumsum(counts[j]) / max(counts[j].sum(), 1)
        cells = np.searchsorted(cdf, np.linspace(0, 1, cfg.bins + 1)[1:-1])
        edges.append(sorted(set((lo[j] + (cells + 1) * width[j]).tolist())))
    base = float(np.log(max(pos, 1e-6) / max(n - pos, 1e-6)))
    bcast({"edges": edges, "base": base})
    nb = cfg.bins
    trees = []
    for _ in range(cfg.n_trees):
        tree: list[dict[str, Any]] = [{"id": 0}]
        frontier = [0]
        for depth in range(cfg.max_depth + 1):
            hist = agg(len(frontier) * d * nb * 2).reshape(len(frontier), d, nb, 2)
            nxt = []
            for i, node in enumerate(frontier):
                cum = hist[i]
                g, h = cum[0, -1, 0], cum[0, -1, 1]  # last cumulative bin = node total
                best = None
                if depth < cfg.max_depth:
                    j, b, gain = best_split(cum[..., 0], cum[..., 1], g, h, cfg.reg_lambda,
                                            cfg.min_child_weight)
                    if gain > 1e-12 and b < len(edges[j]):
                        best = (j, b)
                if best is None:
                    tree[node]["leaf"] = float(-g / (h + cfg.reg_lambda) * cfg.learning_rate)
                    continue
                j, b = best
                left, right = len(tree), len(tree) + 1
                tree[node].update(feature=j, threshold=float(edges[j][b]), left=left, right=right)
                tree += [{"id": left}, {"id": right}]
                nxt += [left, right]
            bcast({"tree": tree, "frontier": nxt})
            frontier = nxt
            if not frontier:
                break
        trees.append(tree)
    bcast({"done": True, "trees": trees})
    return trees, base


def fedboost_client(party: Party, server: str, clients: Sequence[str], cfg: FedBoostConfig,
                    x: np.ndarray, y: np.ndarray, *, columns: Sequence[str] | None = None,
                    ) -> tuple[list[list[dict[str, Any]]], float]:
    """One company's side, on its own rows (x, y). Refuses first, naming the column
    (`columns`, default "column j"), NaN, infinity or sums of squares beyond the secure
    aggregation's range -- before joining, so the others are not left with "0 survivors"."""
    d, n = x.shape[1], len(x)
    limit = _limit(cfg, d, len(clients))
    check_range(x, columns)
    SecAggClient(party, server, list(clients), frac_bits=STATS_BITS).run(
        np.concatenate([x.sum(0), (x * x).sum(0), [n, y.sum()]]))
    msg = _recv(party, server, limit, clients, d, "mean", "std")
    alive = msg["alive"]
    mean, std = np.array(msg["mean"]), np.array(msg["std"])
    cell = np.clip(((x - (mean - 5 * std)) / (10 * std / GRID)).astype(np.int64), 0, GRID - 1)
    grid = np.stack([np.bincount(cell[:, j], minlength=GRID) for j in range(d)])
    SecAggClient(party, server, alive, frac_bits=0).run(grid.ravel().astype(np.float64))
    msg = _recv(party, server, limit, clients, d, "edges", "base")
    alive, base = msg["alive"], float(msg["base"])
    nb = cfg.bins
    bins = np.stack([np.searchsorted(np.array(msg["edges"][j]), x[:, j], side="left")
                     for j in range(d)], 1)
    score = np.full(n, base)
    for _ in range(cfg.n_trees):
        p = 1 / (1 + np.exp(-score))
        gh = np.column_stack([p - y, p * (1 - p)])
        node = np.zeros(n, dtype=np.int64)
        frontier = [0]
        while frontier:
            hist = np.zeros((len(frontier), d, nb, 2))
            for i, k in enumerate(frontier):
                r = node == k
                flat = (bins[r] + np.arange(d) * nb).ravel()
                for c in range(2):
                    hist[i, :, :, c] = np.bincount(flat, np.repeat(gh[r, c], d),
                                                   d * nb).reshape(d, nb)
            SecAggClient(party, server, alive).run(np.cumsum(hist, axis=2).ravel())
            msg = _recv(party, server, limit, clients, d, "tree", "frontier")
            alive, tree, frontier = msg["alive"], msg["tree"], msg["frontier"]
            for k in set(node.tolist()):
                nd = tree[k]
                if "leaf" not in nd:
                    sel = node == k
                    node[sel] = np.where(x[sel, nd["feature"]] <= nd["threshold"],
                                         nd["left"], nd["right"])
        score += _leaf_values(tree, x)
    msg = _recv(party, server, limit, clients, d, "trees")
    return msg["trees"], base
