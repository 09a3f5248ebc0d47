"""Keyword PIR benchmark: one member with 10^6 records, batching, a 20-member alliance.

Layout (stated, not hidden): everything runs in this one process on the in-memory network
(threads; the TLS transport is not merged yet). The alliance's members all serve the SAME
built database version (one matrix in memory, one OPRF key) so that 20 x 10^6-record members
fit in RAM and build once; each member still runs its own server thread, batcher and full
matrix pass per query, and the client keeps a separate hint per member. During the alliance
part BLAS runs one thread per call (threadpoolctl): 20 members x 2 OpenBLAS threads on 2 cores
oversubscribe badly (measured 2.0 s vs 0.45 s for 20 concurrent matrix-vector products).

Peer: SecretFlow spu 0.9.5 has no PIR and no labeled PSI; its closest protocol, unbalanced PSI
(``ub_psi``, ECDH-OPRF, membership only), runs on the same keys (labels dropped) in its side venv
via ``benchmarks/peers/spu_ub_psi.py`` and is printed next to Yinji's numbers as ratios. Skipped,
with the reason printed, when ``benchmarks/.peers/spu`` is absent (``benchmarks/peers/setup.sh
spu``) or with ``--no-peers``.

Run: .venv/bin/python benchmarks/pir.py [--records 1000000] [--members 20] [--no-peers]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from yinji.net.memory import memory_network
from yinji.pir import oprf
from yinji.pir.alliance import Alliance
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase, open_bucket
from yinji.pir.lwe import SimplePirClient
from yinji.pir.server import PirServer

SIMPLEPIR_GBPS_PER_CORE = 6.5  # published server throughput (README / paper abstract)
BATCHES = (1, 16, 256)

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ (for peers.run)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def ms(x: float) -> str:
    return f"{x * 1e3:9.1f} ms"


def row(name: str, value: str) -> None:
    print(f"  {name:<52} {value}")


def member_records(n: int, label_size: int) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 256, (n, label_size), dtype=np.uint8)
    return [(f"{110101000000000000 + 7919 * i:018d}", labels[i].tobytes()) for i in range(n)]


def time_answer(version, client: SimplePirClient, b: int, reps: int) -> float:
    _, q = client.query(list(np.random.default_rng(b).integers(0, version.params.cols, b)))
    version.pir.answer(q)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        version.pir.answer(q)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--label-size", type=int, default=32)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--alliance-queries", type=int, default=30)
    ap.add_argument("--no-peers", action="store_true",
                    help="skip the spu unbalanced-PSI comparison")
    ap.add_argument("--peer-timeout", type=float, default=1800)
    args = ap.parse_args()
    yinji: dict = {"loadavg_1min_at_start": os.getloadavg()[0]}

    print(f"# keyword PIR, {args.records:,} records, {args.label_size}-byte labels")
    recs = member_records(args.records, args.label_size)
    t = time.perf_counter()
    db = KeywordDatabase(recs, label_size=args.label_size,
                         oprf=oprf.OprfServer(rate_limit=oprf.RateLimit(burst=10**9)))
    version = db.build()
    total = time.perf_counter() - t
    p, lay = version.params, version.layout
    print("server preprocessing")
    row("OPRF over all keys (hash-to-group + scalar mult)", ms(version.timings["oprf_s"]))
    row("seal labels + bucket layout", ms(version.timings["seal_layout_s"]))
    row("hint H = D·A", ms(version.timings["hint_s"]))
    row("total build (incl. input checks)", ms(total))
    row("matrix rows x cols (Z_256 entries)", f"{p.rows} x {p.cols} = {p.rows * p.cols / 1e6:.1f} M")
    row("buckets x slots, slot bytes", f"{lay.buckets} x {lay.slots}, {lay.slot_bytes}")
    row("capacity used", f"{args.records / (lay.buckets * lay.slots):.0%}")
    row("hint size", f"{p.hint_bytes / 2**20:.1f} MiB")
    yinji.update(build_s=total, hint_bytes=p.hint_bytes)

    # Per-query communication, measured on the memory network's counters (incl. headers).
    server = PirServer(version, db.oprf, name="m0")
    probe = [recs[3][0], "absent-key"]
    names = ["m0", "c"]
    parties = memory_network(names)
    srv = threading.Thread(target=server.serve, args=(parties[0],), daemon=True)
    srv.start()
    client = PirClient(parties[1].channel("m0"))
    t = time.perf_counter()
    client.refresh()
    hint_s = time.perf_counter() - t
    s0 = parties[1].stats()
    got = client.query([probe[0]])
    s1 = parties[1].stats()
    assert got == [recs[3][1]], "wrong label"
    assert client.query([probe[1]]) == [None]
    print("per query (one key, hint cached)")
    row("upload bytes (OPRF + PIR query)", f"{s1.bytes_sent - s0.bytes_sent:,}")
    row("download bytes (OPRF + PIR answer)", f"{s1.bytes_received - s0.bytes_received:,}")
    row("hint download + client setup", ms(hint_s))
    yinji["hint_s"] = hint_s

    # Client compute for one key.
    pir = SimplePirClient(p, version.pir.hint)
    tok_t, q_t, r_t, d_t = [], [], [], []
    for i in range(10):
        t0 = time.perf_counter()
        st, blinded = oprf.blind([recs[i][0].encode()])
        toks = oprf.finalize(st, db.oprf.evaluate("bench", blinded))
        t1 = time.perf_counter()
        qs, q = pir.query([lay.bucket_of(toks[0])])
        t2 = time.perf_counter()
        ans = version.pir.answer(q)
        t3 = time.perf_counter()
        col = pir.recover(qs, ans)
        t4 = time.perf_counter()
        assert open_bucket(col[:, 0], toks[0], version.version, lay) == recs[i][1]
        t5 = time.perf_counter()
        tok_t.append(t1 - t0)
        q_t.append(t2 - t1)
        r_t.append(t4 - t3)
        d_t.append(t5 - t4)
    pir.precompute(10)
    pre_q = []
    for _ in range(10):
        t0 = time.perf_counter()
        pir.query([0])
        pre_q.append(time.perf_counter() - t0)
    print("client seconds per key (median of 10)")
    row("OPRF blind+unblind (incl. server eval)", ms(statistics.median(tok_t)))
    row("PIR query generation", ms(statistics.median(q_t)))
    row("PIR query generation, precomputed offline", ms(statistics.median(pre_q)))
    row("PIR decode (online H·s)", ms(statistics.median(r_t)))
    row("trial-decrypt bucket", ms(statistics.median(d_t)))

    print("server seconds per PIR batch (one matrix product, median)")
    base = None
    for b in (1, 16, 256):
        sec = time_answer(version, pir, b, reps=5 if b < 256 else 3)
        base = base or sec
        row(f"batch {b:>3}: time / per query / throughput x",
            f"{sec * 1e3:8.1f} ms {sec / b * 1e3:7.2f} ms {base / (sec / b):5.1f}x")
        if b == 1:
            gbs = p.rows * p.cols / sec / 1e9
            row("  batch-1 DB scan rate (2 cores) vs SimplePIR 6.5 GB/s/core",
                f"{gbs:.2f} GB/s")
    # End-to-end over the memory network, single client.
    lat = []
    for i in range(20):
        t = time.perf_counter()
        client.query([recs[100 + i][0]])
        lat.append(time.perf_counter() - t)
    row("end-to-end lookup, one member (p50 / p99)",
        f"{pct(lat, 50) * 1e3:.1f} / {pct(lat, 99) * 1e3:.1f} ms")
    yinji["batches"] = end_to_end_batches(client, parties[1], recs)
    client.close()
    srv.join()

    # Trivial baseline: download the whole encrypted database once.
    enc_bytes = p.rows * p.cols
    print("trivial baseline (download the encrypted DB, OPRF for keys)")
    row("download bytes", f"{enc_bytes:,} ({enc_bytes / 2**20:.1f} MiB)")
    t = time.perf_counter()
    np.ascontiguousarray(version.pir._db.astype(np.int8))  # serialise the matrix once
    row("server time to produce it", ms(time.perf_counter() - t))
    row("client time per key (OPRF + one bucket decrypt)",
        ms(statistics.median(tok_t) + statistics.median(d_t)))

    with threadpool_limits(limits=1, user_api="blas"):
        run_alliance(args, recs, version, db)

    yinji["loadavg_1min_after"] = os.getloadavg()[0]
    compare_spu(args, yinji)


def end_to_end_batches(client: PirClient, party, recs) -> dict[int, dict]:
    """One ``client.query`` of b keys (half present, half absent) over the memory network:
    OPRF round + PIR round + decode, hint cached. Bytes from the network counters (with headers).
    """
    print("end-to-end query of b keys, one member, hint cached (half present, half absent)")
    out = {}
    for b in BATCHES:
        idx = [(20_000 + 7 * j) % len(recs) for j in range(b)]
        keys = [recs[i][0] if j % 2 == 0 else f"absent-{b}-{j}" for j, i in enumerate(idx)]
        want = [recs[i][1] if j % 2 == 0 else None for j, i in enumerate(idx)]
        secs = []
        for r in range(3):
            s0 = party.stats()
            t = time.perf_counter()
            got = client.query(keys)
            secs.append(time.perf_counter() - t)
            s1 = party.stats()
            assert got == want, f"batch {b}: wrong answers"
            if r == 0:
                up, down = s1.bytes_sent - s0.bytes_sent, s1.bytes_received - s0.bytes_received
        sec = statistics.median(secs)
        out[b] = {"s": sec, "up": up, "down": down}
        row(f"batch {b:>3}: time / upload / download",
            f"{sec * 1e3:8.1f} ms {up:>10,} B {down:>10,} B")
    return out


def ratio(a: float, b: float) -> str:
    return f"{a / b:7.2f}x" if b else "      -"


def compare_spu(args, yinji: dict) -> None:
    """SecretFlow spu 0.9.5 unbalanced PSI on the same keys, in its side venv."""
    title = ("vs SecretFlow spu 0.9.5 ub_psi (ECDH-OPRF unbalanced PSI): MEMBERSHIP ONLY "
             "(no labels), DIFFERENT SECURITY MODEL")
    print(title)
    if args.no_peers:
        print("  skipped: --no-peers")
        return
    from peers.run import VENVS, peer_python, run_peer

    if not peer_python("spu_ub_psi").exists() or not (VENVS / "spu" / ".installed").exists():
        print(f"  skipped: side venv {VENVS / 'spu'} is absent "
              "(create it with benchmarks/peers/setup.sh spu)")
        return
    spu = run_peer("spu_ub_psi", scale=args.records / 1e6, timeout=args.peer_timeout)
    if spu is None:
        print("  skipped: the spu run failed (reason above, on stderr)")
        return
    ops, det = spu["ops"], spu["details"]
    tr = det["offline_transfer_cache"]
    print(f"  spu: {spu['config']['server_keys']:,} server keys, 2 processes over brpc on "
          f"127.0.0.1; Yinji: {args.records:,} records with labels, one process, memory network")
    per_key = tr["bytes_server_to_client"] / max(1, tr["items_received"])
    print("  spu: the client learns membership bits only, after downloading the server's whole "
          f"OPRF set once\n  ({per_key:.1f} B per server key on the wire)")
    print("  ratio = Yinji / spu (below 1: Yinji smaller or faster)")
    print(f"  {'':<44} {'Yinji':>14} {'spu':>14} {'ratio':>8}")

    def line(name: str, y: float, s: float, fmt) -> None:
        print(f"  {name:<44} {fmt(y):>14} {fmt(s):>14} {ratio(y, s)}")

    def sec(x: float) -> str:
        return f"{x:.3f} s"

    def nbytes(x: float) -> str:
        return f"{x:,.0f} B"

    line("server offline (Yinji build / spu gen cache)", yinji["build_s"],
         ops["offline_gen_cache_s"], sec)
    line("one-off client download (hint / cache), bytes", yinji["hint_bytes"],
         tr["bytes_server_to_client"], nbytes)
    line("one-off client download, time", yinji["hint_s"], ops["offline_transfer_cache_s"], sec)
    for b in BATCHES:
        y = yinji["batches"][b]
        o = det["online"].get(str(b))
        if o is None:
            continue
        line(f"online, {b} keys: time", y["s"], ops[f"online_batch_{b}_s"], sec)
        line(f"online, {b} keys: upload bytes", y["up"], o["bytes_client_to_server"], nbytes)
        line(f"online, {b} keys: download bytes", y["down"], o["bytes_server_to_client"], nbytes)
    print("  how measured: spu times are whole ub_psi_execute jobs (earliest start to latest end "
          "of the 2 parties,\n  incl. link handshake and CSV I/O; median of 3); spu bytes are "
          "TCP payload through a counting\n  relay (separate job). Yinji: client.query over the "
          "in-memory network (no sockets, headers counted).")
    print(f"  spu answers correct: "
          f"{all(o['correct'] for o in det['online'].values())}; spu server key in its cache "
          f"files: {det['server_key_found_in_cache']} (spu writes it there, key file or not)"
          f"; load avg 1 min: "
          f"Yinji {yinji['loadavg_1min_at_start']:.1f}->{yinji['loadavg_1min_after']:.1f}, "
          f"spu {spu['config']['loadavg_1min_at_start']:.1f}->"
          f"{spu['config']['loadavg_1min_after']:.1f}")


def run_alliance(args, recs, version, db) -> None:
    m = args.members
    print(f"alliance of {m} members (threads, memory network, shared DB version)")
    names = [f"m{i}" for i in range(m)] + ["client"]
    parties = memory_network(names)
    servers = [PirServer(version, db.oprf, name=f"m{i}") for i in range(m)]
    threads = [threading.Thread(target=servers[i].serve, args=(parties[i], ["client"]),
                                daemon=True) for i in range(m)]
    for th in threads:
        th.start()
    cparty = parties[-1]
    alliance = Alliance({f"m{i}": PirClient(cparty.channel(f"m{i}")) for i in range(m)},
                        timeout=30.0)
    t = time.perf_counter()
    alliance.prepare(0)  # hint download for every member
    row("hint download, all members", ms(time.perf_counter() - t))
    for label, pre in (("online", False), ("with offline precomputation", True)):
        lat = []
        for i in range(args.alliance_queries):
            if pre:
                alliance.prepare(1)
            key = recs[1000 + i][0] if i % 2 == 0 else f"absent-{i}"
            t = time.perf_counter()
            ans = alliance.query([key])
            lat.append(time.perf_counter() - t)
            assert ans.complete, ans.unavailable
            assert len(ans.hits(key)) == (m if i % 2 == 0 else 0)
        row(f"1-key alliance query, {label}: p50 / p99",
            f"{pct(lat, 50) * 1e3:.0f} / {pct(lat, 99) * 1e3:.0f} ms")
        row(f"  -> alliance QPS (sequential, {label})", f"{1 / statistics.mean(lat):.2f}")
    for k in (16, 64):
        keys = [recs[5000 + j][0] for j in range(k)]
        t = time.perf_counter()
        ans = alliance.query(keys)
        sec = time.perf_counter() - t
        assert ans.complete
        row(f"{k}-key alliance query: latency / keys per second", f"{sec * 1e3:.0f} ms / "
            f"{k / sec:.1f}")
    alliance.close()
    for th in threads:
        th.join()


if __name__ == "__main__":
    main()
