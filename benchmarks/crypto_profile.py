"""What the `sm` crypto profile costs next to `international`: signatures, the audit log,
AEAD at rest and PIR label sealing/opening. Prints one table and the sm/international ratios.

    PYTHONPATH=src python benchmarks/crypto_profile.py [--records 100000] [--reps 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from yinji.crypto.profile import PROFILES, get_profile


def per_op(fn, reps: int) -> float:
    """Best of three runs of `reps` calls, microseconds per call."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, time.perf_counter() - t)
    return best / reps * 1e6


def measure(name: str, records: int, reps: int) -> dict[str, float]:
    from yinji.node.audit import ApiCallEvent, AuditLog
    from yinji.node.store import SqliteStore
    from yinji.pir import oprf
    from yinji.pir.keyword import KeywordDatabase, open_bucket
    from yinji.pir.lwe import SimplePirClient

    p = get_profile(name)
    key = p.generate_key()
    msg = os.urandom(64)
    sig = key.sign(msg)
    aead = p.aead(os.urandom(32))
    blob = os.urandom(1024)
    sealed = aead.seal(blob, b"aad")
    out = {"sign_us": per_op(lambda: key.sign(msg), reps // 4),
           "verify_us": per_op(lambda: p.verify(key.public, sig, msg), reps // 4),
           "hash_1KiB_us": per_op(lambda: p.hash_hex(blob), reps),
           "seal_1KiB_us": per_op(lambda: aead.seal(blob, b"aad"), reps),
           "open_1KiB_us": per_op(lambda: aead.open(sealed, b"aad"), reps)}
    with tempfile.TemporaryDirectory() as d:
        store = SqliteStore(f"sqlite:///{d}/node.db")
        log = AuditLog(store, key, "bench")
        event = ApiCallEvent("GET", "/jobs", 200, "ops", "operator")
        out["audit_append_us"] = per_op(lambda: log.append(event), reps // 20)
        t = time.perf_counter()
        assert log.verify().ok
        out["audit_verify_us_per_entry"] = (time.perf_counter() - t) / (3 * (reps // 20)) * 1e6
        store.close()
    db = KeywordDatabase(((f"id{i}", f"label{i}".encode()) for i in range(records)),
                         label_size=16, cipher=p.cipher)
    v = db.build()
    out["pir_seal_layout_s"] = v.timings["seal_layout_s"]
    state, blinded = oprf.blind([b"absent"])   # an absent key: every slot is tried
    token = oprf.finalize(state, db.oprf.evaluate("bench", blinded))[0]
    client = SimplePirClient(v.params, v.pir.hint)
    qs, q = client.query([v.layout.bucket_of(token)])
    column = client.recover(qs, v.pir.answer(q))[:, 0]
    out["pir_slots_per_bucket"] = v.layout.slots
    out["pir_open_bucket_us"] = per_op(
        lambda: open_bucket(column, token, v.version, v.layout), reps // 20)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="PIR records (default 1e5)")
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args()
    rows = {n: measure(n, args.records, args.reps) for n in sorted(PROFILES)}
    intl, sm = rows["international"], rows["sm"]
    print(f"{'measure':28} {'international':>14} {'sm':>12} {'sm/intl':>8}")
    for k in intl:
        print(f"{k:28} {intl[k]:14.2f} {sm[k]:12.2f} {sm[k] / intl[k]:8.2f}")


if __name__ == "__main__":
    main()
