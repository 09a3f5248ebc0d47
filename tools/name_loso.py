"""Leave-one-set-out: how well the Chinese-name CRF generalises to a set it was not trained on.

    PYTHONPATH=src python tools/name_loso.py [--sets fresh4,fresh5,fresh6,fresh7]
        [--seeds 0,1,2] [--n 3000] [--c1 0.05] [--c2 0.01] [--dev-n 3000] [--train-n 20000]
        [--iterations 100] [--base] [--shipped] [--dir /tmp/loso]

For each development set X: train a model on name_train plus the other sets
(tools/train_name_crf.py --dev ...), then score X with benchmarks/gateway_heldout.py --X
--model (whole detector, person_zh precision / recall / whole-name recall), next to the shipped
model on X. Training draws the dev sets with their own seed (7001), never the scored seeds.
`--sets fresh8` scores --fresh8 with a model trained on name_train and all four sets above.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("fresh4", "fresh5", "fresh6", "fresh7")
_ROW = re.compile(r"person_zh\s+\d+\s+([0-9.]+) \S+\s+([0-9.]+) \S+\s+([0-9.]+)")


def _run(args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def score(name: str, seeds: str, n: int, model: Path | None) -> tuple[str, ...]:
    out = _run(["benchmarks/gateway_heldout.py", f"--{name}", "--seeds", seeds, "--n", str(n)]
               + (["--model", str(model)] if model else []))
    m = _ROW.search(out)
    return m.groups() if m else ("?", "?", "?")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--n", type=int, default=3000, help="rows per scored draw")
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.01)
    ap.add_argument("--dev-n", type=int, default=3000)
    ap.add_argument("--train-n", type=int, default=20000, help="name_train snippets")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--base", action="store_true",
                    help="also train and score a name_train-only model of the same size")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/loso"))
    ap.add_argument("--shipped", action="store_true", help="also score the shipped model")
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    size = ["--n", str(a.train_n), "--iterations", str(a.iterations), "--c1", str(a.c1),
            "--c2", str(a.c2)]
    base = a.dir / f"base_{a.train_n}_{a.iterations}_{a.c1}_{a.c2}.crfsuite"
    if a.base and not base.exists():
        _run(["tools/train_name_crf.py", *size, "--out", str(base)])
    print("held out  model                       precision recall whole")
    for held in a.sets.split(","):
        if a.base:
            print(f"{held:<9} name_train only             ", *score(held, a.seeds, a.n, base),
                  flush=True)
        if a.shipped:
            print(f"{held:<9} shipped                     ", *score(held, a.seeds, a.n, None),
                  flush=True)
        train = [s for s in SETS if s != held]
        path = a.dir / f"loso_{held}_{a.train_n}_{a.iterations}_{a.c1}_{a.c2}.crfsuite"
        if not path.exists():
            _run(["tools/train_name_crf.py", *size, "--dev", ",".join(train),
                  "--dev-n", str(a.dev_n), "--out", str(path)])
        print(f"{held:<9} name_train+{'+'.join(train):<17}", *score(held, a.seeds, a.n, path),
              flush=True)


if __name__ == "__main__":
    main()
