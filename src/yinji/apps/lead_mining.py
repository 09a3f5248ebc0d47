"""Lead mining on the hidden intersection (全密态联合建模 → 潜在线索).

One run: the label holder L (e.g. the fund company; label = bought product X) and one feature
holder F (another company) align their customers with the hidden-intersection join
(`yinji.psi.join_back`: nobody learns who is shared), a third company H helps as the third
MPC party (no data, no result), the joint model trains on the joined shares -- SS-LR
(`yinji.ml.sslr`, `model="sslr"`) or boosted trees (`yinji.ml.mpc_boost`,
`model="secureboost"`) -- and the model scores EVERY customer of L and of F (not only shared ones: the set of scored customers
would otherwise reveal the intersection). Each company gets, for its own customers only, the
score, its top-N leads with their strongest contributing feature groups, and score deciles
(L, which knows its labels, also the lift / cumulative-gains charts and AUC / KS).

Three companies: the join has two data owners and a helper, so one run takes one label
holder and one feature holder; the group's fourth company can be the helper.

Inputs (numeric feature columns, 1..12 per company): missing values (empty, NaN) take the
owner's own column mean; text (e.g. a category) is refused naming the column -- encode
categories as 0/1 indicator columns first; a column constant over the owner's rows is refused
(it cannot inform a model); |values| <= 1e9. Each owner rescales its columns locally by its own
mean and standard deviation (scale-free for a standardised model, and it keeps the fixed-point
range safe) and clips them to +-1000 standard deviations. The label is 0/1 (booleans count).

Scoring: x_i = [L's features | F's features] of customer i. For a shared customer both parts
are real. For a customer only one company holds, the other part is imputed obliviously (a
multiplication by the shared presence flag, so no party learns which rows were imputed):
- `impute="donor"` (default): each of the other company's columns from a random shared
  customer (one donor per row and column, drawn by position in the shuffled table, so at
  random for everyone);
- `impute="mean"`: the other company's training mean.
Standardised values are clipped to +-64 mean absolute deviations (outliers outside the
intersection cannot overflow the fixed point). Contributions c_j = w_j * z_j; score =
sigmoid(sum_j c_j + b). An owner receives per own customer: the score, the contributions of
its own columns, and the sum of the other company's contributions as one "group data"
value (never the other company's per-column values).

Reproducibility: SS-LR needs fresh secret PRG keys in every run (they mask every message),
so the row order and the truncation noise differ between runs; two runs on the same data
agree within SGD-order and fixed-point error, not bit for bit; no public seed is possible.

Boosted trees (`model="secureboost"`; `yinji.ml.secureboost`, which needs rows aligned in
the clear, is not used): each owner bins its prepared columns into `bins` quantile bins of
its OWN full table (edges stay with it) and joins the one-hot bin indicators (integers,
exact) instead of the values; `yinji.ml.mpc_boost` trains `trees` trees of `depth` levels on
the shared customers' rows with nothing opened (splits, leaf values and row-to-node
assignment stay secret-shared), and evaluates every row of the joined table in MPC. A
customer the other company lacks takes, per other-company column, the bins of a random
shared customer (`impute="donor"`, as above; `impute="mean"` has no tree analogue and is
refused). Contributions: each tree's leaf value is its root value plus the value changes
along the row's path, each credited to the column that split there (Saabas); c_j sums them
over the trees, and score = sigmoid(bias + sum_j c_j), bias = the sum of the root values.
An owner receives the same per-customer values as with SS-LR (score, own columns'
contributions, the other company's total as "group data"), so the leakage statements below
hold for both models; the tree model, its splits included, is discarded after the run.

Adversary model: semi-honest, honest majority among L, F and H (no two collude); that of
`yinji.psi.join_back` and `yinji.ml.sslr`.

What each party learns:
- everyone: the public parameters, nL, nF, the column counts, |L∩F| (the join's leakage), the
  number of SS-LR's Newton steps or the trees' count and depth (fixed in advance; nothing is
  opened while training), and whether the run stopped because |L∩F| < min_overlap;
- L: its own customers' scores, own-column contributions and group-data value (it computes
  AUC / KS, deciles and lift from them and its own labels, locally);
- F: its own customers' scores, own-column contributions and group-data value;
- F and H: the donor positions L draws (`impute="donor"`): positions in the shuffled table,
  random to everyone, so they say nothing about any customer;
- H: nothing else. The model (weights, standardisation) stays secret-shared; nobody gets it,
  and it is discarded after the run.
What the values reveal: with `impute="mean"`, a customer the other company does not hold has
exactly the group-data value of the imputed mean (and logit(score) is then an exact affine
function of the owner's own features), so the output shows the owner which of its customers
are shared. With `impute="donor"` (default) an unshared customer's group-data value is made
of real shared customers' columns, so no constant singles them out
(`test_label_holder_view_does_not_depend_on_who_is_shared`). It still leaks statistically:
(1) two customers whose imputed columns came from the same donors get equal group-data values
(within fixed-point noise), and a value repeated among the owner's customers points at
unshared ones -- likely when the other company has one column, or one column dominates the
model (the test bounds the attack's accuracy at < 0.8 for two columns; it is > 0.95 with
`impute="mean"`); (2) a donor's part is independent of the customer's own features, a real
one is not, so strong cross-company correlations let an analyst guess. The cost: an unshared
customer's score is that of a random completion, not the expected one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps.base import (
    App,
    AppError,
    Column,
    DemoRun,
    Param,
    Report,
    Role,
    inputs_by_role,
)
from yinji.crypto.prg import Prg, fresh_seed
from yinji.ml.metrics import binary_report
from yinji.ml.mpc_boost import BoostModel, MpcBoost, check_labels, one_hot, quantile_bins
from yinji.ml.sslr import SSLR
from yinji.mpc import Session, SharedTensor, concatenate
from yinji.mpc.tensor import where
from yinji.net.expect import recv_array
from yinji.psi.join_back import owners_join
from yinji.psi.keys import DuplicateKeys, prepare_keys

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

MAX_FEATURES = 12
MAX_ROWS = 200_000
MAX_ABS = 1e9
MAX_CELLS = 5_000_000   # boosted trees: rows x columns x bins per company (one-hot shares)
LOCAL_CLIP = 1000.0   # own standard deviations (local rescaling)
Z_CLIP = 64.0         # mean absolute deviations of the intersection (standardised values)
GROUP = "group data"
FEATURES = tuple(Column(f"f{i}", "number", f"feature {i}") for i in range(1, MAX_FEATURES + 1))
OPTIONAL = tuple(f"f{i}" for i in range(2, MAX_FEATURES + 1))


# ----------------------------------------------------------------------------- inputs


def numeric(values: Any, name: str) -> np.ndarray:
    """A column as floats; missing -> NaN; text refused naming the column and row."""
    arr = np.asarray(values)
    try:   # vectorised: numbers, or text that parses (empty -> NaN)
        if arr.dtype.kind in "fiub":
            out = arr.astype(np.float64)
        else:
            text = np.char.strip(arr.astype(str))
            out = np.where(np.isin(text, ["", "None", "nan", "NaN"]), "nan", text).astype(
                np.float64)
        if np.isfinite(out[~np.isnan(out)]).all() and not (np.abs(out) > MAX_ABS).any():
            return out
    except ValueError:
        pass
    return _numeric_slow(np.asarray(values, dtype=object), name)


def _numeric_slow(arr: np.ndarray, name: str) -> np.ndarray:
    """Value by value, to name the first bad row."""
    out = np.empty(len(arr), np.float64)
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, str) and not v.strip()):
            out[i] = np.nan
            continue
        if isinstance(v, bool | np.bool_):
            out[i] = float(v)
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise AppError(f"column {name!r}, row {i + 1}: not a number (encode categories "
                           "as 0/1 indicator columns)") from None
        if math.isinf(out[i]) or abs(out[i]) > MAX_ABS:
            raise AppError(f"column {name!r}, row {i + 1}: |value| must be at most "
                           f"{MAX_ABS:.0e}")
    return out


def prepare_features(cols: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """(n, d) locally rescaled features: missing -> own mean, (x - mean) / std, clipped."""
    if not names:
        raise AppError("at least one feature column is needed")
    out = []
    for logical, actual in names:
        x = numeric(cols[logical], actual)
        ok = ~np.isnan(x)
        if not ok.any():
            raise AppError(f"column {actual!r} has no values")
        mean = float(x[ok].mean())
        x = np.where(ok, x, mean)
        std = float(x.std())
        if not std > 1e-12 * max(1.0, abs(mean)):
            raise AppError(f"column {actual!r} is constant: it cannot inform a model")
        out.append(np.clip((x - mean) / std, -LOCAL_CLIP, LOCAL_CLIP))
    return np.column_stack(out)


def labels(values: Any, name: str) -> np.ndarray:
    out = numeric(values, name)
    bad = np.flatnonzero(np.isnan(out) | ((out != 0) & (out != 1)))
    if bad.size:
        raise AppError(f"label column {name!r}, row {bad[0] + 1}: must be 0 or 1")
    return out


def prepare_ids(values: Any, name: str) -> list[bytes]:
    try:
        keys = prepare_keys(list(values), duplicates="reject")
    except DuplicateKeys:
        raise AppError(f"ID column {name!r} has duplicate IDs: one row per customer") from None
    if len(keys) != len(values):
        raise AppError(f"ID column {name!r}: {len(values) - len(keys)} row(s) have no usable "
                       "ID (every customer needs one to be scored)")
    return keys.keys


# ----------------------------------------------------------------------------- MPC steps


def score_all(j: Any, model: Any, dl: int, df: int, impute: str) -> SharedTensor:
    """Per row of the joined table (every customer of both owners), shares of
    [score, c_L (dl), sum c_L, c_F (df), sum c_F] (module docstring)."""
    t = j.table
    d = dl + df
    cols = list(range(1, 1 + dl)) + list(range(dl + 2, dl + 2 + df))  # skip label, hL
    x = SharedTensor(t.session, tuple(c[:, cols] for c in t.shares), t.frac_bits)
    fl = j.flags                                                    # (n, 2): hL, hF
    h = SharedTensor(t.session, tuple(np.concatenate(
        [np.repeat(c[:, :1], dl, axis=1), np.repeat(c[:, 1:], df, axis=1)], axis=1)
        for c in fl.shares), fl.frac_bits)
    st = model.features
    if impute == "mean":
        x = st.mean + h * (x - st.mean)
    else:
        donors = donor_positions(s := t.session, j.pairs[:, 0], x.shape)
        fill = SharedTensor(s, tuple(c[donors, np.arange(d)] for c in x.shares), x.frac_bits)
        x = fill + h * (x - fill)
    z = (x - st.mean) * st.r1 - st.shift
    z = where(z > Z_CLIP, Z_CLIP, where(z < -Z_CLIP, -Z_CLIP, z))
    z = z * st.r2
    w = model.weights
    c = z * w[:d].reshape(1, d)
    cl, cf = c[:, :dl], c[:, dl:]
    logit = c.sum(axis=1) + w[d]
    score = logit.sigmoid()
    return concatenate([score.reshape(-1, 1), cl, cl.sum(axis=1).reshape(-1, 1), cf,
                        cf.sum(axis=1).reshape(-1, 1)], axis=1)


def donor_positions(s: Session, matched: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(n, d) positions of shared customers' rows, drawn independently per row and column by
    party 0 from a fresh key and sent to the others (positions in the shuffled order are
    random to everyone, so whoever draws them cannot aim at anyone). Independent columns
    make two customers' imputed parts coincide only if all their donors do."""
    if s.rank == 0:
        pos = matched[(Prg(fresh_seed()).uint64(shape) % np.uint64(len(matched))).astype(
            np.int64)]
        s.send(1, pos)
        s.send(2, pos)
        return pos
    pos = recv_array(s.chan(0), "the donor positions", matched.dtype, tuple(shape),
                     error=AppError)
    if not np.isin(pos, matched).all():
        raise AppError(f"{s.chan(0).peer} sent donor positions of rows not matched")
    return pos.astype(np.int64)


