"""Rule MODEL of the risk look-through: a joint SS-LR model (yinji.ml.sslr: Newton steps on
shares, Mohassel & Rindal's 3-party replicated sharing) on the per-client look-through
features, trained and scored in MPC on the compute parties' shares; the features are never
opened, nor the weights, nor a score.

Features (`feature_names(companies)`), per client, from the group figures of
`risk_rules.layout(K)` (integer fen shares), in CNY 10,000 at the session's fixed point:

    assets, prior_assets     the client's group assets now and a month ago
    exposure_<company>       each company's exposure to the client (companies sorted)
    leverage                 E / (max(A, E / 100) + d)          in [0, 100)
    concentration            sum_c (e_c / (E + d))^2            Herfindahl index, 0 or [1/K, 1)
    drop                     (P - A) / (max(P, A) + d)          in (-1, 1)

with E = sum_c e_c, A = assets, P = prior_assets, d = CNY 100. The amount features are capped
at AMOUNT_CAP (CNY 1 billion: beyond it the standardised squares of SS-LR would leave the
fixed-point range); the ratios use the uncapped amounts. `plain_features` is the float twin.
Cost: one batched comparison of n x (K + 4), one multiplication, one batched division of
n x (K + 2) (about 80 rounds in all).

Scoring: score = sigmoid(w . standardise(x) + b) >= threshold is decided as
w . standardise(x) + b >= logit(threshold) -- the same test, since sigmoid is increasing,
without the sigmoid's approximation error (2e-5) at the threshold and 31 rounds cheaper. The
0/1 result stays shared; the look-through opens it only inside each company's packed code.

Training (`train`): SS-LR's Newton solver on the shared features and 0/1 labels (fixed step
count, nothing opened while training); then the in-sample counts at TRAINING_CUTS (how many
clients, and how many positives, score at least t) -- aggregates the caller opens to the
label holder only.

Registry form (yinji.ml.registry): kind "sslr", `parties` = the three compute parties in
session order, `features` = {FEATURE_KEY: feature names}; every compute party stores its own
share set (part.npz), nobody holds plaintext weights. `FEATURE_KEY` is not a node name, so
the node's own prediction API (model.predict) refuses the model (no node holds its features):
it is scored only inside a look-through run.

Adversary model: semi-honest, honest majority among the three compute parties (yinji.mpc).
Leakage: none beyond what the caller opens (train: the counts to the label holder; scoring:
the MODEL bit inside each company's own reason codes, and the officer's counts).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from yinji.apps.base import AppError
from yinji.ml.registry import ModelMeta, ModelRegistry, save_sslr
from yinji.ml.sslr import SSLR, SSLinearModel
from yinji.mpc import SharedTensor, concatenate, stack
from yinji.net.expect import UnexpectedMessage, recv_json

UNIT_FEN = 1_000_000                 # features in CNY 10,000
AMOUNT_CAP = 100_000.0               # CNY 1 billion, in CNY 10,000
DELTA = 0.01                         # CNY 100, in CNY 10,000
LEVERAGE_CAP = 100                   # leverage = E / max(A, E / LEVERAGE_CAP)
FEATURE_KEY = "lookthrough"          # meta.features key: computed jointly, held by no node
MODEL_APP = "risk-lookthrough"
TRAINING_CUTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
THRESHOLD_RANGE = (0.001, 0.999)     # logit within +-6.9
STATUS_BYTES = 1 << 16               # a participant's status: its problem and public info
_MODEL_PARAM = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,63}?)(?::v([1-9][0-9]{0,5}))?$")


def feature_names(companies: Sequence[str]) -> list[str]:
    return ["assets", "prior_assets", *(f"exposure_{c}" for c in companies),
            "leverage", "concentration", "drop"]


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


# -- features ------------------------------------------------------------------------------

def features(x: SharedTensor) -> SharedTensor:
    """n x (K + 2) integer fen shares (risk_rules.layout) -> n x (K + 5) fixed-point features."""
    if x.frac_bits != 0 or x.ndim != 2 or x.shape[1] < 3:
        raise ValueError("features take the n x (K + 2) integer look-through figures")
    s, k = x.session, x.shape[1] - 2
    f = s.frac_bits
    amounts = SharedTensor(s, x.shares, f) * (2.0 ** f / UNIT_FEN)   # fen -> CNY 10,000
    a, p, e = amounts[:, 0], amounts[:, 1], amounts[:, 2:]
    total = e.sum(axis=1)
    cap = SharedTensor.public(s, np.full(amounts.shape, AMOUNT_CAP))
    share_e = total * (1.0 / LEVERAGE_CAP)
    left = concatenate([cap, stack([a, p], 1)], axis=1)
    right = concatenate([amounts, stack([share_e, a], 1)], axis=1)
    bits = left < right              # [amount > cap], [A < E / 100], [P < A]
    diff = concatenate([amounts - cap, stack([share_e - a, a - p], 1)], axis=1)
    moved = diff * bits              # integer bits: one multiplication, no truncation
    capped = amounts - moved[:, :k + 2]
    den_lev = a + moved[:, k + 2] + DELTA          # max(A, E / 100) + d
    den_drop = p + moved[:, k + 3] + DELTA         # max(P, A) + d
    nums = concatenate([stack([total], 1), e, stack([p - a], 1)], axis=1)
    dens = concatenate([stack([den_lev], 1), stack([total + DELTA] * k, 1),
                        stack([den_drop], 1)], axis=1)
    q = nums / dens
    shares = q[:, 1:k + 1]
    conc = (shares * shares).sum(axis=1)
    return concatenate([capped, stack([q[:, 0], conc, q[:, k + 1]], 1)], axis=1)


def plain_features(x: np.ndarray) -> np.ndarray:
    """The float twin of `features` (tests, checks)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1) / UNIT_FEN
    k = x.shape[1] - 2
    a, p, e = x[:, 0], x[:, 1], x[:, 2:]
    total = e.sum(axis=1)
    lev = total / (np.maximum(a, total / LEVERAGE_CAP) + DELTA)
    conc = ((e / (total + DELTA)[:, None]) ** 2).sum(axis=1) if k else np.zeros(len(x))
    drop = (p - a) / (np.maximum(p, a) + DELTA)
    return np.column_stack([np.minimum(x, AMOUNT_CAP), lev, conc, drop])


