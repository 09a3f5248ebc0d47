"""Peer benchmark: SecretFlow SPU 0.9.5, ABY3 (3 parties, replicated sharing), in-process simulation.

Runs inside the side venv made by ``benchmarks/peers/setup.sh`` (``benchmarks/.peers/spu``).
Prints ONE JSON object to stdout; all progress goes to stderr.

Per operation, the jax function is compiled once (jax tracing + SPU compiler, timed as
``compile_s``), then run ``--repeats`` times. Each run is split into:

* ``share_s``  -- secret-share the inputs (``Io.make_shares``, in the driver thread);
* ``run_s``    -- the 3 parties executing the compiled program over SPU's in-memory link
  (one thread per party, all released by a barrier; wall time from the earliest start to
  the latest finish). Link and runtime objects are created before the barrier, outside it;
* ``reveal_s`` -- reconstruct the outputs (``Io.reconstruct``).

``ops[name]`` is the median ``run_s``; ``details[name]`` has the medians of every phase,
``total_s`` (share + run + reveal), the raw samples and the max abs error against NumPy.

Usage: python spu_aby3.py [--scale 0.1] [--repeats 3] [--ops mul,lt,sigmoid,matmul,div]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FRACTION_BITS = 16
N_PARTIES = 3


def log(msg: str) -> None:
    print(f"[spu_aby3] {msg}", file=sys.stderr, flush=True)


@dataclass
class Op:
    key: str  # JSON key, named for the full-scale size
    fn: Callable  # jax function of the secret inputs
    make_inputs: Callable[[np.random.Generator, float], list[np.ndarray]]
    reference: Callable[..., np.ndarray]  # plaintext NumPy oracle


def _n(base: int, scale: float) -> int:
    return max(1, round(base * scale))


def build_ops(jnp, jax) -> dict[str, Op]:
    def vec2(lo: float, hi: float, base: int) -> Callable:
        def make(rng: np.random.Generator, scale: float) -> list[np.ndarray]:
            n = _n(base, scale)
            return [rng.uniform(lo, hi, n).astype(np.float32) for _ in range(2)]

        return make

    def vec1(lo: float, hi: float, base: int) -> Callable:
        def make(rng: np.random.Generator, scale: float) -> list[np.ndarray]:
            return [rng.uniform(lo, hi, _n(base, scale)).astype(np.float32)]

        return make

    def matmul_inputs(rng: np.random.Generator, scale: float) -> list[np.ndarray]:
        m, k, n = _n(1000, scale), _n(1000, scale), _n(100, scale)
        return [
            rng.uniform(-1, 1, (m, k)).astype(np.float32),
            rng.uniform(-1, 1, (k, n)).astype(np.float32),
        ]

    def div_inputs(rng: np.random.Generator, scale: float) -> list[np.ndarray]:
        n = _n(1_000_000, scale)
        x = rng.uniform(-100, 100, n)
        y = rng.uniform(0.5, 50, n) * rng.choice([-1.0, 1.0], n)
        return [x.astype(np.float32), y.astype(np.float32)]

    def sigmoid_ref(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    return {
        "mul": Op("mul_1e6", lambda x, y: x * y, vec2(-10, 10, 1_000_000), np.multiply),
        "lt": Op("lt_1e6", lambda x, y: x < y, vec2(-10, 10, 1_000_000), np.less),
        "sigmoid": Op("sigmoid_1e5", jax.nn.sigmoid, vec1(-6, 6, 100_000), sigmoid_ref),
        "matmul": Op(
            "matmul_1000x1000x100", lambda x, y: jnp.matmul(x, y), matmul_inputs, np.matmul
        ),
        "div": Op("div_1e6", lambda x, y: x / y, div_inputs, np.divide),
    }


def runtime_config(libspu):
    """ABY3 over Z_2^64 with 16 fractional bits; every other field keeps spu's default."""
    return libspu.RuntimeConfig(
        protocol=libspu.ProtocolKind.ABY3,
        field=libspu.FieldType.FM64,
        fxp_fraction_bits=FRACTION_BITS,
    )


