"""Record-linkage jobs: `linkage.match` and `linkage.aml` over `yinji.linkage`.

Parties: two or more data owners (each with an input: a record id column first, then
identity columns named as in the schema, e.g. name, dob, phone) and the linkage unit
`params.unit` (e.g. the compliance node), which has no input and no key. The encoding key is
never in the spec: `params.key` names a key file `linkage/<key>.key` (0600) in each owner's
home folder, created once with `yinji link keygen` and copied to the other owners only. The
owners first exchange a keyed check value (not the key) so that different keys fail the job
instead of silently linking nothing.

`linkage.match`: for every pair of owners (A, B) in name order, the linkage-unit protocol
(`mode: unit`, yinji.linkage.match) or the MPC protocol (`mode: mpc`, yinji.linkage.mpc_match)
with the unit as third party; each owner then sends the unit its record ids in its shuffled
token order so the unit can report links as ids. Output: per owner pair, the link table
(A id, B id, Dice) to the recipients — the unit, plus any owner named as recipient (the unit
forwards it). Adversary model: semi-honest; the unit does not collude with an owner (owners
hold the key), and in MPC mode no two of the three parties collude (yinji.linkage.match,
yinji.linkage.mpc_match). What each party learns: the unit learns every owner's record ids and
record count and what the chosen mode shows it (unit mode: all encodings and blocking tokens,
hence all pairwise similarities; MPC mode: blocking tokens and the links with their scores
only); owners learn the other owners' record counts (and, in MPC mode, the candidate pairs in
opaque tokens), and the link table only if they are recipients.

`params.stream: true`: owners read their dataset in chunks (a file, or a SQL dataset from a
server-side cursor) and encode it through the node's workers (yinji.linkage.stream). Unit mode: they send the unit the same tokens, encodings and ids in blocks of
`stream.BLOCK_ROWS` rows (the block size is public; the block count follows from the record
count the unit learns anyway); the unit links partition by partition on disk. MPC mode
(yinji.linkage.mpc_stream): tokens and shares in blocks, the MPC in pieces of candidate pairs,
then the ids in blocks. Same links and the same leakage as without it; memory bounded by a
chunk, a partition or a piece at every party (plus the candidate pairs in MPC mode). The
unit writes each pair's link table to `links-A-B.csv` in the job's results folder as it
looks the ids up (`yinji.node.result_files`; inline in the result only up to 10,000 links)
and sends the file to the other recipients in blocks after the result, which names its size
and SHA-256; a recipient keeps exactly those bytes or fails the job.

`linkage.aml`: exactly two owners, MPC mode, then the joint AML rule of yinji.linkage.aml on
per-record activity columns (`params.activity`). Output, to the unit only: the ids of owner
A's records that raise an alert (A = first owner by name) with their joint aggregates. The
unit learns in addition what MPC matching shows it and A's record ids (B's ids are not sent);
owners learn nothing beyond MPC matching.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.net.channel import Party
from yinji.node.result_files import DATA_LIMIT, check_size, recv_bounded, write_table

if TYPE_CHECKING:  # runners.py imports this module to register it
    from yinji.linkage.aml import Activity
    from yinji.linkage.encoding import Schema
    from yinji.node.runners import RunContext

KEY_DIR = "linkage"
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RULE = ("window_days", "inflow_threshold", "max_counterparties")
_PARAMS = ("unit", "key", "mode", "schema", "threshold", "fields", "stream")
_AML_PARAMS = ("activity", "rule", "reveal_aggregates")


def key_path(home: Path, key_id: str) -> Path:
    return home / KEY_DIR / f"{key_id}.key"


def load_key(home: Path | None, key_id: str, me: str) -> bytes:
    """The owners' encoding key from this node's home folder; refuses a world-readable file."""
    if home is None:
        raise ValueError(f"{me} has no home folder to read linkage keys from")
    path = key_path(home, key_id)
    if not path.is_file():
        raise ValueError(f"no linkage key {key_id!r} at {me} (expected {KEY_DIR}/{key_id}.key "
                         "in its home folder, from `yinji link keygen`)")
    if path.stat().st_mode & 0o077:
        raise ValueError(f"linkage key file {KEY_DIR}/{key_id}.key at {me} is readable by "
                         "others: chmod 600 it")
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"linkage key {key_id!r} at {me} is shorter than 16 bytes")
    return key


def _schema(params: dict[str, Any]) -> Schema:
    from yinji.linkage.schemas import SCHEMAS

    schema = SCHEMAS[params.get("schema", "person")]
    if params.get("threshold") is not None:
        schema = dataclasses.replace(schema, threshold=float(params["threshold"]))
    return schema


def _schema_columns(schema: Schema, fields: dict[str, Any] | None = None) -> list[str]:
    """The identity columns an owner may give: the schema's names, or its `params.fields`."""
    from yinji.linkage.schemas import field_columns

    return [c for cols in field_columns(schema, fields).values() for c in cols]


