"""Vertical WOE/IV: weight of evidence and information value of a feature owner's own
features against the label holder's labels, on PSI-aligned rows (as SecureBoost's), with
the label holder's additively homomorphic encryption (Okamoto-Uchiyama via SecretFlow's
`sf-heu`, the scheme and key of `yinji.ml.secureboost`).

Protocol (two parties: label holder L with y in {0, 1}, feature owner O with x):
1. O bins each of its features on its own rows (quantile edges, `bins` per feature; bins
   with fewer than `min_bin_rows` rows merged into a neighbour, so no bin is small enough
   to single out a customer's label) and tells L the number of features and bins.
2. L encrypts y row by row under its OU key and sends the ciphertexts and the public key.
3. O sums the ciphertexts per (feature, bin) (`heu` bucket sums), adds to each sum a fresh
   encryption of a random mask r drawn from [0, 2^(log2(n) + 40)) (`secrets`), which also
   re-randomises the ciphertext, and sends them to L.
4. L decrypts and returns the masked sums; O subtracts its masks and has the number of
   events per bin; non-events are the bin's rows minus its events.
O then computes WOE and IV locally (`woe_table`). Optionally (`share_iv=True`) O sends L the
IV of each of its features (for feature selection).

WOE of bin b: ln(share of non-events in b / share of events in b), both counts smoothed by
`alpha` (default 0.5) so empty and one-class bins stay finite; IV = sum_b (non-event share -
event share) * WOE_b. Same formula as the plaintext reference `fit_plain` used for the label
holder's own features and in the tests.

Adversary model: semi-honest, no collusion (L holds the decryption key; O colluding with L
would not matter here, since O's output is about L's labels anyway, but O must follow the
binning rule: an owner that made one-row bins would read those rows' labels).

Leakage: O learns, for each of its (merged) bins, the number of events among its rows in
that bin (so the WOE/IV of its own features) and the total number of events; nothing else
about y (the ciphertexts are semantically secure). L learns the number of O's features, the
`bins` parameter (every feature's sums are padded to it) and the row count, nothing else: each value
it decrypts is an event count plus a mask 40 bits wider than any count (statistical
distance <= 2^-40 from a mask alone); with share_iv, the IV of each of O's features.
`tests/ml/test_woe.py` checks L's view does not depend on x.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

from yinji.ml.secureboost_he import generate_keys, heu, recv_ciphertexts, recv_public_key
from yinji.ml.secureboost_wire import recv, send
from yinji.net.channel import Party

MASK_BITS = 40       # statistical security of the masks on the decrypted bin sums
MIN_BIN_ROWS = 20    # default smallest bin the owner may learn an event count of
MAX_BINS = 64


@dataclass
class FeatureWoe:
    """One feature's binning and evidence: bin b holds edges[b-1] < x <= edges[b]
    (len(edges) + 1 bins; the last open to +inf)."""

    name: str
    edges: list[float]
    events: list[int]
    rows: list[int]
    woe: list[float]
    iv: float

    def to_prep(self) -> dict[str, Any]:
        """The {edges, woe} a "woe" preprocessing step maps values with."""
        return {"edges": list(self.edges), "woe": list(self.woe)}


def bin_edges(x: np.ndarray, bins: int = 10, min_bin_rows: int = MIN_BIN_ROWS) -> np.ndarray:
    """Quantile edges of one column fitted on its own rows, then the smallest bin merged into
    its smaller neighbour until every bin holds at least `min_bin_rows` rows (or one bin is
    left). Bin b holds edges[b-1] < x <= edges[b]."""
    x = np.asarray(x, np.float64).ravel()
    if not np.isfinite(x).all():
        raise ValueError("WOE binning needs finite values (impute missing values first)")
    if not 2 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be 2..{MAX_BINS}, got {bins}")
    if len(x) == 0:
        return np.zeros(0)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = edges[edges < x.max()]  # no bin beyond the largest value
    counts = list(np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1))
    e = list(edges)
    while len(counts) > 1 and min(counts) < min_bin_rows:
        k = int(np.argmin(counts))
        # merge with the smaller neighbour (drop the edge between them)
        j = k - 1 if k == len(counts) - 1 or (k > 0 and counts[k - 1] <= counts[k + 1]) else k + 1
        lo = min(j, k)
        counts[lo:lo + 2] = [counts[lo] + counts[lo + 1]]
        del e[lo]
    return np.asarray(e, np.float64)


def apply_woe(x: np.ndarray, edges: np.ndarray | list[float], woe: np.ndarray | list[float]
              ) -> np.ndarray:
    """Map values to their bin's WOE (the transform fitted by `fit_plain` / `owner_woe`)."""
    edges, woe = np.asarray(edges, np.float64), np.asarray(woe, np.float64)
    if len(woe) != len(edges) + 1:
        raise ValueError(f"{len(edges)} edges need {len(edges) + 1} WOE values, got {len(woe)}")
    x = np.asarray(x, np.float64)
    if np.isnan(x).any():
        raise ValueError("WOE transform got missing values (impute them first)")
    return woe[np.searchsorted(edges, x, side="left")]


