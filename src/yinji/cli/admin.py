"""What the node-administration commands (`node`, `peer`, `token`, `dataset`, `audit`,
`approvals`) share: the `--home` argument, how a refused change is reported, and how a time
is shown."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable


def add_home_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", default=os.environ.get("YINJI_HOME", "."),
                   help="the node's folder (default $YINJI_HOME or .)")


def admin_errors(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Admin commands: a refused change prints the reason and exits 1 (no traceback)."""
    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from yinji.node.catalog import CatalogError
        from yinji.node.config import ConfigError
        from yinji.node.standing import StandingError
        from yinji.node.tokens import TokenError

        try:
            return fn(args)
        except (CatalogError, ConfigError, StandingError, TokenError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return run


def when(ts: float | None) -> str:
    """A timestamp as local 'YYYY-MM-DD HH:MM'; 'never' for None (no expiry)."""
    return "never" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
