"""Chinese-name detector on the dev sets (yinji.testing.name_dev), several seeds: recall (any
overlap), whole-name recall (the name covered), exact-span recall and precision, mean and spread.

    PYTHONPATH=src python tools/name_dev_eval.py [--n 1000] [--seeds 11 12 13] [--set dev|gaps|all]

Dev material only: the held-out evaluation generators (gateway_eval*) are never read here.
"""

from __future__ import annotations

import argparse
import statistics

from yinji.gateway.detectors.names_zh import ChineseNameDetector, warm_up
from yinji.testing import name_dev


def rates(det: ChineseNameDetector, rows, misses: list | None = None) -> dict[str, float]:  # noqa: ANN001
    n = hit = whole = exact = fp = npred = 0
    for text, spans in rows:
        got = [(d.start, d.end) for d in det.detect(text)]
        for s, e in spans:
            n += 1
            hit += any(a < e and s < b for a, b in got)
            whole += any(a <= s and e <= b for a, b in got)
            exact += (s, e) in got
            if misses is not None and (s, e) not in got:
                misses.append(("FN", text, text[s:e], [text[a:b] for a, b in got]))
        for a, b in got:
            npred += 1
            bad = not any(a < e and s < b for s, e in spans)
            fp += bad
            if misses is not None and bad:
                misses.append(("FP", text, text[a:b], [text[s:e] for s, e in spans]))
    return {"recall": hit / n, "whole": whole / n, "exact": exact / n,
            "precision": 1 - fp / max(npred, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    ap.add_argument("--set", choices=("dev", "gaps", "all"), default="all")
    ap.add_argument("--rules-only", action="store_true")
    ap.add_argument("--misses", type=int, default=0, help="print this many misses (first seed)")
    a = ap.parse_args()
    warm_up()
    det = ChineseNameDetector(model=not a.rules_only)
    builders = {"dev": name_dev.build, "gaps": name_dev.build_gaps}
    for key, build in builders.items():
        if a.set not in (key, "all"):
            continue
        runs = []
        for i, seed in enumerate(a.seeds):
            misses: list | None = [] if (a.misses and i == 0) else None
            runs.append(rates(det, build(a.n, seed), misses))
            for m in (misses or [])[:a.misses]:
                print(*m)
        cells = []
        for k in ("recall", "whole", "exact", "precision"):
            xs = [r[k] for r in runs]
            cells.append(f"{k} {statistics.mean(xs):.3f} [{min(xs):.3f}-{max(xs):.3f}]")
        print(f"{key:<5} n={a.n} x {len(a.seeds)} seeds: " + ", ".join(cells))


if __name__ == "__main__":
    main()
