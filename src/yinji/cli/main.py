"""`yinji` entry point. Each command group lives in its own module with a `register(sub)`."""

from __future__ import annotations

import argparse
import importlib
import sys

from yinji import __version__

# Command-group modules under yinji.cli; each defines register(subparsers).
COMMAND_MODULES: list[str] = ["ca", "gateway", "psi", "pir", "link", "node", "network",
                              "model", "app", "scenario"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yinji", description="Yinji privacy-computing node tools")
    parser.add_argument("--version", action="version", version=f"yinji {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"yinji.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
