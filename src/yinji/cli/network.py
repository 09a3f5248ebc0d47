"""`yinji network up | down | scenario | demo`: four company nodes on loopback.

`up` creates (once) a node folder per company under --dir with certificates, signing keys,
peers (each node pins the others' fingerprints), sample data, datasets with column policies,
approval policies and API tokens (DIR/tokens.yaml, mode 0600, never printed), then starts each
node as its own process and waits until all answer. `down` stops them. `scenario` runs a PSI
job and an MPC aggregation job through the REST API only, prints the results, checks them
against a plaintext computation over the sample files (only the demo can see all files) and
verifies every node's audit log. `demo` = up + scenario + down, in a fresh folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from yinji.net.ports import free_ports

COMPANIES = ["securities", "fund", "futures", "offshore"]
GROUP = "group"   # the demo's group node: the AML officer of joint-aml
SEGMENTS = ["retail", "affluent", "private", "institutional"]
ROLES = ("operator", "approver", "auditor")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("network", help="a local four-node network for experiments")
    s = p.add_subparsers(dest="network_command", metavar="SUBCOMMAND")
    for name, fn, text in (("up", _up, "create (once) and start the nodes"),
                           ("down", _down, "stop the nodes"),
                           ("scenario", _scenario, "run the PSI + MPC scenario via REST"),
                           ("demo", _demo, "up + scenario + down in a fresh folder")):
        c = s.add_parser(name, help=text)
        c.add_argument("--dir", default=None if name == "demo" else "yinji-net",
                       help="network folder" + (" (default: a temporary one)"
                                                if name == "demo" else " (default yinji-net)"))
        if name == "demo":
            c.add_argument("--reports", default="demo-reports",
                           help="where the apps' reports are written (default demo-reports)")
        c.set_defaults(func=fn)
    p.set_defaults(func=lambda a: p.print_help() or 2)


# -- set-up ---------------------------------------------------------------------------------


def write_sample_data(directory: Path, companies: list[str], seed: int = 2026,
                      customers: int = 3000) -> None:
    """Synthetic customers per company: group-wide customer numbers, segment, assets."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"G{n:08d}" for n in range(1, customers + 1)])
    segment_of = rng.choice(len(SEGMENTS), size=customers, p=[0.7, 0.2, 0.08, 0.02])
    scale = np.array([5e4, 4e5, 3e6, 2e7])[segment_of]
    share = {"securities": 0.5, "fund": 0.35, "futures": 0.2, "offshore": 0.1}
    for company in companies:
        holds = rng.random(customers) < share.get(company, 0.3)
        amounts = np.round(rng.lognormal(0, 1.0, customers) * scale, 2)
        path = directory / company / "data" / "customers.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["customer_id", "segment", "assets_cny"])
            for i in np.flatnonzero(holds):
                w.writerow([ids[i], SEGMENTS[segment_of[i]], f"{amounts[i]:.2f}"])


