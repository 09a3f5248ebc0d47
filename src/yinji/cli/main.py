"""`yinji` entry point. Each command group lives in its own module with a `register(sub)`."""

from __future__ import annotations

import argparse
import importlib
import sys

from yinji import __version__

# Command-group modules under yinji.cli; each defines register(subparsers).
COMMAND_MODULES: list[str] = ["ca", "gateway", "psi", "pir", "link", "node", "network",
                              "model", "app", "scenario", "sql"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yinji", description="Yinji privacy-computing node tools",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"yinji {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"yinji.cli.{name}").register(sub)
    parser.epilog = "subcommands (yinji COMMAND --help for each):\n" + "\n".join(
        f"  {name:<11} {', '.join(subs)}" for name, subs in subcommands(parser).items() if subs)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:   # argparse keeps sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Every command group and its sub-commands (one level down; `pir service add` is
    listed as `service` under pir, and `service add` too)."""
    out = {}
    for name, group in _subparsers(parser).items():
        subs = []
        for sname, sp in _subparsers(group).items():
            subs.append(sname)
            subs += [f"{sname} {x}" for x in _subparsers(sp)]
        out[name] = subs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