def boost_inputs(feats: np.ndarray, p: dict[str, Any], who: str,
                 y: np.ndarray | None = None) -> np.ndarray:
    """An owner's rows for `model="secureboost"`: one-hot bins of its own columns (edges from
    its own full table, kept), the label first at the label holder."""
    n, d = feats.shape
    bins = int(p["bins"])
    if n * d * bins > MAX_CELLS:
        raise AppError(f"{who}: {n} customers x {d} columns x {bins} bins exceeds "
                       f"{MAX_CELLS:,} one-hot cells; use fewer bins or columns")
    rows = one_hot(quantile_bins(feats, bins)[0], bins)
    if y is None:
        return rows
    try:
        check_labels(y)
    except ValueError as exc:
        raise AppError(f"{who}: {exc}") from None
    return np.column_stack([y.astype(np.int64), rows])


def boost_score_all(j: Any, model: BoostModel, dl: int, df: int) -> SharedTensor:
    """`score_all` for the boosted trees: every row of the joined table (the other company's
    bins imputed from random shared customers, column by column), scored in MPC."""
    t, b = j.table, model.bins
    d = dl + df
    cols = list(range(1, 1 + dl * b)) + list(range(dl * b + 2, dl * b + 2 + df * b))
    x = SharedTensor(t.session, tuple(c[:, cols] for c in t.shares), 0)
    fl = j.flags
    h = SharedTensor(t.session, tuple(np.concatenate(
        [np.repeat(c[:, :1], dl * b, axis=1), np.repeat(c[:, 1:], df * b, axis=1)], axis=1)
        for c in fl.shares), 0)
    donors = np.repeat(donor_positions(t.session, j.pairs[:, 0], (x.shape[0], d)), b, axis=1)
    fill = SharedTensor(t.session, tuple(c[donors, np.arange(d * b)] for c in x.shares), 0)
    x = fill + h * (x - fill)
    bias, c = model.contributions(x)
    cl, cf = c[:, :dl], c[:, dl:]
    score = (c.sum(axis=1) + bias).sigmoid()
    return concatenate([score.reshape(-1, 1), cl, cl.sum(axis=1).reshape(-1, 1), cf,
                        cf.sum(axis=1).reshape(-1, 1)], axis=1)


