"""Peer benchmark: MPyC (Shamir secret sharing, 3 parties, honest majority), secure fixed point.

Runs inside the side venv made by ``benchmarks/peers/setup.sh`` (``benchmarks/.peers/mpyc``).
Started once, as party 0; MPyC's ``-M3`` then starts parties 1 and 2 as local subprocesses
(connected over loopback TCP). Party 0 prints ONE JSON object to stdout; progress to stderr.

MPyC is ~100x slower than ABY3, so the ops run at reduced sizes; seconds for the full sizes
(the ones the spu peer and Yinji use) are extrapolated linearly and labelled as such.
Secure NumPy arrays (``secfxp.array``) are used: MPyC's vectorised, fastest path.

Per op and run, in party 0 (parties first synchronised by a tiny output round):
* ``share_s``  -- ``mpc.input`` of the inputs (party 0 is the sender);
* ``run_s``    -- the op, until party 0 holds its shares of the result (``mpc.gather``);
* ``reveal_s`` -- ``mpc.output`` of the result to all parties.
``ops`` holds the median ``run_s`` keyed by the measured size (``mul_1e4``);
``extrapolated_full_size_s`` the same scaled to the full size, keyed like spu's (``mul_1e6``).

MPyC 0.11 has no secure exp or sigmoid. ``sigmoid_composed`` builds one from MPyC primitives
with the formula spu 0.9.5 uses for jax.nn.sigmoid: 1 / (1 + exp(-x)), exp by
(1 + x/2^8)^(2^8) (8 squarings) and MPyC's secure reciprocal. It is not an MPyC function.

Usage: python mpyc_ops.py [--scale 0.1] [--repeats 3] [--ops mul,lt,...] [MPyC options]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import sys
import time

import numpy as np

BIT_LENGTH = 64
FRACTION_BITS = 16
N_PARTIES = 3
EXP_SQUARINGS = 8
# MPyC documents that fixed-point division needs l ~ 2f ("if dividing secure fixed-point
# numbers, make sure that l =~ 2f"); with SecFxp(64, 16) its reciprocal is wrong (errors of
# ~70 on |x/y| <= 200). Ops that divide therefore use SecFxp(32, 16): the same 16 fractional
# bits, 15 integer bits, enough for these inputs (and cheaper than a 64-bit type).
SECTYPES = {"div": (32, 16), "sigmoid_composed": (32, 16)}

# name -> (JSON key, measured size at --scale 1, full size used by spu and Yinji)
SIZES = {
    "mul": ("mul_1e6", 10_000, 1_000_000),
    "lt": ("lt_1e6", 1_000, 1_000_000),
    "sigmoid_composed": ("sigmoid_composed_1e5", 1_000, 100_000),  # not an MPyC function
    "matmul": ("matmul_1000x1000x100", (100, 100, 10), (1000, 1000, 100)),
    "div": ("div_1e6", 1_000, 1_000_000),
}


def log(msg: str) -> None:
    print(f"[mpyc_ops] {msg}", file=sys.stderr, flush=True)


def _free_base_port() -> int:
    """A base port with N_PARTIES consecutive free loopback ports (MPyC's default is fixed)."""
    for _ in range(50):
        base = 20000 + secrets.randbelow(40000)
        try:
            socks = []
            for i in range(N_PARTIES):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports for the MPyC parties")


def _prepare_mpyc_argv() -> None:
    """Default to 3 local parties on free ports unless MPyC options (-M, -P, -C, -I, -B) are given.

    Must run before ``mpyc.runtime`` is imported: it parses sys.argv at import and passes
    the raw argv on to the party subprocesses it starts.
    """
    argv = sys.argv[1:]
    has = lambda *flags: any(a in flags or a.startswith(flags) for a in argv)  # noqa: E731
    if not has("-M", "--parties", "-P", "--config", "-C", "-I", "--index"):
        sys.argv.append(f"-M{N_PARTIES}")
    if not has("-I", "--index") and not has("-B", "--base-port"):
        sys.argv += ["-B", str(_free_base_port())]


def make_inputs(name: str, n, rng: np.random.Generator) -> list[np.ndarray]:
    if name in ("mul", "lt"):
        return [rng.uniform(-10, 10, n), rng.uniform(-10, 10, n)]
    if name == "sigmoid_composed":
        return [rng.uniform(-6, 6, n)]
    if name == "matmul":
        m, k, p = n
        return [rng.uniform(-1, 1, (m, k)), rng.uniform(-1, 1, (k, p))]
    if name == "div":
        return [rng.uniform(-100, 100, n), rng.uniform(0.5, 50, n) * rng.choice([-1.0, 1.0], n)]
    raise ValueError(name)


def reference(name: str, xs: list[np.ndarray]) -> np.ndarray:
    if name == "mul":
        return xs[0] * xs[1]
    if name == "lt":
        return (xs[0] < xs[1]).astype(np.float64)
    if name == "sigmoid_composed":
        return 1.0 / (1.0 + np.exp(-xs[0]))
    if name == "matmul":
        return xs[0] @ xs[1]
    if name == "div":
        return xs[0] / xs[1]
    raise ValueError(name)


def _label(size) -> str:
    """Size as used in JSON keys: 1e4 for 10000, 100x100x10 for a matmul, else the number."""
    if isinstance(size, tuple):
        return "x".join(str(d) for d in size)
    exp = len(str(size)) - 1
    return f"1e{exp}" if size == 10**exp else str(size)


def _units(size) -> int:
    return int(np.prod(size))


def _scaled(size, scale: float):
    if isinstance(size, tuple):
        return tuple(max(1, round(d * scale)) for d in size)
    return max(1, round(size * scale))


async def bench(mpc, args) -> dict:
    rng = np.random.default_rng(args.seed)  # same inputs in every party; party 0 is the sender

    async def sync() -> None:
        await mpc.output(mpc.SecFxp(BIT_LENGTH, FRACTION_BITS)(0))

    def compute(name: str, xs: list):
        # MPyC's fixed-point division/reciprocal (mpc._rec, Newton) needs l ~ 2f; see SECTYPES.
        if name == "mul":
            return xs[0] * xs[1]
        if name == "lt":
            return xs[0] < xs[1]
        if name == "matmul":
            return xs[0] @ xs[1]
        if name == "div":
            return xs[0] / xs[1]
        if name == "sigmoid_composed":
            t = 1 - xs[0] * (1 / 2**EXP_SQUARINGS)  # exp(-x) = (1 - x/2^n)^(2^n)
            for _ in range(EXP_SQUARINGS):
                t = t * t
            return 1 / (1 + t)  # MPyC fixed-point reciprocal (mpc._rec)
        raise ValueError(name)

    ops: dict[str, float] = {}
    extrapolated: dict[str, float] = {}
    details: dict[str, dict] = {}
    for name in args.ops:
        full_key, base_size, full_size = SIZES[name]
        size = _scaled(base_size, args.scale)
        key = f"{name}_{_label(size)}"  # named for the size actually measured
        plain = make_inputs(name, size, rng)
        secfxp = mpc.SecFxp(*SECTYPES.get(name, (BIT_LENGTH, FRACTION_BITS)))
        log(f"{name}: inputs {[list(x.shape) for x in plain]}")
        samples = []
        for i in range(args.repeats):
            await sync()
            t0 = time.perf_counter()
            xs = [mpc.input(secfxp.array(x), senders=0) for x in plain]
            await mpc.gather(xs)
            t1 = time.perf_counter()
            z = compute(name, xs)
            await mpc.gather(z)
            t2 = time.perf_counter()
            out = await mpc.output(z)
            t3 = time.perf_counter()
            samples.append({"share_s": t1 - t0, "run_s": t2 - t1, "reveal_s": t3 - t2})
            log(
                f"{name}: run {i + 1}/{args.repeats}: share {t1 - t0:.3f} s, "
                f"run {t2 - t1:.3f} s, reveal {t3 - t2:.3f} s"
            )
        got = np.asarray(out, dtype=np.float64)
        quantized = [np.round(x * 2**FRACTION_BITS) / 2**FRACTION_BITS for x in plain]
        err = np.abs(got - reference(name, quantized))
        run_s = statistics.median(s["run_s"] for s in samples)
        units, full_units = _units(size), _units(full_size)
        ops[key] = run_s
        extrapolated[full_key] = run_s * full_units / units
        details[key] = {
            "secure_type": secfxp.__name__,
            "measured_size": list(size) if isinstance(size, tuple) else size,
            "full_size": list(full_size) if isinstance(full_size, tuple) else full_size,
            "share_s": statistics.median(s["share_s"] for s in samples),
            "run_s": run_s,
            "reveal_s": statistics.median(s["reveal_s"] for s in samples),
            "total_s": statistics.median(sum(s.values()) for s in samples),
            "run_s_samples": [s["run_s"] for s in samples],
            "per_second": units / run_s,
            "per_second_unit": "multiply-adds" if name == "matmul" else "elements",
            "extrapolated_full_s": extrapolated[full_key],
            "max_abs_err": float(err.max()),
            **({"mismatches": int(np.count_nonzero(err > 0.5))} if name == "lt" else {}),
            "loadavg_1min_after": os.getloadavg()[0],
        }
        log(f"{name}: median {run_s:.3f} s, {units / run_s:,.0f}/s, max abs err {err.max():.3g}")
    return {"ops": ops, "extrapolated_full_size_s": extrapolated, "details": details}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="multiplier on the reduced sizes")
    p.add_argument("--repeats", type=int, default=3, help="runs per op; the median is reported")
    p.add_argument("--ops", default="mul,lt,sigmoid_composed,matmul,div")
    p.add_argument("--seed", type=int, default=20240607, help="seed for the benchmark inputs")
    _prepare_mpyc_argv()
    load_at_start = os.getloadavg()[0]
    # MPyC parses its own options from sys.argv at import and leaves the rest for us.
    # Keep the real stdout for the JSON result only.
    result_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    import mpyc
    from mpyc.runtime import mpc

    args = p.parse_args()
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in args.ops if o not in SIZES]
    if unknown:
        p.error(f"unknown ops {unknown}; known: {sorted(SIZES)}")

    mpc.run(mpc.start())
    res = mpc.run(bench(mpc, args))
    mpc.run(mpc.shutdown())

    if mpc.pid != 0:
        return 0
    gmpy = "gmpy2" if "gmpy2" in sys.modules else "none (pure Python)"
    out = {
        "peer": f"mpyc-{mpyc.__version__}",
        "config": {
            "parties": len(mpc.parties),
            "threshold": mpc.threshold,
            "protocol": "Shamir secret sharing over a prime field (BGW/GRR), honest majority, "
            "passive security; PRSS for local randomness",
            "secure_type": f"mpc.SecFxp({BIT_LENGTH}, {FRACTION_BITS}) arrays (secfxp.array); "
            f"div and sigmoid_composed: mpc.SecFxp(32, 16), as MPyC division needs l ~ 2f",
            "field_bits": {
                f"SecFxp{lf[0]}:{lf[1]}": mpc.SecFxp(*lf).field.order.bit_length()
                for lf in [(BIT_LENGTH, FRACTION_BITS), *SECTYPES.values()]
            },
            "transport": "one OS process per party, asyncio TCP on 127.0.0.1 (MPyC -M3)",
            "sigmoid": "MPyC has no secure exp/sigmoid; sigmoid_composed_1e5 = "
            f"1/(1+(1-x/2^{EXP_SQUARINGS})^(2^{EXP_SQUARINGS})) from MPyC mul and "
            "fixed-point division (spu's formula); built here, not an MPyC function",
            "gmpy2": gmpy,
            "scale": args.scale,
            "repeats": args.repeats,
            "seed": args.seed,
            "timing": "ops = median wall seconds in party 0 from inputs shared to result "
            "shares held, MEASURED at the reduced sizes named in their keys; "
            "extrapolated_full_size_s = the same, EXTRAPOLATED linearly to the full sizes "
            "(keys as in the spu peer)",
            "numpy": np.__version__,
            "cpu_count": os.cpu_count(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "loadavg_1min_at_start": load_at_start,
        },
        **res,
    }
    json.dump(out, result_out)
    result_out.write("\n")
    result_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
