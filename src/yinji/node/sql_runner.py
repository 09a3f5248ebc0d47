"""`sql.query`: a secure SQL query (yinji.sql.engine) as a node job, governed at each data owner.

Job spec:
    inputs:  {node: {dataset, columns}}: the table named by the dataset id, at that node; the
             same dataset id at several nodes is ONE table split across them (its rows are
             the union, `Table.parts`). A node takes part with one dataset.
    params:  {"sql": "SELECT ...",
              "types": {dataset: {column: kind | {"kind", "categories", "domain"}}}  (every
                       input column: the public schema of the query, shown at approval),
              "keys": {dataset: column}  (optional: a column declared unique, for JOINs),
              "compute": [three participants]  (default: the first three input nodes),
              "min_group": n  (optional floor), "allow_join_size": bool}
    recipients: exactly one.

Table names are the dataset ids, so the ledger's context (yinji.sql.ledger.context_key) of
one owner's data is the same whoever proposes and however the query is spelled.

Governance, at each data owner, before approval (`owner_check`, called by
yinji.node.policy.admissible at proposal, on receipt, at approval and before running): the
declared types must match the catalog, and `yinji.sql.policy.check_query` over this node's
table with its catalog's sql rules for the recipient must pass; a refusal names the column
and the rule. DP-marked columns: the noise plan (yinji.sql.noise) must accept every use, and
the owner's ledger must hold the query's epsilon for its dataset (`yinji sql-budget`), else
the refusal names the dataset and what remains. The job view shows the approval lines
(`sql_checks`: query, recipients, minimum group size, noise, epsilon, every check).

At run: every participant sends the hub (the first compute party) its row count, its
ledger's history for the query's context, its policy's minimum group size, its DP rules and
its budget verdict; the hub sends back the union (the same `rows`, `history`, `min_group`,
`dp` at every party, as the engine needs, and every refusal: then all stop, nothing spent).
With noise, each owner spends its dataset's epsilon atomically in its ledger BEFORE
computing, and one more round through the hub tells all whether every owner could; if not,
no party computes (the owners that did spend over-count: fail-safe). The compute parties
call `execute(..., min_group, history, check=isolation.checker(k), noise=plan)`, the
others `take_part`. After the result is opened the recipient sends the released cells'
predicates to each data owner, which records them in its ledger (`<home>/sql_ledger.sqlite`).

Adversary model: as yinji.sql.engine (semi-honest, honest majority of the three compute
parties; owners and the recipient semi-honest). Leakage beyond the engine's:
- every participant: each owner's row count (public in the engine too), the ledger
  predicates of earlier releases on the same context (query text: WHERE and released group
  key values, no aggregate), the largest min_group;
- each data owner: the predicates of the cells released by this job (the WHERE and the group
  key values of released rows, not their aggregates);
- string_key: derived from the (random) job id, so public to the participants: hashed
  strings are only ever secret-shared and compared in MPC, never opened (a string column
  cannot be output or a group key); joins use a fresh per-query token key (ops_join).
- a value outside a declared category list fails the job at its owner (one bit to all).
- with DP-marked columns: each owner's DP rules (epsilon, bounds) and whether each owner's
  budget sufficed (a refusal names its remaining and total epsilon; metadata, no data);
  the recipient gets noised cells, but which cells exist and are suppressed is decided on
  exact data, as without noise.
The ledger records only what the recipient reports (semi-honest recipient); a release is
recorded after it is opened, so a crash in between loses that record (not fail-safe).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

KIND_OF_CATALOG = {"string": ("string", "category", "date"), "float": ("decimal",),
                   "int": ("int", "decimal", "date", "category")}
LEDGER_FILE = "sql_ledger.sqlite"


def _types(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return (spec.get("params") or {}).get("types") or {}


def _column(name: str, decl: Any) -> Any:
    from yinji.sql.schema import Column

    d = {"kind": decl} if isinstance(decl, str) else dict(decl)
    extra = set(d) - {"kind", "categories", "domain"}
    if extra or "kind" not in d:
        raise ValueError(f"column {name!r}: a type is a kind or {{kind, categories, domain}}, "
                         f"got {decl!r}")
    return Column(name, d["kind"], False, tuple(d.get("categories") or ()),
                  tuple(d.get("domain") or ()))


def tables(spec: dict[str, Any], rows: dict[str, int] | None = None,
           data: dict[str, Any] | None = None, me: str = "") -> dict[str, Any]:
    """The query's tables: one per dataset id, split across the nodes that hold it."""
    from yinji.sql.schema import Table

    inputs, types = spec["inputs"], _types(spec)
    keys = (spec.get("params") or {}).get("keys") or {}
    out = {}
    for ds in sorted({i["dataset"] for i in inputs.values()}):
        owners = sorted(n for n, i in inputs.items() if i["dataset"] == ds)
        cols = [_column(c, types[ds][c]) for c in inputs[owners[0]]["columns"]]
        parts = tuple((o, (rows or {}).get(o, 0)) for o in owners)
        mine = data if me in owners else None
        if len(owners) == 1:
            out[ds] = Table(ds, owners[0], cols, parts[0][1], keys.get(ds), data=mine)
        else:
            out[ds] = Table(ds, owners[0], cols, 0, keys.get(ds), data=mine, parts=parts)
    return out


