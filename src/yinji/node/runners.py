"""Protocol runners: the registry that turns an approved job into protocol calls.

A runner validates a job's spec (which parties, columns, parameters and recipients make
sense for its protocol), names the compute parties, and runs this node's side of the protocol
with a `RunContext` (the node's channels to the other compute parties, its own input columns
already checked against the catalog policy, a progress callback). It returns this node's
output, or None if this node is not a recipient. Adding a protocol = one class + one entry in
`RUNNERS`.
"""

from __future__ import annotations

import csv
import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from yinji.net.channel import Party
from yinji.node.linkage_runner import LinkageRunner
from yinji.node.model_runners import MODEL_RUNNERS
from yinji.node.result_files import write_table
from yinji.node.sql_runner import SqlQueryRunner


@dataclass
class RunContext:
    spec: dict[str, Any]
    me: str
    party: Party
    inputs: dict[str, np.ndarray] | None       # this node's columns, None if it has no input
    progress: Callable[[float, str], None]
    home: Path | None = None   # the node's home folder: node-local secrets (e.g. linkage keys)
    private: dict[str, Any] | None = None  # the proposer's private input (apps), never sent
    node: Any = None           # the running node (apps that use its services, e.g. PIR)
    input_key: str | None = None  # names exactly this content of `inputs` (None: unknown),
    #                               so an app may keep what it derives from them between runs
    folder: Path | None = None    # this job's results folder here, for results too large
    #                               for the result JSON (`yinji.node.result_files`)


class ProtocolRunner(Protocol):
    name: str

    def unavailable(self) -> str | None: ...
    def validate(self, spec: dict[str, Any]) -> list[str]: ...
    def compute_parties(self, spec: dict[str, Any]) -> list[str]: ...
    def run(self, ctx: RunContext) -> dict[str, Any] | None: ...


def _common(spec: dict[str, Any], n_parties: int, columns: tuple[int, int],
            at_least: bool = False) -> list[str]:
    problems = []
    inputs = spec.get("inputs") or {}
    if len(inputs) < n_parties or (len(inputs) != n_parties and not at_least):
        problems.append(f"{spec['protocol']} needs inputs from {'at least' if at_least else 'exactly'} "
                        f"{n_parties} parties, got {len(inputs)}")
    for party, inp in inputs.items():
        cols = inp.get("columns") or []
        if not columns[0] <= len(cols) <= columns[1]:
            problems.append(f"input of {party!r}: expected {columns[0]}..{columns[1]} columns")
    stray = [r for r in spec.get("recipients") or [] if r not in inputs]
    if stray:
        problems.append(f"recipients must take part in {spec['protocol']}: "
                        f"{', '.join(stray)} are not")
    if not spec.get("recipients"):
        problems.append("a job needs at least one recipient")
    return problems