def _activity_columns(params: dict[str, Any]) -> list[str]:
    act = params.get("activity")
    if not isinstance(act, dict):
        return []
    cols = [c for k in ("inflow", "outflow") if isinstance(act.get(k), list) for c in act[k]]
    return [c for c in [*cols, act.get("counterparties")] if isinstance(c, str) and c]


class LinkageRunner:
    """`linkage.match` / `linkage.aml` (see the module docstring for what each party learns).

    params: unit (node name), key (key id), mode (unit | mpc, default mpc), schema (person |
    febrl), threshold, fields (per owner, schema field -> its column or columns, for datasets
    whose headers differ: {offshore: {name: 姓名, address: [省, 市]}}), stream (unit mode: read
    files in chunks, module docstring); for linkage.aml also activity {inflow: [day columns], outflow: [...],
    counterparties: column}, rule {window_days, inflow_threshold, max_counterparties},
    reveal_aggregates (default true)."""

    def __init__(self, name: str) -> None:
        self.name, self.aml = name, name == "linkage.aml"

    def unavailable(self) -> str | None:
        return None

    # -- validation ---------------------------------------------------------------------------
    def validate(self, spec: dict[str, Any]) -> list[str]:
        from yinji.linkage.schemas import SCHEMAS

        inputs = spec.get("inputs") or {}
        params = spec.get("params") or {}
        recipients = spec.get("recipients") or []
        problems = []
        known = _PARAMS + (_AML_PARAMS if self.aml else ())
        problems += [f"params.{p} is not a parameter of {self.name} (known: {', '.join(known)})"
                     for p in sorted(set(params) - set(known))]
        if self.aml and len(inputs) != 2:
            problems.append(f"linkage.aml needs exactly 2 data owners (inputs), got {len(inputs)}")
        elif len(inputs) < 2:
            problems.append(f"{self.name} needs inputs from at least 2 data owners, "
                            f"got {len(inputs)}")
        unit = params.get("unit")
        if not isinstance(unit, str) or not unit:
            problems.append("params.unit must name the linkage unit (a node without input, "
                            "e.g. the compliance node)")
        elif unit in inputs:
            problems.append(f"params.unit {unit!r} has an input: the linkage unit holds no "
                            "records and no key")
        elif unit not in recipients:
            problems.append(f"params.unit {unit!r} must be a recipient: it learns the links")
        stray = [r for r in recipients if r != unit and r not in inputs]
        if isinstance(unit, str) and stray:
            problems.append(f"recipient(s) {', '.join(stray)} are not parties of this job "
                            f"(owners: {', '.join(sorted(inputs))}; unit: {unit})")
        elif self.aml and isinstance(unit, str) and recipients and set(recipients) != {unit}:
            problems.append("linkage.aml delivers its result to the linkage unit only: "
                            "recipients must be [params.unit]")
        mode = params.get("mode", "mpc")
        if mode not in ("unit", "mpc") or (self.aml and mode != "mpc"):
            problems.append(f"params.mode must be {'mpc' if self.aml else 'unit or mpc'}, "
                            f"got {mode!r}")
        stream = params.get("stream", False)
        if not isinstance(stream, bool):
            problems.append("params.stream must be true or false")
        elif stream and self.aml:
            problems.append("params.stream is not available for linkage.aml (it reads the "
                            "owners' activity with their records)")
        key = params.get("key")
        if not isinstance(key, str) or not _KEY_ID.fullmatch(key):
            problems.append("params.key must be a key id (letters, digits, '.', '_', '-'; "
                            f"at most 64) naming {KEY_DIR}/<id>.key at each owner, never the "
                            "key itself")
        if params.get("schema", "person") not in SCHEMAS:
            problems.append(f"params.schema must be one of {', '.join(SCHEMAS)}")
            return problems
        t = params.get("threshold")
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)
                              or not 0 < t <= 1):
            problems.append("params.threshold must be a number in (0, 1]")
        if self.aml:
            problems += _validate_aml(params)
        problems += self._validate_columns(inputs, params)
        return problems

    def _validate_columns(self, inputs: dict[str, Any], params: dict[str, Any]) -> list[str]:
        name = params.get("schema", "person")
        schema = _schema({"schema": name})
        activity = _activity_columns(params) if self.aml else []
        fields = params.get("fields") or {}
        if not isinstance(fields, dict) or not all(isinstance(v, dict) for v in fields.values()):
            return ["params.fields must map an owner to {schema field: column or [columns]}"]
        problems = [f"params.fields: {o!r} is not a data owner of this job"
                    for o in sorted(set(fields) - set(inputs))]
        for owner, inp in sorted(inputs.items()):
            cols = list(inp.get("columns") or [])
            where = f"input of {owner!r}"
            try:
                encoded = _schema_columns(schema, fields.get(owner))
            except ValueError as e:
                problems.append(f"params.fields of {owner!r}: {e}")
                continue
            mapped = {c for v in fields.get(owner, {}).values()
                      for c in ([v] if isinstance(v, str) else v)}
            problems += [f"params.fields of {owner!r}: column {c!r} is not in its input's "
                         f"columns" for c in sorted(mapped - set(cols[1:]))]
            if len(cols) != len(set(cols)):
                problems.append(f"{where}: a column is listed twice")
            if cols and (cols[0] in encoded or cols[0] in activity):
                problems.append(f"{where}: the first column is the record id, which recipients "
                                f"receive; {cols[0]!r} is an identity or activity column")
            unknown = [c for c in cols[1:] if c not in encoded and c not in activity]
            for c in unknown:
                problems.append(f"{where}: column {c!r} is not a column of schema {name} "
                                f"({', '.join(encoded)})" + (" nor an activity column"
                                                             if self.aml else "")
                                + "; map other headers with params.fields")
            if not any(c in encoded for c in cols[1:]):
                problems.append(f"{where}: give the record id column first, then at least one "
                                f"identity column of schema {name} ({', '.join(encoded)})")
            problems += [f"{where}: activity column {c!r} is missing from its columns"
                         for c in activity if c not in cols]
        return problems

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        return [*sorted(spec["inputs"]), spec["params"]["unit"]]

    streams_sql = True   # a sql dataset is read in chunks too (`catalog.sql_stream`)

    def streams(self, spec: dict[str, Any]) -> bool:
        """`params.stream`: owners read their datasets in chunks (yinji.linkage.stream; the
        MPC mode through yinji.linkage.mpc_stream), so the job engine does not load them."""
        params = spec.get("params") or {}
        return not self.aml and params.get("stream") is True

    # -- running ------------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        params = ctx.spec["params"]
        owners, unit = sorted(ctx.spec["inputs"]), params["unit"]
        if self.streams(ctx.spec):
            with tempfile.TemporaryDirectory(prefix="yinji-linkage-job-") as tmp:
                tables = self._run_stream(ctx, owners, unit, Path(tmp))
            return self._deliver(ctx, unit, tables, files=True)
        mine = None
        if ctx.inputs is not None:
            ctx.progress(0.15, "key check")
            key = agreed_key(ctx.party, ctx.home, params["key"], ctx.me, owners)
            mine = _Owner(ctx, key)
        if self.aml:
            return self._run_aml(ctx, mine, owners, unit)
        schema, mode = _schema(params), params.get("mode", "mpc")
        pairs = list(itertools.combinations(owners, 2))
        tables = []
        for k, (a, b) in enumerate(pairs):
            if ctx.me in (a, b, unit):
                ctx.progress(0.2 + 0.7 * k / len(pairs), f"linking {a}+{b}")
                table = _link_pair(ctx.party, (a, b, unit), mine, schema, mode)
                if table is not None:
                    tables.append(table)
        return self._deliver(ctx, unit, tables)

    def _deliver(self, ctx: RunContext, unit: str, tables: list[dict[str, Any]],
                 files: bool = False) -> dict[str, Any] | None:
        """The unit sends the result to the other recipients; with `files` (streamed jobs),
        each table written to a file (`_link_table`) follows as its bytes, in blocks."""
        params = ctx.spec["params"]
        schema, mode = _schema(params), params.get("mode", "mpc")
        ctx.progress(0.95, "delivering")
        result = None
        if ctx.me == unit:
            result = {"mode": mode, "schema": params.get("schema", "person"),
                      "threshold": schema.threshold, "tables": tables}
            for r in ctx.spec["recipients"]:
                if r != unit:
                    ch = ctx.party.channel(r)
                    ch.send_bytes(check_size(json.dumps(result).encode(),
                                             "the linkage result", r))
                    for t in tables if files else []:
                        if "file" in t:
                            _send_file(ch, ctx.folder / t["file"]["name"])
        elif ctx.me in ctx.spec["recipients"]:
            ch = ctx.party.channel(unit)
            result = json.loads(recv_bounded(ch, "the linkage result"))
            for t in result["tables"] if files else []:
                if "file" in t:
                    _recv_file(ch, ctx.folder, t)
        return result

    def _run_stream(self, ctx: RunContext, owners: list[str], unit: str,
                    tmp: Path) -> list[dict[str, Any]]:
        """Unit mode read in chunks: each owner encodes its dataset once into spill files,
        then per pair sends them to the unit in blocks, in a fresh private order
        (yinji.linkage.stream.send_spill); the unit links partition by partition."""
        from yinji.linkage import stream as st

        params = ctx.spec["params"]
        schema, mpc = _schema(params), params.get("mode", "mpc") == "mpc"
        workers = ctx.node.workers() if ctx.node is not None else None
        spill = None
        if ctx.me in owners:
            ctx.progress(0.15, "key check")
            key = agreed_key(ctx.party, ctx.home, params["key"], ctx.me, owners)
            ctx.progress(0.2, "reading in chunks and encoding")
            spill = st.encode_source(_stream_source(ctx, schema), schema, key, tmp,
                                     id_column=ctx.spec["inputs"][ctx.me]["columns"][0],
                                     mapping=(params.get("fields") or {}).get(ctx.me),
                                     workers=workers, keep=True, plain=mpc)
        if mpc:
            return self._run_stream_mpc(ctx, owners, unit, schema, spill, tmp)
        width = (2 if schema.balanced else 1) * schema.size // 8
        pairs = list(itertools.combinations(owners, 2))
        tables, sent = [], 0
        for k, (a, b) in enumerate(pairs):
            if ctx.me not in (a, b, unit):
                continue
            ctx.progress(0.3 + 0.6 * k / len(pairs), f"linking {a}+{b}")
            if spill is not None:
                if sent:
                    st.reshuffle(spill)
                st.send_spill(ctx.party.channel(unit), spill)
                sent += 1
                continue
            with tempfile.TemporaryDirectory(dir=tmp) as da, \
                    tempfile.TemporaryDirectory(dir=tmp) as db, \
                    tempfile.TemporaryDirectory(dir=tmp) as du:
                ra = st.recv_spill(ctx.party.channel(a), da, width, a)
                rb = st.recv_spill(ctx.party.channel(b), db, width, b)
                table, _ = st.link_spills((ra.tok, ra.enc), (rb.tok, rb.enc), schema, du,
                                          workers=workers)
                tables.append(_link_table(ctx, (a, b), [ra.ids.n, rb.ids.n],
                                          _link_rows(table, ra.ids, rb.ids)))
        return tables

    def _run_stream_mpc(self, ctx: RunContext, owners: list[str], unit: str, schema: Schema,
                        spill: Any, tmp: Path) -> list[dict[str, Any]]:
        """MPC mode read in chunks (yinji.linkage.mpc_stream): per pair, the owners' spills
        (a fresh private order per pair) are secret-shared and compared in pieces; then each
        owner sends the unit its record ids in that order, in blocks (stream.send_ids), as
        the whole-file MPC mode's id message does at once."""
        from yinji.linkage import stream as st
        from yinji.linkage.mpc_stream import mpc_link_spill
        from yinji.mpc.session import Session

        tables, sent = [], 0
        pairs = list(itertools.combinations(owners, 2))
        for k, (a, b) in enumerate(pairs):
            if ctx.me not in (a, b, unit):
                continue
            ctx.progress(0.3 + 0.6 * k / len(pairs), f"linking {a}+{b}")
            if spill is not None and sent:
                st.reshuffle(spill)
            with tempfile.TemporaryDirectory(dir=tmp) as work:
                out = mpc_link_spill(Session(ctx.party, [a, b, unit]), spill, schema, work,
                                     share_links=False)
            if spill is not None:
                st.send_ids(ctx.party.channel(unit), spill)
                sent += 1
                continue
            with tempfile.TemporaryDirectory(dir=tmp) as da, \
                    tempfile.TemporaryDirectory(dir=tmp) as db:
                ids_a = st.recv_ids(ctx.party.channel(a), da, out.sizes[0], a)
                ids_b = st.recv_ids(ctx.party.channel(b), db, out.sizes[1], b)
                assert out.links is not None
                tables.append(_link_table(ctx, (a, b), list(out.sizes),
                                          _link_rows(out.links, ids_a, ids_b)))
        return tables

    def _run_aml(self, ctx: RunContext, mine: _Owner | None, owners: list[str],
                 unit: str) -> dict[str, Any] | None:
        from yinji.linkage.aml import AmlRule, joint_aml
        from yinji.linkage.mpc_match import mpc_link
        from yinji.mpc.session import Session

        params = ctx.spec["params"]
        rule = AmlRule(**(params.get("rule") or {}))
        days = len(params["activity"]["inflow"])
        ctx.progress(0.2, "linking")
        s = Session(ctx.party, [*owners, unit])
        out = mpc_link(s, mine.records if mine else None, _schema(params),
                       mine.key if mine else None, workers=mine.workers if mine else None)
        if mine is not None and ctx.me == owners[0]:
            _send_ids(ctx.party, unit, mine.ids, out.order)
        ids_a = _recv_ids(ctx.party, owners[0]) if ctx.me == unit else None
        ctx.progress(0.6, "scoring")
        act = mine.activity(out.order, params["activity"]) if mine else None
        res = joint_aml(s, out, act, rule, days,
                        reveal_aggregates=params.get("reveal_aggregates", True))
        if res is None:
            return None
        assert ids_a is not None and out.links is not None
        if len(ids_a) != len(res.alert):
            raise ValueError(f"{owners[0]} sent {len(ids_a)} record ids for "
                             f"{len(res.alert)} records")
        alerts = []
        for t in np.flatnonzero(res.alert).tolist():
            row: dict[str, Any] = {"id": ids_a[t]}
            if res.aggregates is not None:
                row.update(zip(("inflow", "outflow", "counterparties"),
                               res.aggregates[t].tolist(), strict=True))
            alerts.append(row)
        return {"owner": owners[0], "linked_with": owners[1], "records": len(ids_a),
                "linked": len(out.links), "rule": dataclasses.asdict(rule),
                "alerts": sorted(alerts, key=lambda r: r["id"])}


