"""`run_parties_tls`: run one OS process per party, connected by mutual TLS on loopback.

Same contract as `run_parties`, but each party is a 'spawn'ed process with its own freshly
issued certificate (one throw-away CA per call, files in a temporary directory), so protocol
code is exercised over the real transport. `fn` must be a module-level function and its
arguments and results picklable: they travel over multiprocessing's local parent<->child pipe,
never over the network.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from yinji.crypto.certs import issue_cert, make_ca, write_cert_key
from yinji.net.ports import free_ports
from yinji.net.tls import TlsConfig, tls_network

_GRACE = 10.0  # seconds on top of `timeout` for start-up, connecting and closing



def make_tls_configs(names: Sequence[str], directory: str | Path) -> dict[str, TlsConfig]:
    """A throw-away CA and one certificate per party, written under `directory`."""
    directory = Path(directory)
    ca = make_ca("yinji-test-ca")
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    configs = {}
    for name in names:
        cert_file, key_file = write_cert_key(issue_cert(ca, name), directory, f"party{len(configs)}")
        configs[name] = TlsConfig(cert_file, key_file, ca_file)
    return configs


def _child(fn: Callable[..., Any], name: str, addresses: dict[str, tuple[str, int]],
           config: TlsConfig, args: Sequence[Any], timeout: float, connect_timeout: float,
           conn: Connection) -> None:
    try:
        party = tls_network(name, addresses, config, timeout=timeout,
                            connect_timeout=connect_timeout)
        try:
            result = fn(party, *args)
        finally:
            party.close()  # flushes queued sends, and tells peers we are gone
        conn.send(("ok", result))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        text = traceback.format_exc()
        try:
            conn.send(("error", exc, text))
        except Exception:  # noqa: BLE001 - the exception itself does not pickle
            conn.send(("error", None, text))
    finally:
        conn.close()


def run_parties_tls(fn: Callable[..., Any], n: int = 3, *, names: Sequence[str] | None = None,
                    args: Sequence[Sequence[Any]] | None = None, timeout: float = 60.0,
                    connect_timeout: float = 20.0) -> list[Any]:
    """Call `fn(party, *args[i])` in one process per party over TLS; return results in order.

    If a party raises, the first exception by party order is re-raised (with the remote
    traceback as a note) once every process has ended; processes still running after
    `connect_timeout + timeout` plus a grace period are killed.
    """
    names = list(names) if names is not None else [f"P{i}" for i in range(n)]
    ctx = mp.get_context("spawn")
    workdir = tempfile.mkdtemp(prefix="yinji-tls-")
    procs: list[mp.process.BaseProcess] = []
    outcomes: dict[int, tuple] = {}
    try:
        configs = make_tls_configs(names, workdir)
        addresses = {name: ("127.0.0.1", port)
                     for name, port in zip(names, free_ports(len(names)), strict=True)}
        pipes = {}
        for i, name in enumerate(names):
            recv_end, send_end = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_child, name=f"yinji-party-{name}", daemon=True,
                args=(fn, name, addresses, configs[name], tuple(args[i]) if args else (),
                      timeout, connect_timeout, send_end))
            proc.start()
            send_end.close()
            procs.append(proc)
            pipes[recv_end] = i
        deadline = time.monotonic() + connect_timeout + timeout + _GRACE
        while pipes and (remaining := deadline - time.monotonic()) > 0:
            for conn in wait(list(pipes), timeout=remaining):
                i = pipes.pop(conn)
                try:
                    outcomes[i] = conn.recv()
                except EOFError:
                    pass  # the child died without reporting; handled below
                conn.close()
    finally:
        grace = 5.0 if len(outcomes) == len(names) else 0.0  # all reported: let them exit
        for proc in procs:
            proc.join(timeout=grace)
            if proc.is_alive():
                proc.kill()
                proc.join()
        shutil.rmtree(workdir, ignore_errors=True)
    results = []
    for i, (name, proc) in enumerate(zip(names, procs, strict=True)):
        outcome = outcomes.get(i)
        if outcome is None:
            raise RuntimeError(f"party {name} ended without a result "
                               f"(exit code {proc.exitcode}; killed after the time limit?)")
        if outcome[0] == "error":
            _, exc, text = outcome
            if exc is None:
                exc = RuntimeError(f"party {name} failed")
            exc.add_note(f"--- traceback in party {name} ---\n{text}")
            raise exc
        results.append(outcome[1])
    return results


__all__ = ["free_ports", "make_tls_configs", "run_parties_tls"]