def _plain(row: Any) -> list[Any]:
    """A result row as JSON values (dates as ISO text)."""
    return [v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for v in row]


def _check_history(sql: str, tabs: dict[str, Any], history: list[str]) -> None:
    """A clear error when earlier releases use columns this job does not declare."""
    from yinji.sql.parse import parse
    from yinji.sql.schema import SqlError

    try:
        parse(sql, tabs, history)
    except SqlError as exc:
        raise SqlError(f"the owners' ledgers hold {len(history)} earlier released cell(s) on "
                       f"this context that this job cannot check ({exc}); declare the columns "
                       "they use in the job's inputs and types") from None


def _noise_plan(spec: dict[str, Any], tabs: dict[str, Any], dp: list[Any]
                ) -> tuple[dict[int, Any], dict[str, float]]:
    """The engine's noise plan and the epsilon per dataset, from DP-marked columns."""
    from yinji.sql.noise import marked_columns, plan, spend
    from yinji.sql.parse import parse

    q = parse(spec["params"]["sql"], tabs)
    p = plan(q, marked_columns(dp))
    return p, spend(p, q)


def budget_problem(ledger: Any, dataset: str, epsilon: float) -> str | None:
    """Why `ledger` cannot spend `epsilon` of `dataset` (None if it can)."""
    b = ledger.budget(dataset)
    if b is None:
        return (f"dataset {dataset!r} has no privacy budget: its owner sets one with "
                f"`yinji sql-budget {dataset} EPSILON`")
    if epsilon > b.remaining * (1 + 1e-12) + 1e-15:
        return (f"privacy budget of dataset {dataset!r} would be exceeded: the query needs "
                f"epsilon {epsilon:g}, {b.remaining:g} of {b.limit:g} remains")
    return None


def budget(home: Path, dataset: str, limit: float | None = None) -> Any:
    """Show (and with `limit`, first set) the epsilon budget of `dataset` in the ledger of the
    node at `home`; None when the dataset has none. Safe while the node runs (SQLite WAL)."""
    from yinji.node.config import CONFIG_FILE
    from yinji.sql.ledger import Ledger

    home = Path(home)
    if not (home / CONFIG_FILE).is_file():
        raise ValueError(f"{home} is not a node folder (no {CONFIG_FILE}); pass --home")
    if not dataset.strip():
        raise ValueError("name the dataset")
    ledger = Ledger(home / LEDGER_FILE)
    try:
        if limit is not None:
            ledger.set_limit(dataset, limit)
        return ledger.budget(dataset)
    finally:
        ledger.close()


def compute(spec: dict[str, Any]) -> list[str]:
    return list((spec.get("params") or {}).get("compute") or sorted(spec["inputs"])[:3])