class _Owner:
    """A data owner's side: record ids, identity records for the encoder, the key."""

    def __init__(self, ctx: RunContext, key: bytes) -> None:
        assert ctx.inputs is not None
        from yinji.linkage.schemas import remap

        cols = ctx.spec["inputs"][ctx.me]["columns"]
        schema = _schema(ctx.spec["params"])
        fields = (ctx.spec["params"].get("fields") or {}).get(ctx.me)
        encoded = set(_schema_columns(schema, fields))
        self.me, self.key, self.inputs = ctx.me, key, ctx.inputs
        # encoding and blocking run where the node's local work runs (threads, or Ray tasks
        # when its config names ray_address); the result is the same either way
        self.workers = ctx.node.workers() if ctx.node is not None else None
        self.ids = [str(v) for v in ctx.inputs[cols[0]]]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"record id column {cols[0]!r} at {ctx.me} has duplicate values")
        ident = [c for c in cols[1:] if c in encoded]
        self.records = remap(schema, ({c: str(ctx.inputs[c][i]) for c in ident}
                                      for i in range(len(self.ids))), fields)

    def activity(self, order: np.ndarray, spec: dict[str, Any]) -> Activity:
        from yinji.linkage.aml import Activity

        n, days = len(self.ids), len(spec["inflow"])
        inflow = self._numbers(spec["inflow"], n)
        outflow = self._numbers(spec["outflow"], n) if spec.get("outflow") else \
            np.zeros((n, days), np.int64)
        cps = self._numbers([spec["counterparties"]], n)[:, 0] if spec.get("counterparties") \
            else np.zeros(n, np.int64)
        return Activity(inflow[order], outflow[order], cps[order])

    def _numbers(self, cols: list[str], n: int) -> np.ndarray:
        out = np.zeros((n, len(cols)), np.int64)
        for j, c in enumerate(cols):
            try:
                out[:, j] = np.rint(np.asarray(self.inputs[c], dtype=np.float64))
            except (TypeError, ValueError):  # never echo the value: it may be personal data
                raise ValueError(f"activity column {c!r} at {self.me} is not numeric") from None
        return out