# -- training and scoring -------------------------------------------------------------------

def train(x: SharedTensor, labels: SharedTensor, *, l2: float = 1e-3, newton_steps: int = 8,
          on_step: Any = None) -> tuple[SSLinearModel, SharedTensor]:
    """SS-LR on the features of `x` (n x (K + 2) integer fen) and 0/1 integer `labels`.
    Returns (model, shares of the 2 x len(TRAINING_CUTS) in-sample counts: clients scoring
    at least each cut, and positives among them)."""
    feats = features(x)
    model, _ = SSLR(l2=l2, newton_steps=newton_steps).fit(feats, labels._fixed(),
                                                         on_epoch=on_step)
    z = model.decision(feats)
    cuts = np.array([logit(c) for c in TRAINING_CUTS])
    above = 1 - (z.reshape(-1, 1) < SharedTensor.public(z.session, np.tile(cuts, (len(z), 1))))
    hits = above * labels.reshape(-1, 1)
    return model, stack([above.sum(axis=0), hits.sum(axis=0)], 0)


def model_bits(model: SSLinearModel, x: SharedTensor, threshold: float) -> SharedTensor:
    """Per client the 0/1 integer shares of [score >= threshold] (n x 1)."""
    z = model.decision(features(x))
    return (1 - (z < logit(threshold))).reshape(-1, 1)


def plain_decision(x: np.ndarray, opened: dict[str, np.ndarray]) -> np.ndarray:
    """NumPy decision values w . standardise(features(x)) + b of figures x with a model's
    opened arrays (`open_model`): weights "w" (intercept last) and the standardisation
    "x.mean", "x.r1", "x.shift", "x.r2". Tests only: nothing opens a model in a run."""
    z = ((plain_features(x) - opened["x.mean"]) * opened["x.r1"] - opened["x.shift"]) \
        * opened["x.r2"]
    return z @ opened["w"][:-1] + opened["w"][-1]


def plain_scores(x: np.ndarray, opened: dict[str, np.ndarray]) -> np.ndarray:
    """NumPy logistic scores (sigmoid of `plain_decision`); tests only."""
    return 1.0 / (1.0 + np.exp(-plain_decision(x, opened)))


def open_model(parts: Sequence[dict[str, np.ndarray]], frac_bits: int = 16
               ) -> dict[str, np.ndarray]:
    """The plaintext arrays of a model from the three compute parties' share sets (session
    order; party i holds components i and i + 1). Tests only."""
    from yinji.mpc.ring import decode

    names = {k[:-2] for k in parts[0]}
    return {n: decode(sum((p[n + ".0"] for p in parts), np.uint64(0)), frac_bits)
            for n in names}


# -- the registry ---------------------------------------------------------------------------

def parse_model(value: str) -> tuple[str, int | None]:
    """`name` or `name:vN` -> (name, N or None)."""
    m = _MODEL_PARAM.match(str(value or "").strip())
    if not m:
        raise AppError(f"parameter 'model' must be a model name, optionally with :vN "
                       f"(e.g. risk-score:v2), got {value!r}")
    return m.group(1), int(m.group(2)) if m.group(2) else None


