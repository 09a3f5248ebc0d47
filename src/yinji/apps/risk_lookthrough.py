"""Risk-customer identification, look-through (风险客户识别): per client, the exposures of
the whole group (margin financing at the broker, futures margin in use, leveraged products at
the fund manager, offshore positions) against the client's group assets, with configurable
rules; each company receives its own flagged clients with reason codes, the group risk
officer the counts by rule and company.

Pipeline (each company runs its side; `yinji.apps.risk_rules` has the rules,
`yinji.apps.risk_model` the optional rule MODEL):
1. Each company reads its "exposures" input, converts amounts to fen at the approved FX rates
   (a row's `currency`; CNY when absent), adds up rows of the same normalised ID and lays
   every client out as the vector of `risk_rules.layout(K)`: its assets and prior assets, its
   exposure in its own column c, zeros elsewhere. It tells the compute parties its number of
   distinct clients m (the ledger's sharing shapes show it to them anyway).
2. Two group ledgers (`yinji.psi.ledger`) over the same rows, fresh keys each run: ledger A
   with lookup party compute[0] serves every other company, ledger B with lookup party
   compute[1] serves compute[0] (a requester must never be its ledger's lookup party).
   Dummies: m (K - 1) per company served, enough to pad every client to K positions.
3. Each company looks up all its clients, in a secret random order, in one batch; the
   compute parties sum each client's K rows (`ledger.totals`), apply the rules (LEV, CONC,
   DROP, and MODEL if a model is named) in MPC and open the packed reason code of each
   client to the company only (`ledger.open_result`); it puts them back into its own order.
4. The counts per company (LEV, CONC, DROP, [MODEL,] any) are opened to the risk officer
   only.

Adversary model: semi-honest, honest majority among the three compute parties (yinji.mpc),
plus the ledger's assumptions (a lookup party colludes with no other party).

Leakage:
- a company: for each of its own clients the reason codes (its output); nothing about a
  client it does not hold, not whether or where else its clients are held, no other
  company's figures (tests: the input-party company's view).
- the risk officer: the K x 4 counts (its output), nothing per client.
- every compute party: each company's number of distinct clients, and the ledger's leakage
  per lookup (batch size, K padded positions per client).
- the lookup party of ledger A (compute[0]): per lookup of a company Q != compute[0], for
  each of Q's clients (a pseudonym, in an order only Q knows) how many companies hold it, not
  which (the ledger's requester sends each client's K points in a fresh random order). The
  lookup party of ledger B (compute[1]) learns the same about compute[0]'s clients. Nothing
  of it links to an ID unless a lookup party colludes with the company asking.
- across runs: nothing links, the keys are fresh each run.
- before anything is shared, every participant sends every other one status message: '' or
  its problem (its input refused, without the detail; a compute party's model problem) and,
  from a compute party, the model version and metadata digest it loaded.

Rule MODEL (`model=NAME[:vN]`, `model_threshold`): a look-through model trained by
risk-model-training (`yinji.apps.risk_model`), its share sets at the three compute parties.
Per client the compute parties compute the features from the same shared figures and add
the bit [score >= threshold] (as [decision >= logit(threshold)]) to the rules' bits: codes +
8, counts K x 5 (LEV, CONC, DROP, MODEL, any). Nothing new is opened: the bit reaches a
company only inside its own clients' codes, the officer only in the counts. A model that is
unknown, not SS-LR logistic, registered for other features or compute parties, or not held
alike (same version, same metadata) by all three compute parties stops the run at the
status round, before anything is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps import risk_model as rm
from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role
from yinji.apps.risk_rules import (
    MAX_AMOUNT_FEN,
    RULES,
    Thresholds,
    flags,
    layout,
    packed,
    plain_counts,
    plain_flags,
    rule_counts,
    unpack,
)
from yinji.crypto.prg import Prg, fresh_seed
from yinji.ml.sslr import SSLinearModel
from yinji.mpc import Session, SharedTensor, concatenate, stack
from yinji.mpc.inputs import receive_output, reveal_outside
from yinji.net.channel import Party
from yinji.net.expect import recv_array
from yinji.psi import ledger as lg

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

EXPOSURES = ("margin_financing", "futures_margin", "leveraged_products", "offshore_positions")
AMOUNTS = ("assets", "prior_assets", *EXPOSURES)
HOME = ("CNY", "RMB", "")


class RiskLookthrough(App):
    name = "risk-lookthrough"
    version = "1"
    title = "Risk-customer identification (look-through)"
    summary = ("Group-wide exposure rules per client; each company gets its own flagged "
               "clients with reason codes, the risk officer counts by rule and company.")
    roles = (Role("exposures", (
        Column("id_no", "id", "client ID number"),
        Column("assets", "number", "the client's assets at this company, now"),
        Column("margin_financing", "number", "margin financing balance (broker)"),
        Column("futures_margin", "number", "futures margin in use (futures)"),
        Column("leveraged_products", "number", "leveraged products held (fund manager)"),
        Column("offshore_positions", "number", "offshore positions (offshore broker)"),
        Column("prior_assets", "number", "the client's assets here a month ago"),
        Column("currency", "text", "currency of the row's amounts (CNY when absent)"),
    ), help="one row per client account; amounts in CNY or the row's currency",
        optional=(*EXPOSURES, "prior_assets", "currency")),)
    params = (
        Param("leverage_max", "float", 0.8, 0.0, 10.0,
              help="LEV: group exposure above this multiple of group assets (0.001 steps)"),
        Param("concentration_max", "float", 0.9, 0.5, 1.0,
              help="CONC: one company holds more than this share of the group exposure"),
        Param("concentration_min_exposure", "float", 100_000.0, 0.0, 1e11,
              help="CONC applies from this group exposure (CNY)"),
        Param("drop_max", "float", 0.3, 0.0, 1.0,
              help="DROP: group assets fell by more than this fraction in a month"),
        Param("min_assets", "float", 500_000.0, 0.0, 1e11,
              help="DROP applies to clients with at least these group assets a month ago"),
        Param("fx", "rates", {"HKD": 0.92, "USD": 7.1},
              help="approved rates to CNY for rows in other currencies"),
        Param("risk_officer", "str", required=True,
              help="the node of the group risk officer (receives counts only)"),
        Param("model", "str", help="rule MODEL: a look-through model registered by "
                                   "risk-model-training at the three compute parties, "
                                   "NAME or NAME:vN"),
        Param("model_threshold", "float", 0.5, *rm.THRESHOLD_RANGE,
              help="MODEL: flag clients whose model score is at least this"),
    )

    # -- parameters and spec ------------------------------------------------------------------
    def thresholds(self, params: dict[str, Any]) -> Thresholds:
        """The effective thresholds as exact integers (ratios per mille, amounts in fen)."""
        out = {}
        for name, field in (("leverage_max", "leverage"), ("concentration_max", "concentration"),
                            ("drop_max", "drop")):
            permille = float(params[name]) * 1000
            if abs(permille - round(permille)) > 1e-6:
                raise AppError(f"parameter {name!r} has at most 3 decimals, got "
                               f"{params[name]!r}")
            out[field] = int(round(permille))
        out["concentration_min"] = int(round(float(params["concentration_min_exposure"]) * 100))
        out["min_assets"] = int(round(float(params["min_assets"]) * 100))
        try:
            return Thresholds(**out)
        except ValueError as exc:
            raise AppError(str(exc)) from None

    def plan(self, params: dict[str, Any], roles: dict[str, str], proposer: str,
             private: dict[str, Any] | None) -> dict[str, Any]:
        if params.get("model"):
            rm.parse_model(params["model"])
        self.thresholds(params)
        return {}

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return sorted({*roles, params["risk_officer"]})

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        params = spec.get("params") or {}
        if problems:
            return problems
        companies = sorted(spec.get("inputs") or {})
        officer = params.get("risk_officer")
        recipients = set(spec.get("recipients") or [])
        if officer not in recipients:
            problems.append(f"the risk officer {officer!r} must be a recipient")
        stray = recipients - set(companies) - {officer}
        if stray:
            problems.append(f"recipients must be companies of the run or the risk officer: "
                            f"{', '.join(sorted(stray))} are neither")
        if params.get("model"):
            try:
                rm.parse_model(params["model"])
            except AppError as exc:
                problems.append(str(exc))
        if len(companies) < 3:
            problems.append("risk-lookthrough needs at least three companies with exposures")
        try:
            self.thresholds(params)
        except AppError as exc:
            problems.append(str(exc))
        return problems

    # -- make demo ----------------------------------------------------------------------------
    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        """Generated exposures for every company (sample_tables), the officer at securities
        (else the first company), checked against `expected_reports`."""
        companies = sorted(data)
        if len(companies) < 3:
            return None
        paths = write_sample_data(data, clients=1000, seed=seed, name="risk_exposures.csv")
        officer = "securities" if "securities" in companies else companies[0]
        fx = {"HKD": 0.92, "USD": 7.1}
        datasets, inputs = {}, {}
        for c, path in paths.items():
            header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
            schema = {h: "string" if h in ("id_no", "currency") else "float" for h in header}
            datasets[c] = [{"id": "risk-exposures", "kind": "csv",
                            "location": "data/risk_exposures.csv",
                            "schema": schema,
                            "policy": [{"columns": header, "protocols": [self.protocol]}]}]
            omit = [x for x in self.role("exposures").optional if x not in header]
            inputs[c] = {"dataset": "risk-exposures", "omit": omit}
        request = {"params": {"risk_officer": officer, "fx": fx}, "inputs": inputs}
        t = self.thresholds(self.resolve_params(request["params"]))

        def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
            flagged, counts = expected_reports({c: read_csv_input(p) for c, p in paths.items()},
                                               t, fx)
            problems = []
            for c in companies:
                rows = ((reports.get(c) or {}).get("tables") or {}).get("flagged", {})
                got = {r[0]: r[1].split() for r in rows.get("rows", [])}
                if got != flagged[c]:
                    problems.append(f"{c}: flagged clients differ from the plaintext")
            table = ((reports.get(officer) or {}).get("tables") or {}).get("counts_by_company")
            if not table or [r[1:] for r in table["rows"]] != counts.tolist():
                problems.append("officer counts differ from the plaintext")
            return problems

        return DemoRun(officer, datasets, request, check)

    # -- the run ------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        params, me = ctx.spec["params"], ctx.me
        companies = sorted(ctx.spec["inputs"])
        compute = list(params["compute"])
        recipients = set(ctx.spec["recipients"])
        t = self.thresholds(params)
        threshold = float(params.get("model_threshold", 0.5))
        cols = inputs_by_role(ctx, self)
        ids = shown = values = None
        refused: AppError | None = None
        if cols is not None:
            ctx.progress(0.15, "preparing this company's figures")
            try:
                ids, shown, values = entries(cols, companies.index(me), len(companies),
                                             params.get("fx") or {})
            except AppError as exc:
                refused = exc
        model = info = None
        problem = f"{me} refused its own input" if refused else ""
        if params.get("model") and me in compute and not problem:
            name, version = rm.parse_model(params["model"])
            try:
                meta, part = rm.load(ctx.node.models.registry, name, version, compute,
                                     rm.feature_names(companies))
                model, info = (meta.params, part), {"version": meta.version,
                                                    "digest": rm.digest(meta)}
            except AppError as exc:
                problem = str(exc)
        # every participant says whether it can go on: nothing is shared unless all can
        infos = rm.preflight(ctx.party, sorted({*companies, params["risk_officer"]}),
                             problem, info, local=refused)
        version = rm.agreed_version(params.get("model"), infos, compute)
        codes, counts = look_through(ctx.party, companies, compute,
                                     params["risk_officer"], t, ids, values,
                                     receivers=sorted(recipients & set(companies)),
                                     progress=ctx.progress, model=model, threshold=threshold)
        rules = RULES + (("MODEL",) if params.get("model") else ())
        model_text = f"{rm.parse_model(params['model'])[0]} v{version}" if version else ""
        report = None
        if codes is not None and me in recipients:
            report = company_report(me, shown or [], unpack(codes, len(rules)), t, rules,
                                    model_text, threshold)
        if counts is not None:
            report = officer_report(companies, counts, t, report, rules, model_text,
                                    threshold)
        return report


def look_through(party: Party, companies: Sequence[str], compute: Sequence[str], officer: str,
                 t: Thresholds, ids: Sequence[str] | None = None,
                 values: np.ndarray | None = None, *, receivers: Sequence[str] | None = None,
                 progress: Any = None, workers: int | None = None,
                 model: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None,
                 threshold: float = 0.5,
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Run by every company (with its distinct `ids` and `values`, n x len(layout(K))) and
    the officer. Returns (this company's reason codes in its `ids` order, or None if it is
    not among `receivers` (default: every company); the K x 4 counts (LEV, CONC, DROP, any)
    per company at the officer, else None).

    `model` (at each compute party: (metadata params, its share arrays) of a look-through
    SS-LR model, `risk_model.load`; None elsewhere): adds rule MODEL, score >= `threshold`
    (codes + 8, counts K x 5: LEV, CONC, DROP, MODEL, any). The three compute parties pass
    a model or none alike; the others need not know.

    Two ledgers over the same rows: ledger A (lookup party compute[0]) serves every company
    but compute[0], ledger B (lookup party compute[1]) serves compute[0] -- a requester must
    never be its ledger's lookup party. Each company looks up all its clients in one batch."""
    me, k = party.name, len(companies)
    receivers = list(companies) if receivers is None else list(receivers)
    step = progress or (lambda f, s: None)
    session, sizes, ledgers = build_ledgers(party, companies, compute, ids, values, companies,
                                       step, workers)
    lr = SSLinearModel.from_shares(session, *model) if model and session else None
    width = len(RULES) + (1 if lr is not None else 0) + 1
    mine = counts = None
    shares = []
    for i, q in enumerate(companies):
        if me not in compute and me != q:
            continue
        step(0.6 + 0.3 * i / k, f"rules for the clients of {q}")
        if sizes.get(q, len(ids or [])) == 0:   # nothing to look up; sizes known to both sides
            if session is not None:
                shares.append(SharedTensor.public(session, np.zeros(width, np.int64), 0))
            if me == q and q in receivers:
                mine = np.zeros(0, np.int64)
            continue
        order, x = lookup_clients(party, ledgers, compute, q, ids, sizes, session, workers)
        codes = None
        if x is not None:
            bits = flags(x, k, t)
            if lr is not None:
                bits = concatenate([bits, rm.model_bits(lr, x, threshold)], axis=1)
            shares.append(rule_counts(bits))
            codes = packed(bits).shares
        if q in receivers:
            led = ledgers["b" if q == compute[0] else "a"]
            out = lg.open_result(party, led.roles, q, codes, session)
            if me == q and out is not None and order is not None:
                mine = np.empty_like(out)
                mine[order] = out
    step(0.95, "counts to the risk officer")
    if session is not None:
        table = stack(shares, 0)
        if officer in compute:
            counts = table.reveal_to(officer)
        else:
            reveal_outside(table, officer)
    elif me == officer:
        counts = receive_output(party, list(compute), frac_bits=0)
    return mine, counts