def woe_table(events: np.ndarray, rows: np.ndarray, alpha: float = 0.5
              ) -> tuple[np.ndarray, float]:
    """(WOE per bin, IV) from per-bin event and row counts; counts smoothed by `alpha`."""
    events, rows = np.asarray(events, np.float64), np.asarray(rows, np.float64)
    if (events < 0).any() or (events > rows).any():
        raise ValueError("per-bin event counts must lie between 0 and the bin's rows")
    non = rows - events
    m = len(rows)
    pe = (events + alpha) / (events.sum() + alpha * m)
    pn = (non + alpha) / (non.sum() + alpha * m)
    woe = np.log(pn / pe)
    return woe, float(np.sum((pn - pe) * woe))


def _feature(name: str, edges: np.ndarray, bins: np.ndarray, events: np.ndarray,
             alpha: float) -> FeatureWoe:
    rows = np.bincount(bins, minlength=len(edges) + 1)
    woe, iv = woe_table(events, rows, alpha)
    return FeatureWoe(name, edges.tolist(), [int(v) for v in events], rows.tolist(),
                      woe.tolist(), iv)


def _names(names: list[str] | None, d: int) -> list[str]:
    names = list(names) if names is not None else [f"x{j}" for j in range(d)]
    if len(names) != d:
        raise ValueError(f"{len(names)} names for {d} feature columns")
    return names


def _binned(x: np.ndarray, bins: int, min_bin_rows: int
            ) -> tuple[list[np.ndarray], np.ndarray]:
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"need a (rows, features) table, got shape {x.shape}")
    edges = [bin_edges(x[:, j], bins, min_bin_rows) for j in range(x.shape[1])]
    idx = np.stack([np.searchsorted(e, x[:, j], side="left") for j, e in enumerate(edges)], 1) \
        if x.shape[1] else np.zeros((len(x), 0), np.int64)
    return edges, idx.astype(np.int64)


def fit_plain(x: np.ndarray, y: np.ndarray, bins: int = 10, *, names: list[str] | None = None,
              min_bin_rows: int = MIN_BIN_ROWS, alpha: float = 0.5) -> list[FeatureWoe]:
    """WOE/IV of features whose owner also holds the labels (the label holder's own, and the
    reference the protocol is tested against)."""
    y = _labels(y)
    edges, idx = _binned(x, bins, min_bin_rows)
    if len(idx) != len(y):
        raise ValueError(f"{len(idx)} feature rows but {len(y)} labels")
    return [_feature(n, edges[j], idx[:, j], np.bincount(idx[:, j], y, len(edges[j]) + 1)
                     .astype(np.int64), alpha)
            for j, n in enumerate(_names(names, idx.shape[1]))]


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y).ravel()
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return y.astype(np.int64)


