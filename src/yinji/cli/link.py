"""`yinji link keygen | run`: privacy-preserving record linkage from CSV files.

`run` plays both data owners and the compliance node in one process (in-memory channels):
for trying schemas and thresholds on your own files, and for evaluation against known pairs
(`--truth`). Between nodes the same protocol functions run over mutual-TLS channels.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import os
import sys
from pathlib import Path

from yinji import textfile


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("link", help="privacy-preserving record linkage (Bloom filters, MPC)")
    lsub = p.add_subparsers(dest="link_command", metavar="SUBCOMMAND")

    k = lsub.add_parser("keygen", help="write a new 32-byte encoding key (share it with the "
                                       "other data owner only)")
    k.add_argument("--out", required=True, help="key file to create")
    k.set_defaults(func=_keygen)

    r = lsub.add_parser("run", help="link two CSV files; write the link table as CSV")
    r.add_argument("a", help="owner A's CSV, .xlsx or Parquet file (header row)")
    r.add_argument("b", help="owner B's CSV")
    r.add_argument("--key", required=True, help="encoding key file (from `link keygen`)")
    r.add_argument("--schema", default="person", help="person (default) or febrl")
    r.add_argument("--mode", choices=("unit", "mpc"),
                   help="mpc (default) or unit; with --stream: unit (default) or mpc")
    r.add_argument("--threshold", type=float, help="Dice threshold (default: the schema's)")
    r.add_argument("--id-column", default="id",
                   help=f"record id column (default: id; {ROW_IDS}: number records by row)")
    r.add_argument("--columns", metavar="FIELD=COL[+COL],...",
                   help="which CSV columns feed which schema field, when the headers differ "
                        "from the schema's (e.g. name=full_name,dob=birth_date,"
                        "address=addr1+addr2)")
    r.add_argument("--out", help="link table CSV (default: stdout)")
    r.add_argument("--truth", help="CSV of true pairs (two columns: A id, B id): print P/R/F1")
    r.add_argument("--stream", action="store_true",
                   help="read the files in chunks, memory bounded by a chunk, not the file "
                        "(yinji.linkage.stream; with --mode mpc yinji.linkage.mpc_stream)")
    r.add_argument("--chunk-rows", type=int, metavar="N",
                   help="records per chunk with --stream (default 32768)")
    r.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS|local",
                   help="encode and block on Ray: a cluster address, or 'local' (default) for "
                        "a Ray instance on this machine")
    r.add_argument("--spill-dir", help="where --stream keeps its work files (default: the "
                                       "system temporary folder)")
    r.set_defaults(func=_run)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _keygen(args: argparse.Namespace) -> int:
    from yinji.linkage.encoding import new_key

    path = Path(args.out)
    if path.exists():
        print(f"yinji link: {path} exists; not overwriting", file=sys.stderr)
        return 1
    path.touch(mode=0o600)
    path.write_bytes(new_key())
    print(f"wrote {path}", file=sys.stderr)
    return 0


ROW_IDS = "@row"


def _read(path: str, id_col: str) -> list[dict[str, str]]:
    """Records of a CSV / .xlsx / Parquet file, each with its id in `__id`. Refuses a missing
    id column, empty or duplicate ids and a file without records: each would make the link
    table ambiguous or silently empty. `--id-column @row` numbers records by row instead."""
    try:
        table = textfile.read_table(path)
    except textfile.TableFileError as exc:
        raise ValueError(str(exc)) from None
    if not table.rows:
        raise ValueError(f"{path}: no records (a header only)")
    print(f"{path}: read {table.describe()}", file=sys.stderr)
    rows = [dict(zip(table.header, r + [""] * (len(table.header) - len(r)), strict=False))
            for r in table.rows]
    if id_col == ROW_IDS:
        for i, r in enumerate(rows):
            r["__id"] = str(i)
        return rows
    if id_col not in table.header:
        raise ValueError(f"{path}: no id column {id_col!r} (--id-column); columns: "
                         f"{table.header}; use --id-column {ROW_IDS} to number records by row")
    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        rid = r[id_col].strip()
        if not rid:
            raise ValueError(f"{path}: row {i + 2}: empty id in column {id_col!r}")
        if rid in first:
            raise ValueError(f"{path}: id {rid!r} in column {id_col!r} on rows "
                             f"{first[rid] + 2} and {i + 2}; record ids must be unique")
        first[rid] = i
        r["__id"] = rid
    return rows


def _key(path: str) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--key {path}: no such file (create one with `yinji link keygen`)")
    key = p.read_bytes()
    if len(key) < 16:
        raise ValueError(f"--key {path}: {len(key)} bytes; an encoding key has at least 16 "
                         "(`yinji link keygen` writes 32)")
    return key


def _run(args: argparse.Namespace) -> int:
    from yinji.linkage.schemas import SCHEMAS, remap

    if args.schema not in SCHEMAS:
        print(f"yinji link: unknown schema {args.schema!r} ({', '.join(SCHEMAS)})",
              file=sys.stderr)
        return 2
    schema = SCHEMAS[args.schema]
    stream = args.stream or args.chunk_rows is not None
    mode = args.mode or ("unit" if stream else "mpc")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        print(f"yinji link: --chunk-rows {args.chunk_rows}: at least 1", file=sys.stderr)
        return 2
    try:
        if args.threshold is not None:
            if not 0.0 < args.threshold <= 1.0:
                raise ValueError(f"--threshold {args.threshold}: a Dice threshold is in (0, 1]")
            schema = dataclasses.replace(schema, threshold=args.threshold)
        key = _key(args.key)
        if stream:
            mapping = parse_columns(args.columns or "")
            truth_head = _truth_head(args.truth)
            with _workers(args.ray) as workers, _Output(args.out) as out:
                # links are written as they are resolved, unless --truth needs them all
                got = _run_stream(args, schema, key, mapping, workers, truth_head,
                                  None if args.truth else out.write)
                out.write(got.links)
            links = got.links
            is_pair = bool(got.contains)
        else:
            a, b = _read(args.a, args.id_column), _read(args.b, args.id_column)
            mapping = parse_columns(args.columns or "")
            check_fields(schema, mapping, {args.a: a, args.b: b})
    except ValueError as e:
        print(f"yinji link: {e}", file=sys.stderr)
        return 2
    if not stream:
        a, b = remap(schema, a, mapping), remap(schema, b, mapping)
        for path, rows in ((args.a, a), (args.b, b)):
            report_dates(path, schema, rows)
        with _workers(args.ray) as workers:
            links = link_in_process(a, b, schema, key, mode, workers)
        is_pair = None
        with _Output(args.out) as out:
            out.write(links)
    if args.truth:
        try:
            table = textfile.read_table(args.truth)
        except textfile.TableFileError as exc:
            print(f"yinji link: --truth {exc}", file=sys.stderr)
            return 2
        rows = [r for r in [table.header, *table.rows] if len(r) >= 2]
        pair = bool(rows) and (is_pair if is_pair is not None else _is_pair(rows[0], a, b))
        truth = {(r[0], r[1]) for r in (rows if pair else rows[1:])}
        got = {(x, y) for x, y, _ in links}
        tp = len(got & truth)
        p, r = tp / max(len(got), 1), tp / max(len(truth), 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"links={len(got)} true={len(truth)} precision={p:.4f} recall={r:.4f} "
              f"F1={f1:.4f}", file=sys.stderr)
    return 0


class _Output:
    """The link table as CSV: stdout, or `--out` written to a hidden file beside it and
    renamed when the run succeeds, so a failed run leaves no partial table."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def __enter__(self) -> _Output:
        if self.path is None:
            self.fh = sys.stdout
        else:
            self.tmp = self.path.with_name(f".{self.path.name}.part")
            self.fh = open(self.tmp, "w", newline="", encoding="utf-8")
        self.csv = csv.writer(self.fh)
        self.csv.writerow(["a_id", "b_id", "dice"])
        return self

    def write(self, links: list[tuple[str, str, float]]) -> None:
        self.csv.writerows((x, y, f"{s:.4f}") for x, y, s in links)

    def __exit__(self, kind: type | None, *rest: object) -> None:
        if self.path is None:
            return
        self.fh.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def report_dates(path: str, schema, rows: list[dict]) -> None:  # noqa: ANN001 - Schema
    """Print, per date field, how many dates could not be read (left out) or are impossible
    (kept as written), with the first rows (row 2 = the first data row under the header)."""
    from yinji.linkage.schemas import date_problems

    for name, problems in date_problems(schema, rows).items():
        _print_dates(path, name, {k: (len(v), v[:3]) for k, v in problems.items()})