def string_key(spec: dict[str, Any]) -> bytes:
    return hashlib.blake2b(spec["id"].encode(), digest_size=32, person=b"yinji-sql-job").digest()


CONTROL_LIMIT = 16 << 20   # bytes of one control message from a peer (counts, history, cells)


def _recv_json(ch: Any) -> Any:
    """A peer's JSON control message, refused unread past CONTROL_LIMIT."""
    return json.loads(ch.recv_bytes_at_most(CONTROL_LIMIT).decode())


class SqlQueryRunner:
    name = "sql.query"
    takes_helpers = True

    def unavailable(self) -> str | None:
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        from yinji.node.policy import participants
        from yinji.sql.parse import parse
        from yinji.sql.schema import SqlError

        params = spec.get("params") or {}
        inputs = spec.get("inputs") or {}
        problems = []
        if not isinstance(params.get("sql"), str) or not params["sql"].strip():
            problems.append("params.sql must be the query (a SELECT statement)")
        if len(spec.get("recipients") or []) != 1:
            problems.append("sql.query needs exactly one recipient")
        if not inputs:
            problems.append("sql.query needs at least one input table")
        parts = participants(spec)
        comp = compute(spec)
        if len(set(comp)) != 3 or not set(comp) <= set(parts):
            problems.append("params.compute must name three distinct participants (default: "
                            "the first three input nodes; add helpers for fewer inputs)")
        extra = set(params) - {"sql", "types", "keys", "compute", "min_group",
                               "allow_join_size"}
        if extra:
            problems.append(f"unknown params for sql.query: {sorted(extra)}")
        mg = params.get("min_group", 0)
        if isinstance(mg, bool) or not isinstance(mg, int) or mg < 0:
            problems.append("params.min_group must be a whole number >= 0")
        if not isinstance(params.get("allow_join_size", False), bool):
            problems.append("params.allow_join_size must be true or false")
        types = _types(spec)
        by_ds: dict[str, list[str]] = {}
        for node, inp in inputs.items():
            ds, cols = inp["dataset"], list(inp["columns"])
            if by_ds.setdefault(ds, cols) != cols:
                problems.append(f"every holder of {ds!r} must share the same columns "
                                f"({node} differs)")
            missing = [c for c in cols if c not in (types.get(ds) or {})]
            if missing:
                problems.append(f"params.types.{ds} must declare the type of {missing}")
        for ds, col in ((params.get("keys") or {}).items()):
            if col not in by_ds.get(ds, []):
                problems.append(f"params.keys.{ds}: {col!r} is not an input column of {ds!r}")
        if problems:
            return problems
        try:
            q = parse(params["sql"], tables(spec))
        except (SqlError, ValueError) as exc:
            return [f"params.sql: {exc}"]
        shown = {e.sql() for e, _ in q.select}
        hidden = [g.sql() for g in q.group if g.sql() not in shown]
        if hidden:   # the ledger records a released cell by its group key values
            problems.append(f"params.sql: GROUP BY {', '.join(hidden)} must also be in the "
                            "SELECT list (each owner's ledger records released cells by "
                            "their key values)")
        return problems

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        """Every participant: input parties share into, and the recipient hears from, the
        three compute parties."""
        from yinji.node.policy import participants

        return participants(spec)

    # -- governance at the data owner ----------------------------------------------------------
    def report(self, catalog: Any, me: str, spec: dict[str, Any]) -> Any:
        """This owner's PolicyReport (raises PolicyRefused / CatalogError / ValueError)."""
        from yinji.sql.policy import check_query

        mine = spec["inputs"][me]
        ds = catalog.get(mine["dataset"])
        types = _types(spec)
        for col in mine["columns"]:
            kind = _column(col, types[mine["dataset"]][col]).kind
            allowed = KIND_OF_CATALOG.get(ds.schema.get(col, ""), ())
            if kind not in allowed:
                raise ValueError(f"column {ds.id}.{col} is {ds.schema.get(col)} in the catalog "
                                 f"of {me}; it cannot be declared {kind}")
        others = {i["dataset"]: list(i["columns"]) for i in spec["inputs"].values()
                  if i["dataset"] != ds.id}
        return check_query(spec["params"]["sql"], {ds.id: ds.sql_policy()},
                           spec["recipients"][0], others=others)

    def owner_check(self, catalog: Any, me: str, spec: dict[str, Any]) -> list[str]:
        """Reasons this data owner refuses the query ([] if its policy allows it)."""
        if me not in (spec.get("inputs") or {}) or self.validate(spec):
            return []
        try:
            rep = self.report(catalog, me, spec)
            need = self.dp_spend(spec, rep.dp)
        except Exception as exc:  # noqa: BLE001 - a refusal, shown to the proposer as is
            return [str(exc)]
        ds = spec["inputs"][me]["dataset"]
        home = getattr(catalog, "home", None)
        if ds in need and home is not None:
            from yinji.sql.ledger import Ledger

            ledger = Ledger(Path(home) / LEDGER_FILE)
            try:
                why = budget_problem(ledger, ds, need[ds])
            finally:
                ledger.close()
            if why:
                return [why]
        return []

    @staticmethod
    def dp_spend(spec: dict[str, Any], dp: list[Any]) -> dict[str, float]:
        """Epsilon per dataset that the query's noised aggregates spend (yinji.sql.noise);
        SqlError naming a DP-marked use that cannot be noised."""
        if not dp:
            return {}
        return _noise_plan(spec, tables(spec), dp)[1]

    def approval_lines(self, catalog: Any, me: str, spec: dict[str, Any]) -> list[str]:
        if me not in (spec.get("inputs") or {}):
            return [f"query: {(spec.get('params') or {}).get('sql')}",
                    f"recipients: {', '.join(spec.get('recipients') or [])}",
                    "this node holds no table of the query"]
        try:
            rep = self.report(catalog, me, spec)
            lines = rep.approval_lines(spec["recipients"])
            lines += [f"privacy budget: the query spends epsilon {eps:g} of dataset {ds!r}"
                      for ds, eps in sorted(self.dp_spend(spec, rep.dp).items())]
            return lines
        except Exception as exc:  # noqa: BLE001
            return [f"refused: {exc}"]

    # -- running -------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.mpc import Session
        from yinji.node.policy import participants
        from yinji.sql import isolation
        from yinji.sql.engine import execute, take_part
        from yinji.sql.ledger import Ledger, LedgerError, context_key
        from yinji.sql.schema import SqlError

        spec, me = ctx.spec, ctx.me
        params = spec["params"]
        sql, recipient = params["sql"], spec["recipients"][0]
        comp, parts = compute(spec), participants(spec)
        context = context_key(sql)
        ledger = None
        local: dict[str, Any] = {"rows": None, "history": [], "min_group": 0, "dp": [],
                                 "refuse": None}
        if me in spec["inputs"]:
            assert ctx.inputs is not None and ctx.node is not None and ctx.home is not None
            ledger = Ledger(ctx.home / LEDGER_FILE)
            cols = spec["inputs"][me]["columns"]
            rep = self.report(ctx.node.catalog, me, spec)
            ds = spec["inputs"][me]["dataset"]
            need = self.dp_spend(spec, rep.dp).get(ds)
            local = {"rows": len(ctx.inputs[cols[0]]) if cols else 0,
                     "history": ledger.history(context), "min_group": rep.min_group,
                     "dp": [asdict(d) for d in rep.dp],
                     "refuse": budget_problem(ledger, ds, need) if need else None}
        try:
            ctx.progress(0.2, "agreeing on row counts, history, minimum group size and noise")
            agreed = self._agree(ctx, comp[0], parts, local)
            if agreed["refused"]:   # every party raises the same error: nothing was spent
                raise SqlError("; ".join(agreed["refused"]))
            k = max(int(params.get("min_group", 0)), agreed["min_group"])
            tabs = tables(spec, agreed["rows"], ctx.inputs, me)
            key = string_key(spec)
            allow = ("join_size",) if params.get("allow_join_size") else ()
            _check_history(sql, tabs, agreed["history"])
            noise, need_all = _noise_plan(spec, tabs, agreed["dp"]) if agreed["dp"] else ({}, {})
            if noise:   # spend BEFORE computing: a race or crash can only over-count
                ctx.progress(0.3, "spending the privacy budget")
                problem = None
                if ledger is not None and spec["inputs"][me]["dataset"] in need_all:
                    ds = spec["inputs"][me]["dataset"]
                    try:
                        ledger.record(context, [], spec["id"], datasets=[ds],
                                      epsilon={ds: need_all[ds]})
                    except LedgerError as exc:
                        problem = f"{me}: {exc}"
                refused = self._all_ok(ctx, comp[0], parts, problem)
                if refused:
                    raise SqlError("; ".join(refused))
            ctx.progress(0.4, "computing")
            if me in comp:
                res = execute(sql, tabs, Session(ctx.party, comp), recipient=recipient,
                              min_group=k, history=agreed["history"],
                              check=isolation.checker(k) if k > 0 else None,
                              string_key=key, allow=allow, noise=noise)
            else:
                res = take_part(ctx.party, comp, sql, tabs, recipient=recipient,
                                string_key=key, history=agreed["history"])
            ctx.progress(0.9, "recording the release")
            owners = sorted(spec["inputs"])
            cells: list[str] = []
            if me == recipient:
                assert res is not None and res.cell_predicates is not None
                msg = json.dumps(res.cell_predicates).encode()
                for o in owners:
                    if o != me:
                        ctx.party.channel(o).send_bytes(msg)
                cells = res.cell_predicates
            elif ledger is not None:
                cells = _recv_json(ctx.party.channel(recipient))
            if ledger is not None and cells:
                ledger.record(context, cells, spec["id"], datasets=[spec["inputs"][me]["dataset"]])
        finally:
            if ledger is not None:
                ledger.close()
        if me != recipient:
            return None
        return {"columns": res.columns, "rows": [_plain(r) for r in res.rows or []],
                "suppressed": [_plain(r) for r in res.suppressed or []], "context": res.context,
                "min_group": k, "noised": [res.columns[i] for i in sorted(noise)],
                "epsilon": need_all}

    @staticmethod
    def _all_ok(ctx: RunContext, hub: str, parts: list[str], problem: str | None) -> list[str]:
        """One more round after spending: every party learns every owner's refusal."""
        if ctx.me != hub:
            ctx.party.channel(hub).send_bytes(json.dumps(problem).encode())
            return _recv_json(ctx.party.channel(hub))
        got = [problem] + [_recv_json(ctx.party.channel(p))
                           for p in parts if p != hub]
        refused = [g for g in got if g]
        for p in parts:
            if p != hub:
                ctx.party.channel(p).send_bytes(json.dumps(refused).encode())
        return refused

    @staticmethod
    def _agree(ctx: RunContext, hub: str, parts: list[str],
               local: dict[str, Any]) -> dict[str, Any]:
        if ctx.me != hub:
            ctx.party.channel(hub).send_bytes(json.dumps(local).encode())
            return _recv_json(ctx.party.channel(hub))
        got = {hub: local}
        for p in parts:
            if p != hub:
                got[p] = _recv_json(ctx.party.channel(p))
        order = sorted(got)
        history = list(dict.fromkeys(h for p in order for h in got[p]["history"]))
        dp = [d for p in order for d in got[p]["dp"]]
        agreed = {"rows": {p: int(got[p]["rows"]) for p in order if got[p]["rows"] is not None},
                  "history": history,
                  "min_group": max(int(got[p]["min_group"]) for p in order),
                  "dp": [d for i, d in enumerate(dp) if d not in dp[:i]],
                  "refused": [f"{p}: {got[p]['refuse']}" for p in order if got[p]["refuse"]]}
        msg = json.dumps(agreed).encode()
        for p in parts:
            if p != hub:
                ctx.party.channel(p).send_bytes(msg)
        return agreed
