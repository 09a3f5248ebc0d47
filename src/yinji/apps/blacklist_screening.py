"""Blacklist sharing (黑名单共享): screen a day's new accounts against every member's watch
lists, without telling any member which accounts were screened.

Each member publishes its watch list (ID, tag, reason, date) from its catalog as a node PIR
service (`yinji.node.pir_services`: REST POST /pir/services or `yinji pir service add`; a
refresh is a new list version). The requester runs this app locally -- it is the app's only
participant and recipient, so no MPC session and no other company's approval: it reads the
accounts (role `accounts`: id_no [, name]) from its catalog or takes the IDs as private input,
normalises them as the members normalise their lists (`yinji.ids.normalize`, kind `id`
by default: full-width digits, spaces and a lower-case `x` all match), asks every member's
directory which lists it may query, and looks every account up at every member in one
request per member and 1,000 accounts (keyword PIR, `yinji.pir`). A member's day budget
admits such a batch as one request.

Report (to the requester's compliance team): the hits (account, member, tag, reason, date,
list version) and one status row per member -- ok with its list version, or down /
rate_limited / timeout / error with the reason. Any member not `ok` makes the summary say the
screening is INCOMPLETE and which lists were not checked: a member is never silently missing.
With the default members, every peer is asked for its directory; a peer whose directory
cannot be read is reported down (it may hold a list), not left out.

Adversary model: semi-honest members (yinji.pir; a malicious member may answer from another
list, which PIR does not detect). Leakage: each member learns that the requester screened,
when, how many accounts (the batch sizes) and against which version of its list -- not which
accounts, nor whether any hit. The requester learns, per account, each member's label or
"absent", the members' list versions, key kinds and remaining day budgets; nothing else about
the lists beyond SimplePIR's encrypted-database leakage (docs/pir.md). Members learn nothing
about each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role
from yinji.ids import KINDS, normalize

MAX_ACCOUNTS = 100_000      # per run; the members' day budgets are the real bound
BATCH = 1000                # keys per PIR request (yinji.node.pir_services.MAX_KEYS)
OK = "ok"
LABEL_FIELDS = ("tag", "reason", "date")


class BlacklistScreening(App):
    name = "blacklist-screening"
    version = "1"
    title = "Blacklist screening (黑名单共享)"
    summary = ("Screen new accounts against every member's watch lists by anonymous query: "
               "hits with tags to the requester's compliance team, every member's status.")
    roles = (Role("accounts", (Column("id_no", "id", "ID number of the new account"),
                               Column("name", "text", "account name (shown with hits)")),
                  help="the requester's new accounts", many=False, optional=("name",)),)
    params = (
        Param("members", "names", help="peers to screen against (default: every peer that "
                                       "publishes the list, asked through its directory)"),
        Param("service", "str", "blacklist", help="the members' PIR service id"),
        Param("key_kind", "str", "id", choices=KINDS,
              help="identifier normalisation (yinji.ids), as the members' lists"),
        Param("timeout", "float", 120.0, minimum=1, maximum=3600,
              help="seconds per batch request"),
    )
    takes_private = ('{"ids": [ID numbers], "names": [names] (optional)}: accounts to screen '
                     "instead of a dataset; never stored or sent")

    # -- a local app: the requester alone -------------------------------------------------------
    def default_compute(self, roles: dict[str, str], proposer: str,
                        params: dict[str, Any]) -> list[str]:
        return [proposer]

    def participants_needing_channels(self, spec: dict[str, Any]) -> list[str]:
        return [spec["proposer"]]

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        from yinji.apps.blacklist_demo import demo

        return demo(self, data, seed)

    def plan(self, params: dict[str, Any], roles: dict[str, str], proposer: str,
             private: dict[str, Any] | None) -> dict[str, Any]:
        if private is not None:
            private_accounts(private)   # checked now: a bad list fails the request, not the job
        elif not roles:
            raise AppError("give the accounts: a dataset (inputs) or private ids")
        return {}

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = []
        params = dict(spec.get("params") or {})
        proposer = spec.get("proposer")
        if str(params.pop("app_version", None)) != self.version:
            problems.append(f"app {self.name} is version {self.version} here")
        roles, compute = params.pop("roles", None), params.pop("compute", None)
        try:
            resolved = self.resolve_params(params)
            if any(resolved.get(k) != params.get(k) for k in resolved):
                problems.append("parameters are not in their checked form")
        except AppError as exc:
            problems.append(str(exc))
        inputs = spec.get("inputs") or {}
        if set(inputs) - {proposer} or not isinstance(roles, dict) or set(roles) != set(inputs) \
                or any(r != "accounts" for r in roles.values()):
            problems.append("only the requester supplies input (role accounts)")
        for inp in inputs.values():
            cols = inp.get("columns") or []
            if not 1 <= len(cols) <= 2:
                problems.append("accounts: give the id_no column and optionally a name column")
        if compute != [proposer]:
            problems.append("params.compute must be the requester alone (a local app)")
        if spec.get("recipients") != [proposer]:
            problems.append("the requester is the only recipient")
        return problems

    # -- the pipeline ---------------------------------------------------------------------------
    def run(self, ctx: Any) -> Report:
        params = ctx.spec["params"]
        kind, service = params.get("key_kind", "id"), params.get("service", "blacklist")
        ids, names = self._accounts(ctx)
        accounts = prepare(ids, names, kind)
        keys = list(accounts)
        ctx.progress(0.15, "asking the members' directories")
        pir = ctx.node.pir
        wanted = params.get("members")
        peers = set(ctx.node.cfg.peers)
        found, unreachable = pir.discover(service, None if wanted is None else
                                          sorted(set(wanted) & peers))
        status: dict[str, dict[str, Any]] = {
            m: {"status": "error", "reason": "not a peer of this node"}
            for m in set(wanted or []) - peers}
        for m in sorted((set(wanted or []) & peers) - set(found) - set(unreachable)):
            status[m] = {"status": "error", "reason": f"publishes no list {service!r} to us"}
        for m, why in unreachable.items():
            status[m] = {"status": "down", "reason": f"directory unreachable: {why}"}
        hits: list[list[Any]] = []
        members = sorted(found)
        for m in members:
            entry = found[m][service]
            status[m] = {"status": OK, "reason": "", "version": entry.get("version"),
                         "key_kind": entry.get("key_kind"),
                         "remaining_today": entry.get("remaining_today")}
            if entry.get("key_kind") not in (kind, None):
                status[m]["reason"] = (f"its list is normalised as {entry.get('key_kind')!r}, "
                                       f"the accounts as {kind!r}: some forms may not match")
        batches = [keys[i:i + BATCH] for i in range(0, len(keys), BATCH)]
        for n, batch in enumerate(batches):
            live = [m for m in members if status[m]["status"] == OK]
            if not live:
                break
            ctx.progress(0.2 + 0.7 * n / len(batches), f"batch {n + 1} of {len(batches)}")
            answer = pir.query(batch, live, service, float(params.get("timeout", 120.0)),
                               principal=f"app {self.name} job {ctx.spec['id'][:12]}")
            for m, a in answer["members"].items():
                if a["status"] != OK:
                    status[m].update(status=a["status"], reason=a["error"] or "")
                    continue
                status[m]["version"] = a["version"]
                for r in a["results"]:
                    if r["hit"]:
                        hits.append(hit_row(r["key"], accounts[r["key"]], m, r["label"],
                                            a["version"]))
        return self._report(ids, accounts, hits, status, service, len(batches))

    def _accounts(self, ctx: Any) -> tuple[list[Any], list[Any] | None]:
        cols = inputs_by_role(ctx, self)
        if cols is not None:
            ids = list(cols["id_no"])
            names = list(cols["name"]) if "name" in cols else None
            return ids, names
        if ctx.private is None:
            raise AppError("no accounts: neither an input dataset nor private ids")
        return private_accounts(ctx.private)

    def _report(self, ids: list[Any], accounts: dict[str, list[str]], hits: list[list[Any]],
                status: dict[str, dict[str, Any]], service: str, batches: int) -> Report:
        hits.sort(key=lambda r: (r[0], r[2]))
        not_ok = {m: s for m, s in sorted(status.items()) if s["status"] != OK}
        hit_accounts = len({r[0] for r in hits})
        report = Report(f"Blacklist screening ({service})")
        report.summary.append(f"{len(ids)} account(s), {len(accounts)} distinct ID(s), "
                              f"screened against {len(status) - len(not_ok)} of "
                              f"{len(status)} member(s) in {batches} batch(es): "
                              f"{len(hits)} hit(s) on {hit_accounts} account(s).")
        skipped = len(ids) - sum(len(v) for v in accounts.values())
        if skipped:
            report.summary.append(f"{skipped} account(s) without an ID were not screened.")
        if not_ok:
            report.summary.append(
                "INCOMPLETE: not checked against " + "; ".join(
                    f"{m} ({s['status']}: {s['reason']})" for m, s in not_ok.items())
                + ". Screen again when they answer.")
        if not status:
            report.summary.append("INCOMPLETE: no member publishes the list "
                                  f"{service!r} to this node.")
        report.table("hits", ["account_id", "name", "member", "tag", "reason", "date",
                              "list_version"], hits)
        report.table("members", ["member", "status", "reason", "list_version", "key_kind",
                                 "remaining_today"],
                     [[m, s["status"], s["reason"], s.get("version"), s.get("key_kind"),
                       s.get("remaining_today")] for m, s in sorted(status.items())])
        report.data = {"complete": bool(status) and not not_ok, "accounts": len(ids),
                       "hits": len(hits),
                       "members": {m: s["status"] for m, s in sorted(status.items())}}
        return report


def private_accounts(private: Any) -> tuple[list[Any], list[Any] | None]:
    """(ids, names or None) from the private input; AppError names what is wrong."""
    if not isinstance(private, dict) or not isinstance(private.get("ids"), list):
        raise AppError('private input must be {"ids": [ID numbers], "names": [...]}')
    ids, names = private["ids"], private.get("names")
    if not ids or len(ids) > MAX_ACCOUNTS:
        raise AppError(f"give 1..{MAX_ACCOUNTS} account IDs")
    if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
        raise AppError("account IDs must be text")
    if names is not None and (not isinstance(names, list) or len(names) != len(ids)):
        raise AppError("names must be a list as long as ids")
    return ids, names


def prepare(ids: list[Any], names: list[Any] | None, kind: str) -> dict[str, list[str]]:
    """normalised ID -> the account names (or "") with that ID, in input order; accounts
    without an ID are left out (the summary counts them)."""
    out: dict[str, list[str]] = {}
    for i, raw in enumerate(ids):
        key = normalize(raw, kind)
        if key:
            out.setdefault(key, []).append("" if names is None or names[i] is None
                                           else str(names[i]))
    return out


def hit_row(key: str, names: list[str], member: str, label: Any, version: str) -> list[Any]:
    if isinstance(label, dict):
        fields = [label.get(f) if f != "date" else label.get("date", label.get("since"))
                  for f in LABEL_FIELDS]
    else:
        fields = [label, None, None]
    return [key, "; ".join(n for n in names if n), member, *fields, version]


def write_sample_data(directory: Path, members: list[str], entries: int = 2000,
                      accounts: int = 200, seed: int = 2026) -> dict[str, Path]:
    """Seeded demo files: `MEMBER_watch.csv` (id_no, tag, reason, date) per member and
    `accounts.csv` (id_no, name) with some listed IDs typed as clerks do (lower-case x,
    full-width digits, spaces). Returns {member or "accounts": path}."""
    import csv

    import numpy as np

    from yinji.ids import id_check_char

    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)

    def ids(n: int) -> list[str]:
        """n distinct ID numbers (different draws can give the same digits: drawn again)."""
        first: dict[str, None] = {}
        while len(first) < n:
            for s in rng.choice(10**7, n, replace=False).tolist():
                first.setdefault(f"{310000 + s % 9000:06d}{1960 + s % 45}{1 + s % 12:02d}"
                                 f"{1 + s % 28:02d}{s % 1000:03d}")
        return [f + id_check_char(f) for f in list(first)[:n]]

    pool = ids(entries * len(members) + accounts)
    out, listed = {}, []
    for k, m in enumerate(members):
        mine = pool[k * entries:(k + 1) * entries]
        listed += mine[:max(1, accounts // (10 * len(members)))]
        out[m] = directory / f"{m}_watch.csv"
        with open(out[m], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id_no", "tag", "reason", "date"])
            for i, key in enumerate(mine):
                w.writerow([key.lower() if i % 9 == 0 else key, ("AML", "FRAUD", "PEP")[i % 3],
                            f"case {seed}-{k}-{i}", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"])
    fresh = pool[len(members) * entries:][:accounts - len(listed)]
    typed = [k.lower() if i % 2 else " " + "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c
                                                  for c in k)
             for i, k in enumerate(listed)]
    out["accounts"] = directory / "accounts.csv"
    with open(out["accounts"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id_no", "name"])
        w.writerows([a, f"client {i}"] for i, a in enumerate(typed + fresh))
    return out


APP = BlacklistScreening()