def _print_dates(path: str, name: str, problems: dict) -> None:
    for kind, (count, first) in problems.items():
        if count:
            eg = ", ".join(f"row {i + 1} {v!r}" for i, v in first)
            what = "left out" if kind == "unreadable" else "kept as written"
            print(f"{path}: {name}: {count} {kind} date(s) ({what}), e.g. {eg}",
                  file=sys.stderr)


def _truth_head(path: str | None) -> tuple[str, str] | None:
    """The first row of a --truth file (a header or a pair), read before linking."""
    if not path:
        return None
    try:
        table = textfile.read_table(path)
    except textfile.TableFileError:
        return None   # reported after linking, as without --stream
    head = table.header
    return (head[0], head[1]) if len(head) >= 2 else None


@contextlib.contextmanager
def _workers(ray: str | None):  # noqa: ANN202 - a context manager of Workers | None
    """Where encoding and blocking run: this process (None: the default), or Ray."""
    if ray is None:
        yield None
        return
    from yinji.net.workers import RayWorkers

    try:
        workers = RayWorkers(None if ray == "local" else ray)
    except Exception as exc:  # noqa: BLE001 - Ray's own errors name the problem
        raise ValueError(f"--ray {ray}: {exc}") from None
    print(f"ray: {workers.size} worker CPU(s)", file=sys.stderr)
    try:
        yield workers
    finally:
        workers.close()


