"""Would lattice HE (BFV, Microsoft SEAL) make SecureBoost's "he" mode cheaper than OU?

    pip install seal-python==4.4.0      # optional: not a dependency of Yinji
    python benchmarks/he_lattice_probe.py [--repeat 200]

A passive party's histogram of one node is a (features x bins) by rows 0/1 matrix times the
label holder's encrypted (g, h). With BFV and coefficient packing (Cheetah-style: r matrix
rows at offsets of m coefficients, r x m = N), one plaintext-ciphertext product yields r
inner products of length m, so a node of R rows needs features x bins x R / N products, each
on a fresh data-dependent plaintext (transform to NTT form + multiply). This probe times
those operations and prints the cost per (row, feature) next to the OU mode's (one ciphertext
addition in heu's batched bucket sum), so the two are compared on the machine of the run.
"""

from __future__ import annotations

import argparse
import os
import time

BINS = 32


def _time(fn, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def _row(seal, n: int, repeat: int) -> str:
    """One table row: SEAL BFV operation times at ring degree n."""
    parms = seal.EncryptionParameters(seal.scheme_type.bfv)
    parms.set_poly_modulus_degree(n)
    parms.set_coeff_modulus(seal.CoeffModulus.BFVDefault(n))
    parms.set_plain_modulus(seal.PlainModulus.Batching(n, 40))
    ctx = seal.SEALContext(parms)
    keys = seal.KeyGenerator(ctx)
    enc = seal.Encryptor(ctx, keys.create_public_key())
    dec = seal.Decryptor(ctx, keys.secret_key())
    ev = seal.Evaluator(ctx)
    ct = enc.encrypt(seal.BatchEncoder(ctx).encode(list(range(n))))
    # a 0/1 plaintext as the passive party's indicator block would be (half the terms set)
    pt = seal.Plaintext(" + ".join(f"1x^{i}" for i in range(n - 1, 0, -2)))
    ct_ntt = ev.transform_to_ntt(ct)
    pt_ntt = ev.transform_to_ntt(pt, ct.parms_id())
    t_enc = _time(lambda: enc.encrypt(seal.Plaintext("1x^1")), max(repeat // 4, 1))
    t_ntt = _time(lambda: ev.transform_to_ntt(pt, ct.parms_id()), repeat)
    t_mul = _time(lambda: ev.multiply_plain(ct_ntt, pt_ntt), repeat)
    t_add = _time(lambda: ev.add(ct_ntt, ct_ntt), repeat)
    t_dec = _time(lambda: dec.decrypt(ct), max(repeat // 4, 1))
    per_row_feature = BINS * (t_ntt + t_mul) / n
    return (f"| {n} | {t_enc * 1e6:.0f} us | {t_ntt * 1e6:.0f} us | {t_mul * 1e6:.0f} us "
          f"| {t_add * 1e6:.0f} us | {t_dec * 1e6:.0f} us | {per_row_feature * 1e6:.2f} |")


def ou_row(rows: int = 20_000, features: int = 20) -> str:
    """The OU mode's unit in the same run: heu's batched bucket sum of `rows` 2048-bit OU
    ciphertexts into 32 bins of `features` features (one node), per (row, feature)."""
    import numpy as np
    from heu import numpy as hnp
    from heu import phe

    from yinji.crypto.prg import Prg, fresh_seed

    kit = hnp.setup(phe.SchemaType.OU, 2048)
    ct = kit.encryptor().encrypt(kit.array(np.arange(rows, dtype=np.int64),
                                           kit.integer_encoder(1)))
    prg = Prg(fresh_seed())
    bins = (prg.uint64(rows * features) % BINS).astype(np.int8).reshape(rows, features)
    mask = [np.ones((1, rows), np.int8)]
    ev = kit.evaluator()
    t = _time(lambda: ev.batch_feature_wise_bucket_sum(ct, mask, bins, BINS, False), 3)
    return f"| OU 2048 (heu bucket sum, {rows} rows) | | | | | | {t / rows / features * 1e6:.2f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    try:
        import seal
    except ImportError:
        raise SystemExit("seal-python is not installed: pip install seal-python==4.4.0") from None
    print(f"load average {os.getloadavg()[0]:.1f}; SEAL BFV, default 128-bit coefficient moduli")
    print("| N | encrypt | plaintext to NTT | multiply (NTT form) | add | decrypt "
          "| us per (row, feature) at 32 bins |")
    print("|---|---|---|---|---|---|---|")
    for n in (4096, 8192):
        print(_row(seal, n, args.repeat))
    print(ou_row())


if __name__ == "__main__":
    main()