class MpcAggregateRunner:
    """`mpc.aggregate`: sum / count / mean per group over three or more companies' (key,
    value) columns. Three of them compute (`params.compute`, default the first three input
    names in sorted order); every other one is an input party that secret-shares into them
    (yinji.mpc.inputs). Recipients may be any participant.

    params: {"groups": [public group keys], "metrics": ["sum", "count", "mean"],
             "compute": [three participants] (optional)}
    inputs[party].columns: [key_column] (count only) or [key_column, value_column]."""

    name = "mpc.aggregate"

    def unavailable(self) -> str | None:
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        from yinji.mpc.aggregate import METRICS

        problems = _common(spec, 3, (1, 2), at_least=True)
        params = spec.get("params") or {}
        compute = params.get("compute")
        if compute is not None and (not isinstance(compute, list) or len(set(compute)) != 3
                                    or not set(compute) <= set(spec.get("inputs") or {})):
            problems.append("params.compute must name three distinct input parties")
        groups, metrics = params.get("groups"), params.get("metrics") or ["sum", "count"]
        if not isinstance(groups, list) or not groups or not all(isinstance(g, str)
                                                                 for g in groups):
            problems.append("params.groups must be a non-empty list of group keys (strings)")
        elif len(set(groups)) != len(groups) or len(groups) > 100_000:
            problems.append("params.groups must be distinct and at most 100000")
        if not isinstance(metrics, list) or not set(metrics) <= set(METRICS) or not metrics:
            problems.append(f"params.metrics must be a non-empty subset of {list(METRICS)}")
        elif set(metrics) & {"sum", "mean"}:
            short = [p for p, i in (spec.get("inputs") or {}).items()
                     if len(i.get("columns") or []) < 2]
            if short:
                problems.append(f"sum/mean need a value column from {', '.join(short)}")
        return problems

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        """Every participant: input parties need channels to the three compute parties."""
        return sorted(spec["inputs"])

    @staticmethod
    def session(spec: dict[str, Any]) -> list[str]:
        """The three compute parties, in session order."""
        return list((spec.get("params") or {}).get("compute") or sorted(spec["inputs"])[:3])

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.mpc import Session
        from yinji.mpc.aggregate import aggregate_input, group_aggregate, local_group_totals

        params = ctx.spec["params"]
        groups = params["groups"]
        metrics = params.get("metrics") or ["sum", "count"]
        cols = ctx.spec["inputs"][ctx.me]["columns"]
        assert ctx.inputs is not None
        keys = ctx.inputs[cols[0]]
        values = ctx.inputs[cols[1]] if len(cols) > 1 else None
        sums, counts = local_group_totals(keys, values, groups)
        ctx.progress(0.3, "session")
        compute = self.session(ctx.spec)
        recipients = ctx.spec["recipients"]
        if ctx.me not in compute:
            ctx.progress(0.5, "sharing into the compute parties")
            out = aggregate_input(ctx.party, compute, sums, counts, metrics, recipients)
            return None if out is None else {"groups": groups, **out}
        session = Session(ctx.party, compute)
        ctx.progress(0.5, "computing")
        others = [p for p in sorted(ctx.spec["inputs"]) if p not in compute]
        out = group_aggregate(session, sums, counts, metrics, recipients, input_parties=others)
        ctx.progress(0.9, "revealed")
        return None if out is None else {"groups": groups, **out}


