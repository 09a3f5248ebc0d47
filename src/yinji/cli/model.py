"""`yinji model`: list and show models (with their model card), from a registry folder or a
node's REST API, write a model's health report (`report`), and
score customer IDs with a jointly trained model through the node (`predict`). Training is a
job: `yinji job propose` with protocol `model.secureboost` (docs/node.md)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from yinji.cli.http import add_api_args


def _source(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--registry", help="a party's registry folder (a node's is HOME/models)")
    g.add_argument("--api", help="a node's REST API base URL")
    add_api_args(p, url=False)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="model registry and joint prediction")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION")
    ls = msub.add_parser("list", help="list model versions")
    _source(ls)
    ls.set_defaults(func=_list)
    show = msub.add_parser("show", help="show one model version's metadata")
    _source(show)
    show.add_argument("name")
    show.add_argument("--version", type=int)
    show.set_defaults(func=_show)
    rp = msub.add_parser("report", help="write a model version's health report (ROC/KS, "
                                        "calibration, lift; the label holder's registry only) "
                                        "as CSV, .xlsx and HTML")
    rp.add_argument("--registry", required=True, help="the label holder's registry folder")
    rp.add_argument("name")
    rp.add_argument("--version", type=int)
    rp.add_argument("--out", required=True, help="folder for the report files")
    rp.set_defaults(func=_report)
    st = msub.add_parser("stability", help="PSI of later scores and CSI of this party's own "
                                           "features against the model's training population")
    st.add_argument("--registry", required=True, help="this party's registry folder")
    st.add_argument("name")
    st.add_argument("--version", type=int)
    st.add_argument("--data", required=True, help="a CSV file of the later population: "
                                                  "columns named as this party's features")
    st.add_argument("--score-column", help="a column of scores in --data (label holder: PSI)")
    st.set_defaults(func=_stability)
    pr = msub.add_parser("predict", help="score customer IDs through a node (joint inference; "
                                         "the scores come back to this node only)")
    add_api_args(pr)
    pr.add_argument("name")
    ids = pr.add_mutually_exclusive_group(required=True)
    ids.add_argument("--id", action="append", dest="ids", help="a customer ID (repeatable)")
    ids.add_argument("--ids-file", help="a file with one customer ID per line")
    pr.add_argument("--version", type=int)
    pr.add_argument("--timeout", type=float, default=60.0,
                    help="seconds to wait; then the job id is printed and the exit code is 3")
    pr.set_defaults(func=_predict)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _get(args: argparse.Namespace, path: str, **params: object) -> object:
    from yinji.cli.http import client

    with client(args) as http:
        r = http.get(path, params={k: v for k, v in params.items() if v})
    if not r.is_success:
        raise SystemExit(f"{r.status_code}: {r.json().get('detail', r.text)}")
    return r.json()


def _registry(args: argparse.Namespace):  # noqa: ANN202
    """The registry folder named by --registry; a missing folder is an error, not 'no models'."""
    from yinji.ml.registry import ModelRegistry

    root = Path(args.registry)
    if not root.is_dir():
        raise SystemExit(f"no model registry at {root} (a node's registry is HOME/models)")
    return ModelRegistry(root, "")


def _list(args: argparse.Namespace) -> int:
    models = (_get(args, "/models") if args.api else
              [asdict(m) for m in _registry(args).list()])
    if not models:
        print("no models", file=sys.stderr)
    for m in models:  # type: ignore[union-attr]
        metrics = ", ".join(f"{k}={v:.4f}" for k, v in m["metrics"].items())
        print(f"{m['name']}\tv{m['version']}\t{m['kind']}\t{','.join(m['parties'])}\t"
              f"{m['job_id']}\t{metrics}")
    return 0


def _show(args: argparse.Namespace) -> int:
    if args.api:
        meta = _get(args, f"/models/{args.name}", version=args.version)
        try:
            meta["card"] = _get(args, f"/models/{args.name}/card", version=meta["version"])
        except SystemExit as exc:   # no card (a model trained before cards existed)
            if not str(exc).startswith("404"):
                raise
    else:
        registry = _registry(args)
        versions = registry.versions(args.name)
        if not versions:
            names = sorted({m.name for m in registry.list()})
            raise SystemExit(f"no model named {args.name!r} in {args.registry} (models: "
                             f"{', '.join(names) or 'none'})")
        if args.version is not None and args.version not in versions:
            raise SystemExit(f"model {args.name!r} has no version {args.version} (versions: "
                             f"{', '.join(map(str, versions))})")
        loaded = registry.load(args.name, args.version)[0]
        meta = asdict(loaded)
        from yinji.ml.card import read_card

        card = read_card(registry, loaded.name, loaded.version)
        if card is not None:   # the model card: data, parties, metrics, leakage, approvals
            meta["card"] = card
    print(json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False))
    _print_prep(meta, None if args.api else registry.load_prep(loaded.name, loaded.version))
    return 0


def _print_prep(meta: dict, state: dict | None) -> None:
    """The preprocessing: each party's input -> output columns (public), and this registry
    party's fitted rules from its prep.json (fill values, categories: its own only)."""
    from yinji.ml.prep import describe

    inputs = meta.get("params", {}).get("inputs")
    if not inputs:
        return
    print("\npreprocessing (yinji.ml.prep):")
    for party, cols in sorted(inputs.items()):
        outs = meta["features"].get(party, [])
        print(f"  {party}: {', '.join(cols)} -> {len(outs)} feature(s): {', '.join(outs)}")
    if state is not None:
        print("  this party's fitted rules (prep.json):")
        for line in describe(state):
            print(f"    {line}")