def describe_config(cfg) -> dict:
    """The runtime settings that shape the measured ops, read back from the config object."""
    return {
        "protocol": cfg.protocol.name,
        "field": cfg.field.name,
        "fxp_fraction_bits": cfg.fxp_fraction_bits,
        "fxp_exp_mode": cfg.fxp_exp_mode.name,
        "fxp_exp_iters": cfg.fxp_exp_iters,
        "fxp_div_goldschmidt_iters": cfg.fxp_div_goldschmidt_iters,
        "sigmoid_mode": cfg.sigmoid_mode.name,
        "trunc_allow_msb_error": cfg.trunc_allow_msb_error,
        "experimental_enable_intra_op_par": cfg.experimental_enable_intra_op_par,
        "experimental_enable_inter_op_par": cfg.experimental_enable_inter_op_par,
    }


def run_once(spu_api, libspu, cfg, executable, inputs: list[np.ndarray]) -> dict:
    """One share -> run -> reveal cycle with 3 party threads over SPU's in-memory link."""
    io = spu_api.Io(N_PARTIES, cfg)
    t0 = time.perf_counter()
    shares = [io.make_shares(x, libspu.Visibility.VIS_SECRET) for x in inputs]
    share_s = time.perf_counter() - t0

    desc = libspu.link.Desc()
    for rank in range(N_PARTIES):
        desc.add_party(f"id_{rank}", f"thread_{rank}")
    barrier = threading.Barrier(N_PARTIES)
    starts = [0.0] * N_PARTIES
    stops = [0.0] * N_PARTIES
    outs: list[list | None] = [None] * N_PARTIES
    errors: list[BaseException] = []

    def party(rank: int) -> None:
        try:
            lctx = libspu.link.create_mem(desc, rank)
            rt = spu_api.Runtime(lctx, libspu.RuntimeConfig(cfg))
            for idx, share in enumerate(shares):
                rt.set_var(executable.input_names[idx], share[rank])
            barrier.wait()
            starts[rank] = time.perf_counter()
            rt.run(executable)
            stops[rank] = time.perf_counter()
            outs[rank] = [rt.get_var(name) for name in executable.output_names]
        except BaseException as exc:  # re-raised in the driver thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=party, args=(r,)) for r in range(N_PARTIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    run_s = max(stops) - min(starts)

    t0 = time.perf_counter()
    revealed = [io.reconstruct(list(out)) for out in zip(*outs, strict=True)]
    reveal_s = time.perf_counter() - t0
    return {"share_s": share_s, "run_s": run_s, "reveal_s": reveal_s, "outputs": revealed}