def create_network(root: Path, companies: list[str] | None = None, *,
                   database_urls: dict[str, str] | None = None,
                   job_timeout: float = 60.0,
                   policies: dict[str, list[dict[str, Any]]] | None = None,
                   crypto_profile: str = "international") -> dict[str, Any]:
    """Create node folders, peers, data, datasets, policies and tokens; return the manifest.
    Every peer, dataset and token is added through `yinji.node.admin`, so each node's audit
    log starts with them (by "yinji network"). Every node gets `crypto_profile` (nodes of
    different profiles refuse each other)."""
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule
    from yinji.node.identity import export_bundle, init_node

    companies = companies or COMPANIES
    root.mkdir(parents=True, exist_ok=True)
    ports = free_ports(2 * len(companies))
    cfgs = {}
    for k, name in enumerate(companies):
        cfgs[name] = init_node(root / name, name, api_port=ports[2 * k],
                               dataplane_port=ports[2 * k + 1],
                               database_url=(database_urls or {}).get(name),
                               crypto_profile=crypto_profile)
    bundles = {n: export_bundle(c) for n, c in cfgs.items()}
    write_sample_data(root, companies)   # into each node's default data root, <home>/data
    tokens: dict[str, dict[str, str]] = {}
    for name, cfg in cfgs.items():
        with open_admin(cfg.home, by="yinji network") as admin:
            for other, bundle in bundles.items():
                if other != name:   # fingerprint known: we made it
                    admin.add_peer(bundle, bundle["fingerprint"])
            admin.cfg.job_timeout = job_timeout
            # Policy: MPC aggregation inside the group is pre-approved; PSI needs a person at
            # the offshore broker (cross-border), and is pre-approved elsewhere.
            admin.cfg.auto_approve = (
                [{"protocols": ["mpc.aggregate"]}] if name == "offshore" else
                [{"protocols": ["mpc.aggregate", "psi.intersect", "psi.cardinality"]}])
            if policies and name in policies:
                admin.cfg.auto_approve = policies[name]
            admin.cfg.save()
            admin.catalog.register(Dataset(
                id="customers", kind="csv", location="data/customers.csv",
                schema={"customer_id": "string", "segment": "string", "assets_cny": "float"},
                policy=[PolicyRule(columns=["segment", "assets_cny"],
                                   protocols=["mpc.aggregate"]),
                        PolicyRule(columns=["customer_id"],
                                   protocols=["psi.intersect", "psi.cardinality"])]),
                by=admin.by)
            tokens[name] = {role: admin.tokens.add(f"{name}-{role}", role, by=admin.by)
                            for role in ROLES}
    manifest = {"nodes": {n: {"home": str(c.home), "api": c.api_url,
                              "api_ca": str(c.cert_file)}   # verifies its HTTPS certificate
                          for n, c in cfgs.items()}}
    (root / "network.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    from yinji.crypto.certs import write_private

    write_private(root / "tokens.yaml", yaml.safe_dump(tokens).encode())
    return manifest


def start_nodes(root: Path, env: dict[str, dict[str, str]] | None = None,
                only: list[str] | None = None, wait: float = 60.0) -> dict[str, int]:
    """Start each node as its own process (pid in <home>/node.pid); wait for /health."""
    import httpx

    manifest = yaml.safe_load((root / "network.yaml").read_text())
    pids = {}
    for name, info in manifest["nodes"].items():
        if only and name not in only:
            continue
        home = Path(info["home"])
        log = open(home / "node.log", "ab")  # noqa: SIM115 - handed to the child
        child_env = {**os.environ, **((env or {}).get(name, {}))}
        proc = subprocess.Popen([sys.executable, "-m", "yinji.cli.main", "node", "serve",
                                 "--home", str(home)], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=child_env)
        log.close()
        (home / "node.pid").write_text(str(proc.pid))
        pids[name] = proc.pid
    deadline = time.monotonic() + wait
    for name in pids:
        url = manifest["nodes"][name]["api"]
        verify = api_verify(manifest["nodes"][name])
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2, verify=verify).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {name} did not come up; see "
                                   f"{manifest['nodes'][name]['home']}/node.log")
            time.sleep(0.1)
    return pids


def stop_nodes(root: Path, only: list[str] | None = None, kill: bool = False) -> None:
    manifest = yaml.safe_load((root / "network.yaml").read_text())
    for name, info in manifest["nodes"].items():
        if only and name not in only:
            continue
        pid_file = Path(info["home"]) / "node.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        _stop(pid, kill)
        pid_file.unlink()


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pid: int, kill: bool = False) -> None:
    try:
        os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


# -- scenario ---------------------------------------------------------------------------------

def api_verify(info: dict[str, Any]) -> Any:
    """httpx's `verify=` for a node of the manifest: its certificate as the trust anchor."""
    from yinji.node.https import client_verify

    return client_verify(info["api"], info.get("api_ca"))


