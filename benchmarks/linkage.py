"""Record-linkage benchmark: precision, recall, F1 and time of the linkage-unit mode and the
MPC mode (three parties in one process, in-memory channels) against `recordlinkage`'s
plaintext comparison baseline, on FEBRL4 (5,000 x 5,000, shipped with `recordlinkage`) and
on the project's seeded Chinese/English identity set (yinji.testing.linkage_data).

    python benchmarks/linkage.py                 # both data sets
    python benchmarks/linkage.py --data febrl4   # one
    python benchmarks/linkage.py --zh-n 3000 --zh-seed 7
    python benchmarks/linkage.py --sizes 1000,3000,10000,30000 --seeds 7,1,2 --fields all,name+dob

`--sizes` prints the scaling table: precision / recall / F1 (mean ± standard deviation over
the seeds) per size of the Chinese set, without (`margin 0`, the one-to-one step before
issue #16) and with the schema's margin, on the same candidates and Dice coefficients as
the linkage unit computes them (the MPC mode opens the same above-threshold pairs and runs
the same step). `--fields name+dob` keeps only those columns (sparse files).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from yinji.linkage.blocking import candidate_pairs  # noqa: E402
from yinji.linkage.encoding import ClkEncoder  # noqa: E402
from yinji.linkage.match import (  # noqa: E402
    above,
    dice_counts,
    greedy_one_to_one,
    linkage_unit,
    linkage_unit_owner,
    prepare,
)
from yinji.linkage.mpc_match import mpc_link  # noqa: E402
from yinji.linkage.schemas import FEBRL, PERSON  # noqa: E402
from yinji.mpc.session import Session  # noqa: E402
from yinji.testing.parties import run_parties  # noqa: E402

NAMES = ("owner_a", "owner_b", "linkage")
KEY = bytes(range(32))  # benchmark only; real keys come from yinji.linkage.encoding.new_key


def prf(got: set, truth: set) -> tuple[float, float, float]:
    tp = len(got & truth)
    p = tp / max(len(got), 1)
    r = tp / max(len(truth), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_lu(a, b, schema):
    def body(party):
        if party.name == "linkage":
            return linkage_unit(party, schema, NAMES[:2]), party.stats()
        recs = a if party.name == "owner_a" else b
        return linkage_unit_owner(party, recs, schema, KEY, "linkage"), party.stats()

    t = time.perf_counter()
    (oa, _), (ob, _), (table, st) = run_parties(body, names=NAMES, timeout=3600)
    dt = time.perf_counter() - t
    pairs = {(a[oa[i]]["id"], b[ob[j]]["id"]) for i, j in zip(table.a, table.b, strict=True)}
    return pairs, dt, st.bytes_received


def run_mpc(a, b, schema):
    def body(party):
        s = Session(party, NAMES)
        out = mpc_link(s, [a, b, None][s.rank], schema, KEY if s.rank < 2 else None,
                       share_links=False)
        return out, party.stats()

    t = time.perf_counter()
    res = run_parties(body, names=NAMES, timeout=3600)
    dt = time.perf_counter() - t
    (oa, sa), (ob, sb), (oc, sc) = res
    pairs = {(a[oa.order[i]]["id"], b[ob.order[j]]["id"])
             for i, j in zip(oc.links.a, oc.links.b, strict=True)}
    sent = sa.bytes_sent + sb.bytes_sent + sc.bytes_sent
    return pairs, dt, sent, len(oc.ia)


def baseline_febrl(da, db):
    """recordlinkage's documented FEBRL comparison (exact/Jaro-Winkler/Levenshtein features,
    sum > 3), with blocking on given name ∪ surname ∪ date of birth."""
    import recordlinkage as rl

    t = time.perf_counter()
    idx = rl.Index()
    for col in ("given_name", "surname", "date_of_birth"):
        idx.block(col)
    cand = idx.index(da, db)
    c = rl.Compare()
    c.exact("given_name", "given_name", label="given_name")
    c.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    c.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    c.exact("suburb", "suburb", label="suburb")
    c.exact("state", "state", label="state")
    c.string("address_1", "address_1", threshold=0.85, label="address_1")
    feats = c.compute(cand, da, db)
    m = feats[feats.sum(axis=1) > 3].index
    return set(zip(m.get_level_values(0), m.get_level_values(1), strict=True)), \
        time.perf_counter() - t, len(cand)


def baseline_zh(a, b):
    """The same kind of plaintext comparison on the Chinese set's stored values (blocking on
    birth year, Jaro-Winkler on names and addresses, exact date/phone/ID; sum > 2.5)."""
    import pandas as pd
    import recordlinkage as rl

    t = time.perf_counter()
    da, db = pd.DataFrame(a).set_index("id"), pd.DataFrame(b).set_index("id")
    for d in (da, db):
        d["year"] = d["dob"].str[:4]
    cand = rl.Index()
    cand.block("year")
    pairs = cand.index(da, db)
    c = rl.Compare()
    c.string("name", "name", method="jarowinkler", label="name")
    c.exact("dob", "dob", label="dob")
    c.exact("phone", "phone", label="phone")
    c.exact("id_number", "id_number", label="id")
    c.string("address", "address", method="jarowinkler", label="address")
    feats = c.compute(pairs, da, db)
    m = feats[feats.sum(axis=1) > 2.5].index
    return set(zip(m.get_level_values(0), m.get_level_values(1), strict=True)), \
        time.perf_counter() - t, len(pairs)


def row(data, mode, got, truth, secs, cand, extra=""):
    p, r, f = prf(got, truth)
    print(f"| {data} | {mode} | {p:.4f} | {r:.4f} | {f:.4f} | {secs:.1f} | {cand} | {extra} |",
          flush=True)
    return f


def febrl4():
    from recordlinkage.datasets import load_febrl4

    da, db, links = load_febrl4(return_links=True)
    truth = set(map(tuple, links))
    a = [{"id": i, **r} for i, r in zip(da.index, da.to_dict("records"), strict=True)]
    b = [{"id": i, **r} for i, r in zip(db.index, db.to_dict("records"), strict=True)]
    got, dt, n = baseline_febrl(da, db)
    row("FEBRL4 5000x5000", "recordlinkage plaintext", got, truth, dt, n)
    got, dt, rx = run_lu(a, b, FEBRL)
    f_lu = row("FEBRL4 5000x5000", "linkage unit", got, truth, dt, "-",
               f"unit receives {rx / 1e6:.1f} MB")
    got, dt, sent, m = run_mpc(a, b, FEBRL)
    f_mpc = row("FEBRL4 5000x5000", "MPC", got, truth, dt, m, f"{sent / 1e6:.0f} MB sent")
    print(f"\nFEBRL4: |F1(MPC) - F1(unit)| = {abs(f_mpc - f_lu):.4f}\n")


def chinese(n, seed):
    from yinji.testing.linkage_data import chinese_identity_set

    d = chinese_identity_set(n, seed=seed)
    label = f"Chinese set n={n} seed={seed}"
    got, dt, m = baseline_zh(d.a, d.b)
    row(label, "recordlinkage plaintext", got, d.links, dt, m)
    got, dt, rx = run_lu(d.a, d.b, PERSON)
    row(label, "linkage unit", got, d.links, dt, "-", f"unit receives {rx / 1e6:.1f} MB")
    got, dt, sent, m = run_mpc(d.a, d.b, PERSON)
    row(label, "MPC", got, d.links, dt, m, f"{sent / 1e6:.0f} MB sent")


def scaling(sizes, seeds, fields):
    """Precision / recall / F1 per size, margin 0 (before) and the schema's margin (after)."""
    from yinji.testing.linkage_data import chinese_identity_set

    rules = {"margin 0 (before)": 0.0, f"margin {PERSON.margin} (after)": PERSON.margin}
    print("| fields | records per side | rule | precision | recall | F1 | candidates |")
    print("|---|---|---|---|---|---|---|")
    for keep in fields:
        cols = None if keep == "all" else set(keep.split("+")) | {"id"}
        for n in sizes:
            got: dict[str, list] = {r: [] for r in rules}
            cands = []
            for seed in seeds:
                d = chinese_identity_set(n, seed=seed)
                a, b = ([{k: v for k, v in r.items() if cols is None or k in cols} for r in x]
                        for x in (d.a, d.b))
                pa, pb = (prepare(x, PERSON, KEY) for x in (a, b))
                enc = ClkEncoder(PERSON, KEY)
                ia, ib = candidate_pairs(pa.tokens, pb.tokens, PERSON.max_block_pairs)
                num, den = dice_counts(enc.transmit(pa.bits), enc.transmit(pb.bits), ia, ib)
                ok = above(num, den, PERSON)
                cands.append(len(ia))
                for rule, margin in rules.items():
                    t = greedy_one_to_one(ia[ok], ib[ok], num[ok], den[ok], margin)
                    pairs = {(a[pa.order[i]]["id"], b[pb.order[j]]["id"])
                             for i, j in zip(t.a.tolist(), t.b.tolist(), strict=True)}
                    got[rule].append(prf(pairs, d.links))
            for rule, vals in got.items():
                v = np.asarray(vals)
                cell = " | ".join(f"{m:.4f} ± {sd:.4f}" for m, sd in zip(v.mean(0), v.std(0),
                                                                          strict=True))
                print(f"| {keep} | {n:,} | {rule} | {cell} | {int(np.mean(cands)):,} |",
                      flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", choices=("febrl4", "chinese", "all"), default="all")
    ap.add_argument("--zh-n", type=int, default=3000)
    ap.add_argument("--zh-seed", type=int, default=7)
    ap.add_argument("--sizes", help="scaling table instead: Chinese-set sizes, e.g. "
                                    "1000,3000,10000,30000")
    ap.add_argument("--seeds", default="7,1,2", help="seeds for --sizes (default 7,1,2; the "
                                                     "margin was tuned on 11 and 5)")
    ap.add_argument("--fields", default="all",
                    help="for --sizes: all and/or column sets such as name+dob, comma-separated")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__}\n")
    if args.sizes:
        scaling([int(x) for x in args.sizes.split(",")], [int(x) for x in args.seeds.split(",")],
                args.fields.split(","))
        return
    print("| data | mode | precision | recall | F1 | seconds | candidates | traffic |")
    print("|---|---|---|---|---|---|---|---|")
    if args.data in ("febrl4", "all"):
        febrl4()
    if args.data in ("chinese", "all"):
        chinese(args.zh_n, args.zh_seed)


if __name__ == "__main__":
    main()
