"""Lead mining (yinji.apps.lead_mining) at size: the three parties in one process on the
in-memory network, the demo's generator (fund: label + 3 columns, securities: 2 columns),
time per run and the shared customers' scores against the plaintext optimum (SS-LR's; with
--model secureboost the AUC column compares boosted trees in MPC with that logistic optimum).

    .venv/bin/python benchmarks/lead_mining.py --customers 30000,150000
    .venv/bin/python benchmarks/lead_mining.py --customers 30000 --model secureboost
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from yinji.apps import lead_mining_demo as demo
from yinji.apps.lead_mining import APP
from yinji.ml.metrics import auc
from yinji.node.runners import RunContext
from yinji.testing.parties import run_parties

NAMES = [demo.LABEL, demo.FEATURES, demo.HELPER]


def spec(request: dict) -> dict:
    params = APP.resolve_params(request["params"])
    inputs, roles, omitted = {}, {}, {}
    for c, inp in request["inputs"].items():
        role = APP.role(inp["role"])
        names = [x for x in role.column_names() if x not in inp["omit"]]
        inputs[c] = {"dataset": "leads", "columns": [inp["columns"].get(x, x) for x in names]}
        roles[c], omitted[c] = inp["role"], inp["omit"]
    return {"protocol": APP.protocol, "inputs": inputs, "recipients": NAMES[:2],
            "helpers": [demo.HELPER],
            "params": {**params, "app_version": APP.version, "roles": roles,
                       "compute": NAMES, "omitted": omitted}}


def one(customers: int, model: str = "sslr") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = {c: Path(tmp) / c for c in NAMES}
        for p in data.values():
            p.mkdir()
        request = APP.demo(data).request    # (writes the demo's files: overwritten next)
        request["params"] = {**request["params"], "model": model}
        sp = spec(request)
        paths = demo.write_sample_data(data, customers=customers)
        cols = {c: demo.read(paths[c]) for c in paths}

        def body(party, inp):  # noqa: ANN001, ANN202
            return APP.run(RunContext(sp, party.name, party, inp, lambda *a: None))

        t0 = time.perf_counter()
        c0 = time.process_time()
        out = run_parties(body, names=NAMES, args=[(cols[NAMES[0]],), (cols[NAMES[1]],),
                                                   (None,)], timeout=3600)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        want = demo.plaintext_scores(paths[demo.LABEL], paths[demo.FEATURES])
        got = {r[0]: r[1] for r in out[0].tables["scores"]["rows"]}
        ids = list(want)
        lab = dict(zip(cols[demo.LABEL]["id_no"], cols[demo.LABEL]["bought"].astype(float),
                       strict=True))
        y = np.array([lab[k] for k in ids])
        ours = auc(y, np.array([got[k] for k in ids]))
        best = auc(y, np.array([want[k] for k in ids]))
        diff = np.mean([abs(got[k] - want[k]) for k in ids])
        print(f"| {len(cols[NAMES[0]]['id_no']):,} | {len(cols[NAMES[1]]['证件号码']):,} | "
              f"{len(ids):,} | {wall:.1f} s | {cpu:.1f} s | {ours:.4f} | {best:.4f} | "
              f"{diff:.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", default="3000,30000")
    ap.add_argument("--model", default="sslr", choices=("sslr", "secureboost"))
    args = ap.parse_args()
    print("| fund customers | securities customers | shared | wall | CPU (3 parties) | "
          "AUC shared (ours) | AUC plaintext optimum | mean abs score diff |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.customers.split(","):
        one(int(n), args.model)


if __name__ == "__main__":
    main()
