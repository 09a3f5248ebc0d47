"""Peer benchmark: SecretFlow SPU 0.9.5 unbalanced PSI (``ub_psi``, ECDH-OPRF), 2 processes.

The closest spu 0.9.5 has to keyword PIR: it has no PIR and no labeled PSI, so this is
**membership only** (no labels). The server holds a big key set, the client a few keys; the
client learns which of its keys are in the server's set.

Runs inside the side venv made by ``benchmarks/peers/setup.sh`` (``benchmarks/.peers/spu``).
Prints ONE JSON object to stdout; all progress (and spu's own C++ log) goes to stderr.

Layout: for every job this driver starts a fresh pair of party processes (this script with
``--worker``; rank 0 is the server, rank 1 the client) that run one ``ub_psi_execute`` over
spu's brpc link on 127.0.0.1 with fresh ports, then exit. (Long-lived parties running several
jobs, each on a new link, hung at random in the 2nd or 3rd job's handshake here; fresh
processes per job, as spu's own tests do, did not.) Phases:

* ``offline_gen_cache_s``  -- server alone (no link): OPRF of all N keys under its key, written
  to its cache directory (MODE_OFFLINE_GEN_CACHE);
* ``offline_transfer_cache_s`` -- server sends the whole cache to the client, which stores it
  (MODE_OFFLINE_TRANSFER_CACHE); a one-off download per server key set, like a PIR hint;
* ``online_batch_{1,16,256}_s`` -- one query job with 1/16/256 client keys (MODE_ONLINE,
  ``client_receive_result=True``; without it the server shuffles its answers and the client
  learns nothing): blind, server evaluates, client unblinds and looks the results up in the
  downloaded cache, writes its output CSV. Median of ``--repeats`` jobs.

Each job's time is from the earliest ``ub_psi_execute`` call to the latest return over the two
parties (CLOCK_MONOTONIC, shared by the processes); it includes spu's link handshake
(ConnectToMesh, inside the call), reading the input CSV and writing the output CSV. Creating
the link objects (``create_brpc``) is timed separately (``link_create_s``). Process start-up
and imports are excluded.

Bytes: spu exposes no byte counters. For bytes, one extra job per phase runs with each party's
peer address pointing at a counting TCP relay in this driver (party i listens on its real port;
the other party connects to the relay, which forwards to it). The counts are TCP payload bytes
(brpc framing included; TCP/IP headers not), per direction. The timed jobs run direct, without
the relay. File sizes of both caches are reported as well.

Server key: a 32-byte key file (``UbPsiServerParams.secret_key_path``, from ``os.urandom``,
mode 0600) is given. spu 0.9.5 still writes the key, base64, into the server's
``ub_psi_cache.meta`` (``"privKey"``), key file or not; ``details.server_key_found_in_cache``
records what the cache files hold (raw, hex or base64). All files, including spu's temporary
folders (TMPDIR points there), live in one temporary directory (mode 0700) removed at the end.

Usage: python spu_ub_psi.py [--scale 0.1] [--repeats 3] [--batches 1,16,256] [--keep]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SERVER, CLIENT = 0, 1
BASE_KEY = 110101000000000000  # same key shape as benchmarks/pir.py (18-digit IDs)
KEY_STEP = 7919


def log(msg: str) -> None:
    print(f"[spu_ub_psi] {msg}", file=sys.stderr, flush=True)


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def key_of(i: int) -> str:
    return f"{BASE_KEY + KEY_STEP * i:018d}"


# --------------------------------------------------------------------------------- worker


def worker() -> int:
    """One party: run the JSON job(s) read on stdin, answer one JSON line per job."""
    result_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # libspu logs to fd 1
    import spu.libspu as libspu
    import spu.psi as psi

    link = libspu.link
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            reply = run_job(job, link, psi)
        except Exception as exc:  # reported to the driver, which fails the run
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        result_out.write(json.dumps(reply) + "\n")
        result_out.flush()
    return 0


def make_config(psi, c: dict):
    kw: dict = {
        "mode": getattr(psi.UbPsiMode, c["mode"]),
        "role": getattr(psi.UbPsiRole, c["role"]),
        "cache_path": c["cache_path"],
        "client_receive_result": c.get("client_receive_result", False),
        "server_receive_result": False,
    }
    if c.get("input"):
        kw["input_params"] = psi.InputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV,
            path=c["input"],
            selected_keys=["id"],
            keys_unique=True,
        )
    if c.get("output"):
        kw["output_params"] = psi.OutputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV, path=c["output"]
        )
    if c.get("key_file"):
        kw["server_params"] = psi.UbPsiServerParams(secret_key_path=c["key_file"])
    return psi.UbPsiExecuteConfig(**kw)


def run_job(job: dict, link, psi) -> dict:
    config = make_config(psi, job["config"])
    t0 = now()
    if not job.get("hosts"):
        # A job of one party (offline cache generation) still needs a link object: passing
        # None crashes libpsi (SIGSEGV). A one-party in-memory link carries nothing.
        desc = link.Desc()
        desc.add_party("party0", "thread_0")
        lctx = link.create_mem(desc, 0)
    else:
        desc = link.Desc()
        desc.id = job["link_id"]
        for rank, host in enumerate(job["hosts"]):
            desc.add_party(f"party{rank}", host)
        desc.connect_retry_times = 100
        desc.connect_retry_interval_ms = 100
        desc.recv_timeout_ms = 30 * 60 * 1000
        # Default retries add 1-4 s per job when both parties start together (see
        # ../shared/notes/spu-0.9.5.md); RetryOptions has no constructor: read, change, assign.
        retry = desc.retry_opts
        retry.retry_interval_ms = 100
        retry.retry_interval_incr_ms = 0
        retry.max_retry = 100
        desc.retry_opts = retry
        lctx = link.create_brpc(desc, job["rank"])
    t1 = now()
    report = psi.ub_psi_execute(config, lctx)
    t2 = now()
    return {
        "link_create_s": t1 - t0,
        "start": t1,
        "end": t2,
        "original_count": report.original_count,
        "intersection_count": report.intersection_count,
    }


# --------------------------------------------------------------------------------- driver


class Party:
    def __init__(self, rank: int, env: dict) -> None:
        self.rank = rank
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            env=env,
        )

    def send(self, job: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(dict(job, rank=self.rank)) + "\n")
        self.proc.stdin.close()  # one job per process

    def receive(self, timeout: float) -> dict:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"party {self.rank}: no answer in {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"party {self.rank} exited (code {self.proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"party {self.rank}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Relay:
    """Counting TCP relay 127.0.0.1:listen -> 127.0.0.1:target (bytes each way)."""

    def __init__(self, listen: int, target: int) -> None:
        self.target = target
        self.forward = 0  # towards the target (bytes the other party sent to it)
        self.back = 0  # from the target back to the connecting party
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", listen))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                conn.close()
                continue
            for sock in (conn, up):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(conn, up, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, forward: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 20)
                if not data:
                    break
                dst.sendall(data)
                with self.lock:
                    if forward:
                        self.forward += len(data)
                    else:
                        self.back += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


class Bench:
    def __init__(self, work: Path, timeout: float) -> None:
        self.work = work
        self.timeout = timeout
        self.env = dict(os.environ, TMPDIR=str(work / "tmp"))  # spu's temporary folders
        (work / "tmp").mkdir()
        self.parties: list[Party] = []
        self.jobs = 0

    def run(self, configs: dict[int, dict], relay: bool = False) -> dict:
        """One job. ``configs`` maps rank -> config; a single rank means no link."""
        self.jobs += 1
        job: dict = {"link_id": f"ubpsi-{os.getpid()}-{self.jobs}"}
        relays: list[Relay] = []
        hosts: dict[int, list[str]] = {}
        if len(configs) == 2:
            real = free_ports(4 if relay else 2)
            if relay:
                relays = [Relay(real[2 + r], real[r]) for r in (SERVER, CLIENT)]
                # Each party listens on its own real port and reaches the other via its relay.
                hosts = {
                    SERVER: [f"127.0.0.1:{real[0]}", f"127.0.0.1:{real[3]}"],
                    CLIENT: [f"127.0.0.1:{real[2]}", f"127.0.0.1:{real[1]}"],
                }
            else:
                hosts = {r: [f"127.0.0.1:{p}" for p in real] for r in (SERVER, CLIENT)}
        self.parties = [Party(rank, self.env) for rank in configs]
        for party in self.parties:
            party.send(dict(job, config=configs[party.rank], hosts=hosts.get(party.rank)))
        try:
            replies = {party.rank: party.receive(self.timeout) for party in self.parties}
        finally:
            self.close()
        out = {
            "seconds": max(r["end"] for r in replies.values())
            - min(r["start"] for r in replies.values()),
            "link_create_s": max(r["link_create_s"] for r in replies.values()),
            "replies": replies,
        }
        if relays:
            for rl in relays:
                rl.close()
            # relays[SERVER] carries the client's connections to the server (forward = client
            # -> server, back = replies); relays[CLIENT] the server's connections to the client.
            s_to_c = relays[CLIENT].forward + relays[SERVER].back
            c_to_s = relays[SERVER].forward + relays[CLIENT].back
            out["bytes_server_to_client"] = s_to_c
            out["bytes_client_to_server"] = c_to_s
        return out

    def close(self) -> None:
        for p in self.parties:
            p.close()
        self.parties = []


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def key_in_dir(path: Path, key: bytes) -> bool:
    needles = (key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key))
    for f in path.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            if any(n in data for n in needles):
                return True
    return False


def write_keys(path: Path, keys: list[str]) -> None:
    path.write_text("id\n" + "\n".join(keys) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="server set = 10^6 x scale keys")
    p.add_argument("--repeats", type=int, default=3, help="timed online jobs per batch size")
    p.add_argument("--batches", default="1,16,256", help="client keys per online job")
    p.add_argument("--seed", type=int, default=20240607, help="seed for picking client keys")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per job")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker()

    import spu

    n = max(1, round(1_000_000 * args.scale))
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="yinji-ubpsi-")).resolve()  # spu needs absolute paths
    log(f"work directory {work}; server set {n:,} keys; batches {batches}")
    load_at_start = os.getloadavg()[0]
    bench = Bench(work, args.timeout)
    try:
        result = measure(bench, work, n, batches, args)
    finally:
        bench.close()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["peer"] = f"spu-{spu.__version__}-ub-psi-ecdh"
    result["config"].update(
        {
            "scale": args.scale,
            "server_keys": n,
            "batches": batches,
            "repeats": args.repeats,
            "seed": args.seed,
            "cpu_count": os.cpu_count(),
            "loadavg_1min_at_start": load_at_start,
            "loadavg_1min_after": os.getloadavg()[0],
        }
    )
    print(json.dumps(result), flush=True)
    return 0


def measure(bench: Bench, work: Path, n: int, batches: list[int], args) -> dict:
    server_csv = work / "server.csv"
    t = now()
    write_keys(server_csv, [key_of(i) for i in range(n)])
    log(f"wrote {server_csv.name} ({server_csv.stat().st_size:,} bytes) in {now() - t:.1f} s")
    key_file = work / "server.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    server_key = os.urandom(32)
    os.write(fd, server_key)
    os.close(fd)
    s_cache, c_cache = work / "server_cache", work / "client_cache"

    server_base = {"role": "ROLE_SERVER", "cache_path": str(s_cache), "key_file": str(key_file)}
    client_base = {"role": "ROLE_CLIENT", "cache_path": str(c_cache)}

    log("offline: server generates its cache (no link)")
    gen = bench.run({SERVER: dict(server_base, mode="MODE_OFFLINE_GEN_CACHE",
                                  input=str(server_csv))})
    log(f"offline gen cache: {gen['seconds']:.2f} s")
    s_cache_bytes = dir_bytes(s_cache)

    def transfer(relay: bool) -> dict:
        return bench.run({
            SERVER: dict(server_base, mode="MODE_OFFLINE_TRANSFER_CACHE"),
            CLIENT: dict(client_base, mode="MODE_OFFLINE_TRANSFER_CACHE"),
        }, relay=relay)

    log("offline: cache transfer, timed (direct)")
    tr = transfer(relay=False)
    log(f"offline transfer: {tr['seconds']:.2f} s")
    log("offline: cache transfer again through the counting relay (bytes)")
    tr_bytes = transfer(relay=True)
    c_cache_bytes = dir_bytes(c_cache)
    received = tr["replies"][CLIENT]["original_count"]
    log(f"transfer: client cache {c_cache_bytes:,} bytes for {received:,} items; "
        f"{tr_bytes['bytes_server_to_client']:,} bytes server->client")

    rng = np.random.default_rng(args.seed)
    ops: dict[str, float] = {
        "offline_gen_cache_s": gen["seconds"],
        "offline_transfer_cache_s": tr["seconds"],
    }
    online: dict[str, dict] = {}
    for b in batches:
        present = (b + 1) // 2
        idx = rng.choice(n, size=min(present, n), replace=False)
        keys = [key_of(int(i)) for i in idx] + [key_of(n + j) for j in range(b - len(idx))]
        order = rng.permutation(len(keys))
        keys = [keys[int(i)] for i in order]
        q_csv = work / f"query_{b}.csv"
        write_keys(q_csv, keys)
        out_csv = work / f"out_{b}.csv"

        def query(relay: bool, q_csv=q_csv, out_csv=out_csv) -> dict:
            return bench.run({
                SERVER: dict(server_base, mode="MODE_ONLINE", client_receive_result=True,
                             output=str(work / "server_out.csv")),
                CLIENT: dict(client_base, mode="MODE_ONLINE", client_receive_result=True,
                             input=str(q_csv), output=str(out_csv)),
            }, relay=relay)

        samples = []
        for r in range(args.repeats):
            res = query(relay=False)
            samples.append(res)
            log(f"online batch {b}: run {r + 1}/{args.repeats}: {res['seconds']:.3f} s "
                f"(link objects {res['link_create_s'] * 1e3:.0f} ms)")
        counted = query(relay=True)
        hits = samples[-1]["replies"][CLIENT]["intersection_count"]
        out_rows = len(out_csv.read_text().splitlines()) - 1 if out_csv.exists() else None
        correct = hits == len(idx) and out_rows == len(idx)
        log(f"online batch {b}: {hits} hits of {b} keys (expected {len(idx)}), output rows "
            f"{out_rows}; bytes c->s {counted['bytes_client_to_server']:,}, "
            f"s->c {counted['bytes_server_to_client']:,}")
        if not correct:
            raise RuntimeError(f"batch {b}: wrong intersection ({hits}, {out_rows} rows, "
                               f"expected {len(idx)})")
        secs = [s["seconds"] for s in samples]
        ops[f"online_batch_{b}_s"] = statistics.median(secs)
        online[str(b)] = {
            "keys": b,
            "present": len(idx),
            "intersection_count": hits,
            "correct": correct,
            "seconds_samples": secs,
            "link_create_s_median": statistics.median(s["link_create_s"] for s in samples),
            "seconds_through_relay": counted["seconds"],
            "bytes_client_to_server": counted["bytes_client_to_server"],
            "bytes_server_to_client": counted["bytes_server_to_client"],
        }

    key_found = key_in_dir(s_cache, server_key) or key_in_dir(c_cache, server_key)
    return {
        "config": {
            "protocol": "spu.psi.ub_psi_execute (ECDH-OPRF unbalanced PSI, psi library bundled "
            "with spu); spu defaults for curve and batch size",
            "what": "membership only (no labels); client_receive_result=True, "
            "server_receive_result=False; keys_unique=True",
            "parties": "2 OS processes (rank 0 server, rank 1 client), brpc link on 127.0.0.1",
            "link": "connect_retry 100 x 100 ms, retry_opts 100 x 100 ms, no increment",
            "timing": "earliest ub_psi_execute call to latest return over both parties; "
            "includes link handshake and CSV I/O; excludes create_brpc and process start",
            "bytes": "TCP payload bytes through a counting relay in the driver, one extra "
            "job per phase (not the timed jobs); TCP/IP headers excluded",
        },
        "ops": ops,
        "details": {
            "offline_gen_cache": {"seconds": gen["seconds"],
                                  "items": gen["replies"][SERVER]["original_count"],
                                  "server_cache_bytes": s_cache_bytes},
            "offline_transfer_cache": {
                "seconds": tr["seconds"],
                "items_received": received,
                "client_cache_bytes": c_cache_bytes,
                "client_cache_bytes_per_item": c_cache_bytes / max(1, received),
                "seconds_through_relay": tr_bytes["seconds"],
                "bytes_server_to_client": tr_bytes["bytes_server_to_client"],
                "bytes_client_to_server": tr_bytes["bytes_client_to_server"],
            },
            "online": online,
            "server_key_file_given": True,
            "server_key_found_in_cache": key_found,
        },
    }


if __name__ == "__main__":
    sys.exit(main())