def _validate_aml(params: dict[str, Any]) -> list[str]:
    problems = []
    act = params.get("activity")
    cols_ok = (isinstance(act, dict) and isinstance(act.get("inflow"), list) and act["inflow"]
               and all(isinstance(c, str) for c in act["inflow"]))
    if not cols_ok:
        problems.append("params.activity.inflow must list the daily inflow columns")
    elif act.get("outflow") and (not isinstance(act["outflow"], list)
                                 or len(act["outflow"]) != len(act["inflow"])):
        problems.append("params.activity.outflow must list as many daily columns as inflow")
    elif act.get("counterparties") is not None and not isinstance(act["counterparties"], str):
        problems.append("params.activity.counterparties must be one column name")
    elif set(act) - {"inflow", "outflow", "counterparties"}:
        problems.append("params.activity has unknown keys "
                        f"{', '.join(sorted(set(act) - {'inflow', 'outflow', 'counterparties'}))}")
    rule = params.get("rule") or {}
    if not isinstance(rule, dict) or set(rule) - set(_RULE):
        problems.append(f"params.rule may only set {', '.join(_RULE)}")
    elif any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in rule.values()) \
            or rule.get("window_days", 1) < 1:
        problems.append("params.rule values must be non-negative integers (window_days >= 1)")
    if not isinstance(params.get("reveal_aggregates", True), bool):
        problems.append("params.reveal_aggregates must be true or false")
    return problems