def bench_op(name: str, op: Op, scale: float, repeats: int, rng: np.random.Generator) -> dict:
    import spu.api as spu_api
    import spu.libspu as libspu
    import spu.utils.frontend as spu_fe

    inputs = op.make_inputs(rng, scale)
    shapes = [list(x.shape) for x in inputs]
    log(f"{name}: inputs {shapes}")
    cfg = runtime_config(libspu)

    t0 = time.perf_counter()
    executable, _ = spu_fe.compile(
        spu_fe.Kind.JAX,
        op.fn,
        inputs,
        {},
        [f"in{i}" for i in range(len(inputs))],
        [libspu.Visibility.VIS_SECRET] * len(inputs),
        lambda out_flat: [f"out{i}" for i in range(len(out_flat))],
    )
    compile_s = time.perf_counter() - t0
    log(f"{name}: compiled in {compile_s:.3f} s")

    samples = []
    for i in range(repeats):
        res = run_once(spu_api, libspu, cfg, executable, inputs)
        samples.append(res)
        log(
            f"{name}: run {i + 1}/{repeats}: share {res['share_s']:.3f} s, "
            f"run {res['run_s']:.3f} s, reveal {res['reveal_s']:.3f} s"
        )

    # Compare with NumPy on the fixed-point-rounded inputs, so that encoding is not counted
    # as protocol error (e.g. x < y with |x - y| < 2^-16).
    got = np.asarray(samples[-1]["outputs"][0], dtype=np.float64)
    quantized = [
        np.round(x.astype(np.float64) * 2**FRACTION_BITS) / 2**FRACTION_BITS for x in inputs
    ]
    want = np.asarray(op.reference(*quantized), dtype=np.float64)
    max_abs_err = float(np.max(np.abs(got - want)))
    mismatches = int(np.count_nonzero(np.abs(got - want) > 0.5)) if name == "lt" else None
    log(f"{name}: max abs error vs NumPy {max_abs_err:.3g}")

    def med(k: str) -> float:
        return statistics.median(s[k] for s in samples)

    total = [s["share_s"] + s["run_s"] + s["reveal_s"] for s in samples]
    return {
        "run_s": med("run_s"),
        "details": {
            "input_shapes": shapes,
            "compile_s": compile_s,
            "share_s": med("share_s"),
            "run_s": med("run_s"),
            "reveal_s": med("reveal_s"),
            "total_s": statistics.median(total),
            "run_s_samples": [s["run_s"] for s in samples],
            "max_abs_err": max_abs_err,
            **({"mismatches": mismatches} if mismatches is not None else {}),
            "loadavg_1min_after": os.getloadavg()[0],
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="size multiplier (0.1 = 10x smaller)")
    p.add_argument("--repeats", type=int, default=3, help="runs per op; the median is reported")
    p.add_argument("--ops", default="mul,lt,sigmoid,matmul,div")
    p.add_argument("--seed", type=int, default=20240607, help="seed for the benchmark inputs")
    args = p.parse_args(argv)
    # libspu's C++ logger writes to fd 1; keep the real stdout for the JSON result only.
    result_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    t_import = time.perf_counter()
    import jax
    import jax.numpy as jnp
    import spu
    import spu.libspu as libspu

    import_s = time.perf_counter() - t_import
    ops = build_ops(jnp, jax)
    wanted = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in wanted if o not in ops]
    if unknown:
        p.error(f"unknown ops {unknown}; known: {sorted(ops)}")

    load_at_start = os.getloadavg()[0]
    rng = np.random.default_rng(args.seed)
    result_ops: dict[str, float] = {}
    details: dict[str, dict] = {}
    for name in wanted:
        op = ops[name]
        res = bench_op(name, op, args.scale, args.repeats, rng)
        result_ops[op.key] = res["run_s"]
        details[op.key] = res["details"]

    out = {
        "peer": f"spu-{spu.__version__}-aby3-sim",
        "config": {
            "parties": N_PARTIES,
            **describe_config(runtime_config(libspu)),
            "other_runtime_config": "spu defaults (RuntimeConfig(protocol, field, fxp_fraction_bits))",
            "sigmoid": "jax.nn.sigmoid; spu 0.9.5's compiler lowers it to reciprocal(1 + exp(-x)), "
            "i.e. exp EXP_DEFAULT (= Taylor: (1 + x/2^n)^(2^n), n = fxp_exp_iters) and "
            "Goldschmidt reciprocal; sigmoid_mode only applies to pphlo.logistic, "
            "which jax does not emit",
            "div": "x / y lowered to spu's fxp division (Goldschmidt, fxp_div_goldschmidt_iters)",
            "compiler_options": "spu defaults (libspu.CompilerOptions())",
            "simulation": "3 party threads in one process, SPU in-memory link",
            "dtype": "float32 inputs, encoded as fixed point",
            "scale": args.scale,
            "repeats": args.repeats,
            "seed": args.seed,
            "timing": "ops = median wall seconds of the parties' rt.run (protocol only); "
            "share/reveal/compile separately in details",
            "jax": jax.__version__,
            "numpy": np.__version__,
            "cpu_count": os.cpu_count(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "import_s": import_s,
            "loadavg_1min_at_start": load_at_start,
        },
        "ops": result_ops,
        "details": details,
    }
    json.dump(out, result_out)
    result_out.write("\n")
    result_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
