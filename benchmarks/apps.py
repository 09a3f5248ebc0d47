"""App benchmarks: the qualified-investor check (yinji.apps.qualified_investor) and the risk
look-through (yinji.apps.risk_lookthrough), both on the group ledger (yinji.psi.ledger).

    .venv/bin/python benchmarks/apps.py --app qualified-investor --clients 1000000 --batch 1 1000
    .venv/bin/python benchmarks/apps.py --app risk-lookthrough --clients 100000
    .venv/bin/python benchmarks/apps.py --app risk-lookthrough --clients 5000 --model

Four companies with `--clients` clients each (drawn from 2x as many IDs, so a client is held
by 0..4 companies), three of them compute parties, the fourth (offshore) an input party and
the requester. All four run in ONE process on the in-memory network (threads; no TLS), so
the numbers are protocol CPU and memory traffic on this machine's 2 cores, not a network.
Printed: the daily build (OPRF chain over every ID, sharing, shuffle, opening to L), then per
batch size the run time (OPRF for the batch, lookup, rules in MPC, opening to the requester),
run after the build on the cached ledger, as the app does; with `--grow` an incremental
rebuild (same keys, only the new IDs through the chain; sharing and shuffle redone). `--chain-rate` measures the
group operations alone (hash + 5 scalar multiplications per ID) to extrapolate the build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import threading
import time

import numpy as np

FOUR = ["fund", "futures", "securities", "offshore"]  # compute: the first three


def holdings(n: int, seed: int) -> dict[str, tuple[list[str], np.ndarray]]:
    from yinji.apps.qualified_investor import DAY_BIAS, K

    rng = np.random.default_rng(seed)
    universe = (rng.choice(10**17, 2 * n, replace=False) + 10**17).astype(str)
    out = {}
    for name in FOUR:
        pick = rng.choice(2 * n, n, replace=False)
        vals = np.zeros((n, K), np.int64)
        cur = rng.integers(0, 3 if name == "offshore" else 1, n)
        for f in range(3):
            vals[np.arange(n), f * 3 + cur] = rng.integers(0, 10**9, n)  # cents
        vals[:, K - 1] = DAY_BIAS - rng.integers(15000, 20400, n)
        out[name] = (list(universe[pick]), vals)
    out["_universe"] = (list(universe), np.zeros(0))
    return out


def chain_rate(n: int) -> tuple[float, float]:
    """Wall and CPU seconds per ID for the build's group operations (hash + 5
    multiplications: blind, k1, k2, k3, unblind)."""
    from yinji.crypto import group

    items = [f"{i:018d}".encode() for i in range(n)]
    r = group.random_scalar()
    t, c = time.perf_counter(), time.process_time()
    pts = group.hash_and_mult_points(r, items, b"bench")
    for _ in range(4):
        pts = group.mult_points(r, pts)
    return (time.perf_counter() - t) / n, (time.process_time() - c) / n


def qualified_investor(clients: int, batches: list[int], dummies: int,
                       grow: float = 0.0) -> None:
    from yinji.apps import qualified_investor as qi
    from yinji.mpc.session import Session
    from yinji.psi import ledger as lg
    from yinji.testing.parties import run_parties

    t = time.perf_counter()
    data = holdings(clients, 1)
    universe = data.pop("_universe")[0]
    print(f"data: 4 x {clients:,} clients in {time.perf_counter() - t:.1f} s")
    roles = lg.Roles(tuple(FOUR), tuple(FOUR[:3]), "securities")  # type: ignore[arg-type]
    params = qi.APP.resolve_params({"explain": True})
    today = dt.datetime.now(dt.UTC).date()
    rng = np.random.default_rng(2)
    asks = [list(rng.choice(universe, b, replace=False)) for b in batches]
    marks: dict[str, list[float]] = {}
    new = max(1, int(clients * grow / 100)) if grow else 0
    more = holdings(new, 3) if grow else {}
    extra = {n: (more[n][0], more[n][1]) for n in FOUR} if grow else {}

    cpu: list[float] = []

    def mark() -> None:  # the process's CPU seconds (all four parties' threads)
        cpu.append(time.process_time())

    barrier = threading.Barrier(len(FOUR), action=mark)

    def body(party):  # noqa: ANN001
        me = party.name
        s = Session(party, roles.compute) if me in roles.compute else None
        ids, vals = data[me]
        barrier.wait()
        t0 = time.perf_counter()
        led = lg.build(party, roles, ids, vals, session=s, dummies=dummies)
        mine = [time.perf_counter() - t0]
        for ask in asks:
            barrier.wait()  # every party has finished the build / previous batch
            t0 = time.perf_counter()
            got = lg.lookup(party, led, "offshore", ask if me == "offshore" else None,
                            max_batch=qi.MAX_BATCH)
            res = qi.decide(s, got, params, today) if s is not None else None
            out = lg.open_result(party, roles, "offshore", res, s)
            mine.append(time.perf_counter() - t0)
            barrier.wait()
            if out is not None:
                assert out.shape == (len(ask),)
        if grow:
            barrier.wait()
            t0 = time.perf_counter()
            lg.build(party, roles, ids + extra[me][0], np.vstack([vals, extra[me][1]]),
                     session=s, previous=led, dummies=dummies)
            mine.append(time.perf_counter() - t0)
            barrier.wait()
        marks[me] = mine
        return None

    run_parties(body, names=FOUR, timeout=7200)
    build = max(m[0] for m in marks.values())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    print(f"build (4 x {clients:,} IDs, {dummies:,} dummies): {build:.1f} s wall, "
          f"{cpu[1] - cpu[0]:.1f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)")
    for i, b in enumerate(batches):
        print(f"batch {b:>5}: {marks['offshore'][i + 1]:.2f} s wall (requester, after the "
              f"build), {cpu[2 + 2 * i] - cpu[1 + 2 * i]:.2f} s CPU")
    if grow:
        inc = max(m[-1] for m in marks.values())
        print(f"incremental rebuild (+{new:,} new clients per company, same keys): {inc:.1f} s "
              f"wall, {cpu[-1] - cpu[-2]:.1f} s CPU")
    print(f"peak RSS of the one process (all four parties): {rss:,.0f} MiB")


def risk_lookthrough(clients: int, workers: int | None) -> None:
    """Four companies with about `clients` clients each (from 2x as many IDs, each company
    holding about half), officer at securities (an input party); whole run as the app does
    it: two ledger builds (lookup parties fund and futures), every company's lookup of all
    its clients, the rules in MPC, codes to each company, counts to the officer."""
    from yinji.apps.risk_lookthrough import APP, entries, look_through, plaintext, sample_tables
    from yinji.testing.parties import run_parties

    companies = sorted(FOUR)   # fund, futures, offshore compute; securities input party
    t = time.perf_counter()
    raw = sample_tables(companies, 2 * clients, seed=1, share=0.5)
    fx = {"HKD": 0.92, "USD": 7.1}
    tables = {c: entries(raw[c], companies.index(c), 4, fx)[::2] for c in companies}
    print(f"data: {', '.join(f'{c} {len(tables[c][0]):,}' for c in companies)} clients, "
          f"prepared in {time.perf_counter() - t:.1f} s")
    th = APP.thresholds(APP.resolve_params({"risk_officer": "securities"}))
    marks: dict[str, float] = {}

    def body(party):  # noqa: ANN001
        t0 = time.perf_counter()
        ids, values = tables[party.name]
        out = look_through(party, companies, companies[:3], "securities", th, ids, values,
                           workers=workers)
        marks[party.name] = time.perf_counter() - t0
        return out

    t = time.perf_counter()
    got = dict(zip(companies, run_parties(body, names=companies, timeout=7200), strict=True))
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    codes, counts = plaintext(tables, th)
    ok = all(np.array_equal(got[c][0], codes[c]) for c in companies) and \
        np.array_equal(got["securities"][1], counts)
    print(f"run (2 builds + 4 lookups + rules + delivery): {took:.1f} s; "
          f"matches plaintext: {ok}; flagged (any) per company: {counts[:, 3].tolist()}")
    print(f"peak RSS of the one process (all four parties): {rss:,.0f} MiB")


def risk_model(clients: int, workers: int | None) -> None:
    """Rule MODEL: train on securities' margin calls (risk-model-training's pipeline: one
    build, securities' lookup, features, SS-LR Newton), then the look-through with and
    without the model; MODEL against NumPy with the weights opened here only."""
    from yinji.apps import risk_model as rm
    from yinji.apps.risk_lookthrough import APP, entries, look_through, plaintext, sample_tables
    from yinji.apps.risk_model_training import client_labels, train_lookthrough
    from yinji.apps.risk_rules import unpack
    from yinji.testing.parties import run_parties

    companies = sorted(FOUR)
    raw = sample_tables(companies, 2 * clients, seed=1, share=0.5)
    fx = {"HKD": 0.92, "USD": 7.1}
    tables = {c: entries(raw[c], companies.index(c), 4, fx)[::2] for c in companies}
    labels = client_labels({"id_no": raw["securities"]["id_no"],
                            "label": raw["securities"]["margin_call"]}, tables["securities"][0])
    th = APP.thresholds(APP.resolve_params({"risk_officer": "securities"}))

    def train(party):  # noqa: ANN001
        ids, values = tables[party.name]
        return train_lookthrough(party, companies, companies[:3], "securities", ids, values,
                                 labels if party.name == "securities" else None,
                                 workers=workers)

    t = time.perf_counter()
    out = dict(zip(companies, run_parties(train, names=companies, timeout=7200), strict=True))
    print(f"training on securities' {len(labels):,} clients ({labels.sum():,} positive): "
          f"{time.perf_counter() - t:.1f} s")
    models = {c: (out[c][0].meta(), out[c][0].shares()) for c in companies[:3]}
    opened = rm.open_model([models[c][1] for c in companies[:3]])
    for model in (None, models):
        def body(party, model=model):  # noqa: ANN001
            ids, values = tables[party.name]
            m = model.get(party.name) if model else None
            return look_through(party, companies, companies[:3], "securities", th, ids,
                                values, workers=workers, model=m, threshold=0.5)

        t = time.perf_counter()
        got = dict(zip(companies, run_parties(body, names=companies, timeout=7200),
                       strict=True))
        took = time.perf_counter() - t
        if model is None:
            print(f"look-through without MODEL: {took:.1f} s")
            continue
        codes, _ = plaintext(tables, th)
        group: dict[str, np.ndarray] = {}
        for ids, values in tables.values():
            for i, v in zip(ids, values, strict=True):
                group[i] = group[i] + v if i in group else v.copy()
        wrong = unsure = 0
        for c in companies:
            bits = unpack(got[c][0], 4)
            assert np.array_equal(bits[:, :3], unpack(codes[c]))
            figures = np.array([group[i] for i in tables[c][0]])
            s = rm.plain_scores(figures, opened)
            sure = np.abs(rm.plain_decision(figures, opened)) > 2e-3   # logit(0.5) = 0
            unsure += int((~sure).sum())
            wrong += int((bits[sure, 3] != (s >= 0.5)[sure]).sum())
        print(f"look-through with MODEL: {took:.1f} s; LEV/CONC/DROP match plaintext; "
              f"MODEL differs from NumPy on {wrong} clients ({unsure} within 2e-3 of the "
              "threshold's logit, not compared); flagged by MODEL per company: "
              f"{[int(unpack(got[c][0], 4)[:, 3].sum()) for c in companies]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", default="qualified-investor",
                    choices=["qualified-investor", "risk-lookthrough"])
    ap.add_argument("--workers", type=int, default=None,
                    help="risk-lookthrough: worker processes for group operations")
    ap.add_argument("--model", action="store_true",
                    help="risk-lookthrough: train rule MODEL's model, then run with it")
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 1000])
    ap.add_argument("--dummies", type=int, default=32_000)
    ap.add_argument("--grow", type=float, default=0.0, metavar="PCT",
                    help="then add PCT%% new clients per company and rebuild incrementally")
    ap.add_argument("--chain-rate", type=int, default=0, metavar="N",
                    help="also time the group operations of N IDs and extrapolate the "
                         "build's chain to 4 x 10^6 IDs")
    a = ap.parse_args()
    if a.chain_rate:
        wall, cpu = chain_rate(a.chain_rate)
        print(f"chain: {wall * 1e6:.0f} us wall, {cpu * 1e6:.0f} us CPU of group operations "
              f"per ID; 4 x 10^6 IDs: {cpu * 4e6:.0f} CPU-s, {cpu * 4e6 / 2:.0f} s on 2 "
              "free cores")
    if a.app == "risk-lookthrough":
        (risk_model if a.model else risk_lookthrough)(a.clients, a.workers)
        return
    qualified_investor(a.clients, a.batch, a.dummies, a.grow)


if __name__ == "__main__":
    main()