def build_ledgers(party: Party, companies: Sequence[str], compute: Sequence[str],
             ids: Sequence[str] | None, values: np.ndarray | None, askers: Sequence[str],
             step: Any, workers: int | None) -> tuple[Session | None, dict[str, int], dict]:
    """The session (compute parties), every company's client count (at the compute parties;
    a company knows its own) and the ledgers that serve `askers`: A (lookup party compute[0])
    for every company but compute[0], B (lookup party compute[1]) for compute[0]."""
    me, k = party.name, len(companies)
    session = Session(party, list(compute)) if me in compute else None
    sizes = _exchange_sizes(party, companies, compute, None if ids is None else len(ids))
    roles = {"a": lg.Roles(tuple(companies), tuple(compute), compute[0]),
             "b": lg.Roles(tuple(companies), tuple(compute), compute[1])}
    served = {"a": [c for c in companies if c != compute[0] and c in askers],
              "b": [c for c in (compute[0],) if c in askers]}
    ledgers = {}
    for name in ("a", "b") if me in companies else ():
        if not served[name]:
            continue
        step(0.2 + 0.2 * (name == "b"), f"building ledger {name.upper()}")
        dummies = sum(sizes.get(c, 0) for c in served[name]) * (k - 1)
        ledgers[name] = lg.build(party, roles[name], ids, values, session=session,
                                 dummies=dummies, workers=workers)
    return session, sizes, ledgers


