"""`yinji model`: list and show the models in a party's registry folder."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="model registry (list, show)")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION")
    ls = msub.add_parser("list", help="list model versions")
    ls.add_argument("--registry", required=True, help="this party's registry folder")
    ls.set_defaults(func=_list)
    show = msub.add_parser("show", help="show one model version's metadata")
    show.add_argument("--registry", required=True)
    show.add_argument("name")
    show.add_argument("--version", type=int)
    show.set_defaults(func=_show)


def _list(args: argparse.Namespace) -> int:
    from yinji.ml.registry import ModelRegistry

    for m in ModelRegistry(args.registry, "").list():
        metrics = ", ".join(f"{k}={v:.4f}" for k, v in m.metrics.items())
        print(f"{m.name}\tv{m.version}\t{m.kind}\t{','.join(m.parties)}\t{m.job_id}\t{metrics}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from yinji.ml.registry import ModelRegistry

    meta, _ = ModelRegistry(args.registry, "").load(args.name, args.version)
    print(json.dumps(asdict(meta), indent=1, sort_keys=True))
    return 0
