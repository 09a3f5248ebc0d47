"""Apps as node jobs: find the installed apps and run them like any protocol.

Apps are found through the `yinji.apps` entry-point group (each entry point names an object
with the `yinji.apps.base.App` interface), so an organisation adds an app by installing a
package on its nodes; Yinji's own apps register the same way (pyproject.toml). The runtime
never imports `yinji.apps` (a higher layer): it only calls what the entry points give it.

`AppRunner` adapts an app to the protocol-runner interface (`yinji.node.runners`): the job's
protocol is `app.<name>`; validation, compute parties and `run` are the app's; the report a
node receives is stored as its result and rendered to files under `HOME/results/JOB/`
(CSV, .xlsx, HTML) by the app's `render`.

`AppRuns` turns a run request (app, parameters, inputs with column mappings, recipients,
the proposer's private input) into a job proposal.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yinji.node.node import Node
    from yinji.node.runners import RunContext

GROUP = "yinji.apps"
_log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded: dict[str, Any] | None = None
_problems: dict[str, str] = {}
_extra: dict[str, Any] = {}


class AppLookupError(KeyError):
    pass


def register(app: Any) -> None:
    """Add an app object in this process (tests; installed apps come from entry points)."""
    with _lock:
        _extra[app.name] = app


def unregister(name: str) -> None:
    with _lock:
        _extra.pop(name, None)


def installed() -> dict[str, Any]:
    """name -> app object, every app installed (loaded once per process)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = {}
            for ep in entry_points(group=GROUP):
                try:
                    app = ep.load()
                except Exception as exc:  # noqa: BLE001 - one broken package must not stop a node
                    _problems[ep.name] = f"{type(exc).__name__}: {exc}"
                    _log.warning("app %s could not be loaded: %s", ep.name, exc)
                    continue
                if getattr(app, "name", None) != ep.name:
                    _problems[ep.name] = f"entry point {ep.name} gives an app named " \
                        f"{getattr(app, 'name', None)!r}"
                    continue
                _loaded[ep.name] = app
        return {**_loaded, **_extra}


def reload() -> None:
    """Forget the loaded apps (after the path changed; tests)."""
    global _loaded
    with _lock:
        _loaded = None
        _problems.clear()


def load_problems() -> dict[str, str]:
    installed()
    return dict(_problems)


def get(name: str) -> Any:
    apps = installed()
    if name not in apps:
        raise AppLookupError(f"no app {name!r} on this node (installed: "
                             f"{', '.join(sorted(apps)) or 'none'})")
    return apps[name]


class AppRunner:
    """The protocol-runner face of an app (protocol `app.<name>`)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.name = app.protocol
        self.takes_helpers = bool(getattr(app, "takes_helpers", False))

    def unavailable(self) -> str | None:
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        return list(self.app.validate(spec))

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        return list(self.app.participants_needing_channels(spec))

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        report = self.app.run(ctx)
        return None if report is None else report.to_json()

    def render(self, result: dict[str, Any], directory: Path) -> list[Path]:
        return list(self.app.render(result, directory))


def fits(role: Any, cols: list[Any]) -> bool:
    """Every column of the role, or all but trailing optional ones."""
    return 0 < len(cols) <= len(role.columns) and \
        all(c.name in role.optional for c in role.columns[len(cols):])


def runner(protocol: str) -> AppRunner | None:
    if not protocol.startswith("app."):
        return None
    app = installed().get(protocol[4:])
    return None if app is None else AppRunner(app)


def all_runners() -> dict[str, AppRunner]:
    return {a.protocol: AppRunner(a) for a in installed().values()}


class AppRuns:
    """Run requests -> job proposals, at the proposing node."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def list(self) -> list[dict[str, Any]]:
        return [a.describe() for _, a in sorted(installed().items())]

    def show(self, name: str) -> dict[str, Any]:
        return get(name).describe()

    def create(self, name: str, body: dict[str, Any], by: str,
               scenario: dict[str, Any] | None = None) -> dict[str, Any]:
        """Propose a run. body: {params, inputs: {node: {dataset, role?, columns?: list or
        {logical: actual}}}, recipients?, compute?, private?}. `scenario`: the call of a
        published scenario API this run serves (yinji.node.scenarios), put in the spec."""
        from yinji.node.jobs import JobError

        try:
            app = get(name)
        except AppLookupError as exc:
            raise JobError(str(exc.args[0]), 404) from None
        try:
            private = body.get("private")
            spec_inputs, roles, omitted = self._inputs(app, body.get("inputs") or {}, private)
            params = app.resolve_params(dict(body.get("params") or {}))
            me = self.node.cfg.name
            params.update(app.plan(params, roles, me, private))
        except ValueError as exc:
            raise JobError(str(exc), 422) from None
        compute = list(body.get("compute") or params.pop("compute", None)
                       or app.default_compute(roles, me, params))
        params.pop("compute", None)
        recipients = body.get("recipients") or app.default_recipients(roles, me, params)
        create = {"protocol": app.protocol, "inputs": spec_inputs,
                  "params": {**params, "app_version": app.version, "roles": roles,
                             "compute": compute, **({"omitted": omitted} if omitted else {})},
                  "recipients": list(recipients),
                  **({"scenario": scenario} if scenario else {})}
        helpers = [c for c in compute if c not in spec_inputs and c not in recipients]
        if helpers and getattr(app, "takes_helpers", False):
            create["helpers"] = helpers   # compute parties with no input and no result
        return self.node.jobs.propose(create, by=by, private=private)

    def _inputs(self, app: Any, given: dict[str, Any], private: Any = None,
                ) -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
        """(spec inputs, party -> role, party -> optional columns it leaves out)."""
        if not given:
            if private is not None and getattr(app, "takes_private", ""):
                return {}, {}, {}   # the proposer's private input is the only input
            raise ValueError("a run needs the inputs: which dataset each company supplies")
        default_role = app.roles[0].name if len(app.roles) == 1 else None
        out, roles, omitted = {}, {}, {}
        for party, inp in given.items():
            if not isinstance(inp, dict) or not isinstance(inp.get("dataset"), str):
                raise ValueError(f"input of {party!r} must name a dataset")
            role_name = inp.get("role") or default_role
            if role_name is None:
                raise ValueError(f"input of {party!r} must name its role (one of "
                                 f"{', '.join(r.name for r in app.roles)})")
            role = app.role(role_name)
            omit = list(inp.get("omit") or [])
            if not set(omit) <= set(role.optional) or len(set(omit)) != len(omit):
                raise ValueError(f"input of {party!r}: role {role.name} can leave out only "
                                 f"its optional columns ({', '.join(role.optional) or 'none'}),"
                                 f" each once; got {', '.join(map(str, omit))}")
            names = [c for c in role.column_names() if c not in omit]
            cols = inp.get("columns")
            if cols is None or isinstance(cols, dict):
                mapping = cols or {}
                unknown = sorted(set(mapping) - set(names))
                if unknown:
                    raise ValueError(f"input of {party!r}: role {role.name} has no column(s) "
                                     f"{', '.join(unknown)} (it has {', '.join(names)})")
                cols = [mapping.get(c, c) for c in names]
            if not isinstance(cols, list) or len(cols) != len(names):
                raise ValueError(f"input of {party!r}: role {role.name} needs "
                                 f"{len(names)} columns ({', '.join(names)})")
            out[party] = {"dataset": inp["dataset"], "columns": [str(c) for c in cols]}
            roles[party] = role.name
            if omit:
                omitted[party] = [c for c in role.column_names() if c in omit]
        return out, roles, omitted