def _run_stream(args: argparse.Namespace, schema, key: bytes, mapping: dict,  # noqa: ANN001
                workers, truth_head: tuple[str, str] | None, sink=None):  # noqa: ANN001, ANN202
    """`link run --stream`: yinji.linkage.stream, with the same checks and reports; links
    go to `sink` in blocks if given."""
    from yinji.linkage import stream as st

    def headers(found: dict[str, list[str]]) -> None:
        check_fields(schema, mapping, {p: [dict.fromkeys(h)] for p, h in found.items()})

    kwargs = {"chunk_rows": args.chunk_rows} if args.chunk_rows else {}
    run = st.link_sources
    if (args.mode or "unit") == "mpc":
        from yinji.linkage.mpc_stream import mpc_link_sources as run
    try:
        got = run(args.a, args.b, schema, key, id_column=args.id_column, mapping=mapping,
                  workers=workers, spill_dir=args.spill_dir, on_headers=headers,
                  contains=truth_head, sink=sink, **kwargs)
    except textfile.TableFileError as exc:
        raise ValueError(str(exc)) from None
    for path, spill in zip((args.a, args.b), got.owners, strict=True):
        print(f"{path}: read {spill.read}", file=sys.stderr)
        for name, counts in spill.dates.counts.items():
            _print_dates(path, name, {k: (c, spill.dates.first[name][k])
                                      for k, c in counts.items()})
    print(f"{got.candidates} candidate pairs, {got.count} links", file=sys.stderr)
    return got


def parse_columns(spec: str) -> dict[str, list[str]]:
    """`--columns name=姓名,address=省+市` as {field: [columns]}."""
    out = {}
    for item in filter(None, (x.strip() for x in spec.split(","))):
        name, eq, cols = item.partition("=")
        if not eq or not cols.strip():
            raise ValueError(f"--columns: {item!r} is not FIELD=COLUMN")
        out[name.strip()] = [c.strip() for c in cols.split("+")]
    return out


def check_fields(schema, mapping: dict[str, list[str]], files: dict[str, list[dict]]) -> None:  # noqa: ANN001
    """Fails when a mapped field or column does not exist, or when no field of the schema has
    a column in both files; prints which fields are used, so that a header mismatch is never
    silently an empty field."""
    from yinji.linkage.schemas import field_columns

    cols = field_columns(schema, mapping)
    headers = {path: set(rows[0]) if rows else set() for path, rows in files.items()}
    for name in mapping:
        for path, head in headers.items():
            missing = [c for c in cols[name] if c not in head]
            if missing and files[path]:
                raise ValueError(f"--columns {name}: {path} has no column "
                                 f"{', '.join(map(repr, missing))}")
    used, unused = [], []
    for name, cs in cols.items():
        both = all(any(c in head for c in cs) for head in headers.values())
        (used if both else unused).append(f"{name} ({'+'.join(cs)})")
    if not used and all(files.values()):
        raise ValueError(f"no field of schema {schema.name!r} has a column in both files "
                         f"(expected {', '.join(unused)}); map yours with --columns")
    print(f"fields used: {', '.join(used) or '-'}; not in both files: "
          f"{', '.join(unused) or '-'}", file=sys.stderr)


def _is_pair(row: list[str], a: list[dict], b: list[dict]) -> bool:
    return any(r["__id"] == row[0] for r in a) and any(r["__id"] == row[1] for r in b)


def link_in_process(a, b, schema, key: bytes, mode: str, workers=None):  # noqa: ANN001, ANN201
    """Both owners and the compliance node in threads of this process; returns
    [(a id, b id, dice)]. `workers`: where the owners encode (match.prepare)."""
    from yinji.linkage.match import linkage_unit, linkage_unit_owner
    from yinji.linkage.mpc_match import mpc_link
    from yinji.mpc.session import Session
    from yinji.net.memory import run_in_threads

    names = ["owner_a", "owner_b", "compliance"]

    def body(i: int, party):  # noqa: ANN001, ANN202
        if mode == "mpc":
            return mpc_link(Session(party, names), [a, b, None][i], schema,
                            key if i < 2 else None, share_links=False, workers=workers)
        if i == 2:
            return linkage_unit(party, schema, ("owner_a", "owner_b"))
        return linkage_unit_owner(party, [a, b][i], schema, key, "compliance", workers)

    results = run_in_threads(names, body, timeout=3600)
    if mode == "mpc":
        oa, ob, table = results[0].order, results[1].order, results[2].links
    else:
        oa, ob, table = results
    return [(a[oa[i]]["__id"], b[ob[j]]["__id"], float(s))
            for i, j, s in zip(table.a, table.b, table.score, strict=True)]