class Api:
    """A tiny REST client for one node (httpx); `verify` checks its HTTPS certificate (pass
    it to any other client of this node)."""

    def __init__(self, url: str, tokens: dict[str, str], verify: Any = True,
                 ca: str | None = None) -> None:
        import httpx

        self.url, self.tokens, self.verify, self.ca = url, tokens, verify, ca
        self.http = httpx.Client(base_url=url, timeout=120, verify=verify)

    def call(self, method: str, path: str, role: str = "operator", **kw: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        try:
            r = self.http.request(method, path, headers=headers, **kw)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if method != "GET":  # a reused connection closed under us: only GET is safe to repeat
                raise
            r = self.http.request(method, path, headers=headers, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {self.url}{path}: {r.status_code} {r.text}")
        return r.json()

    def close(self) -> None:
        self.http.close()


def clients(root: Path) -> dict[str, Api]:
    manifest = yaml.safe_load((root / "network.yaml").read_text())
    tokens = yaml.safe_load((root / "tokens.yaml").read_text())
    return {n: Api(i["api"], tokens[n], api_verify(i), i.get("api_ca"))
            for n, i in manifest["nodes"].items()}


def wait_job(apis: dict[str, Api], job_id: str, nodes: list[str],
             timeout: float = 120.0) -> dict[str, dict[str, Any]]:
    """Poll each node until the job is final there; return each node's view."""
    final = ("succeeded", "failed", "cancelled", "rejected", "expired")
    deadline = time.monotonic() + timeout
    views: dict[str, dict[str, Any]] = {}
    while True:
        for n in nodes:
            if n not in views or views[n]["state"] not in final:
                views[n] = apis[n].call("GET", f"/jobs/{job_id}", role="auditor")
        if all(v["state"] in final for v in views.values()):
            return views
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} not finished: "
                               + ", ".join(f"{n}={v['state']}" for n, v in views.items()))
        time.sleep(0.1)


