"""Generated holdings for tests and `make demo` (seeded; not for anything secret)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

LINES = {
    "securities": ["brokerage", "margin", "options"],
    "fund": ["bond funds", "equity funds", "money market"],
    "futures": ["commodity futures", "index futures"],
    "offshore": ["HK equities", "US equities"],
}
_OTHER = ["line A", "line B"]


def id_number(n: int) -> str:
    """A well-formed 18-character mainland ID number (GB 11643 check character)."""
    d, seq = n % 13440, n // 13440 % 1000      # distinct for n < 13,440,000
    body = f"11010119{50 + d % 40:02d}{1 + d // 40 % 12:02d}{1 + d // 480:02d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def sample_rows(companies: list[str], clients: int = 200, seed: int = 2026
                ) -> dict[str, dict[str, list[str]]]:
    """Per company {"id_no": [...], "product_line": [...]}: a group of `clients` people, each
    company holding about half of them in one or more of its product lines (duplicate rows
    included, as a real extract has them)."""
    rng = np.random.default_rng(seed)
    people = [id_number(10_000 + 37 * i) for i in range(clients)]
    out = {}
    for c in sorted(companies):
        lines = LINES.get(c, _OTHER)
        ids, prods = [], []
        held = np.flatnonzero(rng.random(clients) < 0.5)
        for i in held:
            chosen = np.flatnonzero(rng.random(len(lines)) < 0.5) if len(lines) > 1 else [0]
            for j in (chosen if len(chosen) else [rng.integers(len(lines))]):
                ids.append(people[i])
                prods.append(lines[int(j)])
        dup = rng.integers(len(ids)) if ids else None
        if dup is not None:                  # one duplicated row
            ids.append(ids[dup])
            prods.append(prods[dup])
        out[c] = {"id_no": ids, "product_line": prods}
    return out


def write_sample_data(folders: dict[str, Path], clients: int = 200, seed: int = 2026,
                      name: str = "holdings.csv") -> dict[str, Path]:
    """`sample_rows` as one CSV per company: folders[company]/<name>."""
    paths = {}
    for c, cols in sample_rows(sorted(folders), clients, seed).items():
        path = folders[c] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id_no", "product_line"])
            w.writerows(zip(cols["id_no"], cols["product_line"], strict=True))
        paths[c] = path
    return paths


def read_rows(path: Path, id_column: str = "id_no") -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {"id_no": [r[id_column] for r in rows],
            "product_line": [r["product_line"] for r in rows]}