class PsiRunner:
    """`psi.intersect` / `psi.cardinality`: two-party PSI from `yinji.psi` on one ID column
    per party (params.protocol: ecdh, kkrt or auto = kkrt for two large sets; cardinality
    is always ECDH). The runner only adapts; the protocol and its leakage are yinji.psi's."""

    def __init__(self, name: str, cardinality: bool) -> None:
        self.name, self.cardinality = name, cardinality

    def unavailable(self) -> str | None:
        from yinji.node import psi_adapter

        return psi_adapter.unavailable()

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = _common(spec, 2, (1, 1))
        params = spec.get("params") or {}
        for name, top in (("buckets", 65536), ("lanes", 1024)):
            v = params.get(name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                                  or not 1 <= v <= top):
                problems.append(f"params.{name} must be a whole number from 1 to {top}")
        proto = params.get("protocol", "auto")
        if proto not in ("ecdh", "kkrt", "auto"):
            problems.append("params.protocol must be 'ecdh', 'kkrt' or 'auto'")
        elif proto == "kkrt" and (self.cardinality or (params.get("buckets") or 1) > 1):
            problems.append("params.protocol 'kkrt' is for unbucketed intersections; "
                            "cardinality and bucketed jobs run ECDH")
        if self.cardinality and (params.get("buckets") or 1) > 1:
            problems.append("params.buckets: a cardinality job runs unbucketed (per-bucket "
                            "counts would tell the recipient more than the total)")
        return problems

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        return sorted(spec["inputs"])

    streams_sql = True   # a sql dataset is copied in chunks to a temporary file (below)

    def streams(self, spec: dict[str, Any]) -> bool:
        """A cardinality job (`yinji.psi.cardinality`) and a bucketed intersection
        (`yinji.psi.stream`) read their dataset in chunks; so does, at first, an intersection
        that may be routed to the bucketed stream (`auto_routes`)."""
        return (self.cardinality or ((spec.get("params") or {}).get("buckets") or 1) > 1
                or self.auto_routes(spec))

    def auto_routes(self, spec: dict[str, Any]) -> bool:
        """An intersection that names neither `buckets` nor a protocol other than auto: it
        runs bucketed on a stream when a dataset has `AUTO_STREAM_ROWS` rows or more, in
        memory as before otherwise (`_route`)."""
        params = spec.get("params") or {}
        return (not self.cardinality and params.get("buckets") is None
                and params.get("protocol", "auto") == "auto")

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.node import psi_adapter

        col = ctx.spec["inputs"][ctx.me]["columns"][0]
        if ctx.inputs is None and ctx.node is not None and self.auto_routes(ctx.spec):
            ctx = self._route(ctx, col)
        if ctx.inputs is None and ctx.node is not None and self.streams(ctx.spec):
            return self._run_stream(ctx, col)
        assert ctx.inputs is not None
        items = [str(v) for v in ctx.inputs[col]]
        peer = next(p for p in self.compute_parties(ctx.spec) if p != ctx.me)
        prepared = psi_adapter.prepare(items)
        keys = prepared.report.summary()  # counts of this node's own keys only
        ctx.progress(0.3, f"computing; own keys: {keys}")
        if self.cardinality:
            size = psi_adapter.cardinality(ctx.party, peer, prepared, ctx.spec["recipients"])
            return None if size is None else {"cardinality": int(size), "own_keys": keys}
        params = ctx.spec.get("params") or {}
        lanes = None
        if (params.get("buckets") or 1) > 1 and ctx.node is not None:
            cfg = ctx.node.cfg
            lanes = psi_adapter.Lanes(ctx.node.tls(), params["buckets"], params.get("lanes"),
                                      ctx.node.workers(), cfg.lane_host or cfg.dataplane_host)
        inter = psi_adapter.intersect(ctx.party, peer, items, prepared, ctx.spec["recipients"],
                                      lanes, params.get("protocol", "auto"))
        return None if inter is None else {"intersection": sorted(inter),
                                           "size": len(inter), "own_keys": keys}

    def _route(self, ctx: RunContext, col: str) -> RunContext:
        """Both parties send the bucket count they would choose for their dataset's row count
        (`auto_buckets`, or 1 below `AUTO_STREAM_ROWS` rows) and take the larger: above 1 the
        job runs as a bucketed one on a stream with that many buckets; at 1 the column is
        loaded and the intersection runs in memory as before. What the peer learns: whether
        this dataset has 2^20 rows or more and, if so, its row count in units of 2^17 rows
        (counted before empty, invalid and repeated keys are dropped) -- no finer than the
        key count |A| every PSI here reveals, except for the dropped rows."""
        from yinji.psi.stream import AUTO_STREAM_ROWS, auto_buckets

        catalog = ctx.node.catalog
        dataset = ctx.spec["inputs"][ctx.me]["dataset"]
        rows = catalog.count_rows(catalog.get(dataset))
        mine = auto_buckets(rows) if rows >= AUTO_STREAM_ROWS else 1
        peer = next(p for p in self.compute_parties(ctx.spec) if p != ctx.me)
        ch = ctx.party.channel(peer)
        ch.send_array(np.array([mine], dtype=np.int64))
        got = ch.recv_array_at_most(64)
        if got.dtype != np.int64 or got.shape != (1,) or not 1 <= int(got[0]) <= 65536:
            raise ValueError(f"{peer} sent a malformed bucket count {got!r}")
        buckets = max(mine, int(got[0]))
        if buckets > 1:
            ctx.progress(0.2, f"{max(rows, 0)} rows here: bucketed on a stream, {buckets} "
                              "buckets")
            params = dict(ctx.spec.get("params") or {}, buckets=buckets)
            return dataclasses.replace(ctx, spec=dict(ctx.spec, params=params))
        inputs, key = catalog.load_keyed(dataset, [col])
        return dataclasses.replace(ctx, inputs=inputs, input_key=key)

    def _run_stream(self, ctx: RunContext, col: str) -> dict[str, Any] | None:
        """A file dataset is read in chunks where it is; a sql dataset is first copied, in
        chunks from a server-side cursor, into a private temporary CSV of its key column,
        because the stream reads its input twice (keys, then the matching rows' values) and
        two reads of a query need not return rows in the same order."""
        dataset = ctx.spec["inputs"][ctx.me]["dataset"]
        catalog = ctx.node.catalog
        if self.cardinality:   # one pass over the keys: a sql dataset straight from its cursor
            return self._cardinality_stream(ctx, col, catalog.sql_stream(dataset, [col])
                                            if catalog.get(dataset).kind == "sql"
                                            else catalog.source(dataset, [col]))
        if catalog.get(dataset).kind != "sql":
            return self._psi_stream(ctx, col, catalog.source(dataset, [col]))
        with tempfile.TemporaryDirectory(prefix="yinji-psi-sql-") as tmp:
            copy = Path(tmp) / "keys.csv"
            ctx.progress(0.2, "copying the sql dataset's key column in chunks")
            with open(copy, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow([col, "row"])   # a second column: the delimiter is never in doubt
                n = 0
                for chunk in catalog.sql_stream(dataset, [col]).chunks:
                    w.writerows([r[0], n + i] for i, r in enumerate(chunk))
                    n += len(chunk)
            return self._psi_stream(ctx, col, copy)

    def _cardinality_stream(self, ctx: RunContext, col: str, source: Any
                            ) -> dict[str, Any] | None:
        from yinji.node import psi_adapter

        peer = next(p for p in self.compute_parties(ctx.spec) if p != ctx.me)
        ctx.progress(0.3, "reading in chunks and computing")
        size, keys = psi_adapter.cardinality_stream(ctx.party, peer, source, col,
                                                    ctx.spec["recipients"])
        return None if size is None else {"cardinality": int(size), "own_keys": keys}

    def _psi_stream(self, ctx: RunContext, col: str, source: Path) -> dict[str, Any] | None:
        from yinji.node import psi_adapter

        cfg, params = ctx.node.cfg, ctx.spec["params"]
        peer = next(p for p in self.compute_parties(ctx.spec) if p != ctx.me)
        lanes = psi_adapter.Lanes(ctx.node.tls(), params["buckets"], params.get("lanes"),
                                  ctx.node.workers(), cfg.lane_host or cfg.dataplane_host)
        ctx.progress(0.3, "reading in chunks and computing")
        values, keys = psi_adapter.intersect_stream(ctx.party, peer, source, col,
                                                    ctx.spec["recipients"], lanes)
        if values is None:
            return None
        if ctx.folder is None:   # no job folder (a runner called directly): in memory
            inter = list(values)
            return {"intersection": sorted(inter), "size": len(inter), "own_keys": keys}
        ctx.progress(0.9, "writing the intersection")
        entry, rows = write_table(ctx.folder, "intersection.csv", [col], ([v] for v in values))
        out: dict[str, Any] = {"size": entry["rows"], "own_keys": keys, "file": entry}
        if rows is not None:
            out["intersection"] = sorted(r[0] for r in rows)
        return out


RUNNERS: dict[str, ProtocolRunner] = {
    r.name: r for r in (MpcAggregateRunner(), PsiRunner("psi.intersect", False),
                        PsiRunner("psi.cardinality", True),
                        LinkageRunner("linkage.match"), LinkageRunner("linkage.aml"),
                        SqlQueryRunner())
}
RUNNERS.update(MODEL_RUNNERS)


def runner_for(protocol: str) -> ProtocolRunner | None:
    """The runner of a protocol or of an installed app (`app.<name>`), None if unknown."""
    from yinji.node import app_runner

    return RUNNERS.get(protocol) or app_runner.runner(protocol)


def known_protocols() -> list[str]:
    from yinji.node import app_runner

    return sorted([*RUNNERS, *app_runner.all_runners()])