# ------------------------------------------------------------------------------ protocol
def label_holder_woe(party: Party, owner: str, y: np.ndarray, *, keys: Any = None
                     ) -> dict[str, float] | None:
    """L's side: encrypt y, decrypt the masked bin sums. Returns the owner's IV per feature
    if the owner shares it, else None. `keys`: an OU key pair (`secureboost.generate_keys`)."""
    y = _labels(y)
    ch = party.channel(owner)
    hello = recv(party, owner)
    if "error" in hello:
        raise ValueError(f"{owner} refused: {hello['error']}")
    if int(hello["rows"]) != len(y):
        problem = (f"{owner} has {hello['rows']} rows, {party.name} {len(y)} labels: rows "
                   "must be aligned (PSI) first")
        send(party, owner, {"error": problem})
        raise ValueError(problem)
    if keys is None:
        keys = generate_keys()
    send(party, owner, {"ok": True})
    ch.send_bytes(keys.public_key().serialize())
    ch.send_bytes(keys.encryptor().encrypt(keys.array(y, keys.integer_encoder(1))).serialize())
    masked = recv_ciphertexts(ch, int(hello["sums"]), owner)
    values = keys.decryptor().decrypt(masked).to_numpy(keys.bigint_encoder()).ravel()
    send(party, owner, {"sums": [str(int(v)) for v in values]})
    reply = recv(party, owner)
    return reply.get("iv")


def owner_woe(party: Party, holder: str, x: np.ndarray, bins: int = 10, *,
              names: list[str] | None = None, min_bin_rows: int = MIN_BIN_ROWS,
              alpha: float = 0.5, share_iv: bool = False) -> list[FeatureWoe]:
    """O's side: WOE/IV of its own feature columns x (rows aligned with the labels)."""
    hnp, _ = heu()
    ch = party.channel(holder)
    try:
        edges, idx = _binned(x, bins, min_bin_rows)
        names = _names(names, idx.shape[1])
        if len(idx) == 0 or idx.shape[1] == 0:
            raise ValueError(f"WOE/IV needs at least one row and one feature, got {x.shape}")
    except ValueError as exc:
        send(party, holder, {"error": str(exc)})
        raise
    n, d = idx.shape
    width = bins   # every feature padded to `bins` sums: L learns no merged bin counts
    send(party, holder, {"rows": n, "sums": d * width})
    go = recv(party, holder)
    if "error" in go:
        raise ValueError(f"{holder} refused: {go['error']}")
    kit = hnp.setup(recv_public_key(ch))  # the public key only
    ct = recv_ciphertexts(ch, n, holder)   # the encrypted labels, one per row
    order = np.ascontiguousarray(idx.astype(np.int8))
    sums = kit.evaluator().batch_feature_wise_bucket_sum(
        ct, [np.ones((1, n), dtype=np.int8)], order, width, False)[0]
    bound = 1 << (max(n, 1).bit_length() + MASK_BITS)
    masks = [secrets.randbelow(bound) for _ in range(d * width)]
    enc_masks = kit.encryptor().encrypt(kit.array(np.array(masks, dtype=object).reshape(
        sums.shape), kit.bigint_encoder()))
    ch.send_bytes(kit.evaluator().add(sums, enc_masks).serialize())
    opened = [int(v) for v in recv(party, holder)["sums"]]
    if len(opened) != d * width:
        raise ValueError(f"{holder} returned {len(opened)} sums, expected {d * width}")
    events = np.array([v - r for v, r in zip(opened, masks, strict=True)],
                      dtype=np.int64).reshape(d, width)
    out = []
    for j in range(d):
        m = len(edges[j]) + 1
        if events[j, m:].any():
            raise ValueError(f"{holder}'s decrypted sums do not fit the bins")
        out.append(_feature(names[j], edges[j], idx[:, j], events[j, :m], alpha))
    send(party, holder, {"iv": {f.name: f.iv for f in out}} if share_iv else {})
    return out