def _stored(args: argparse.Namespace, read, missing: str, why: str):  # noqa: ANN001, ANN202
    """What `read(registry, name, version)` finds for the model, or exit naming what is
    missing (an unknown model or version: the registry's own message)."""
    try:
        found = read(_registry(args), args.name, args.version)
    except KeyError as exc:
        raise SystemExit(str(exc.args[0])) from None
    if found is None:
        raise SystemExit(f"{args.name}: {missing} in {args.registry} ({why})")
    return found


def _report(args: argparse.Namespace) -> int:
    from yinji.apps.model_report import render_json
    from yinji.ml.card import read_health

    health = _stored(args, read_health, "no health report", "only the label holder's "
                     "registry has one, for models trained with validation rows")
    for path in render_json(health, args.out):
        print(path)
    return 0


def _stability(args: argparse.Namespace) -> int:
    import numpy as np

    from yinji.ml.card import read_baseline
    from yinji.ml.health import stability
    from yinji.textfile import TableFileError, read_table

    base = _stored(args, read_baseline, "no stability baseline",
                   "models trained before baselines existed have none")
    try:   # the project's reader: CSV in UTF-8/GB18030/Big5 (any delimiter), .xlsx, Parquet
        read = read_table(args.data)
    except (OSError, TableFileError) as exc:
        raise SystemExit(str(exc)) from None
    table = [dict(zip(read.header, row, strict=False)) for row in read.rows]
    if not table:
        raise SystemExit(f"{args.data}: no rows")

    def column(name: str) -> np.ndarray:
        try:
            return np.array([float(r[name]) for r in table])
        except ValueError as exc:
            raise SystemExit(f"{args.data}: column {name!r}: {exc}") from None

    names = [c for c in (base.get("features") or {}) if c in table[0]]
    scores = column(args.score_column) if args.score_column else None
    try:
        rows = stability(base, {n: column(n) for n in names}, scores)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if not rows:
        raise SystemExit(f"{args.data} holds none of this party's features "
                         f"({', '.join(base.get('features') or {})}) and no --score-column")
    for r in rows:
        print(f"{r['item']}\t{r['index']}\t{r['value']:.4f}\t{r['verdict']}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from yinji.cli.http import client

    ids = args.ids or [s.strip() for s in Path(args.ids_file).read_text(encoding="utf-8")
                       .splitlines() if s.strip()]
    body = {"ids": ids, "version": args.version, "timeout": args.timeout}
    with client(args, timeout=args.timeout + 30) as http:
        r = http.post(f"/models/{args.name}/predict", json=body)
    out = r.json()
    print(json.dumps(out, indent=1, ensure_ascii=False))
    if r.status_code == 202:
        print(f"job {out['job_id']} is {out['state']}; later: yinji job result "
              f"{out['job_id']}", file=sys.stderr)
        return 3
    return 0 if r.is_success else 1