def _read(root: Path, company: str) -> list[dict[str, str]]:
    with open(root / company / "data" / "customers.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run_scenario(root: Path, out=print) -> bool:  # type: ignore[no-untyped-def]
    """PSI + MPC aggregation via the REST API; True if results and audits are all correct."""
    apis = clients(root)
    ok = True
    skipped: list[str] = []
    try:
        # 1. MPC aggregation: securities, fund, futures; result to securities only.
        trio = ["securities", "fund", "futures"]
        job = apis["securities"].call("POST", "/jobs", json={
            "protocol": "mpc.aggregate",
            "inputs": {n: {"dataset": "customers", "columns": ["segment", "assets_cny"]}
                       for n in trio},
            "params": {"groups": SEGMENTS, "metrics": ["sum", "count", "mean"]},
            "recipients": ["securities"]})
        views = wait_job(apis, job["id"], trio)
        states = {n: v["state"] for n, v in views.items()}
        out(f"MPC aggregation job {job['id'][:12]}: {states}")
        if set(states.values()) != {"succeeded"}:
            out("  reasons: " + "; ".join(f"{n}: {v['reason']}" for n, v in views.items()))
            ok = False
        else:
            res = apis["securities"].call("GET", f"/jobs/{job['id']}/result")["result"]
            rows = [r for n in trio for r in _read(root, n)]
            out(f"  {'segment':<14}{'sum (CNY)':>20}{'count':>8}{'mean (CNY)':>16}")
            for i, g in enumerate(res["groups"]):
                vals = [float(r["assets_cny"]) for r in rows if r["segment"] == g]
                out(f"  {g:<14}{res['sum'][i]:>20,.2f}{int(res['count'][i]):>8}"
                    f"{res['mean'][i]:>16,.2f}")
                mean = sum(vals) / len(vals) if vals else 0.0
                if (abs(res["sum"][i] - sum(vals)) > 1e-6 * max(1.0, sum(vals)) + 0.5
                        or int(res["count"][i]) != len(vals)
                        or abs(res["mean"][i] - mean) > 1e-4 * abs(mean) + 0.5):
                    out(f"  MISMATCH for {g}: plaintext sum {sum(vals):.2f} count {len(vals)} "
                        f"mean {mean:.2f}")
                    ok = False
            for n in ("fund", "futures"):
                if views[n]["has_result"]:
                    out(f"  ERROR: {n} holds a result it must not have")
                    ok = False
            hashes = {v["approvals_hash"] for v in views.values()}
            out(f"  approvals hash agreed by all three nodes: {len(hashes) == 1}")
            ok &= len(hashes) == 1

        # 2. PSI between securities and offshore; the offshore approver signs off by hand.
        pair = ["securities", "offshore"]
        info = apis["securities"].call("GET", "/node", role="auditor")
        if info["protocols"].get("psi.intersect") != "available":
            out(f"PSI job SKIPPED: {info['protocols'].get('psi.intersect')}")
            skipped.append("psi.intersect")
        else:
            job = apis["securities"].call("POST", "/jobs", json={
                "protocol": "psi.intersect",
                "inputs": {n: {"dataset": "customers", "columns": ["customer_id"]} for n in pair},
                "recipients": ["securities"]})
            _wait_state(apis["offshore"], job["id"], ("proposed",))
            apis["offshore"].call("POST", f"/jobs/{job['id']}/approve", role="approver",
                                  json={"reason": "cross-border PSI approved by compliance"})
            views = wait_job(apis, job["id"], pair)
            states = {n: v["state"] for n, v in views.items()}
            out(f"PSI job {job['id'][:12]}: {states}")
            if set(states.values()) != {"succeeded"}:
                out("  reasons: " + "; ".join(f"{n}: {v['reason']}" for n, v in views.items()))
                ok = False
            else:
                res = apis["securities"].call("GET", f"/jobs/{job['id']}/result")["result"]
                truth = ({r["customer_id"] for r in _read(root, "securities")}
                         & {r["customer_id"] for r in _read(root, "offshore")})
                out(f"  shared customers: {res['size']} (plaintext check: {len(truth)}); "
                    f"offshore holds a result: {views['offshore']['has_result']}")
                out(f"  securities' own keys: {res['own_keys']}")
                rows = len(_read(root, "securities"))
                ok &= set(res["intersection"]) == truth and not views["offshore"]["has_result"]
                ok &= res["own_keys"].startswith(f"{rows} rows: {rows} kept")

        # 3. Every node's audit log.
        for n, api in apis.items():
            rep = api.call("GET", "/audit/verify", role="auditor")
            out(f"audit verify {n:<11} {'OK' if rep['ok'] else 'FAILED'} "
                f"({rep['entries']} entries){'' if rep['ok'] else ': ' + '; '.join(rep['problems'])}")
            ok &= rep["ok"]
    finally:
        for api in apis.values():
            api.close()
    if skipped:
        out(f"skipped (protocol not installed on these nodes): {', '.join(skipped)}")
    return ok


def _wait_state(api: Api, job_id: str, states: tuple[str, ...], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.call("GET", f"/jobs/{job_id}", role="auditor")["state"] in states:
                return
        except RuntimeError:
            pass  # not arrived yet
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not reach {states} at {api.url}")


# -- commands ---------------------------------------------------------------------------------

def _up(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if not (root / "network.yaml").exists():
        create_network(root)
        print(f"created {len(COMPANIES)} nodes in {root} (tokens in {root / 'tokens.yaml'})")
    start_nodes(root)
    for n, i in yaml.safe_load((root / "network.yaml").read_text())["nodes"].items():
        print(f"{n:<11} {i['api']}")
    return 0


def _down(args: argparse.Namespace) -> int:
    stop_nodes(Path(args.dir))
    print("nodes stopped")
    return 0


def _scenario(args: argparse.Namespace) -> int:
    return 0 if run_scenario(Path(args.dir)) else 1


def demo(directory: str | None = None, reports: str = "demo-reports") -> int:
    """The four companies' nodes and the group node (the AML officer: no customer data in
    any app) up, the scenario, every installed app's demo (reports under `reports`), one call
    of the qualified-investor check published as a scenario API, everything down; 0 if all results, reports and audits are right."""
    from yinji.cli.apps_demo import run_apps
    from yinji.cli.scenario_demo import run_scenario_api

    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="yinji-net-"))
    ok = False
    try:
        if not (root / "network.yaml").exists():
            create_network(root, [*COMPANIES, GROUP])
        t0 = time.perf_counter()
        start_nodes(root)
        print(f"five nodes up in {time.perf_counter() - t0:.1f} s: {', '.join(COMPANIES)} "
              f"and {GROUP}")
        ok = run_scenario(root)
        ok = run_apps(root, Path(reports).resolve()) and ok
        ok = run_scenario_api(root) and ok
    finally:
        stop_nodes(root)
        print("nodes stopped")
        if directory is None:
            shutil.rmtree(root, ignore_errors=True)
    print("DEMO OK" if ok else "DEMO FAILED")
    return 0 if ok else 1


def _demo(args: argparse.Namespace) -> int:
    return demo(args.dir, args.reports)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="yinji.cli.network")
    register(parser.add_subparsers(dest="command"))
    ns = parser.parse_args(["network", *sys.argv[1:]])
    sys.exit(ns.func(ns))
