"""Counts from the AI gateway's audit file for the node console: calls and blocked calls per
user, spans replaced and calls blocked per category. Counts only: never the conversation
digests, times or anything else a record holds.

The gateway (`yinji gateway serve --audit PATH`) runs beside the node as its own process; the
node shows its counts when it writes to `<home>/gateway/audit.jsonl` (`FILE`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

FILE = Path("gateway") / "audit.jsonl"


def summarize(path: Path) -> dict[str, Any] | None:
    """None when there is no file; unreadable lines are counted, not fatal."""
    if not path.is_file():
        return None
    users: dict[str, Counter[str]] = {}
    cats: dict[str, Counter[str]] = {}
    total: Counter[str] = Counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
                user, blocked = str(ev["user"]), bool(ev.get("blocked"))
                found = {str(k): int(v) for k, v in (ev.get("categories") or {}).items()}
                blocked_cats = [str(c) for c in ev.get("blocked_categories") or []]
            except (ValueError, KeyError, TypeError, AttributeError):
                total["unreadable"] += 1
                continue
            total["calls"] += 1
            total["blocked"] += blocked
            u = users.setdefault(user, Counter())
            u["calls"] += 1
            u["blocked"] += blocked
            for cat, n in found.items():
                c = cats.setdefault(cat, Counter())
                if not blocked:
                    c["replaced"] += n
            for cat in blocked_cats:
                cats.setdefault(cat, Counter())["blocked"] += 1
    return {"calls": total["calls"], "blocked": total["blocked"],
            "unreadable": total["unreadable"],
            "users": {u: {"calls": c["calls"], "blocked": c["blocked"]}
                      for u, c in sorted(users.items())},
            "categories": {k: {"replaced": c["replaced"], "blocked": c["blocked"]}
                           for k, c in sorted(cats.items())}}