def agreed_key(party: Party, home: Path | None, key_id: str, me: str, owners: list[str],
               label: str = "yinji-node/linkage-key-check") -> bytes:
    """This owner's linkage key (`load_key`), after the owners compared a keyed check value
    (a PRF output under `label`, never the key): different keys fail the run instead of
    silently linking nothing. Also the joint-aml and customer-view apps' key step."""
    from yinji.linkage.encoding import subkey

    key = load_key(home, key_id, me)
    tag = subkey(key, label, 16)
    others = [o for o in owners if o != me]
    for o in others:
        party.channel(o).send_bytes(tag)
    differ = []
    for o in others:
        got = recv_bounded(party.channel(o), "the linkage key check value", 1024)
        if not isinstance(got, bytes) or not hmac.compare_digest(got, tag):
            differ.append(o)
    if differ:
        raise ValueError(f"linkage key {key_id!r} at {me} differs from the one at "
                         f"{', '.join(differ)}")
    return key


FILE_BLOCK = 1 << 20   # bytes of a link file per message from the unit to a recipient
ID_BLOCK = 1 << 16     # links whose record ids are looked up at once
MAX_LINK_FILE = 1 << 40   # bytes a recipient accepts for one pair's link file


def _link_rows(table: Any, ids_a: Any, ids_b: Any) -> Iterator[list[Any]]:
    """A streamed pair's links as [A id, B id, Dice] rows, ids looked up ID_BLOCK at a time
    from the owners' id spills (`stream.recv_ids` / `recv_spill`)."""
    for i in range(0, len(table), ID_BLOCK):
        part = slice(i, i + ID_BLOCK)
        for x, y, sc in zip(ids_a.ids(table.a[part]), ids_b.ids(table.b[part]),
                            table.score[part].tolist(), strict=True):
            yield [x, y, float(sc)]