def lookup_clients(party: Party, ledgers: dict, compute: Sequence[str], q: str,
            ids: Sequence[str] | None, sizes: dict[str, int], session: Session | None,
            workers: int | None) -> tuple[np.ndarray | None, SharedTensor | None]:
    """Company q looks up all its clients in a secret order, in one batch: (q: that order,
    else None; compute parties: the n x (K + 2) shares of its clients' group figures)."""
    me = party.name
    led = ledgers["b" if q == compute[0] else "a"]
    m = sizes[q] if me in compute else len(ids or [])
    order = _secret_order(m) if me == q else None   # L sees the batch in this order
    asked = [ids[j] for j in order] if me == q and ids is not None and order is not None \
        else None
    got = lg.lookup(party, led, q, asked, max_batch=m, workers=workers)
    x = SharedTensor(session, lg.totals(got), 0) if session is not None else None
    return order, x


def _secret_order(n: int) -> np.ndarray:
    """A random order of n items from a fresh secret seed (the requester's batch order, so
    the lookup party cannot relate positions in the batch to the sorted IDs)."""
    return np.argsort(Prg(fresh_seed()).uint64(n), kind="stable")


def _exchange_sizes(party: Party, companies: Sequence[str], compute: Sequence[str],
                    mine: int | None) -> dict[str, int]:
    """Every company tells the compute parties how many distinct clients it has (the
    ledger's sharing shapes show it to them anyway); the compute parties learn all."""
    me = party.name
    if me in companies:
        for c in compute:
            if c != me:
                party.channel(c).send_array(np.array([mine or 0], np.int64))
    if me not in compute:
        return {me: mine or 0} if me in companies else {}
    sizes = {}
    for c in companies:
        if c == me:
            sizes[c] = mine or 0
            continue
        got = recv_array(party.channel(c), "its client count", np.int64, (1,), error=AppError)
        if not 0 <= int(got[0]) <= 10**8:
            raise AppError(f"{c} sent a client count of {int(got[0])}, expected 0..10^8")
        sizes[c] = int(got[0])
    return sizes