def check_meta(meta: ModelMeta, compute: Sequence[str], names: Sequence[str]) -> str:
    """What makes a registered model unusable for this run ('' if nothing)."""
    what = f"model {meta.name} v{meta.version}"
    if meta.kind != "sslr" or meta.params.get("kind") != "logistic":
        return (f"{what} is a {meta.kind} {meta.params.get('kind', '')} model; the rule MODEL "
                "takes an SS-LR logistic model trained by risk-model-training").replace("  ", " ")
    if set(meta.features) != {FEATURE_KEY}:
        return f"{what} is not a look-through model (its features are held by " \
               f"{', '.join(sorted(meta.features))})"
    if list(meta.parties) != list(compute):
        return (f"{what} is shared among compute parties {', '.join(meta.parties)}; this run "
                f"computes with {', '.join(compute)} (the same three, in that order, are needed)")
    have = list(meta.features[FEATURE_KEY])
    if have != list(names):
        missing = [n for n in have if n not in names]
        extra = [n for n in names if n not in have]
        parts = ([f"the run lacks feature(s) {', '.join(missing)}"] if missing else []) + \
            ([f"the model lacks feature(s) {', '.join(extra)}"] if extra else [])
        return f"{what}: features differ from this run's ({'; '.join(parts) or 'order'})"
    if int(meta.params.get("n_weights", -1)) != len(names) + 1 or \
            not meta.params.get("standardised"):
        return f"{what}: its shares do not fit {len(names)} standardised features"
    return ""


def digest(meta: ModelMeta) -> str:
    """A digest of the public metadata, equal at every party of one model version."""
    public = {k: v for k, v in asdict(meta).items() if k not in ("created", "metrics")}
    return hashlib.sha256(json.dumps(public, sort_keys=True).encode()).hexdigest()


def load(registry: ModelRegistry, name: str, version: int | None, compute: Sequence[str],
         names: Sequence[str]) -> tuple[ModelMeta, dict[str, np.ndarray]]:
    """This compute party's part of the model, checked; AppError naming the problem."""
    try:
        meta, part = registry.load(name, version)
    except (KeyError, FileNotFoundError, ValueError, OSError):
        what = f"{name!r}" + (f" version {version}" if version else "")
        raise AppError(f"no model {what} in {registry.party}'s registry") from None
    problem = check_meta(meta, compute, names)
    if problem:
        raise AppError(problem)
    if not isinstance(part, dict) or "w.0" not in part:
        raise AppError(f"model {name} v{meta.version}: {registry.party} holds no SS-LR shares")
    return meta, part


def save(registry: ModelRegistry, name: str, version: int, compute: Sequence[str],
         names: Sequence[str], holder: str, model: SSLinearModel, job_id: str,
         extra: dict[str, Any]) -> ModelMeta:
    meta = ModelMeta(name, version, "sslr", list(compute), {FEATURE_KEY: list(names)}, holder,
                     {}, job_id, params={"app": MODEL_APP, "units": "CNY 10,000",
                                         "amount_cap": AMOUNT_CAP, **extra})
    return save_sslr(registry, meta, model)


# -- before anything is shared --------------------------------------------------------------

def preflight(party: Any, participants: Sequence[str], problem: str,
              info: dict[str, Any] | None, *, local: Exception | None = None
              ) -> dict[str, dict[str, Any] | None]:
    """Every participant tells every other whether it can go on (`problem`, '' if so) and
    its public `info` (a compute party: the model version and metadata digest); returns
    {participant: info}. If anyone has a problem, every participant raises AppError naming
    them all -- before any data is shared (`local`: this party's own detailed error, raised
    in its place; the others only hear that it refused its input)."""
    me = party.name
    others = [p for p in participants if p != me]
    body = json.dumps({"problem": problem, "info": info}).encode()
    for p in others:
        party.channel(p).send_bytes(body)
    got = {me: {"problem": problem, "info": info}}
    for p in others:
        try:
            msg = recv_json(party.channel(p), "its status", STATUS_BYTES, dict)
            got[p] = {"problem": str(msg.get("problem") or ""), "info": msg.get("info")}
        except UnexpectedMessage as exc:
            got[p] = {"problem": f"sent a malformed status ({exc})", "info": None}
    problems = [f"{p}: {got[p]['problem']}" for p in participants if got[p]["problem"]]
    if problems:
        text = "not run, nothing was shared: " + "; ".join(problems)
        raise AppError(f"{local} ({text})" if local else text)
    return {p: got[p]["info"] for p in participants}


def agreed_version(model: str | None, infos: dict[str, Any], compute: Sequence[str]
                   ) -> int | None:
    """The model version every compute party loaded (None without a model); AppError if
    they hold different versions or metadata."""
    if not model:
        return None
    name = parse_model(model)[0]
    got = {c: (infos.get(c) or {}) for c in compute}
    if len({(g.get("version"), g.get("digest")) for g in got.values()}) != 1:
        held = ", ".join(f"{c} v{g.get('version')}" for c, g in got.items())
        raise AppError(f"the compute parties hold different models named {name} ({held}, "
                       f"or different metadata): name the version, e.g. {name}:vN")
    return int(next(iter(got.values()))["version"])


__all__ = ["agreed_version", "preflight", "AMOUNT_CAP", "FEATURE_KEY", "TRAINING_CUTS", "THRESHOLD_RANGE", "check_meta",
           "digest", "feature_names", "features", "load", "logit", "model_bits",
           "open_model", "parse_model", "plain_decision", "plain_features", "plain_scores", "save", "train"]
