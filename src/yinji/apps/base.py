"""What an app is (DESIGN.md, App layer): a named, versioned scenario that the node runs as a
job, so approvals, standing approvals and the audit log cover every app alike.

An `App` declares
- `roles`: what each participating company supplies -- one `Role` per kind of input, each a
  list of logical `Column`s; a run maps them to the company's own dataset and column names
  (`证件号码` at one company, `id_no` at another);
- `params`: typed `Param`s with defaults and bounds, checked before a proposal is sent, and
  filled in so every approver sees the effective values;
- `compute_parties` and `recipients`: which three companies compute and who gets results;
- `run`: this node's side of the pipeline of existing protocol steps, returning this node's
  `Report` (or None if it receives nothing).

Apps are found through the `yinji.apps` entry-point group (`yinji.node.app_runner`); the
built-in apps register the same way in pyproject.toml. The job's protocol name is
`app.<name>`, so dataset column policies allow an app by that name.

A run's spec (what every participant approves): protocol `app.<name>`, `params` = the app's
effective parameters plus `app_version`, `roles` (participant -> role name) and `compute`,
`inputs` (participant -> dataset and its columns, in the order of the role's columns),
`recipients`. A proposer's private input (e.g. the client IDs the onboarding desk checks)
never enters the spec: it stays in the proposer's memory for the job's life (`ctx.private`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

TYPES = ("int", "float", "str", "bool", "names", "rates")


class AppError(ValueError):
    """A run request that cannot be honoured; the message names the parameter or input."""


@dataclass(frozen=True)
class Column:
    name: str            # logical name the app uses (e.g. "id_no")
    kind: str = "text"   # id | number | text | date | flag
    help: str = ""


@dataclass(frozen=True)
class Role:
    """An input a company supplies. `many`: any number of companies may take this role."""

    name: str
    columns: tuple[Column, ...]
    help: str = ""
    many: bool = True
    optional: tuple[str, ...] = ()   # logical columns a company may leave out

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Param:
    """A typed parameter. `names`: a list of node names; `rates`: {currency: rate}."""

    name: str
    type: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""
    required: bool = False

    def check(self, value: Any) -> tuple[Any, str | None]:
        """(normalised value, problem or None)."""
        where = f"parameter {self.name!r}"
        if self.type == "bool":
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no",
                                                            "0"):
                value = value.lower() in ("true", "yes", "1")
            if not isinstance(value, bool):
                return value, f"{where} must be true or false, got {value!r}"
        elif self.type in ("int", "float"):
            try:
                num = float(value) if not isinstance(value, bool) else None
            except (TypeError, ValueError):
                num = None
            if num is None or num != num or num in (float("inf"), float("-inf")):
                return value, f"{where} must be a number, got {value!r}"
            if self.type == "int":
                if num != int(num):
                    return value, f"{where} must be a whole number, got {value!r}"
                num = int(num)
            value = num
            if self.minimum is not None and value < self.minimum:
                return value, f"{where} must be at least {self.minimum:g}, got {value:g}"
            if self.maximum is not None and value > self.maximum:
                return value, f"{where} must be at most {self.maximum:g}, got {value:g}"
        elif self.type == "str":
            if not isinstance(value, str) or len(value) > 200:
                return value, f"{where} must be text of at most 200 characters"
        elif self.type == "names":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                return value, f"{where} must be a list of node names"
        elif self.type == "rates":
            if isinstance(value, str):   # "HKD=0.92,USD=7.1"
                pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
                if not all(len(p) == 2 for p in pairs):
                    return value, f"{where} must look like HKD=0.92,USD=7.10"
                value = {k.strip().upper(): v.strip() for k, v in pairs}
            if not isinstance(value, dict):
                return value, f"{where} must map currency codes to rates"
            out = {}
            for k, v in value.items():
                try:
                    rate = float(v)
                except (TypeError, ValueError):
                    rate = -1.0
                if not (isinstance(k, str) and 0 < len(k) <= 8) or not 0 < rate < 1e6:
                    return value, f"{where}: rate for {k!r} must be a positive number"
                out[k.upper()] = rate
            value = out
        if self.choices and value not in self.choices:
            return value, f"{where} must be one of {', '.join(map(str, self.choices))}"
        return value, None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default,
                "minimum": self.minimum, "maximum": self.maximum,
                "choices": list(self.choices), "help": self.help, "required": self.required}


@dataclass
class Report:
    """What one recipient receives: a title, summary lines, named tables and charts.

    tables: name -> {"columns": [...], "rows": [[...], ...]} (cells: str, int, float, bool,
    None). charts: [{"kind": "bar" | "line", "title", "table", "x": column, "y": [columns]}].
    It is stored as the job's result (JSON) and rendered by `yinji.apps.report` to CSV, .xlsx
    and a self-contained HTML file.
    """

    title: str
    summary: list[str] = field(default_factory=list)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)   # machine-readable extras

    def table(self, name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.tables[name] = {"columns": list(columns), "rows": [list(r) for r in rows]}

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "summary": self.summary, "tables": self.tables,
                "charts": self.charts, "data": self.data}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Report:
        return cls(obj.get("title", ""), list(obj.get("summary") or []),
                   dict(obj.get("tables") or {}), list(obj.get("charts") or []),
                   dict(obj.get("data") or {}))


@dataclass
class DemoRun:
    """How `make demo` runs an app on generated data (`App.demo`): the datasets each company
    registers (POST /datasets bodies; their files already written into its data folder), the
    run request the proposer sends, and a check of each recipient's report against the
    plaintext computation of the same data (returns the problems found). `calls`: REST
    calls (company, method, path, body) a company makes after registering its datasets and
    before the run, e.g. publishing a PIR list."""

    proposer: str
    datasets: dict[str, list[dict[str, Any]]]
    request: dict[str, Any]
    check: Callable[[dict[str, dict[str, Any] | None]], list[str]] | None = None
    calls: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)


class App:
    """Base class: subclasses set the class attributes and implement `run`."""

    name: str = ""
    version: str = "1"
    title: str = ""
    summary: str = ""
    roles: tuple[Role, ...] = ()
    params: tuple[Param, ...] = ()
    takes_private: str = ""   # what the proposer's private input is, "" if none
    takes_helpers: bool = False  # a compute party may have no input (the job's `helpers`)

    # -- description --------------------------------------------------------------------------
    @property
    def protocol(self) -> str:
        return f"app.{self.name}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "title": self.title,
                "summary": self.summary, "protocol": self.protocol,
                "roles": [{"name": r.name, "help": r.help, "many": r.many,
                           "optional": list(r.optional),
                           "columns": [{"name": c.name, "kind": c.kind, "help": c.help}
                                       for c in r.columns]} for r in self.roles],
                "params": [p.describe() for p in self.params],
                "private_input": self.takes_private}

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise AppError(f"app {self.name} has no role {name!r} "
                       f"(roles: {', '.join(r.name for r in self.roles)})")

    # -- parameters ---------------------------------------------------------------------------
    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Effective parameters: given values checked, defaults filled in. Raises AppError
        naming every problem."""
        known = {p.name: p for p in self.params}
        problems = [f"unknown parameter {k!r} (known: {', '.join(known) or 'none'})"
                    for k in given if k not in known]
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                value, problem = p.check(given[p.name])
                if problem:
                    problems.append(problem)
                out[p.name] = value
            elif p.required:
                problems.append(f"parameter {p.name!r} is required")
            elif p.default is not None:
                out[p.name] = p.default
        if problems:
            raise AppError("; ".join(problems))
        return out

    # -- hooks a subclass may override ----------------------------------------------------------
    def plan(self, params: dict[str, Any], roles: dict[str, str], proposer: str,
             private: dict[str, Any] | None) -> dict[str, Any]:
        """Called at the proposer before the spec is made: returns extra public params
        derived from the private input (e.g. the batch size), and checks it."""
        return {}

    def default_compute(self, roles: dict[str, str], proposer: str,
                        params: dict[str, Any]) -> list[str]:
        """The three compute parties unless the run names them: the first three companies
        by name."""
        return sorted(roles)[:3]

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return [proposer]

    def validate(self, spec: dict[str, Any]) -> list[str]:
        """Problems with a spec (checked by every participant before approving)."""
        problems = []
        params = spec.get("params") or {}
        if str(params.get("app_version")) != self.version:
            problems.append(f"app {self.name} is version {self.version} here, the run asks "
                            f"for {params.get('app_version')!r}")
        own = {k: v for k, v in params.items()
               if k not in ("app_version", "roles", "compute", "omitted")}
        try:
            resolved = self.resolve_params({k: v for k, v in own.items()
                                            if k in {p.name for p in self.params}})
        except AppError as exc:
            problems.append(str(exc))
            resolved = {}
        if resolved and any(resolved.get(k) != own.get(k) for k in resolved):
            problems.append("parameters are not in their checked form")
        roles = params.get("roles")
        inputs = spec.get("inputs") or {}
        if not isinstance(roles, dict) or set(roles) != set(inputs):
            problems.append("params.roles must name the role of every company with an input")
            return problems
        omitted = params.get("omitted") or {}
        if not isinstance(omitted, dict) or not set(omitted) <= set(roles):
            problems.append("params.omitted must map companies of the run to the optional "
                            "columns they leave out")
            omitted = {}
        for party, role_name in roles.items():
            try:
                role = self.role(role_name)
            except AppError as exc:
                problems.append(str(exc))
                continue
            omit = omitted.get(party) or []
            if not isinstance(omit, list) or not set(omit) <= set(role.optional):
                problems.append(f"input of {party!r} for role {role.name}: only optional "
                                f"columns ({', '.join(role.optional) or 'none'}) can be left out")
                continue
            names = [c for c in role.column_names() if c not in omit]
            cols = inputs[party].get("columns") or []
            if len(cols) != len(names):
                problems.append(f"input of {party!r} for role {role.name}: expected "
                                f"{len(names)} columns ({', '.join(names)}), got {len(cols)}")
        compute = params.get("compute")
        if not isinstance(compute, list) or len(set(compute)) != 3 \
                or not set(compute) <= set(roles) | set(spec.get("helpers") or []):
            problems.append("params.compute must name three distinct companies of the run")
        if not spec.get("recipients"):
            problems.append("a run needs at least one recipient")
        return problems

    def participants_needing_channels(self, spec: dict[str, Any]) -> list[str]:
        """Nodes this app's run connects (default: every company with an input and every
        recipient)."""
        return sorted(set(spec.get("inputs") or {}) | set(spec.get("recipients") or []))

    def run(self, ctx: RunContext) -> Report | None:
        raise NotImplementedError

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
        """Generated data for the four companies (`data`: company -> its data folder) and
        the run `make demo` makes; None if the app has no demo."""
        return None

    # -- delivery -----------------------------------------------------------------------------
    def render(self, report: dict[str, Any], directory: Path) -> list[Path]:
        """Write the report as CSV files, an .xlsx workbook and an HTML page."""
        from yinji.apps.report import render

        return render(Report.from_json(report), directory)


def inputs_by_role(ctx: RunContext, app: App) -> dict[str, Any] | None:
    """This node's columns under the app's logical names (None if it has no input); optional
    columns the company left out (params.omitted) are absent."""
    if ctx.inputs is None:
        return None
    role = app.role(ctx.spec["params"]["roles"][ctx.me])
    omit = (ctx.spec["params"].get("omitted") or {}).get(ctx.me) or []
    cols = ctx.spec["inputs"][ctx.me]["columns"]
    names = [c for c in role.column_names() if c not in omit]
    return {logical: ctx.inputs[actual] for logical, actual in zip(names, cols, strict=True)}
