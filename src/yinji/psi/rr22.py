"""Optional faster two-party PSI: SecretFlow spu's RR22 (Raghuraman & Rindal, "Blazing Fast
PSI from Improved OKVS and Subfield VOLE", CCS 2022), behind `ecdh_psi(..., protocol="rr22")`.

spu pins numpy<2 and Python <= 3.11, so it usually cannot live in the project's environment.
The backend runs `spu_runner.py` as a subprocess under the interpreter named by
`spu_python`, the `YINJI_SPU_PYTHON` environment variable, or the current one if it can
import `spu` (the `yinji[spu]` extra). The two parties agree on spu's link addresses over
their authenticated yinji channel; keys go to spu as hex in a private temporary CSV.

Adversary model: semi-honest (RR22's semi-honest mode), two parties.

Leakage: as ECDH-PSI — the receiver(s) learn A∩B, both learn the set sizes. spu's own link
is plain TCP (brpc without TLS in this wiring): use it only on loopback or a network that is
otherwise protected; `host` defaults to 127.0.0.1.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yinji.net.channel import Party
from yinji.net.expect import UnexpectedMessage, recv_json

RUNNER = Path(__file__).with_name("spu_runner.py")
MARK = "YINJI_SPU_RESULT "
HELLO_BYTES = 4096   # the peer's link address and receiver, as JSON


class SpuUnavailable(RuntimeError):
    """No interpreter with `spu` was found for the rr22 backend."""


def find_spu_python(spu_python: str | None = None) -> str:
    """The interpreter to run spu with (argument, $YINJI_SPU_PYTHON, or this one)."""
    cand = spu_python or os.environ.get("YINJI_SPU_PYTHON")
    if cand:
        if not Path(cand).exists():
            raise SpuUnavailable(f"spu interpreter {cand} does not exist")
        return cand
    if importlib.util.find_spec("spu") is not None:
        return sys.executable
    raise SpuUnavailable("protocol='rr22' needs spu: pip install 'yinji[spu]' where it "
                         "installs, or set YINJI_SPU_PYTHON to a Python with spu==0.9.5 "
                         "(benchmarks/peers/setup.sh spu makes one)")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def rr22_psi(party: Party, peer: str, keys: Sequence[bytes], *, receiver: str | None = None,
             host: str = "127.0.0.1", spu_python: str | None = None,
             timeout: float = 3600.0) -> np.ndarray | None:
    """RR22 PSI through spu; same result contract as `ecdh_psi`."""
    python = find_spu_python(spu_python)
    ch = party.channel(peer)
    mine = f"{host}:{_free_port(host)}"
    ch.send_bytes(json.dumps({"host": mine, "receiver": receiver}).encode())
    theirs = recv_json(ch, "its link address", HELLO_BYTES, dict)
    if not isinstance(theirs.get("host"), str):
        raise UnexpectedMessage(f"{peer} sent no link address (host:port)")
    if theirs.get("receiver") != receiver:
        raise ValueError(f"{party.name} and {peer} disagree on the receiver")
    names = sorted([party.name, peer])
    rank = names.index(party.name)
    hosts = [mine, theirs["host"]] if rank == 0 else [theirs["host"], mine]
    receiver_rank = names.index(receiver) if receiver else 0
    with tempfile.TemporaryDirectory(prefix="yinji-rr22-") as tmp:
        inp, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        hexes = [k.hex() for k in keys]
        with open(inp, "w", newline="") as fh:
            fh.write("k\n")
            fh.write("\n".join(hexes))
            fh.write("\n")
        cmd = [python, str(RUNNER), "--rank", str(rank), "--hosts", *hosts, "--input", str(inp),
               "--output", str(out), "--receiver-rank", str(receiver_rank)]
        if receiver is None:
            cmd.append("--broadcast")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp)
        if proc.returncode or MARK not in proc.stdout:
            raise RuntimeError(f"spu RR22 failed (exit {proc.returncode}): "
                               f"{proc.stderr.strip()[-500:]}")
        if receiver not in (None, party.name):
            return None
        index = {h: i for i, h in enumerate(hexes)}
        with open(out, newline="") as fh:
            reader = csv.DictReader(fh)
            hits = sorted(index[row["k"]] for row in reader)
    return np.asarray(hits, dtype=np.int64)


__all__ = ["SpuUnavailable", "find_spu_python", "rr22_psi"]