def _link_table(ctx: RunContext, pair: tuple[str, str], records: list[int],
                rows: Iterator[list[Any]]) -> dict[str, Any]:
    """A streamed pair's table in the result: written to links-A-B.csv in the job's results
    folder as the rows come (`yinji.node.result_files`; inline as well up to INLINE_ROWS
    rows), or inline when there is no job folder (a runner called directly)."""
    a, b = pair
    out: dict[str, Any] = {"owners": [a, b], "records": records}
    if ctx.folder is None:
        out["links"] = sorted(rows)
        return out
    out["file"], kept = write_table(ctx.folder, f"links-{a}-{b}.csv",
                                    [f"{a}_record", f"{b}_record", "score"], rows)
    if kept is not None:
        out["links"] = sorted(kept)
    return out


def _send_file(ch: Any, path: Path) -> None:
    with open(path, "rb") as fh:
        while block := fh.read(FILE_BLOCK):
            ch.send_bytes(block)


def _recv_file(ch: Any, folder: Path | None, table: dict[str, Any]) -> None:
    """A link file from the unit into this node's job folder: exactly the bytes and the
    SHA-256 its entry in the result names, or no file at all."""
    entry = table["file"]
    name, left = entry.get("name"), entry.get("bytes")
    if folder is None or not isinstance(name, str) \
            or not re.fullmatch(r"links-[A-Za-z0-9_.-]{1,80}\.csv", name):
        raise ValueError(f"cannot keep the unit's link file {name!r} here")
    if isinstance(left, bool) or not isinstance(left, int) or not 0 < left <= MAX_LINK_FILE:
        raise ValueError(f"the unit's link file {name} has a size out of range: {left!r}")
    digest = hashlib.sha256()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    part = target.with_name(f".{target.name}.part")
    try:
        with open(part, "wb") as fh:
            while left > 0:
                block = ch.recv_bytes_at_most(min(left, FILE_BLOCK))
                if not block:
                    raise ValueError("the unit's link file ended early")
                left -= len(block)
                digest.update(block)
                fh.write(block)
        if digest.hexdigest() != entry.get("sha256"):
            raise ValueError(f"{name} from the unit does not match its SHA-256")
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


