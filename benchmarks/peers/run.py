"""Run a peer benchmark (spu ABY3, spu unbalanced PSI, MPyC) in its side venv; return its JSON.

Standard library only, so the project's own benchmarks can import it from the main venv:

    from benchmarks.peers.run import run_peer       # or: sys.path-insert benchmarks/peers
    spu = run_peer("spu", scale=1.0)                 # dict, or None (reason printed to stderr)
    mpyc = run_peer("mpyc")
    ub = run_peer("spu_ub_psi", scale=1.0)          # spu's unbalanced PSI (benchmarks/pir.py)

The side venvs are made by ``benchmarks/peers/setup.sh`` under ``benchmarks/.peers/``.
Also runnable: ``python benchmarks/peers/run.py spu --scale 0.1``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / ".peers"

# name -> (side venv, script)
PEERS = {
    "spu": ("spu", "spu_aby3.py"),
    "spu_ub_psi": ("spu", "spu_ub_psi.py"),
    "mpyc": ("mpyc", "mpyc_ops.py"),
    "spu_lr": ("spu", "spu_lr.py"),
}


def _say(msg: str) -> None:
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


def peer_python(name: str) -> Path:
    """The interpreter of the side venv for peer ``name`` (it may not exist yet)."""
    venv, _ = PEERS[name]
    return VENVS / venv / "bin" / "python"


def run_peer(
    name: str,
    scale: float = 1.0,
    timeout: float = 900,
    extra_args: list[str] | None = None,
) -> dict | None:
    """Run peer ``name`` (a key of ``PEERS``) at ``scale`` and return its parsed JSON result.

    Returns None, with the reason printed to stderr, when the side venv is missing, the run
    fails or times out, or its output is not JSON. The peer's own progress log (its stderr)
    is passed through to this process's stderr.
    """
    if name not in PEERS:
        _say(f"unknown peer {name!r}; known: {sorted(PEERS)}")
        return None
    venv, script = PEERS[name]
    python = peer_python(name)
    if not python.exists() or not (VENVS / venv / ".installed").exists():
        _say(
            f"{name}: side venv {VENVS / venv} is missing or incomplete; "
            f"run benchmarks/peers/setup.sh {venv}"
        )
        return None
    cmd = [str(python), str(HERE / script), "--scale", repr(scale), *(extra_args or [])]
    _say(f"{name}: running {' '.join(cmd)}")
    t0 = time.perf_counter()
    # Own session, so that a timeout can end the peer and any party processes it started.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=None, text=True, start_new_session=True
    )
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        _say(f"{name}: timed out after {timeout:.0f} s")
        return None
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        _say(f"{name}: failed with exit code {proc.returncode}")
        return None
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            result.setdefault("config", {})["wall_s_including_startup"] = wall
            return result
    _say(f"{name}: no JSON result on stdout; got {stdout[-500:]!r}")
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run one peer benchmark and print its JSON.")
    p.add_argument("name", choices=sorted(PEERS))
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--timeout", type=float, default=900)
    args, extra = p.parse_known_args(argv)
    result = run_peer(args.name, scale=args.scale, timeout=args.timeout, extra_args=extra)
    if result is None:
        return 1
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
