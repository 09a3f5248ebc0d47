"""Risk model training (风险客户识别, joint model): trains the look-through model that
risk-lookthrough's rule MODEL scores with -- SS-LR on the per-client look-through features of
one company's clients, with that company's 0/1 label (e.g. the broker's past margin calls),
registered at the three compute parties as shares.

Pipeline (each company runs its side):
1. Every company prepares its figures as for the look-through (`risk_lookthrough.entries`);
   the label holder also its label per client (the maximum over a client's rows: a client
   with any flagged account is a positive). Every participant then tells the others whether
   it can go on (`risk_model.preflight`: bad input, too few clients or a single class at the
   label holder, a compute party's registry) -- nothing is shared unless all can; the
   compute parties agree on the next version free at all three.
2. The ledger that serves the label holder is built over every company's rows (as in the
   look-through) and the label holder looks up all its clients in a secret order; the
   compute parties get the shares of their group figures. Clients the label holder does not
   serve are left out: its label says nothing about them (a 0 would teach the model that
   their figures are safe).
3. The label holder secret-shares its labels in the same order; the compute parties compute
   the features (`risk_model.features`), train SS-LR with Newton steps on the shares
   (`risk_model.train`; no value is opened while training) and open to the label holder
   only the in-sample counts at the thresholds 0.1 .. 0.9 (clients scoring at least t, and
   positives among them).
4. Each compute party stores its share set in its node's model registry (kind sslr,
   `parties` = the compute parties, `features` = {"lookthrough": the feature names}) and
   audits it (model.stored); the label holder's report names the model and version.

Adversary model: semi-honest, honest majority among the three compute parties (yinji.mpc),
plus the ledger's assumptions (yinji.psi.ledger: the lookup party colludes with no other).

Leakage:
- the label holder: the counts (2 x 9 integers) of its own clients, nothing per client, no
  weight; that the model was stored.
- every compute party: each company's number of distinct clients, the label holder's
  number of clients (= training rows), the ledger's leakage for one lookup of the label
  holder (risk_lookthrough's docstring: the lookup party learns, per pseudonymous client,
  how many companies hold it); its own share set. No label, feature or weight is opened.
- the other companies: that the run took place, nothing else (they only feed the ledger).
- nobody: the number of positives (only the label holder, who knows its labels).
Failure: a party that fails while storing leaves the model registered at fewer than three
compute parties; a look-through run naming it then stops before anything is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps import risk_model as rm
from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role
from yinji.apps.risk_lookthrough import (
    APP as LOOKTHROUGH,
)
from yinji.apps.risk_lookthrough import (
    build_ledgers,
    entries,
    lookup_clients,
    read_csv_input,
    row_numbers,
    write_sample_data,
)
from yinji.ml.sslr import SSLinearModel
from yinji.mpc import SharedTensor
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.net.channel import Party
from yinji.net.expect import recv_bytes

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

MIN_ROWS = 20          # clients of the label holder needed to train
LABEL = "label"
STORED = b"stored"     # a compute party's confirmation that it stored its shares


class RiskModelTraining(App):
    name = "risk-model-training"
    version = "1"
    title = "Risk model training (look-through features)"
    summary = ("Trains the joint model of risk-lookthrough's rule MODEL: SS-LR on the group "
               "look-through features of one company's clients and its 0/1 label; the model "
               "stays secret-shared at the three compute parties.")
    roles = (Role("exposures", (*LOOKTHROUGH.role("exposures").columns,
                                Column(LABEL, "flag", "0/1 outcome to learn, e.g. a past margin "
                                                      "call (the label holder only)")),
                  help="the look-through input; the label holder adds its label column",
                  optional=(*LOOKTHROUGH.role("exposures").optional, LABEL)),)
    params = (
        Param("model", "str", required=True,
              help="the name to register the model under (a new version if it exists)"),
        Param("label_holder", "str", required=True,
              help="the company whose label column is learnt, on its own clients"),
        Param("l2", "float", 1e-3, 0.0, 10.0, help="L2 penalty on the standardised weights"),
        Param("newton_steps", "int", 8, 1, 20, help="Newton steps of SS-LR (fixed in advance)"),
        Param("fx", "rates", {"HKD": 0.92, "USD": 7.1},
              help="approved rates to CNY for rows in other currencies"),
    )

    # -- spec -----------------------------------------------------------------------------------
    def plan(self, params: dict[str, Any], roles: dict[str, str], proposer: str,
             private: dict[str, Any] | None) -> dict[str, Any]:
        name, version = rm.parse_model(params["model"])
        if version is not None:
            raise AppError("parameter 'model': give the name only; the version is the next "
                           "one free at all three compute parties")
        return {}

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return [params["label_holder"]]

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        if problems:
            return problems
        params = spec.get("params") or {}
        companies = sorted(spec.get("inputs") or {})
        holder = params.get("label_holder")
        try:
            self.plan(params, {}, "", None)
        except AppError as exc:
            problems.append(str(exc))
        if holder not in companies:
            problems.append(f"the label holder {holder!r} must be a company of the run")
        omitted = params.get("omitted") or {}
        if holder in companies and LABEL in (omitted.get(holder) or []):
            problems.append(f"the label holder {holder} must supply the label column")
        for c in companies:
            if c != holder and LABEL not in (omitted.get(c) or []):
                problems.append(f"only the label holder supplies a label: {c} must leave "
                                "out the label column")
        if sorted(spec.get("recipients") or []) != [holder]:
            problems.append(f"the result goes to the label holder only: recipients must be "
                            f"[{holder}]")
        if len(companies) < 3:
            problems.append("risk-model-training needs at least three companies with exposures")
        return problems

    # -- the run --------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        params, me = ctx.spec["params"], ctx.me
        companies = sorted(ctx.spec["inputs"])
        compute, holder = list(params["compute"]), params["label_holder"]
        name = rm.parse_model(params["model"])[0]
        cols = inputs_by_role(ctx, self)
        ids = shown = values = labels = None
        refused: AppError | None = None
        problem, info = "", None
        if cols is not None:
            ctx.progress(0.15, "preparing this company's figures")
            try:
                ids, shown, values = entries(cols, companies.index(me), len(companies),
                                             params.get("fx") or {})
                if me == holder:
                    labels = client_labels(cols, ids)
            except AppError as exc:
                refused, problem = exc, f"{me} refused its own input"
        if me in compute:
            registry = ctx.node.models.registry
            try:
                info = {"next": (registry.versions(name) or [0])[-1] + 1}
            except ValueError as exc:
                problem = problem or f"{me}'s model registry: {exc}"
        infos = rm.preflight(ctx.party, companies, problem, info, local=refused)
        version = max(int((infos[c] or {}).get("next", 1)) for c in compute)
        model, counts = train_lookthrough(
            ctx.party, companies, compute, holder, ids, values, labels,
            l2=float(params["l2"]), newton_steps=int(params["newton_steps"]),
            progress=ctx.progress)
        names = rm.feature_names(companies)
        if model is not None:
            ctx.progress(0.9, "storing this party's shares")
            meta = rm.save(registry, name, version, compute, names, holder, model,
                           ctx.spec["id"], {"label_holder": holder,
                                            "l2": float(params["l2"]),
                                            "newton_steps": int(params["newton_steps"]),
                                            "companies": companies})
            from yinji.node.audit import ModelStoredEvent

            ctx.node.audit.append(ModelStoredEvent(meta.name, meta.version, meta.kind,
                                                   meta.job_id, meta.parties))
        stored = _confirm(ctx.party, compute, holder)
        if me != holder:
            return None
        assert counts is not None and labels is not None
        return training_report(name, version, compute, names, labels, counts, stored)


def client_labels(cols: dict[str, Any], ids: Sequence[str]) -> np.ndarray:
    """The label per distinct client in `ids` order (entries' order): 1 if any row is 1."""
    from yinji.ids import normalize

    if LABEL not in cols:
        raise AppError("the label holder's input has no label column")
    try:
        raw = np.asarray(cols[LABEL], dtype=np.float64)
    except (TypeError, ValueError):
        raise AppError("column label has values that are not 0 or 1") from None
    bad = np.flatnonzero(~np.isin(raw, (0.0, 1.0)))
    if bad.size:
        raise AppError(f"column label must hold 0 or 1; rows {row_numbers(bad + 1)} do not")
    keys = [normalize(str(v) if v is not None else "", kind="id") for v in cols["id_no"]]
    index = {k: i for i, k in enumerate(ids)}
    out = np.zeros(len(ids), np.int64)
    np.maximum.at(out, np.array([index[k] for k in keys], np.int64), raw.astype(np.int64))
    if len(out) < MIN_ROWS:
        raise AppError(f"the label holder has {len(out)} distinct clients; at least "
                       f"{MIN_ROWS} are needed to train")
    if out.min() == out.max():
        raise AppError(f"column label is {out[0]} for every client: a model needs both "
                       "classes")
    return out


def train_lookthrough(party: Party, companies: Sequence[str], compute: Sequence[str],
                      holder: str, ids: Sequence[str] | None, values: np.ndarray | None,
                      labels: np.ndarray | None = None, *, l2: float = 1e-3,
                      newton_steps: int = 8, progress: Any = None, workers: int | None = None,
                      ) -> tuple[SSLinearModel | None, np.ndarray | None]:
    """Run by every company (its distinct `ids` and `values` as in look_through; the label
    holder also its `labels` in `ids` order). Returns (the compute parties' model shares,
    else None; at the label holder the 2 x len(TRAINING_CUTS) in-sample counts, else None)."""
    me = party.name
    step = progress or (lambda f, s: None)
    session, sizes, ledgers = build_ledgers(party, companies, compute, ids, values, [holder],
                                       step, workers)
    if me not in compute and me != holder:
        return None, None
    step(0.5, f"looking up the clients of {holder}")
    order, x = lookup_clients(party, ledgers, compute, holder, ids, sizes, session, workers)
    n = sizes[holder] if me in compute else len(ids or [])
    y = None
    if me == holder:
        assert labels is not None and order is not None
        mine = np.asarray(labels, np.int64)[order]
        if me not in compute:
            send_input(party, compute, mine, frac_bits=0)
    if session is not None:
        if holder in compute:
            y = SharedTensor.share(session, mine if me == holder else None, holder,
                                   frac_bits=0, shape=(n,))
        else:
            y = receive_input(session, holder, frac_bits=0)
            if y.shape != (n,):
                raise AppError(f"{holder} shared {y.shape[0]} labels for {n} clients")
        step(0.6, "training")
        model, table = rm.train(x, y, l2=l2, newton_steps=newton_steps,
                                on_step=lambda done, total: step(0.6 + 0.25 * done / total,
                                                                 f"training: step {done}/{total}"))
        if holder in compute:
            return model, table.reveal_to(holder)
        reveal_outside(table, holder)
        return model, None
    return None, receive_output(party, list(compute), frac_bits=0)


def _confirm(party: Party, compute: Sequence[str], holder: str) -> list[str]:
    """Each compute party tells the label holder it stored its shares; the holder returns
    who did."""
    me = party.name
    if me in compute and me != holder:
        party.channel(holder).send_bytes(STORED)
    if me != holder:
        return []
    return [c for c in compute if c == me or recv_bytes(
        party.channel(c), "its storage confirmation", len(STORED), error=AppError) == STORED]


def training_report(name: str, version: int, compute: Sequence[str], names: Sequence[str],
                    labels: np.ndarray, counts: np.ndarray, stored: Sequence[str]) -> Report:
    """What the label holder receives: the model's name and version, its features, and the
    in-sample counts per threshold."""
    labels = np.asarray(labels)
    pos = int(labels.sum())
    report = Report(f"Risk model training: {name} v{version}")
    report.summary.append(f"Model {name} v{version} (SS-LR, logistic) is registered as secret "
                          f"shares at {', '.join(stored)}; nobody holds its weights. Use it "
                          f"in risk-lookthrough with model={name}:v{version}.")
    report.summary.append(f"Trained on your {len(labels)} clients ({pos} positive) with their "
                          f"group look-through features: {', '.join(names)}.")
    rows = []
    for j, cut in enumerate(rm.TRAINING_CUTS):
        flagged, hits = int(counts[0, j]), int(counts[1, j])
        rows.append([cut, flagged, hits, round(hits / pos, 4) if pos else None,
                     round(hits / flagged, 4) if flagged else None])
    report.table("in_sample", ["threshold", "flagged", "positives_flagged", "recall",
                               "precision"], rows)
    report.charts.append({"kind": "line", "title": "In-sample recall and precision",
                          "table": "in_sample", "x": "threshold", "y": ["recall", "precision"]})
    report.data.update({"model": name, "version": version, "features": list(names),
                        "rows": len(labels), "positives": pos, "stored_at": list(stored)})
    return report


def _demo(app: RiskModelTraining, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    """`make demo`: generated exposures (risk_lookthrough.sample_tables) with securities'
    margin calls as the label; securities proposes and receives the training report."""
    companies = sorted(data)
    if len(companies) < 3 or "securities" not in companies:
        return None
    paths = write_sample_data(data, clients=1000, seed=seed, name="risk_exposures.csv")
    datasets, inputs = {}, {}
    for c, path in paths.items():
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        schema = {h: "string" if h in ("id_no", "currency") else "float" for h in header}
        datasets[c] = [{"id": "risk-training", "kind": "csv",   # own id: own policy
                        "location": "data/risk_exposures.csv", "schema": schema,
                        "policy": [{"columns": header, "protocols": [app.protocol]}]}]
        omit = [x for x in app.role("exposures").optional
                if x not in header and not (x == LABEL and c == "securities")]
        cols = {LABEL: "margin_call"} if c == "securities" else {}
        inputs[c] = {"dataset": "risk-training", "omit": omit, "columns": cols}
    request = {"params": {"model": "risk-margin-call", "label_holder": "securities"},
               "inputs": inputs}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        cols = read_csv_input(paths["securities"])
        cols[LABEL] = cols["margin_call"]
        ids, _, _ = entries(cols, companies.index("securities"), len(companies),
                            {"HKD": 0.92, "USD": 7.1})
        labels = client_labels(cols, ids)
        got = ((reports.get("securities") or {}).get("data") or {})
        problems = []
        if got.get("rows") != len(labels) or got.get("positives") != int(labels.sum()):
            problems.append("securities: training rows differ from its clients")
        if sorted(got.get("stored_at") or []) != sorted(companies[:3]):
            problems.append("the model is not stored at all three compute parties")
        return problems

    return DemoRun("securities", datasets, request, check)


RiskModelTraining.demo = _demo   # type: ignore[method-assign,assignment]
APP = RiskModelTraining()
__all__ = ["APP", "MIN_ROWS", "RiskModelTraining", "client_labels", "train_lookthrough",
           "training_report"]