def float_scores(x: np.ndarray, w: np.ndarray, mean: np.ndarray, r1: np.ndarray,
                 shift: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same scoring in floating point (plaintext twin for tests): (scores, c)."""
    z = np.clip((x - mean) * r1 - shift, -Z_CLIP, Z_CLIP) * r2
    c = z * w[:-1]
    return 1.0 / (1.0 + np.exp(-(c.sum(axis=1) + w[-1]))), c


# ----------------------------------------------------------------------------- the app


class LeadMining(App):
    name = "lead-mining"
    version = "1"
    title = "Lead mining on the hidden intersection (全密态联合建模 → 潜在线索)"
    summary = ("A joint model on the customers two companies share (nobody learns who), "
               "scores for every customer of each, top-N leads with reasons, lift chart.")
    roles = (
        Role("label", (Column("id_no", "id", "ID number (证件号码)"),
                       Column("label", "flag", "1: bought the product, 0: did not"),
                       *FEATURES), help="the label holder (one company)", many=False,
             optional=OPTIONAL),
        Role("features", (Column("id_no", "id", "ID number (证件号码)"), *FEATURES),
             help="the feature holder (one company)", many=False, optional=OPTIONAL),
    )
    params = (
        Param("helper", "str", required=True,
              help="the third MPC party: a company with no input and no result"),
        Param("model", "str", "sslr", choices=("sslr", "secureboost"),
              help="sslr: secret-shared logistic regression; secureboost: boosted trees "
                   "trained and evaluated in MPC (yinji.ml.mpc_boost); both on the hidden "
                   "join"),
        Param("impute", "str", "donor", choices=("donor", "mean"),
              help="a customer the other company lacks: a random shared customer's part "
                   "(hides who is shared) or the training mean (reveals it)"),
        Param("top_n", "int", 50, 1, 1000, help="leads listed per company"),
        Param("reasons", "int", 3, 1, 5, help="contributing groups shown per lead"),
        Param("min_overlap", "int", 50, 10, 1_000_000,
              help="fewest shared customers to train on (fewer: the run stops)"),
        Param("newton_steps", "int", 12, 1, 50,
              help="SS-LR's full-batch Newton steps (fixed, public; yinji.ml.sslr)"),
        Param("l2", "float", 1e-4, 0.0, 1.0, help="SS-LR's L2 penalty"),
        Param("trees", "int", 10, 1, 50, help="secureboost: number of trees"),
        Param("depth", "int", 3, 1, 5, help="secureboost: levels per tree"),
        Param("bins", "int", 16, 2, 32,
              help="secureboost: quantile bins per column (each company on its own rows)"),
        Param("learning_rate", "float", 0.3, 0.01, 1.0, help="secureboost: shrinkage"),
        Param("tree_l2", "float", 1.0, 0.1, 100.0,
              help="secureboost: L2 on leaf values (XGBoost's lambda)"),
        Param("min_child_weight", "float", 1.0, 0.001, 1000.0,
              help="secureboost: least hessian sum per child"),
    )
    takes_helpers = True

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        out = super().resolve_params(given)
        if out["model"] == "secureboost" and out["impute"] == "mean":
            raise AppError("parameter 'impute': 'mean' is for model 'sslr'; secureboost "
                           "imputes a customer's missing part from random shared customers "
                           "('donor')")
        return out

    @staticmethod
    def _parts(roles: dict[str, str]) -> tuple[str, str]:
        lab = [c for c, r in roles.items() if r == "label"]
        feat = [c for c, r in roles.items() if r == "features"]
        if len(lab) != 1 or len(feat) != 1:
            raise AppError("lead-mining needs exactly one company in role 'label' and one in "
                           "role 'features'")
        return lab[0], feat[0]

    def default_compute(self, roles: dict[str, str], proposer: str,
                        params: dict[str, Any]) -> list[str]:
        return [*self._parts(roles), params["helper"]]

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return list(self._parts(roles))

    def participants_needing_channels(self, spec: dict[str, Any]) -> list[str]:
        return sorted(set(spec.get("inputs") or {}) | set(spec.get("recipients") or [])
                      | set(spec.get("helpers") or []))

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        if problems:
            return problems
        p = spec["params"]
        try:
            lab, feat = self._parts(p["roles"])
        except AppError as exc:
            return [str(exc)]
        helper = p.get("helper")
        if helper in p["roles"]:
            problems.append(f"the helper {helper} must not supply an input")
        if p["compute"] != [lab, feat, helper]:
            problems.append(f"params.compute must be [label holder, feature holder, helper] "
                            f"= {[lab, feat, helper]}")
        if list(spec.get("helpers") or []) != [helper]:
            problems.append(f"the job's helpers must be exactly [{helper}]")
        stray = [r for r in spec.get("recipients") or [] if r not in (lab, feat)]
        if stray:
            problems.append(f"only the two data owners can receive scores (for their own "
                            f"customers); not {', '.join(stray)}")
        return problems

    # -- the run -----------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        spec, me = ctx.spec, ctx.me
        p = spec["params"]
        lab, feat = self._parts(p["roles"])
        helper = p["helper"]
        names = [lab, feat, helper]
        keys = feats = None
        boost = p["model"] == "secureboost"
        own: list[str] = []
        y = None
        if me in (lab, feat):
            cols = inputs_by_role(ctx, self)
            if cols is None:
                raise AppError(f"{me} has no input")
            omit = (p.get("omitted") or {}).get(me) or []
            mapping = dict(zip([c for c in self.role(p["roles"][me]).column_names()
                                if c not in omit], spec["inputs"][me]["columns"], strict=True))
            fnames = [(c, mapping[c]) for c in cols if c.startswith("f")]
            own = [a for _, a in fnames]
            n = len(cols["id_no"])
            if not 1 <= n <= MAX_ROWS:
                raise AppError(f"{me}: 1..{MAX_ROWS} customers per company, got {n}")
            keys = prepare_ids(cols["id_no"], mapping["id_no"])
            feats = prepare_features(cols, fnames)
            if me == lab:
                y = labels(cols["label"], mapping["label"])
            if boost:
                feats = boost_inputs(feats, p, me, y)
            elif me == lab:
                feats = np.column_stack([y, feats])
            ids = [str(v) for v in cols["id_no"]]
        ctx.progress(0.1, "joining")
        s = Session(ctx.party, names)
        j = owners_join(s, keys, feats, frac_bits=0 if boost else None)
        k = len(j.pairs)
        if k < int(p["min_overlap"]):
            raise AppError(f"the hidden intersection has {k} customers, fewer than "
                           f"min_overlap={p['min_overlap']}: no model trained, nothing opened")
        joined = j.joined()
        x, yy = joined[:, 1:], joined[:, 0]
        if boost:
            b = int(p["bins"])
            dl, df = (j.da - 1) // b, j.db // b
            ctx.progress(0.3, f"training boosted trees on {k} shared customers")
            tree_model = MpcBoost(trees=int(p["trees"]), depth=int(p["depth"]), bins=b,
                                  learning_rate=float(p["learning_rate"]),
                                  l2=float(p["tree_l2"]),
                                  min_child_weight=float(p["min_child_weight"])).fit(x, yy)
            ctx.progress(0.7, "scoring every customer")
            values = boost_score_all(j, tree_model, dl, df)
        else:
            dl, df = j.da - 1, j.db
            ctx.progress(0.3, f"training SS-LR on {k} shared customers")
            model, _ = SSLR(newton_steps=int(p["newton_steps"]), l2=float(p["l2"])).fit(x, yy)
            ctx.progress(0.7, "scoring every customer")
            values = score_all(j, model, dl, df, p["impute"])
        recips = spec.get("recipients") or []
        a_cols = [0, *range(1, 1 + dl), 2 + dl + df] if lab in recips else []
        b_cols = [0, *range(2 + dl, 2 + dl + df), 1 + dl] if feat in recips else []
        out = j.to_owners(values, a_cols, b_cols)
        if me not in recips or out is None:
            return None
        return self.report(me, ids, own, out, y, k, p)

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        from yinji.apps.lead_mining_demo import demo

        return demo(self, data, seed)

    # -- the report ---------------------------------------------------------------------------
    def report(self, me: str, ids: list[str], own: list[str], out: np.ndarray,
               y: np.ndarray | None, shared: int, p: dict[str, Any]) -> Report:
        score, contrib = out[:, 0], out[:, 1:]
        metrics = {}
        if y is not None and 0 < y.sum() < len(y):   # the label holder, on all its customers
            metrics = {k: round(v, 4) for k, v in binary_report(y, score).items()}
        groups = [*own, GROUP]
        rep = Report(f"{self.title}: {me}")
        name = ("boosted trees" if p.get("model") == "secureboost" else "SS-LR")
        rep.summary.append(f"{len(ids)} customers scored; {name} on {shared} customers shared "
                           "with the other company (which ones: nobody knows).")
        if metrics:
            rep.summary.append("On all own customers (in-sample for the shared ones): "
                               + ", ".join(f"{k} {v:.4f}"
                                                          for k, v in sorted(metrics.items())))
        rep.table("scores", ["id_no", "score"], [[i, round(float(v), 6)]
                                                 for i, v in zip(ids, score, strict=True)])
        order = np.argsort(-score, kind="stable")
        top = order[: int(p["top_n"])]
        nr = int(p["reasons"])
        rows = []
        for rank, i in enumerate(top, 1):
            best = np.argsort(-contrib[i], kind="stable")[:nr]
            rows.append([rank, ids[i], round(float(score[i]), 6),
                         *[f"{groups[g]} ({contrib[i, g]:+.2f})" for g in best],
                         *[""] * (nr - len(best))])
        rep.table("leads", ["rank", "id_no", "score", *[f"reason_{r + 1}" for r in range(nr)]],
                  rows)
        rep.table("deciles", *deciles(score, y))
        rep.charts.append({"kind": "line", "title": "Cumulative gains by score decile"
                           if y is not None else "Mean score by score decile",
                           "table": "deciles", "x": "decile",
                           "y": ["cumulative_gain", "baseline"] if y is not None
                           else ["mean_score"]})
        if y is not None:
            rep.charts.append({"kind": "bar", "title": "Lift by score decile",
                               "table": "deciles", "x": "decile", "y": ["lift"]})
        rep.data = {"customers": len(ids), "shared": shared, "metrics": metrics,
                    "model": p.get("model", "sslr"), "impute": p["impute"], "groups": groups,
                    "contributions": [[round(float(v), 6) for v in r] for r in contrib]}
        return rep


def deciles(score: np.ndarray, y: np.ndarray | None) -> tuple[list[str], list[list[Any]]]:
    """Score deciles (1 = highest scores): count, score range and mean; with labels also
    positives, response rate, lift and cumulative gain (share of all positives captured)."""
    n = len(score)
    order = np.argsort(-score, kind="stable")
    parts = np.array_split(order, 10) if n >= 10 else [order[i:i + 1] for i in range(n)]
    cols = ["decile", "customers", "min_score", "mean_score"]
    if y is not None:
        cols += ["positives", "rate", "lift", "cumulative_gain", "baseline"]
    total, base = (float(y.sum()), float(y.mean())) if y is not None and n else (0.0, 0.0)
    rows, got, seen = [], 0.0, 0
    for d, idx in enumerate(parts, 1):
        row: list[Any] = [d, len(idx), round(float(score[idx].min()), 6),
                          round(float(score[idx].mean()), 6)]
        if y is not None:
            pos = float(y[idx].sum())
            got, seen = got + pos, seen + len(idx)
            rate = pos / len(idx)
            row += [int(pos), round(rate, 4), round(rate / base, 3) if base else 0.0,
                    round(got / total, 4) if total else 0.0, round(seen / n, 4)]
        rows.append(row)
    return cols, rows


APP = LeadMining()