def _stream_source(ctx: RunContext, schema: Schema):  # noqa: ANN202 - stream.Opened
    """This owner's id and identity columns, opened for reading in chunks from the catalog:
    the dataset file itself, or a SQL dataset from a server-side cursor
    (`catalog.sql_stream`). The job engine loads neither (`streams`, `streams_sql`)."""
    from yinji.linkage import stream as st

    mine = ctx.spec["inputs"][ctx.me]
    fields = (ctx.spec["params"].get("fields") or {}).get(ctx.me)
    encoded = set(_schema_columns(schema, fields))
    cols = [mine["columns"][0], *[c for c in mine["columns"][1:] if c in encoded]]
    where = f"dataset {mine['dataset']!r} at {ctx.me}"
    catalog = ctx.node.catalog
    if catalog.get(mine["dataset"]).kind == "sql":
        return st.open_source(catalog.sql_stream(mine["dataset"], cols, st.CHUNK_ROWS),
                              cols[0], name=where)
    return st.open_source(catalog.source(mine["dataset"], cols), cols[0],
                          name=where, columns=cols)


def _send_ids(party: Party, unit: str, ids: list[str], order: np.ndarray) -> None:
    party.channel(unit).send_bytes(check_size(
        json.dumps([ids[i] for i in order.tolist()]).encode(), "the record ids", unit,
        DATA_LIMIT))


def _recv_ids(party: Party, owner: str) -> list[str]:
    ids = json.loads(recv_bounded(party.channel(owner), "the record ids", DATA_LIMIT))
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise ValueError(f"{owner} sent malformed record ids")
    return ids


def _link_pair(party: Party, names: tuple[str, str, str], mine: _Owner | None, schema: Schema,
               mode: str) -> dict[str, Any] | None:
    """One owner pair (A, B) with the unit; returns the link table at the unit."""
    from yinji.linkage.match import linkage_unit, linkage_unit_owner
    from yinji.linkage.mpc_match import mpc_link
    from yinji.mpc.session import Session

    a, b, unit = names
    order, table = None, None
    if mode == "mpc":
        out = mpc_link(Session(party, list(names)), mine.records if mine else None, schema,
                       mine.key if mine else None, share_links=False,
                       workers=mine.workers if mine else None)
        order, table = out.order, out.links
    elif mine is not None:
        order = linkage_unit_owner(party, mine.records, schema, mine.key, unit, mine.workers)
    else:
        table = linkage_unit(party, schema, (a, b))
    if mine is not None:
        assert order is not None
        _send_ids(party, unit, mine.ids, order)
        return None
    ids_a, ids_b = _recv_ids(party, a), _recv_ids(party, b)
    assert table is not None
    if len(table) and (table.a.max() >= len(ids_a) or table.b.max() >= len(ids_b)):
        raise ValueError(f"{a} or {b} sent fewer record ids than records")
    links = [[ids_a[i], ids_b[j], float(sc)]
             for i, j, sc in zip(table.a.tolist(), table.b.tolist(), table.score, strict=True)]
    return {"owners": [a, b], "records": [len(ids_a), len(ids_b)],
            "links": sorted(links)}