def entries(cols: dict[str, Any], company: int, k: int,
            fx: dict[str, float]) -> tuple[list[str], list[str], np.ndarray]:
    """This company's clients: (normalised IDs, the ID as first written in its data, the
    m x len(layout(k)) integer figures in fen). Rows of the same client are added up."""
    from yinji.ids import normalize

    raw_ids = [str(v) if v is not None else "" for v in cols["id_no"]]
    ids = [normalize(v, kind="id") for v in raw_ids]
    empty = [i + 1 for i, v in enumerate(ids) if not v]
    if empty:
        raise AppError(f"column id_no is empty in row(s) {row_numbers(empty)}")
    n = len(ids)
    rate = np.ones(n)
    if "currency" in cols:
        codes = [str(c or "").strip().upper() for c in cols["currency"]]
        rates = {**{h: 1.0 for h in HOME}, **{c.upper(): float(r) for c, r in fx.items()}}
        unknown = sorted({c for c in codes if c not in rates})
        if unknown:
            raise AppError(f"currency {', '.join(unknown)} has no approved rate (parameter "
                           f"fx has {', '.join(sorted(fx)) or 'none'})")
        rate = np.array([rates[c] for c in codes])
    fen = {}
    for name in AMOUNTS:
        if name not in cols:
            fen[name] = np.zeros(n, np.int64)
            continue
        try:
            v = np.asarray(cols[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise AppError(f"column {name} has values that are not numbers") from None
        bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
        if bad.size:
            raise AppError(f"column {name} must hold non-negative amounts; rows "
                           f"{row_numbers(bad + 1)} do not")
        cny = v * rate * 100
        if n and cny.max() > MAX_AMOUNT_FEN:
            raise AppError(f"column {name}: amounts above CNY {MAX_AMOUNT_FEN / 100:,.0f} "
                           "per row are out of range")
        fen[name] = np.rint(cny).astype(np.int64)
    uniq, first, inverse = np.unique(np.array(ids, dtype=object), return_index=True,
                                     return_inverse=True)
    m = len(uniq)
    out = np.zeros((m, len(layout(k))), np.int64)
    np.add.at(out[:, 0], inverse, fen["assets"])
    np.add.at(out[:, 1], inverse, fen["prior_assets"])
    np.add.at(out[:, 2 + company], inverse, sum(fen[e] for e in EXPOSURES))
    if m and out.max() > MAX_AMOUNT_FEN:
        raise AppError(f"a client's total above CNY {MAX_AMOUNT_FEN / 100:,.0f} at one "
                       "company is out of range")
    return [str(u) for u in uniq], [raw_ids[i] for i in first], out


def plaintext(tables: dict[str, tuple[list[str], np.ndarray]], t: Thresholds
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The same results in the clear: {company: reason codes in its ids' order} and the
    K x 4 counts, companies in the order of `tables` (tests and the demo)."""
    companies = list(tables)
    group: dict[str, np.ndarray] = {}
    for ids, values in tables.values():
        for i, v in zip(ids, values, strict=True):
            group[i] = group[i] + v if i in group else v.astype(np.int64).copy()
    codes, counts = {}, []
    for c in companies:
        ids, _ = tables[c]
        x = np.array([group[i] for i in ids], np.int64).reshape(len(ids), 2 + len(companies))
        bits = plain_flags(x, len(companies), t) if len(ids) else np.zeros((0, 3), np.int64)
        codes[c] = bits @ np.array([1, 2, 4])
        counts.append(plain_counts(bits))
    return codes, np.array(counts, np.int64).reshape(len(companies), 4)


# -- sample data (demo, tests, benchmark) ----------------------------------------------------

OWN_EXPOSURE = {"securities": "margin_financing", "futures": "futures_margin",
                "fund": "leveraged_products", "offshore": "offshore_positions"}


def sample_tables(companies: Sequence[str], clients: int = 2000, seed: int = 2026,
                  share: float = 0.5) -> dict[str, dict[str, np.ndarray]]:
    """Seeded synthetic inputs: each company holds about `share` of the clients (ID numbers
    with valid check letters), assets, prior assets, its own exposure column (by company name,
    else margin_financing), and the offshore company's rows in HKD, USD or CNY. Some clients
    are leveraged, concentrated or lost assets, so every rule fires. securities also has
    `margin_call` (0/1, likelier for leveraged clients and those who lost assets)."""
    from yinji.ids import id_check_char

    rng = np.random.default_rng(seed)
    labels = np.random.default_rng([seed, 1])   # its own stream: the figures stay as they were
    first17 = [f"{110101 + n // 100_000:06d}{1950 + n // 1000 % 50:04d}"
               f"{1 + n // 50_000 % 2:02d}{1 + n % 28:02d}{n % 1000:03d}" for n in range(clients)]
    ids = np.array([f + id_check_char(f) for f in first17], dtype=object)
    wealth = rng.lognormal(12.5, 1.5, clients)
    out = {}
    for c in companies:
        held = np.flatnonzero(rng.random(clients) < share)
        n = len(held)
        assets = np.round(wealth[held] * rng.uniform(0.2, 1.0, n), 2)
        prior = np.round(assets * np.where(rng.random(n) < 0.15, rng.uniform(1.5, 3, n), 1.0), 2)
        lever = np.where(rng.random(n) < 0.2, rng.uniform(0.5, 3, n), rng.uniform(0, 0.3, n))
        cols = {"id_no": ids[held], "assets": assets, "prior_assets": prior,
                OWN_EXPOSURE.get(c, "margin_financing"): np.round(assets * lever, 2)}
        if c == "offshore":
            cur = rng.choice(["HKD", "USD", "CNY"], n)
            rate = np.select([cur == "HKD", cur == "USD"], [1 / 0.92, 1 / 7.1], 1.0)
            for k in ("assets", "prior_assets", "offshore_positions"):
                cols[k] = np.round(cols[k] * rate, 2)
            cols["currency"] = cur.astype(object)
        if c == "securities":   # past margin calls: the label risk-model-training learns
            odds = -3.0 + 2.5 * lever + 1.5 * (prior > 1.4 * assets)
            calls = labels.random(n) < 1.0 / (1.0 + np.exp(-odds))
            cols["margin_call"] = calls.astype(np.int64)
        out[c] = cols
    return out


def write_sample_data(folders: dict[str, Path], clients: int = 2000, seed: int = 2026,
                      name: str = "risk.csv") -> dict[str, Path]:
    """`sample_tables` as one CSV per company: folders[company]/<name>."""
    import csv

    paths = {}
    for c, cols in sample_tables(sorted(folders), clients, seed).items():
        path = folders[c] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(list(cols))
            w.writerows(zip(*cols.values(), strict=True))
        paths[c] = path
    return paths


def read_csv_input(path: Path, id_column: str = "id_no") -> dict[str, np.ndarray]:
    """A company's risk CSV as the app's logical columns (tests, demo checks)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0]) if rows else []
    cols: dict[str, np.ndarray] = {
        "id_no": np.array([r[id_column] for r in rows], dtype=object)}
    for k in header:
        if k == "currency":
            cols[k] = np.array([r[k] for r in rows], dtype=object)
        elif k != id_column:
            cols[k] = np.array([float(r[k]) for r in rows])
    return cols


def expected_reports(inputs: dict[str, dict[str, np.ndarray]], t: Thresholds,
                     fx: dict[str, float]) -> tuple[dict[str, dict[str, list[str]]], np.ndarray]:
    """The plaintext result of raw inputs: {company: {ID as written: reason codes}} of the
    flagged clients, and the K x 4 officer counts (companies sorted)."""
    companies = sorted(inputs)
    tables, shown = {}, {}
    for c in companies:
        ids, first, values = entries(inputs[c], companies.index(c), len(companies), fx)
        tables[c], shown[c] = (ids, values), first
    codes, counts = plaintext(tables, t)
    flagged = {c: {shown[c][i]: [r for j, r in enumerate(RULES) if codes[c][i] >> j & 1]
                   for i in np.flatnonzero(codes[c])} for c in companies}
    return flagged, counts


def row_numbers(rows: Any) -> str:
    rows = [int(r) for r in rows]
    return ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5
                                            else "")


def company_report(me: str, shown_ids: list[str], reasons: np.ndarray,
                   thresholds: Thresholds, rules: Sequence[str] = RULES, model: str = "",
                   threshold: float = 0.5) -> Report:
    """What a company receives: its own flagged clients and their reason codes."""
    report = Report(f"Risk look-through: flagged clients of {me}")
    flagged = np.flatnonzero(reasons.any(axis=1))
    rows = [[shown_ids[i], " ".join(r for r, b in zip(rules, reasons[i], strict=True) if b),
             *[bool(b) for b in reasons[i]]] for i in flagged]
    report.table("flagged", ["id_no", "reasons", *rules], rows)
    report.summary.append(f"{len(flagged)} of your {len(shown_ids)} clients flagged: "
                          + ", ".join(f"{r} {int(reasons[:, j].sum())}"
                                      for j, r in enumerate(rules)))
    report.summary.append(_rule_text(thresholds, model, threshold))
    return report


def officer_report(companies: list[str], counts: np.ndarray, thresholds: Thresholds,
                   report: Report | None = None, rules: Sequence[str] = RULES,
                   model: str = "", threshold: float = 0.5) -> Report:
    """What the risk officer receives: counts by rule and company (K x (rules + any))."""
    report = report or Report("Risk look-through: flagged clients by rule and company")
    rows = [[c, *[int(v) for v in counts[i]]] for i, c in enumerate(companies)]
    report.table("counts_by_company", ["company", *rules, "any"], rows)
    report.charts.append({"kind": "bar", "title": "Flagged clients by rule and company",
                          "table": "counts_by_company", "x": "company", "y": list(rules)})
    report.summary.append("Counts of each company's clients flagged by each rule (a client "
                          "held by several companies counts at each).")
    report.summary.append(_rule_text(thresholds, model, threshold))
    report.data["counts"] = {c: dict(zip([*rules, "any"], map(int, counts[i]), strict=True))
                             for i, c in enumerate(companies)}
    return report


def _rule_text(t: Thresholds, model: str = "", threshold: float = 0.5) -> str:
    return (f"Rules: LEV exposure > {t.leverage / 1000:g} x assets; CONC one company > "
            f"{t.concentration / 10:g}% of exposure (from CNY {t.concentration_min / 100:,.0f});"
            f" DROP assets fell > {t.drop / 10:g}% (from CNY {t.min_assets / 100:,.0f})"
            + (f"; MODEL score of model {model} >= {threshold:g}." if model else "."))


APP = RiskLookthrough()
__all__ = ["APP", "RiskLookthrough", "company_report", "entries", "look_through",
           "expected_reports", "officer_report", "plaintext", "read_csv_input",
           "sample_tables", "write_sample_data"]
